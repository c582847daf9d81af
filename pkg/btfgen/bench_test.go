package btfgen_test

import (
	"os"
	"testing"

	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// BenchmarkMinimize minimizes one kernel for every object of testdata/bpf
// and testdata/libbpf-tools (when extracted): the per-kernel cost of batch
// mode once the kernel is read. The kernel is Debian 6.1 from testdata, or
// BTFTOOL_BENCH_KERNEL (any format kbtf reads), for example the CentOS 8
// kernel of ../shared, whose 27 MB hold hundreds of copies of each struct.
// Compare with bpftool using scripts/bench-gen.sh.
func BenchmarkMinimize(b *testing.B) {
	path := os.Getenv("BTFTOOL_BENCH_KERNEL")
	if path == "" {
		path = "../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz"
	}
	data, _, err := kbtf.ReadFile(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	kernel, err := rawbtf.Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	objs := testObjects(b)
	plan := btfgen.NewPlan(objs)
	b.ReportMetric(float64(len(objs)), "objects")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := plan.Minimize(kernel); err != nil {
			b.Fatal(err)
		}
	}
}
