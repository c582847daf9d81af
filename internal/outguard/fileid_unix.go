//go:build unix

package outguard

import (
	"os"
	"syscall"
)

// fileID identifies a file: its device and inode.
type fileID struct{ dev, ino uint64 }

// idOf returns the identity of the file at path, following symbolic links.
func idOf(path string) (fileID, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true
}
