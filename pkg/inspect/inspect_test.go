package inspect

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

const testKernel = "../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz"

var kernel = sync.OnceValues(func() (*rawbtf.BTF, error) {
	data, _, err := kbtf.ReadFile(testKernel, nil)
	if err != nil {
		return nil, err
	}
	return rawbtf.Parse(data)
})

func loadKernel(tb testing.TB) *rawbtf.BTF {
	tb.Helper()
	b, err := kernel()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func loadObjects(tb testing.TB, names ...string) []*bpfobj.Object {
	tb.Helper()
	var objs []*bpfobj.Object
	for _, n := range names {
		o, err := bpfobj.Open(filepath.Join("../../testdata/bpf", n))
		if err != nil {
			tb.Fatal(err)
		}
		objs = append(objs, o)
	}
	return objs
}

func TestSummarize(t *testing.T) {
	full := Summarize(loadKernel(t))
	b := btftest.New()
	i := b.Int("int", 4, true)
	b.Struct("trimmed", 64, btftest.M{Name: "x", Type: i, BitOff: 256})
	min := Summarize(b.BTF())
	b = btftest.New()
	b.Func("f", b.FuncProto(b.Int("int", 4, true)))
	obj := Summarize(b.BTF())
	for _, tc := range []struct {
		name  string
		s     *Summary
		shape string
		types int
	}{
		{"full kernel", full, ShapeFull, 100750},
		{"minimized", min, ShapeMinimized, 2},
		{"object", obj, ShapeOther, 3},
	} {
		if tc.s.Shape != tc.shape || tc.s.Types != tc.types {
			t.Errorf("%s: shape %s, %d types; want %s, %d", tc.name, tc.s.Shape, tc.s.Types, tc.shape, tc.types)
		}
		if tc.name == "minimized" && tc.s.Sparse != 1 {
			t.Errorf("%s: %d sparse structs", tc.name, tc.s.Sparse)
		}
	}
	if len(full.Largest) != 10 || full.Largest[0].Name != "rcu_state" || full.Largest[0].Size < full.Largest[9].Size {
		t.Errorf("largest: %+v", full.Largest)
	}
	if full.ByteOrder != "little-endian" || full.StringsSize == 0 || full.Size != loadKernel(t).Size() {
		t.Errorf("summary %+v", full)
	}
}

func TestDescribeObject(t *testing.T) {
	info := DescribeObject(loadObjects(t, "taskstate.bpf.o")[0])
	if info.License != "GPL" || len(info.Programs) == 0 || len(info.Relocations) != 17 {
		t.Fatalf("%+v", info)
	}
	r := info.Relocations[2]
	if r.Kind != core.FieldExists || r.Path != "struct task_struct___old.state" || r.Program != "handle_switch" {
		t.Errorf("relocation 2: %+v", r)
	}
}

func TestCheckClassifies(t *testing.T) {
	objs := loadObjects(t, "taskstate.bpf.o", "netdrop.bpf.o", "features.bpf.o", "guards.bpf.o")
	res := Check(core.NewTargetFor(loadKernel(t), NeededNames(objs)), objs, true)
	status := map[string]Status{}
	for _, o := range res {
		if len(o.Details) != o.Relocations {
			t.Fatalf("%s: %d details for %d relocations", o.Path, len(o.Details), o.Relocations)
		}
		for _, d := range o.Details {
			status[filepath.Base(o.Path)+" "+d.Kind.String()+" "+d.Path] = d.Compat
		}
	}
	for _, tc := range []struct {
		reloc string
		want  Status
	}{
		{"taskstate.bpf.o byte_off struct task_struct.__state", OK},
		{"taskstate.bpf.o field_exists struct task_struct___old.state", Guard},
		// The other flavor's reads are dead code behind its field_exists.
		{"taskstate.bpf.o byte_off struct task_struct___old.state", Guard},
		{"taskstate.bpf.o byte_sz struct task_struct___old.state", Guard},
		{"netdrop.bpf.o enumval_exists enum btftool_no_such_enum::BTFTOOL_NO_SUCH_VALUE", Guard},
		// Poisoned, but behind the enumval_exists above.
		{"netdrop.bpf.o enumval_value enum btftool_no_such_enum::BTFTOOL_NO_SUCH_VALUE", Guard},
		{"features.bpf.o type_exists struct btftool_no_such_type", Guard},
		// libbpf relocates type-based relocations with no target to 0
		// without poisoning.
		{"features.bpf.o type_size struct btftool_no_such_type", Guard},
		{"features.bpf.o target_type_id struct btftool_no_such_type", Guard},
		{"features.bpf.o local_type_id struct task_struct", OK},
	} {
		if got, ok := status[tc.reloc]; !ok || got != tc.want {
			t.Errorf("%s: %q, want %q", tc.reloc, got, tc.want)
		}
	}
	// guards.bpf.o: the read no kernel has, by program.
	byProg := map[string]Status{}
	progs := map[string]string{}
	for _, o := range res {
		if filepath.Base(o.Path) != "guards.bpf.o" {
			continue
		}
		for _, d := range o.Details {
			if d.Kind == core.FieldByteOffset {
				byProg[d.Program] = d.Compat
			}
		}
		for _, p := range o.Programs {
			progs[p.Name] = string(p.Status)
		}
	}
	for _, tc := range []struct {
		reloc string
		want  Status
	}{
		{"unguarded", WillFail}, {"guarded", Guard}, {"guarded_flag", Guard}, {"fsync_fentry", Alternative},
	} {
		if byProg[tc.reloc] != tc.want {
			t.Errorf("guards.bpf.o %s: %q, want %q", tc.reloc, byProg[tc.reloc], tc.want)
		}
	}
	if progs["unguarded"] != "fails" || progs["fsync_fentry"] != "needs-variant-disabled" || progs["guarded"] != "loads" {
		t.Errorf("guards.bpf.o programs %v", progs)
	}
}

func TestRun(t *testing.T) {
	objs := loadObjects(t, "taskstate.bpf.o", "plain.bpf.o")
	kernels := []Kernel{{Path: testKernel, Name: "k1"}, {Path: "missing", Name: "k2"}, {Path: testKernel, Name: "k3"}}
	read := func(p string) (*rawbtf.BTF, error) {
		if p == "missing" {
			return nil, errMissing
		}
		return loadKernel(t), nil
	}
	var mu sync.Mutex
	done := 0
	res := Run(kernels, objs, RunOptions{Jobs: 2, Read: read, Done: func(KernelResult) { mu.Lock(); done++; mu.Unlock() }})
	if len(res) != 3 || done != 3 {
		t.Fatalf("%d results, %d done", len(res), done)
	}
	if res[1].Error == "" || res[1].Objects != nil || res[0].Name != "k1" || res[2].Name != "k3" {
		t.Errorf("results %+v", res)
	}
	if res[0].Counts != res[2].Counts || res[0].Relocations != 17 || res[0].Failing() {
		t.Errorf("counts %+v %+v", res[0].Counts, res[2].Counts)
	}
}

type testError string

func (e testError) Error() string { return string(e) }

const errMissing = testError("missing")

// BenchmarkCheck and BenchmarkMinimize compare the per-kernel cost of
// compat with that of gen for the same ten objects (decompressing and
// parsing the kernel, the same for both, excluded).
func BenchmarkCheck(b *testing.B) {
	k := loadKernel(b)
	objs := benchObjects(b)
	names := NeededNames(objs)
	b.ReportAllocs()
	for b.Loop() {
		Check(core.NewTargetFor(k, names), objs, false)
	}
}

func BenchmarkMinimize(b *testing.B) {
	k := loadKernel(b)
	objs := benchObjects(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := btfgen.NewPlan(objs).Minimize(k); err != nil {
			b.Fatal(err)
		}
	}
}

func benchObjects(b *testing.B) []*bpfobj.Object {
	return loadObjects(b, "bitfields.bpf.o", "btfdump.bpf.o", "execsnoop.bpf.o", "features.bpf.o", "multi.bpf.o",
		"netdrop.bpf.o", "sockets.bpf.o", "stackmarks.bpf.o", "taskstate.bpf.o", "vfs.bpf.o")
}

// BenchmarkCheckHeavy is BenchmarkCheck for the heavy object of 37,000
// relocations (scripts/bench-heavy.sh builds it; skipped without): on the
// Debian 6.1 kernel hundreds of them are poisoned, and each is compared
// with the satisfied ones of its program for an alternative.
func BenchmarkCheckHeavy(b *testing.B) {
	path := "../../testdata/heavy/heavy.bpf.o"
	if _, err := os.Stat(path); err != nil {
		b.Skipf("no heavy object %s: run scripts/bench-heavy.sh", path)
	}
	o, err := bpfobj.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	k := loadKernel(b)
	objs := []*bpfobj.Object{o}
	names := NeededNames(objs)
	b.ReportAllocs()
	for b.Loop() {
		Check(core.NewTargetFor(k, names), objs, false)
	}
}
