package batch

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// syncDir flushes the file system holding dir to disk: one syncfs(2) for
// all outputs of a run instead of one fsync per file.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("%s: sync: %w", dir, err)
	}
	return nil
}
