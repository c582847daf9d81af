package batch

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// BenchmarkWriteBundle measures writing a bundle of 300 minimized BTFs
// (the Debian test kernel's, minimized for one object, with a byte
// changed per copy) with each compressor.
func BenchmarkWriteBundle(b *testing.B) {
	raw, _, err := kbtf.ReadFile("../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz", nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := rawbtf.Parse(raw); err != nil {
		b.Fatal(err)
	}
	// A stand-in for a minimized BTF: 8 KiB of the kernel's type section.
	sample := raw[len(raw)/2 : len(raw)/2+8<<10]
	var results []*KernelResult
	for i := range 300 {
		data := append([]byte(nil), sample...)
		data[i%len(data)] ^= 0xff
		results = append(results, &KernelResult{OutRel: fmt.Sprintf("d/1/x86_64/5.%d.btf", i), Release: fmt.Sprint(i), Status: StatusDone, data: data})
	}
	for _, suffix := range []string{".tar.xz", ".tar.gz", ".tar.zst"} {
		b.Run(suffix, func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "b"+suffix)
			var size int64
			for b.Loop() {
				if size, err = writeBundle(out, results, "test", nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size), "bytes")
			os.Remove(out)
		})
	}
}
