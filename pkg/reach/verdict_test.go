package reach

import (
	"sync"
	"testing"

	"github.com/btftool/btftool/internal/bpfprog"

	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

const debian61 = "../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz"

var loadDebian61 = sync.OnceValues(func() (*rawbtf.BTF, error) {
	data, _, err := kbtf.ReadFile(debian61, nil)
	if err != nil {
		return nil, err
	}
	return rawbtf.Parse(data)
})

func TestDecideGuards(t *testing.T) {
	k, err := loadDebian61()
	if err != nil {
		t.Fatal(err)
	}
	_, v := decideHost(t, k, "../../testdata/bpf/guards.bpf.o")
	want := map[string]ProgramStatus{
		"unguarded":    ProgramFails,
		"guarded":      Loads,
		"guarded_flag": Loads,
		"fsync_kprobe": Loads,
		"fsync_fentry": NeedsVariantDisabled,
	}
	for _, p := range v.Programs {
		if p.Status != want[p.Name] {
			t.Errorf("%s: %s %v, want %s", p.Name, p.Status, p.Why, want[p.Name])
		}
		if p.Name == "fsync_fentry" && p.Variant != "fsync_kprobe" {
			t.Errorf("fsync_fentry: variant %q, want fsync_kprobe", p.Variant)
		}
	}
	if len(v.Programs) != len(want) {
		t.Errorf("%d programs, want %d", len(v.Programs), len(want))
	}
	counts := map[core.Status]int{}
	for _, r := range v.Relocs() {
		counts[r.Status]++
	}
	// unguarded's read fails; fsync_fentry's is covered by the kprobe;
	// the reads under the guards and the guards themselves are guarded.
	if counts[core.StatusWillFail] != 1 || counts[core.StatusAlternative] != 1 || counts[core.StatusGuarded] < 4 || counts[core.StatusOK] != 0 {
		t.Errorf("relocation verdicts %v, want 1 will-fail, 1 alternative, >= 4 guarded, 0 satisfied", counts)
	}
	if !v.Failing() {
		t.Error("Failing() = false with a program that fails")
	}
}

func TestDecideTaskstate(t *testing.T) {
	// taskstate's __state/state flavors: the other flavor's read is dead
	// on 6.1, and both programs load.
	k, err := loadDebian61()
	if err != nil {
		t.Fatal(err)
	}
	obj, v := decideHost(t, k, "../../testdata/bpf/taskstate.bpf.o")
	for _, p := range v.Programs {
		if p.Status != Loads {
			t.Errorf("%s: %s %v, want loads", p.Name, p.Status, p.Why)
		}
	}
	guarded := 0
	for _, r := range v.Relocs() {
		if r.Status == core.StatusGuarded {
			guarded++
		}
		if r.Status == core.StatusWillFail || r.Status == core.StatusAlternative {
			t.Errorf("relo %s: %s", obj.Relocations[r.Index].Path(), r.Status)
		}
	}
	if guarded == 0 {
		t.Error("no guarded relocation")
	}
	if v.Failing() {
		t.Error("Failing() = true")
	}
}

func TestDecideNoKernelBTF(t *testing.T) {
	k, err := loadDebian61()
	if err != nil {
		t.Fatal(err)
	}
	v := decideHostKernel(t, k, "../../testdata/bpf/taskstate.bpf.o", Kernel{NoBTF: true})
	got := map[string]ProgramStatus{}
	for _, p := range v.Programs {
		got[p.Name] = p.Status
	}
	if got["handle_switch"] != Loads || got["handle_switch_btf"] != NeedsVariantDisabled {
		t.Errorf("without kernel BTF: %v, want handle_switch loads, handle_switch_btf needs-variant-disabled", got)
	}
	v = decideHostKernel(t, k, "../../testdata/bpf/kernbtf.bpf.o", Kernel{NoBTF: true})
	for _, p := range v.Programs {
		if p.Status != ProgramFails {
			t.Errorf("kernbtf %s without kernel BTF: %s, want fails (typed ksym and kfuncs fail the object)", p.Name, p.Status)
		}
	}
}

func TestVariants(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"fentry/vfs_read", "kprobe/vfs_read", true},
		{"fexit/vfs_read", "kretprobe/vfs_read", true},
		{"fentry/vfs_read", "fexit/vfs_read", false},
		{"tp_btf/sched_switch", "raw_tp/sched_switch", true},
		{"tp_btf/sched_switch", "tracepoint/sched/sched_switch", true},
		{"kprobe/vfs_read", "kprobe/vfs_read", false},
		{"fentry/vfs_read", "kprobe/vfs_write", false},
		{"lsm/file_open", "kprobe/file_open", false},
	} {
		if got := variants(c.a, c.b); got != c.want {
			t.Errorf("variants(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := variants(c.b, c.a); got != c.want {
			t.Errorf("variants(%q, %q) = %v, want %v", c.b, c.a, got, c.want)
		}
	}
}

func TestAttachTargets(t *testing.T) {
	k, err := loadDebian61()
	if err != nil {
		t.Fatal(err)
	}
	// Programs attaching to these targets, as needsbtf finds them.
	var funcs []*bpfprog.Func
	for _, sec := range []string{"fentry/vfs_read", "fexit.s/vfs_read", "fentry/dummy_file_read", "tp_btf/sched_switch",
		"tp_btf/btftool_no_such_tracepoint", "iter/task", "iter/btftool_no_such_iter", "lsm/btftool_no_such_hook", "struct_ops/x"} {
		funcs = append(funcs, bpfprog.NewFunc("p", sec, []bpfprog.Insn{{Op: bpfprog.OpExit}}))
	}
	has := AttachTargets(k, &bpfprog.Object{Funcs: funcs})
	for _, c := range []struct {
		typ, target string
		want        bool
	}{
		{"fentry", "vfs_read", true},
		{"fexit.s", "vfs_read", true},
		{"fentry", "dummy_file_read", false},
		{"fentry", "", true},
		{"tp_btf", "sched_switch", true},
		{"tp_btf", "btftool_no_such_tracepoint", false},
		{"iter", "task", true},
		{"iter", "btftool_no_such_iter", false},
		{"lsm", "btftool_no_such_hook", false},
		{"struct_ops", "x", true},
		// no program asked for it: not looked up
		{"fentry", "btftool_not_asked", true},
	} {
		if got := has(c.typ, c.target); got != c.want {
			t.Errorf("%s/%s: %v, want %v", c.typ, c.target, got, c.want)
		}
	}
	// A program whose attach target the kernel lacks fails; the others
	// load.
	v := decideHostKernel(t, k, "../../testdata/bpf/kernbtf.bpf.o", Kernel{Attachable: func(typ, target string) bool { return typ != "lsm" }})
	for _, p := range v.Programs {
		if want := p.Name == "open_lsm"; (p.Status == ProgramFails) != want {
			t.Errorf("%s: %s %v", p.Name, p.Status, p.Why)
		}
	}
}
