package bpfobj_test

import (
	"os"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
)

// BenchmarkOpenHeavy reads the heavy object scripts/bench-heavy.sh builds
// (35,000 CO-RE relocations), or BTFTOOL_HEAVY_OBJECT.
func BenchmarkOpenHeavy(b *testing.B) {
	path := os.Getenv("BTFTOOL_HEAVY_OBJECT")
	if path == "" {
		path = "../../testdata/heavy/heavy.bpf.o"
	}
	if _, err := os.Stat(path); err != nil {
		b.Skipf("no heavy object %s: run scripts/bench-heavy.sh", path)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bpfobj.Open(path); err != nil {
			b.Fatal(err)
		}
	}
}
