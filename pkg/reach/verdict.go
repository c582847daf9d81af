package reach

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/btftool/btftool/internal/bpfprog"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/needsbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// The verdicts on a relocation are core.Status values: core.StatusOK
// (satisfied), core.StatusGuarded, core.StatusAlternative,
// core.StatusWillFail, and core.StatusFailed when libbpf refuses the whole
// object on it.

// ProgramStatus is the verdict on one program on one kernel.
type ProgramStatus string

// The verdicts on a program.
const (
	// Loads: libbpf relocates the program and the verifier reaches no
	// poisoned instruction.
	Loads ProgramStatus = "loads"
	// NeedsVariantDisabled: the program fails, but a variant of it in the
	// same object loads; the object loads once the loader disables this
	// program (bpf_program__set_autoload(prog, false)).
	NeedsVariantDisabled ProgramStatus = "needs-variant-disabled"
	// ProgramFails: the program fails and no variant covers it.
	ProgramFails ProgramStatus = "fails"
)

// Reloc is the verdict on one relocation of an object.
type Reloc struct {
	// Index is the relocation's position in bpfobj.Object.Relocations.
	Index  int         `json:"index"`
	Status core.Status `json:"status"`
	// Reachable lists the programs whose verifier run reaches the
	// poisoned instruction.
	Reachable []string `json:"reachable,omitempty"`
}

// Program is the verdict on one program of an object.
type Program struct {
	Name    string        `json:"name"`
	Section string        `json:"section"`
	Status  ProgramStatus `json:"status"`
	// Why says why the program fails: the poisoned relocations it
	// reaches ("relo #3 struct task_struct.state"), a kernel without BTF
	// (Kernel.NoBTF) or without its attach target (Kernel.Attachable), or
	// the object's load failure.
	Why []string `json:"why,omitempty"`
	// Variant names the program that covers this one, for
	// NeedsVariantDisabled.
	Variant string `json:"variant,omitempty"`
}

// Object is the verdict on one object on one kernel.
type Object struct {
	Path     string    `json:"path"`
	Programs []Program `json:"programs"`
	Relocs   []Reloc   `json:"relocations"`
}

// Kernel says what the analysis knows of the kernel beyond its types.
type Kernel struct {
	// NoBTF: the kernel has no BTF of its own (no
	// /sys/kernel/btf/vmlinux); the minimized BTF serves CO-RE, and the
	// programs needsbtf names fail.
	NoBTF bool
	// Attachable, when set, reports whether the kernel's BTF has the
	// attach target of a program of attach type typ ("fentry", "tp_btf":
	// needsbtf.AttachType): see AttachTargets.
	Attachable func(typ, target string) bool
}

// AttachTargets returns a Kernel.Attachable for the kernel BTF b and the
// attach targets of progs, with libbpf's lookups: a FUNC named after the
// target for fentry, fexit and fmod_ret, FUNC bpf_lsm_<target> for lsm,
// FUNC bpf_iter_<target> for iter, TYPEDEF btf_trace_<target> for tp_btf.
// Other types, an empty target (set by the loader at run time) and a
// target of no program of progs are attachable. Only b is searched, not
// the kernel's modules; b is read once, for the names progs need.
func AttachTargets(b *rawbtf.BTF, progs ...*bpfprog.Object) func(typ, target string) bool {
	want := map[string]rawbtf.Kind{}
	for _, o := range progs {
		for _, p := range needsbtf.Analyze(o) {
			if n := p.Needs[0]; n.Kind == needsbtf.Attach && n.Target != "" {
				if name, kind, ok := attachName(n.Name, n.Target); ok {
					want[name] = kind
				}
			}
		}
	}
	found := map[string]bool{}
	if len(want) > 0 {
		for id := b.FirstID(); b.Valid(id); id++ {
			t := b.Type(id)
			if k, ok := want[string(t.NameBytes())]; ok && k == t.Kind() {
				found[t.Name()] = true
			}
		}
	}
	return func(typ, target string) bool {
		name, _, ok := attachName(typ, target)
		if !ok {
			return true
		}
		if _, asked := want[name]; !asked {
			return true
		}
		return found[name]
	}
}

// attachName returns the name and kind of the kernel BTF type libbpf
// looks up for a program of attach type typ on target.
func attachName(typ, target string) (string, rawbtf.Kind, bool) {
	if target == "" {
		return "", 0, false
	}
	switch strings.TrimSuffix(typ, ".s") {
	case "fentry", "fexit", "fmod_ret":
		return target, rawbtf.KindFunc, true
	case "lsm", "lsm_cgroup":
		return "bpf_lsm_" + target, rawbtf.KindFunc, true
	case "iter":
		return "bpf_iter_" + target, rawbtf.KindFunc, true
	case "tp_btf":
		return "btf_trace_" + target, rawbtf.KindTypedef, true
	}
	return "", 0, false
}

// Decide gives every relocation and every program of obj (read as prog
// too) its verdict on a kernel, from results, libbpf's decisions for
// obj.Relocations on that kernel (core.Relocator.Relocate, in order).
func Decide(obj *bpfobj.Object, prog *bpfprog.Object, results []core.Result, k Kernel) (*Object, error) {
	if len(results) != len(obj.Relocations) {
		return nil, fmt.Errorf("%s: %d results for %d relocations", obj.Path, len(results), len(obj.Relocations))
	}
	out := &Object{Path: obj.Path}
	patches := funcPatches{} // by function, then instruction
	var loadErr string
	for j := range obj.Relocations {
		r := &obj.Relocations[j]
		res := &results[j]
		if res.Err != nil && loadErr == "" {
			loadErr = fmt.Sprintf("relo #%d %s: %v", r.Index, r.Path(), res.Err)
		}
		if !r.InProgram() {
			continue
		}
		l := Loc{r.Section, r.Program, r.Insn(obj)}
		patches.set(l, Patch{Poison: res.Poison || res.FailMemSz && isMem(prog, l), Value: res.NewVal})
	}
	if loadErr == "" {
		if err := obj.Check(); err != nil {
			loadErr = err.Error()
		}
	}
	needs := map[string]needsbtf.Program{}
	objectNeedsBTF := ""
	for _, p := range needsbtf.Analyze(prog) {
		needs[p.Section+"\x00"+p.Name] = p
		if p.ObjectOnly() && k.NoBTF && objectNeedsBTF == "" {
			objectNeedsBTF = p.String()
		}
	}
	// poisoned lists the relocations in programs whose instruction is
	// poisoned, in order: the only ones a program can reach to fail;
	// byFn lists them by function of prog (numbered by fn), so that each
	// program looks only at those in the functions it reaches (a heavy
	// object has thousands of poisoned relocations on an old kernel, and
	// hundreds of programs).
	fn := make(map[funcKey]int, len(prog.Funcs))
	for i, f := range prog.Funcs {
		fn[funcKey{f.Section, f.Name}] = i
	}
	type poisonedAt struct {
		j, insn int
		l       Loc
	}
	var poisoned []poisonedAt
	byFn := make([][]int, len(prog.Funcs)) // indices in poisoned, by function
	for j := range obj.Relocations {
		if r := &obj.Relocations[j]; r.InProgram() {
			if l := (Loc{r.Section, r.Program, r.Insn(obj)}); patches.at(l).Poison {
				if i, ok := fn[funcKey{l.Section, l.Func}]; ok {
					byFn[i] = append(byFn[i], len(poisoned))
				}
				poisoned = append(poisoned, poisonedAt{j, l.Insn, l})
			}
		}
	}
	var hits []int
	reachedBy := map[int][]string{}
	w := walkers.Get().(*walker)
	defer walkers.Put(w)
	progs := prog.Programs()
	for _, pf := range progs {
		p := Program{Name: pf.Name, Section: pf.Section, Status: Loads}
		switch {
		case loadErr != "":
			p.Why = append(p.Why, "libbpf refuses the object: "+loadErr)
		case objectNeedsBTF != "":
			p.Why = append(p.Why, "libbpf needs the kernel's BTF for the whole object, which the kernel does not have: "+objectNeedsBTF)
		}
		if n, ok := needs[pf.Section+"\x00"+pf.Name]; ok && n.Needs[0].Kind == needsbtf.Attach {
			a := n.Needs[0]
			switch {
			case k.NoBTF:
				p.Why = append(p.Why, "the kernel has no BTF to attach "+pf.Name+" ("+a.Name+")")
			case k.Attachable != nil && !k.Attachable(a.Name, a.Target):
				p.Why = append(p.Why, fmt.Sprintf("the kernel's BTF has no %s attach target %s", a.Name, a.Target))
			}
		}
		seen := w.reachable(prog, pf, patches)
		// The poisoned relocations the program reaches, in order.
		hits = hits[:0]
		for k, s := range seen {
			i, ok := fn[k]
			if !ok {
				continue
			}
			for _, pi := range byFn[i] {
				if in := poisoned[pi].insn; in >= 0 && in < len(s) && s[in] {
					hits = append(hits, pi)
				}
			}
		}
		slices.Sort(hits)
		for _, pi := range hits {
			pa := &poisoned[pi]
			j, r, l := pa.j, &obj.Relocations[pa.j], pa.l
			p.Why = append(p.Why, fmt.Sprintf("reaches poisoned relo #%d %s in %s insn %d", r.Index, r.Path(), r.Program, l.Insn))
			reachedBy[j] = append(reachedBy[j], pf.Name)
		}
		if len(p.Why) > 0 {
			p.Status = ProgramFails
		}
		out.Programs = append(out.Programs, p)
	}
	// A failing program whose variant loads needs that variant instead.
	for i := range out.Programs {
		p := &out.Programs[i]
		if p.Status != ProgramFails || loadErr != "" || objectNeedsBTF != "" {
			continue
		}
		for _, q := range out.Programs {
			if q.Status == Loads && q.Name != p.Name && variants(p.Section, q.Section) {
				p.Status, p.Variant = NeedsVariantDisabled, q.Name
				break
			}
		}
	}
	status := map[string]ProgramStatus{}
	for _, p := range out.Programs {
		status[p.Name] = p.Status
	}
	out.Relocs = make([]Reloc, 0, len(obj.Relocations))
	for j := range obj.Relocations {
		res := &results[j]
		rv := Reloc{Index: j, Status: core.StatusOK, Reachable: reachedBy[j]}
		switch {
		case res.Err != nil:
			rv.Status = core.StatusFailed
		case !res.Unsatisfied() && !patches.at(locOf(obj, j)).Poison:
			rv.Status = core.StatusOK
		case len(rv.Reachable) == 0:
			rv.Status = core.StatusGuarded
		default:
			rv.Status = core.StatusAlternative
			for _, name := range rv.Reachable {
				if status[name] == ProgramFails {
					rv.Status = core.StatusWillFail
				}
			}
		}
		out.Relocs = append(out.Relocs, rv)
	}
	return out, nil
}

// walkers holds Reachable's working memory between Decide calls (a run
// decides one object after another).
var walkers = sync.Pool{New: func() any { return new(walker) }}

// locOf returns where relocation j of obj is.
func locOf(obj *bpfobj.Object, j int) Loc {
	r := &obj.Relocations[j]
	return Loc{r.Section, r.Program, r.Insn(obj)}
}

// isMem reports whether the instruction at l is a load or store, which
// libbpf poisons when it cannot resize it (core.Outcome.FailMemSz).
func isMem(prog *bpfprog.Object, l Loc) bool {
	for _, f := range prog.Funcs {
		if f.Section == l.Section && f.Name == l.Func && l.Insn >= 0 && l.Insn < len(f.Insns) {
			c := f.Insns[l.Insn].Class()
			return c == bpfprog.ClassLDX || c == bpfprog.ClassST || c == bpfprog.ClassSTX
		}
	}
	return false
}

// families groups the program types that hook the same kernel event in
// different ways.
var families = map[string]string{
	"kprobe": "entry", "fentry": "entry", "fentry.s": "entry",
	"kretprobe": "exit", "fexit": "exit", "fexit.s": "exit",
	"tp_btf": "tp", "raw_tp": "tp", "raw_tracepoint": "tp", "tracepoint": "tp", "tp": "tp",
}

// variants reports whether two program sections hook the same kernel
// event in different ways ("fentry/vfs_read" and "kprobe/vfs_read",
// "tp_btf/sched_switch" and "raw_tp/sched_switch" or
// "tracepoint/sched/sched_switch"), which is how objects carry a fallback
// for kernels that cannot load one of them.
func variants(a, b string) bool {
	ta, ea := event(a)
	tb, eb := event(b)
	return ta != tb && families[ta] != "" && families[ta] == families[tb] && ea != "" && ea == eb
}

// event splits a section into its program type and the event it hooks,
// without a tracepoint's category.
func event(sec string) (typ, ev string) {
	typ, ev, _ = strings.Cut(sec, "/")
	if typ == "tracepoint" || typ == "tp" {
		if _, after, ok := strings.Cut(ev, "/"); ok {
			ev = after
		}
	}
	return typ, ev
}

// Failing reports whether some program of o fails with no variant to
// cover it: the object does not load whatever the loader disables.
func (o *Object) Failing() bool {
	for _, p := range o.Programs {
		if p.Status == ProgramFails {
			return true
		}
	}
	return false
}
