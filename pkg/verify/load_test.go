package verify_test

import (
	"os"
	"testing"

	"github.com/btftool/btftool/internal/verifytest"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/verify"
)

// TestLoad loads the test objects into the running kernel, relocated
// against its BTF and against a minimized copy, and against one with a
// member removed, which must make some program fare differently.
func TestLoad(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root")
	}
	if testing.Short() {
		t.Skip("short")
	}
	full, _, err := kbtf.ReadFile("/sys/kernel/btf/vmlinux", nil)
	if err != nil {
		t.Skipf("no kernel BTF: %v", err)
	}
	objs, err := openObjects("../../testdata/bpf/*.bpf.o")
	if err != nil {
		t.Skip(err)
	}
	min, err := minimize(full, objs)
	if err != nil {
		t.Fatal(err)
	}
	plan := verify.NewPlan(objs)
	k, err := verify.NewKernel(full)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := plan.Check(k, min, verify.Options{Load: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Loads) == 0 {
		t.Skipf("nothing loaded: %v", rep.Notes)
	}
	loaded := 0
	for _, l := range rep.Loads {
		if l.Full == verify.LoadLoaded {
			loaded++
		}
		if !l.Same {
			t.Errorf("%s %s: full %s (%s), minimized %s (%s)", l.Object, l.Program, l.Full, l.FullError, l.Min, l.MinError)
		}
	}
	if loaded == 0 {
		t.Skipf("no program loads on this kernel: %+v", rep.Loads)
	}
	if !rep.Equivalent() {
		t.Fatalf("not equivalent: %+v", firstMismatch(rep))
	}
	t.Logf("%d programs fared alike, %d of them loaded", len(rep.Loads), loaded)

	bad := mutate(t, min, verifytest.Edit{Type: "task_struct", Member: "real_parent", Drop: true})
	rep, err = plan.Check(k, bad, verify.Options{Load: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.LoadMismatches() == 0 {
		t.Errorf("no program loads differently without task_struct.real_parent")
	}
}
