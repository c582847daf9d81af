package kbtf

import (
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkReadFile reads each kernel BTF archive of ../shared/kernels (next
// to the module root; skipped when absent). MB/s is in decompressed BTF
// bytes.
func BenchmarkReadFile(b *testing.B) {
	paths := sharedKernels(b)
	var total int64
	sizes := make([]int64, len(paths))
	for i, p := range paths {
		data, _, err := ReadFile(p, nil)
		if err != nil {
			b.Fatal(err)
		}
		sizes[i] = int64(len(data))
		total += sizes[i]
	}
	b.Run("all", func(b *testing.B) {
		b.SetBytes(total)
		b.ReportAllocs()
		for b.Loop() {
			for _, p := range paths {
				if _, _, err := ReadFile(p, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	for i, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".btf.tar.xz")
		b.Run(name, func(b *testing.B) {
			b.SetBytes(sizes[i])
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ReadFile(p, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
