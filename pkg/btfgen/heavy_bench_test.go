package btfgen_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// heavyObjects opens the heavy objects scripts/bench-heavy.sh builds into
// testdata/heavy (one of 35,000 relocations, heavy.bpf.o, and a set of
// smaller ones, many/*.bpf.o), or those of the glob BTFTOOL_HEAVY_OBJECTS;
// it skips the benchmark when there are none.
func heavyObjects(b *testing.B, glob string) []*bpfobj.Object {
	b.Helper()
	if g := os.Getenv("BTFTOOL_HEAVY_OBJECTS"); g != "" {
		glob = g
	}
	paths, _ := filepath.Glob(glob)
	if len(paths) == 0 {
		b.Skipf("no heavy objects %s: run scripts/bench-heavy.sh", glob)
	}
	objs := make([]*bpfobj.Object, 0, len(paths))
	for _, p := range paths {
		o, err := bpfobj.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		objs = append(objs, o)
	}
	return objs
}

// heavyKernel reads BTFTOOL_BENCH_KERNEL, by default the Debian 6.1
// kernel of testdata.
func heavyKernel(b *testing.B) *rawbtf.BTF {
	b.Helper()
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
	return kernel
}

// BenchmarkMinimizeHeavy minimizes one kernel for the heavy object of
// 35,000 relocations: the per-kernel cost, the plan built once.
func BenchmarkMinimizeHeavy(b *testing.B) {
	kernel := heavyKernel(b)
	objs := heavyObjects(b, "../../testdata/heavy/heavy.bpf.o")
	plan := btfgen.NewPlan(objs)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := plan.Minimize(kernel); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMinimizeHeavyMany is BenchmarkMinimizeHeavy for the set of
// heavy objects (30 objects of 3,000 relocations each).
func BenchmarkMinimizeHeavyMany(b *testing.B) {
	kernel := heavyKernel(b)
	objs := heavyObjects(b, "../../testdata/heavy/many/*.bpf.o")
	plan := btfgen.NewPlan(objs)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := plan.Minimize(kernel); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanHeavy is the kernel-independent work on the heavy object:
// reading it and building the plan.
func BenchmarkPlanHeavy(b *testing.B) {
	path := "../../testdata/heavy/heavy.bpf.o"
	if _, err := os.Stat(path); err != nil {
		b.Skipf("no heavy object %s: run scripts/bench-heavy.sh", path)
	}
	b.ReportAllocs()
	for b.Loop() {
		o, err := bpfobj.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		btfgen.NewPlan([]*bpfobj.Object{o})
	}
}
