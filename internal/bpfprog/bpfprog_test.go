package bpfprog

import (
	"errors"
	"slices"
	"testing"
)

func TestExterns(t *testing.T) {
	o, err := Open("../../testdata/bpf/kernbtf.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ExternKind{"bpf_prog_active": TypedKsym, "bpf_rcu_read_lock": Kfunc, "bpf_rcu_read_unlock": Kfunc}
	if len(o.Externs) != len(want) {
		t.Errorf("externs %v, want %v", o.Externs, want)
	}
	for n, k := range want {
		if e, ok := o.Externs[n]; !ok || e.Kind != k {
			t.Errorf("extern %s: %+v, want kind %d", n, e, k)
		}
	}
	kfuncs := 0
	for _, f := range o.Funcs {
		for i := range f.Len() {
			if f.Insn(i).IsKfuncCall(o) {
				kfuncs++
				if f.Name != "fsync_kfunc" {
					t.Errorf("kfunc call in %s", f.Name)
				}
			}
		}
	}
	if kfuncs != 2 {
		t.Errorf("%d kfunc calls, want 2", kfuncs)
	}
}

func TestReachableSubprogram(t *testing.T) {
	// vfs.bpf.o's kprobes call a static __noinline function in .text.
	o, err := Open("../../testdata/bpf/vfs.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	var sub []string
	for _, f := range o.Funcs {
		if !f.IsProgram() {
			sub = append(sub, f.Name)
		}
	}
	if len(sub) == 0 {
		t.Fatal("no subprogram in .text")
	}
	for _, p := range o.Programs() {
		r := o.Reachable(p)
		if r[0] != p {
			t.Errorf("%s: Reachable starts with %s", p.Name, r[0].Name)
		}
		for _, f := range r[1:] {
			if f.IsProgram() || !slices.Contains(sub, f.Name) {
				t.Errorf("%s: reaches %s (%s)", p.Name, f.Name, f.Section)
			}
		}
		if len(r) < 2 {
			t.Errorf("%s: calls no subprogram", p.Name)
		}
	}
}

func TestParseNotBPF(t *testing.T) {
	if _, err := Parse([]byte("not an ELF file")); !errors.Is(err, ErrNotBPF) {
		t.Errorf("Parse: %v, want ErrNotBPF", err)
	}
}
