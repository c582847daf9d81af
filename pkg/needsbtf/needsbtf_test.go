package needsbtf

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestAnalyzeKernBTF(t *testing.T) {
	progs, err := AnalyzeFile("../../testdata/bpf/kernbtf.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"read_entry":  "fentry",
		"read_exit":   "fexit",
		"exec_btf":    "tp_btf",
		"open_lsm":    "lsm",
		"dump_task":   "iter",
		"write_ksym":  "ksym bpf_prog_active",
		"fsync_kfunc": "kfunc bpf_rcu_read_lock, kfunc bpf_rcu_read_unlock",
	}
	got := map[string]string{}
	for _, p := range progs {
		s := make([]string, len(p.Needs))
		for i, n := range p.Needs {
			s[i] = n.String()
		}
		got[p.Name] = strings.Join(s, ", ")
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: needs %q, want %q", name, got[name], w)
		}
	}
	for name, g := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: needs %q, want nothing", name, g)
		}
	}
	for _, p := range progs {
		if obj := p.Name == "write_ksym" || p.Name == "fsync_kfunc"; p.ObjectOnly() != obj {
			t.Errorf("%s: ObjectOnly() = %v, want %v", p.Name, p.ObjectOnly(), obj)
		}
		if p.Name == "read_entry" && p.Needs[0].Target != "vfs_read" {
			t.Errorf("read_entry: target %q, want vfs_read", p.Needs[0].Target)
		}
	}
}

func TestAnalyzeNothingNeeded(t *testing.T) {
	for _, name := range []string{"plain", "execsnoop", "multi", "vfs", "netdrop"} {
		progs, err := AnalyzeFile(filepath.Join("../../testdata/bpf", name+".bpf.o"))
		if err != nil {
			t.Fatal(err)
		}
		if len(progs) != 0 {
			t.Errorf("%s: %s, want no program", name, Summary(progs))
		}
	}
}

func TestAnalyzeSubprogram(t *testing.T) {
	// taskstate's tp_btf program needs it; its raw_tp twin does not.
	progs, err := AnalyzeFile("../../testdata/bpf/taskstate.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Summary(progs), "1 program(s) need the kernel's own BTF at load time: handle_switch_btf (tp_btf)"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

func TestAttachType(t *testing.T) {
	for _, c := range []struct {
		sec, typ, target string
		ok               bool
	}{
		{"fentry/vfs_read", "fentry", "vfs_read", true},
		{"fmod_ret.s/x", "fmod_ret.s", "x", true},
		{"struct_ops", "struct_ops", "", true},
		{"lsm_cgroup/file_open", "lsm_cgroup", "file_open", true},
		{"kprobe/vfs_read", "", "", false},
		{"freplace/f", "", "", false},
		{"raw_tp/sched_switch", "", "", false},
		{"fentry2/x", "", "", false},
	} {
		typ, target, ok := AttachType(c.sec)
		if typ != c.typ || target != c.target || ok != c.ok {
			t.Errorf("AttachType(%q) = %q, %q, %v; want %q, %q, %v", c.sec, typ, target, ok, c.typ, c.target, c.ok)
		}
	}
}

func TestSummaryEmpty(t *testing.T) {
	if s := Summary(nil); s != "" {
		t.Errorf("Summary(nil) = %q, want empty", s)
	}
}
