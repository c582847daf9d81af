//go:build !unix

package outguard

import "os"

// fileID identifies a file: without device and inode numbers, its
// resolved path (hard links are not recognised).
type fileID struct{ path string }

// idOf returns the identity of the file at path, following symbolic links.
func idOf(path string) (fileID, bool) {
	if _, err := os.Stat(path); err != nil {
		return fileID{}, false
	}
	return fileID{path: Resolve(path)}, true
}
