package cli

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/btftool/btftool/internal/testfs"
)

// TestDocsAreFresh fails when docs/cli or docs/man differ from what the
// command tree generates: run 'make docs'.
func TestDocsAreFresh(t *testing.T) {
	dir := t.TempDir()
	if err := GenDocs(dir); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"cli", "man"} {
		want := testfs.ReadTree(t, filepath.Join(dir, sub), nil)
		got := testfs.ReadTree(t, filepath.Join("../../docs", sub), nil)
		for name, w := range want {
			if g, ok := got[name]; !ok {
				t.Errorf("docs/%s/%s is missing: run 'make docs'", sub, name)
			} else if !bytes.Equal(g, w) {
				t.Errorf("docs/%s/%s is stale: run 'make docs'", sub, name)
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("docs/%s/%s is not generated any more: run 'make docs'", sub, name)
			}
		}
	}
}
