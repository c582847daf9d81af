package testfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadTree(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"a.btf": "A", "sub/b.btf": "B", "sub/c.txt": "C"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	all := ReadTree(t, dir, nil)
	if len(all) != 3 || string(all["sub/b.btf"]) != "B" || string(all["sub/c.txt"]) != "C" {
		t.Errorf("all: %q", all)
	}
	btf := ReadTree(t, dir, func(rel string) bool { return strings.HasSuffix(rel, ".btf") })
	if len(btf) != 2 || string(btf["a.btf"]) != "A" {
		t.Errorf(".btf: %q", btf)
	}
}

func TestChanged(t *testing.T) {
	before := map[string][]byte{"same": []byte("x"), "edited": []byte("a"), "removed": nil}
	after := map[string][]byte{"same": []byte("x"), "edited": []byte("b"), "added": nil}
	if got, want := strings.Join(Changed(before, after), " "), "added edited removed"; got != want {
		t.Errorf("Changed = %q, want %q", got, want)
	}
}
