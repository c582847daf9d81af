package verify_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/btftool/btftool/internal/verifytest"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
	"github.com/btftool/btftool/pkg/verify"
)

const kernelPath = "../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz"

// fixture is the test kernel, the test objects and the kernel minimized
// for all of them, loaded once.
type fixture struct {
	full []byte
	objs []*bpfobj.Object
	min  []byte
}

var loadFixture = sync.OnceValues(func() (*fixture, error) {
	full, _, err := kbtf.ReadFile(kernelPath, nil)
	if err != nil {
		return nil, err
	}
	objs, err := openObjects("../../testdata/bpf/*.bpf.o")
	if err != nil {
		return nil, err
	}
	min, err := minimize(full, objs)
	if err != nil {
		return nil, err
	}
	return &fixture{full: full, objs: objs, min: min}, nil
})

func openObjects(glob string) ([]*bpfobj.Object, error) {
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		return nil, errors.Join(err, os.ErrNotExist)
	}
	var objs []*bpfobj.Object
	for _, f := range files {
		o, err := bpfobj.Open(f)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	return objs, nil
}

func minimize(full []byte, objs []*bpfobj.Object) ([]byte, error) {
	k, err := rawbtf.Parse(full)
	if err != nil {
		return nil, err
	}
	res, err := btfgen.NewPlan(objs).Minimize(k)
	if err != nil {
		return nil, err
	}
	return res.BTF, nil
}

func getFixture(tb testing.TB) *fixture {
	tb.Helper()
	fx, err := loadFixture()
	if errors.Is(err, os.ErrNotExist) {
		tb.Skipf("test data missing: %v", err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return fx
}

func mutate(tb testing.TB, raw []byte, e verifytest.Edit) []byte {
	tb.Helper()
	out, err := verifytest.Apply(raw, e)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// firstMismatch returns the first mismatching relocation, or nil.
func firstMismatch(rep *verify.Report) *verify.RelocReport {
	for i := range rep.Relocations {
		if rep.Relocations[i].Status == verify.StatusMismatch {
			return &rep.Relocations[i]
		}
	}
	return nil
}

func TestCheck(t *testing.T) {
	fx := getFixture(t)
	var fewer []*bpfobj.Object
	for _, o := range fx.objs {
		if filepath.Base(o.Path) != "execsnoop.bpf.o" {
			fewer = append(fewer, o)
		}
	}
	fewerMin, err := minimize(fx.full, fewer)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		min  []byte
		// want is "" for equivalent, else the object and path of the
		// first mismatch.
		wantObject, wantPath string
	}{
		{name: "btfgen output", min: fx.min},
		{name: "full against itself", min: fx.full},
		{name: "made for fewer objects", min: fewerMin, wantObject: "execsnoop.bpf.o", wantPath: "struct trace_event_raw_sys_enter.id"},
		{name: "member deleted", min: mutate(t, fx.min, verifytest.Edit{Type: "task_struct", Member: "real_parent", Drop: true}),
			wantObject: "execsnoop.bpf.o", wantPath: "struct task_struct.real_parent"},
		{name: "member moved", min: mutate(t, fx.min, verifytest.Edit{Type: "task_struct", Member: "tgid", ShiftBits: 64}),
			wantObject: "", wantPath: "struct task_struct.tgid"},
		{name: "enumerator dropped", min: mutate(t, fx.min, verifytest.Edit{Type: "skb_drop_reason", Member: "SKB_DROP_REASON_NETFILTER_DROP", Drop: true}),
			wantObject: "netdrop.bpf.o", wantPath: "enum skb_drop_reason::SKB_DROP_REASON_NETFILTER_DROP"},
		{name: "enumerator changed", min: mutate(t, fx.min, verifytest.Edit{Type: "skb_drop_reason", Member: "SKB_DROP_REASON_NOT_SPECIFIED", AddValue: 100}),
			wantObject: "netdrop.bpf.o", wantPath: "enum skb_drop_reason::SKB_DROP_REASON_NOT_SPECIFIED"},
		{name: "enum64 enumerator dropped", min: mutate(t, fx.min, verifytest.Edit{Type: "netdev_priv_flags", Member: "IFF_LIVE_RENAME_OK", Drop: true}),
			wantObject: "netdrop.bpf.o", wantPath: "enum64 netdev_priv_flags::IFF_LIVE_RENAME_OK"},
	}
	plan := verify.NewPlan(fx.objs)
	k, err := verify.NewKernel(fx.full)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := plan.Check(k, tt.min, verify.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.IsWellFormed() && tt.wantPath == "" {
				t.Errorf("not well-formed: %+v", rep.WellFormed)
			}
			if len(rep.Relocations) < 100 {
				t.Errorf("only %d relocations checked", len(rep.Relocations))
			}
			bad := firstMismatch(rep)
			if tt.wantPath == "" {
				if !rep.Equivalent() || bad != nil {
					t.Fatalf("not equivalent: first mismatch %+v", bad)
				}
				return
			}
			if rep.Equivalent() || bad == nil {
				t.Fatalf("equivalent, want a mismatch at %s", tt.wantPath)
			}
			if tt.wantObject != "" && filepath.Base(bad.Object) != tt.wantObject {
				t.Errorf("first mismatch in %s, want %s", bad.Object, tt.wantObject)
			}
			if !strings.HasPrefix(bad.Path, tt.wantPath) {
				t.Errorf("first mismatch at %s (%s), want %s", bad.Path, bad.Why, tt.wantPath)
			}
		})
	}
}

// TestCheckSymmetric checks that a mutation is caught whichever of the two
// BTFs is called full.
func TestCheckSymmetric(t *testing.T) {
	fx := getFixture(t)
	bad := mutate(t, fx.min, verifytest.Edit{Type: "task_struct", Member: "real_parent", Drop: true})
	for _, pair := range [][2][]byte{{fx.min, bad}, {bad, fx.min}} {
		rep, err := verify.Check(pair[0], pair[1], fx.objs, verify.Options{NoKernelBTF: true})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Equivalent() {
			t.Error("equivalent, want a mismatch")
		}
	}
}

// TestPlanWorkers checks that the number of objects cilium/ebpf reads at
// once changes nothing in the report.
func TestPlanWorkers(t *testing.T) {
	fx := getFixture(t)
	var reports []*verify.Report
	for _, workers := range []int{0, 1, 3} {
		k, err := verify.NewKernel(fx.full)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := verify.NewPlanWith(fx.objs, verify.PlanOptions{Workers: workers}).Check(k, fx.min, verify.Options{NoKernelBTF: true})
		if err != nil {
			t.Fatal(err)
		}
		reports = append(reports, rep)
	}
	if len(reports[0].Relocations) == 0 {
		t.Fatal("no relocations checked")
	}
	for i := 1; i < len(reports); i++ {
		if !reflect.DeepEqual(reports[0], reports[i]) {
			t.Errorf("report %d differs from the default plan's", i)
		}
	}
}

func TestCheckFullUnusable(t *testing.T) {
	fx := getFixture(t)
	_, err := verify.Check(fx.full[:1000], fx.min, fx.objs, verify.Options{})
	if !errors.Is(err, verify.ErrFullBTF) {
		t.Fatalf("err = %v, want ErrFullBTF", err)
	}
}
