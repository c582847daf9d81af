package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
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

// TestDocsNameNoMachinePath: no document names a path of the machine it
// was written on: neither the checkout's directory (nor its parent, where
// ../shared lives) nor the home directory.
func TestDocsNameNoMachinePath(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var machine []string
	for _, p := range []string{root, filepath.Dir(root)} {
		if p != "/" {
			machine = append(machine, p+"/")
		}
	}
	if home, err := os.UserHomeDir(); err == nil && home != "/" && home != "" {
		machine = append(machine, home+"/")
	}
	docs := map[string][]byte{}
	for rel, data := range testfs.ReadTree(t, root, func(rel string) bool {
		return (strings.HasSuffix(rel, ".md") || strings.HasPrefix(rel, "docs/man/")) &&
			!strings.HasPrefix(rel, "testdata/libbpf-tools/") && !strings.HasPrefix(rel, ".git/")
	}) {
		docs[rel] = data
	}
	if len(docs) < 10 {
		t.Fatalf("only %d documents found", len(docs))
	}
	for rel, data := range docs {
		for _, m := range machine {
			if bytes.Contains(data, []byte(m)) {
				t.Errorf("%s names %s, a path of this machine", rel, m)
			}
		}
	}
}
