package xzdec

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/mikelolasagasti/xz"
)

// kernelFiles returns the real kernel BTF archives of the shared corpus
// (../shared/kernels beside the repository), read into memory, with their
// uncompressed sizes; the benchmark is skipped when they are absent.
func kernelFiles(b *testing.B) (files [][]byte, sizes []int, total int64) {
	paths, _ := filepath.Glob("../../../shared/kernels/*/*/*/*.btf.tar.xz")
	if len(paths) == 0 {
		b.Skip("no kernel archives in ../../../shared/kernels")
	}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		out, err := DecodeAll(src, 1<<30)
		if err != nil {
			b.Fatalf("%s: %v", p, err)
		}
		files = append(files, src)
		sizes = append(sizes, len(out))
		total += int64(len(out))
	}
	return files, sizes, total
}

// BenchmarkDecodeAll decodes all the kernel archives per iteration, with
// this package and with the streaming decoder it replaces (reading into a
// preallocated buffer of the right size). MB/s is in decompressed bytes.
func BenchmarkDecodeAll(b *testing.B) {
	files, sizes, total := kernelFiles(b)
	b.Run("xzdec", func(b *testing.B) {
		b.SetBytes(total)
		b.ReportAllocs()
		for b.Loop() {
			for _, src := range files {
				if _, err := DecodeAll(src, 1<<30); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("mikelolasagasti", func(b *testing.B) {
		b.SetBytes(total)
		b.ReportAllocs()
		biggest := 0
		for _, n := range sizes {
			biggest = max(biggest, n)
		}
		buf := make([]byte, biggest)
		var r *xz.Reader
		for b.Loop() {
			for i, src := range files {
				var err error
				if r == nil {
					r, err = xz.NewReader(bytes.NewReader(src), 0)
				} else {
					err = r.Reset(bytes.NewReader(src))
				}
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(r, buf[:sizes[i]]); err != nil {
					b.Fatal(err)
				}
				if n, err := r.Read(buf[:1]); n != 0 || !errors.Is(err, io.EOF) {
					b.Fatalf("trailing data or error: %d %v", n, err)
				}
			}
		}
	})
}
