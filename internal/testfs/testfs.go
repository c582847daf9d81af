// Package testfs reads directory trees for tests that compare outputs.
package testfs

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// ReadTree returns the regular files under dir, recursively, by
// slash-separated path relative to dir. keep, when not nil, selects the
// files by that path. Any error fails the test.
func ReadTree(tb testing.TB, dir string, keep func(rel string) bool) map[string][]byte {
	tb.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if keep != nil && !keep(rel) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[rel] = data
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

// Changed returns, sorted, the paths of the files that differ between two
// ReadTree results: changed, added or removed.
func Changed(before, after map[string][]byte) []string {
	var out []string
	for p, b := range before {
		if a, ok := after[p]; !ok || !bytes.Equal(a, b) {
			out = append(out, p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
