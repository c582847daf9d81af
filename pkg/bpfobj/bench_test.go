package bpfobj_test

import (
	"github.com/btftool/btftool/pkg/bpfobj"
	"os"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	data, _ := os.ReadFile("../../testdata/bpf/features.bpf.o")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bpfobj.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
