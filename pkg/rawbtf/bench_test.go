package rawbtf_test

import (
	"github.com/btftool/btftool/pkg/rawbtf"
	"os"
	"testing"
)

// BenchmarkParseKernel parses a full kernel BTF (set BTFTOOL_BENCH_KERNEL to a raw file).
func BenchmarkParseKernel(b *testing.B) {
	p := os.Getenv("BTFTOOL_BENCH_KERNEL")
	if p == "" {
		b.Skip("BTFTOOL_BENCH_KERNEL not set")
	}
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rawbtf.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
