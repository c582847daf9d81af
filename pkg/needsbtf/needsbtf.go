// Package needsbtf finds the programs of a BPF object that need the
// running kernel's own BTF when libbpf loads them, whatever BTF is shipped
// beside them.
//
// A minimized BTF (btf_custom_path, BPF_CORE_READ against a btfhub file)
// serves CO-RE relocations only. libbpf resolves the attach target of
// fentry, fexit, fmod_ret, tp_btf, lsm, iter and struct_ops programs, the
// BTF IDs of kfuncs and the addresses of typed __ksym variables in the
// kernel's vmlinux BTF (/sys/kernel/btf/vmlinux, or a module's): on a
// kernel without BTF those programs fail to load (libbpf's
// obj_needs_vmlinux_btf and prog_needs_vmlinux_btf).
package needsbtf

import (
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/btftool/btftool/internal/bpfprog"
)

// Kind says why a program needs the kernel's BTF.
type Kind string

// The reasons a program needs the kernel's BTF.
const (
	// Attach: the program's attach target is a BTF ID of the kernel
	// (fentry, fexit, fmod_ret, tp_btf, lsm, lsm_cgroup, iter,
	// struct_ops). The loader can skip the program
	// (bpf_program__set_autoload(prog, false)) and load the others.
	Attach Kind = "attach"
	// Ksym: the program reads a typed __ksym variable, which libbpf
	// looks up by name in the kernel's BTF. libbpf resolves every
	// extern of the object at load time, so the whole object fails, even
	// when the programs using it are not loaded.
	Ksym Kind = "ksym"
	// Kfunc: the program calls a kfunc, whose BTF ID libbpf looks up in
	// the kernel's BTF; like Ksym, this fails the whole object.
	Kfunc Kind = "kfunc"
)

// Need is one reason a program needs the kernel's BTF.
type Need struct {
	Kind Kind `json:"kind"`
	// Name is the attach type ("fentry", "lsm.s") for Attach and the
	// extern's name for Ksym and Kfunc.
	Name string `json:"name"`
	// Target is the attach target ("vfs_read") for Attach.
	Target string `json:"target,omitempty"`
	// Weak is set for a __weak extern (libbpf accepts its absence from a
	// kernel that has BTF, not a kernel without BTF).
	Weak bool `json:"weak,omitempty"`
}

// String returns "fentry", "ksym bpf_prog_active" or "kfunc
// bpf_rcu_read_lock".
func (n Need) String() string {
	if n.Kind == Attach {
		return n.Name
	}
	return string(n.Kind) + " " + n.Name
}

// Program is one program that needs the kernel's BTF.
type Program struct {
	Name    string `json:"name"`
	Section string `json:"section"`
	// Needs lists the reasons: the attach type first, then the ksyms
	// and kfuncs of the program and of the subprograms it calls, in
	// instruction order, each once.
	Needs []Need `json:"needs"`
}

// String returns "read_entry (fentry)" or "f (kprobe: kfunc
// bpf_rcu_read_lock, ksym x)" style text: the name and its reasons.
func (p Program) String() string {
	s := make([]string, len(p.Needs))
	for i, n := range p.Needs {
		s[i] = n.String()
	}
	return p.Name + " (" + strings.Join(s, ", ") + ")"
}

// ObjectOnly reports whether a reason of p fails the whole object (a ksym
// or kfunc), not only p.
func (p Program) ObjectOnly() bool {
	return slices.ContainsFunc(p.Needs, func(n Need) bool { return n.Kind != Attach })
}

// attachPrefixes are libbpf's section prefixes (section_defs in libbpf.c)
// of the program types that attach to a kernel BTF ID. freplace (an
// extension of another BPF program) needs that program's BTF instead.
var attachPrefixes = []string{
	"fentry", "fentry.s", "fexit", "fexit.s", "fmod_ret", "fmod_ret.s",
	"tp_btf", "lsm", "lsm.s", "lsm_cgroup", "iter", "iter.s",
	"struct_ops", "struct_ops.s",
}

// AttachType returns the attach type of a program section that attaches
// to a kernel BTF ID ("fentry" for "fentry/vfs_read", "struct_ops" for
// "struct_ops" or "struct_ops/x") and its target, or ok false for any
// other section.
func AttachType(section string) (typ, target string, ok bool) {
	typ, target, _ = strings.Cut(section, "/")
	if !slices.Contains(attachPrefixes, typ) {
		return "", "", false
	}
	return typ, target, true
}

// Analyze returns the programs of o that need the kernel's BTF, in
// section and offset order; nil when none does.
func Analyze(o *bpfprog.Object) []Program {
	var out []Program
	for _, prog := range o.Programs() {
		p := Program{Name: prog.Name, Section: prog.Section}
		if typ, target, ok := AttachType(prog.Section); ok {
			p.Needs = append(p.Needs, Need{Kind: Attach, Name: typ, Target: target})
		}
		for _, f := range o.Reachable(prog) {
			for _, in := range externRefs(o, f) {
				e, ok := o.Externs[in.Sym()]
				if !ok || in.SymSection() != 0 {
					continue
				}
				var n Need
				switch {
				case e.Kind == bpfprog.Kfunc:
					n = Need{Kind: Kfunc, Name: e.Name, Weak: e.Weak}
				case e.Kind == bpfprog.TypedKsym:
					n = Need{Kind: Ksym, Name: e.Name, Weak: e.Weak}
				default:
					continue
				}
				if !slices.Contains(p.Needs, n) {
					p.Needs = append(p.Needs, n)
				}
			}
		}
		if len(p.Needs) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// externRefs returns the instruction slots of f that can refer to an
// extern of o, in order: those with an ELF relocation, or every slot when
// o has an extern named "" (a malformed object), which a slot without
// one names.
func externRefs(o *bpfprog.Object, f *bpfprog.Func) iter.Seq2[int, bpfprog.Insn] {
	if _, ok := o.Externs[""]; !ok {
		return f.Relocated()
	}
	return func(yield func(int, bpfprog.Insn) bool) {
		for i := range f.Len() {
			if !yield(i, f.Insn(i)) {
				return
			}
		}
	}
}

// AnalyzeFile is Analyze of the object at path.
func AnalyzeFile(path string) ([]Program, error) {
	o, err := bpfprog.Open(path)
	if err != nil {
		return nil, err
	}
	return Analyze(o), nil
}

// Summary returns the one-line summary reports print for an object whose
// programs progs need the kernel's BTF: "2 program(s) need the kernel's
// own BTF at load time: read_entry (fentry), f (kfunc x)"; "" when progs
// is empty.
func Summary(progs []Program) string {
	if len(progs) == 0 {
		return ""
	}
	s := make([]string, len(progs))
	for i, p := range progs {
		s[i] = p.String()
	}
	return fmt.Sprintf("%d program(s) need the kernel's own BTF at load time: %s", len(progs), strings.Join(s, ", "))
}
