//go:build !linux

package batch

import (
	"fmt"
	"os"
	"path/filepath"
)

// syncDir flushes the outputs in dir to disk. Without syncfs(2) every
// regular file below dir is synced one by one.
func syncDir(dir string) error {
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := f.Sync(); err != nil {
			return fmt.Errorf("%s: sync: %w", p, err)
		}
		return nil
	})
}
