package bpfobj_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
)

// FuzzParse feeds arbitrary bytes to the object reader: it must return an
// object or an error, never panic or hang. Seeded with the test corpus.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob("../../testdata/bpf/*.bpf.o")
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := bpfobj.Parse(data)
		if err != nil {
			return
		}
		for i := range o.Relocations {
			r := &o.Relocations[i]
			_ = r.Path()
			_ = r.Insn(o)
		}
	})
}
