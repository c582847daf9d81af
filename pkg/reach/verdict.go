package reach

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

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

// Object is the verdict on one object on one kernel. The verdicts on its
// relocations are held compactly (RelocStatus, Reloc); it encodes to JSON
// as {"path", "programs", "relocations": [Reloc...]}. An Object that
// Prepared.Decide returns may be shared with other callers and must not
// be modified.
type Object struct {
	Path     string    `json:"path"`
	Programs []Program `json:"programs"`
	// statuses holds the verdict of each relocation; reachedBy the
	// programs reaching each poisoned relocation some program reaches,
	// by relocation.
	statuses  []core.Status
	reachedBy []reachedReloc
}

// reachedReloc lists the programs whose verifier run reaches the poisoned
// instruction of relocation j.
type reachedReloc struct {
	j     int32
	progs []string
}

// NumRelocs returns the number of relocations of the object.
func (o *Object) NumRelocs() int { return len(o.statuses) }

// RelocStatus returns the verdict on relocation j.
func (o *Object) RelocStatus(j int) core.Status { return o.statuses[j] }

// Reloc returns the verdict on relocation j, with the programs reaching
// it.
func (o *Object) Reloc(j int) Reloc {
	r := Reloc{Index: j, Status: o.statuses[j]}
	if k, ok := slices.BinarySearchFunc(o.reachedBy, int32(j), func(r reachedReloc, j int32) int { return int(r.j - j) }); ok {
		r.Reachable = o.reachedBy[k].progs
	}
	return r
}

// Relocs returns the verdicts on all relocations, in order (a fresh
// slice).
func (o *Object) Relocs() []Reloc {
	out := make([]Reloc, len(o.statuses))
	for j := range out {
		out[j] = Reloc{Index: j, Status: o.statuses[j]}
	}
	for _, r := range o.reachedBy {
		out[r.j].Reachable = r.progs
	}
	return out
}

// MarshalJSON encodes o with its relocations' verdicts as Relocs lists
// them.
func (o *Object) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Path     string    `json:"path"`
		Programs []Program `json:"programs"`
		Relocs   []Reloc   `json:"relocations"`
	}{o.Path, o.Programs, o.Relocs()})
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
	var needs []needsbtf.Need
	for _, o := range progs {
		for _, p := range needsbtf.Analyze(o) {
			needs = append(needs, p.Needs[0])
		}
	}
	return attachTargets(b, needs)
}

// AttachTargetsOf is AttachTargets for the objects preps were prepared
// from (nil ones are skipped).
func AttachTargetsOf(b *rawbtf.BTF, preps ...*Prepared) func(typ, target string) bool {
	var needs []needsbtf.Need
	for _, p := range preps {
		if p == nil {
			continue
		}
		for _, i := range p.attaches {
			needs = append(needs, *p.progs[i].attach)
		}
	}
	return attachTargets(b, needs)
}

// attachTargets is AttachTargets for the first needs of the programs
// needing the kernel's BTF.
func attachTargets(b *rawbtf.BTF, needs []needsbtf.Need) func(typ, target string) bool {
	want := map[string]rawbtf.Kind{}
	for _, n := range needs {
		if n.Kind == needsbtf.Attach && n.Target != "" {
			if name, kind, ok := attachName(n.Name, n.Target); ok {
				want[name] = kind
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
// obj.Relocations on that kernel (core.Relocator.Relocate, in order). It
// is Prepare(obj, prog) then Prepared.Decide, without remembering the
// verdicts: a caller deciding the same object on several kernels
// prepares it once.
func Decide(obj *bpfobj.Object, prog *bpfprog.Object, results *core.Decisions, k Kernel) (*Object, error) {
	if results.Len() != len(obj.Relocations) {
		return nil, fmt.Errorf("%s: %d results for %d relocations", obj.Path, results.Len(), len(obj.Relocations))
	}
	return Prepare(obj, prog).decideFresh(results, k), nil
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
