package bundle_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/btftool/btftool/pkg/bundle"
)

// FuzzOpen opens arbitrary bytes as a bundle and reads every entry: no
// panic, no read beyond the limits, and every entry read matches its index
// entry.
func FuzzOpen(f *testing.F) {
	small := map[string][]byte{
		"ubuntu/20.04/x86_64/5.4.0-1-generic.btf": btfOf("a", 20),
		"ubuntu/20.04/x86_64/5.4.0-2-generic.btf": btfOf("a", 20),
		"5.10.0-9-amd64.btf":                      btfOf("b", 5),
	}
	for _, c := range []string{"xz", "zstd", "gzip"} {
		f.Add(makeBundle(f, c, small))
	}
	f.Add(tarOfTB(f, makeBundle(f, "gzip", small)))
	files, _ := filepath.Glob("testdata/*.tar.*")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	opts := &bundle.Options{MaxEntrySize: 1 << 20, MaxArchiveSize: 4 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := bundle.Open(data, opts)
		if err != nil {
			return
		}
		defer b.Close()
		for i, e := range b.Entries() {
			if i == 20 {
				break
			}
			got, err := b.ReadEntry(&e)
			if err == nil && (int64(len(got)) != e.Size || e.SHA256 != "" && sha256Hex(got) != e.SHA256) {
				t.Fatalf("%s: read %d bytes that do not match the index", e.Path, len(got))
			}
			b.Match(bundle.Target{Release: e.Release, Machine: e.Arch})
		}
		b.Walk(func(*bundle.Entry, []byte) error { return nil })
	})
}
