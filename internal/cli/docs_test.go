package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDocsAreFresh fails when docs/cli or docs/man differ from what the
// command tree generates: run 'make docs'.
func TestDocsAreFresh(t *testing.T) {
	dir := t.TempDir()
	if err := GenDocs(dir); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"cli", "man"} {
		want := readTree(t, filepath.Join(dir, sub))
		got := readTree(t, filepath.Join("../../docs", sub))
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

func readTree(tb testing.TB, dir string) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
			out[e.Name()] = b
		}
	}
	return out
}
