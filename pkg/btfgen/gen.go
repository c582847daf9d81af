// Package btfgen cuts a kernel's BTF down to what a set of BPF objects
// needs for their CO-RE relocations, such that libbpf makes exactly the
// same decision for every relocation with the result as with the full BTF.
//
// For each local type, every target candidate is evaluated against all of
// the object's relocations of that type. Candidates that behave the same
// for all of them are interchangeable: one representative per behaviour is
// kept, with everything its matches read. Because libbpf prunes candidate
// lists as it goes, keeping one per behaviour (rather than one per
// relocation, as bpftool does) is what makes the result exact whatever
// subset of programs a loader enables. Types kept for other reasons that
// are candidates of type-based relocations keep the shape that makes them
// fail to match as they do in the full BTF. Finally the minimized BTF is
// checked by running every relocation against it again.
package btfgen

import (
	"errors"
	"fmt"
	"strings"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// ErrSelfCheck means the minimized BTF did not reproduce libbpf's decisions
// on the full BTF. It indicates a bug in btftool.
var ErrSelfCheck = errors.New("minimized BTF does not reproduce the full BTF's CO-RE decisions")

// Plan is a set of objects prepared once for minimization against any
// number of kernels. It is safe for concurrent use.
type Plan struct {
	objects []*bpfobj.Object
	groups  [][]group
	names   map[string]struct{}
}

// group is the relocations of one object against one local root type.
type group struct {
	local rawbtf.TypeID
	relos []int // indices into Object.Relocations, in order
}

// NewPlan prepares objects for minimization.
func NewPlan(objs []*bpfobj.Object) *Plan {
	p := &Plan{objects: objs, groups: make([][]group, len(objs)), names: map[string]struct{}{}}
	for i, o := range objs {
		byType := map[rawbtf.TypeID]int{}
		for j, r := range o.Relocations {
			if r.Spec == nil || r.Kind == core.TypeIDLocal {
				continue
			}
			name := o.BTF.Type(r.TypeID).NameBytes()
			if len(name) == 0 {
				continue
			}
			p.names[string(rawbtf.EssentialName(name))] = struct{}{}
			g, ok := byType[r.TypeID]
			if !ok {
				g = len(p.groups[i])
				byType[r.TypeID] = g
				p.groups[i] = append(p.groups[i], group{local: r.TypeID})
			}
			p.groups[i][g].relos = append(p.groups[i][g].relos, j)
		}
	}
	return p
}

// Objects returns the objects of the plan.
func (p *Plan) Objects() []*bpfobj.Object { return p.objects }

// Result is a minimized BTF and the decisions it reproduces.
type Result struct {
	// BTF is the minimized BTF, encoded in the kernel BTF's byte order.
	BTF []byte
	// Types is the number of types in BTF, void excluded.
	Types int
	// Objects holds libbpf's decision for every relocation of every
	// object against the kernel, in plan order.
	Objects []ObjectResult
}

// ObjectResult is the decisions for one object.
type ObjectResult struct {
	Object *bpfobj.Object
	// Results is parallel to Object.Relocations.
	Results []core.Result
}

// Unsatisfied returns the indices of relocations that matched nothing, and
// of those libbpf fails on.
func (r *ObjectResult) Unsatisfied() (unsatisfied, failed []int) {
	for i := range r.Results {
		switch {
		case r.Results[i].Err != nil:
			failed = append(failed, i)
		case r.Results[i].Unsatisfied():
			unsatisfied = append(unsatisfied, i)
		}
	}
	return
}

// Minimize generates the minimized BTF of kernel for the plan's objects.
func (p *Plan) Minimize(kernel *rawbtf.BTF) (*Result, error) {
	target := core.NewTargetFor(kernel, p.names)
	res := &Result{Objects: make([]ObjectResult, len(p.objects))}
	for i, o := range p.objects {
		res.Objects[i] = ObjectResult{Object: o, Results: relocateAll(o, target)}
	}
	m := newMarks(kernel)
	for i, o := range p.objects {
		for _, g := range p.groups[i] {
			p.markGroup(m, o, g, target)
		}
	}
	p.markNonMatching(m, target)
	for round := 0; ; round++ {
		out, newToOld := emit(kernel, m)
		bad, err := p.check(res, out, newToOld)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSelfCheck, err)
		}
		if len(bad) == 0 {
			res.BTF, res.Types = out, len(newToOld)-1
			return res, nil
		}
		if round == 2 {
			return nil, fmt.Errorf("%w: %s", ErrSelfCheck, strings.Join(bad, "; "))
		}
		// Fall back to keeping every matching candidate of every group.
		for i, o := range p.objects {
			for _, g := range p.groups[i] {
				for _, c := range target.Candidates(o.BTF.Type(g.local)) {
					for _, ri := range g.relos {
						if ts, err := core.MatchCandidate(o.Relocations[ri].Spec, kernel, c); ts != nil && err == nil {
							m.relocation(ts)
						}
					}
				}
			}
		}
		p.markNonMatching(m, target)
	}
}

func relocateAll(o *bpfobj.Object, target *core.Target) []core.Result {
	rl := core.NewRelocator(o.BTF, target)
	out := make([]core.Result, len(o.Relocations))
	for i := range o.Relocations {
		r := &o.Relocations[i]
		out[i] = rl.Relocate(r.Relo, r.Spec, r.SpecErr)
	}
	return out
}

// behaviour is what one relocation does with one candidate.
type behaviour struct {
	matched   bool
	failed    bool
	poison    bool
	failMemSz bool
	bitOffset uint32
	newSize   uint32
	newVal    uint64
}

// markGroup keeps one representative candidate per distinct behaviour over
// the group's relocations, with what each of its matches needs.
func (p *Plan) markGroup(m *marks, o *bpfobj.Object, g group, target *core.Target) {
	cands := target.Candidates(o.BTF.Type(g.local))
	if len(cands) == 0 {
		return
	}
	kernel := target.BTF
	seen := map[string]bool{}
	specs := make([]*core.Spec, len(g.relos))
	key := make([]behaviour, len(g.relos))
	for _, c := range cands {
		any := false
		for j, ri := range g.relos {
			local := o.Relocations[ri].Spec
			ts, err := core.MatchCandidate(local, kernel, c)
			b := behaviour{}
			switch {
			case err != nil:
				b.failed = true
			case ts != nil:
				b.matched = true
				out, err := core.Calc(local, ts)
				if err != nil {
					b.failed = true
				} else {
					b.poison, b.failMemSz, b.newSize, b.newVal = out.Poison, out.FailMemSz, out.NewSize, out.NewVal
				}
				b.bitOffset = ts.BitOffset
			}
			any = any || b.matched || b.failed
			key[j], specs[j] = b, ts
		}
		if !any {
			continue
		}
		k := fmt.Sprint(key)
		if seen[k] {
			continue
		}
		seen[k] = true
		for j, b := range key {
			switch {
			case b.matched && specs[j] != nil:
				m.relocation(specs[j])
			case b.failed:
				m.deep(c)
			}
		}
	}
}

// markNonMatching gives every kept type that is a candidate of a
// type-based relocation the shape that relocation examines, until nothing
// changes, and keeps flexible-array semantics of trimmed structs. Kept
// types then fail to match exactly where they fail in the full BTF.
func (p *Plan) markNonMatching(m *marks, target *core.Target) {
	for {
		m.changed = false
		m.fixFlexArrays()
		for i, o := range p.objects {
			for _, g := range p.groups[i] {
				for _, ri := range g.relos {
					k := o.Relocations[ri].Kind
					if !k.IsType() {
						continue
					}
					for _, c := range target.Candidates(o.BTF.Type(g.local)) {
						if !m.isKept(c) {
							continue
						}
						if k == core.TypeMatches {
							m.shape(c, false)
						} else {
							m.typ(c, true)
						}
					}
				}
			}
		}
		if !m.changed {
			return
		}
	}
}

// check relocates every object against the minimized BTF and returns the
// relocations whose decision differs from the full BTF's.
func (p *Plan) check(res *Result, min []byte, newToOld []rawbtf.TypeID) ([]string, error) {
	mb, err := rawbtf.Parse(min)
	if err != nil {
		return nil, fmt.Errorf("re-reading output: %w", err)
	}
	target := core.NewTargetFor(mb, p.names)
	var bad []string
	for i, o := range p.objects {
		got := relocateAll(o, target)
		for j := range got {
			if why := differs(&res.Objects[i].Results[j], &got[j], newToOld); why != "" {
				r := &o.Relocations[j]
				bad = append(bad, fmt.Sprintf("%s: %s relo #%d %s %s: %s", o.Path, r.Section, r.Index, r.Kind, r.Path(), why))
			}
		}
	}
	return bad, nil
}

var errClasses = []error{core.ErrInvalidSpec, core.ErrAnonymous, core.ErrAmbiguous, core.ErrUnsatisfiable}

func errClass(err error) error {
	for _, c := range errClasses {
		if errors.Is(err, c) {
			return c
		}
	}
	return err
}

// differs says how the decision on the minimized BTF (b) differs from the
// one on the full BTF (a); "" when they are the same.
func differs(a, b *core.Result, newToOld []rawbtf.TypeID) string {
	if (a.Err == nil) != (b.Err == nil) || (a.Err != nil && errClass(a.Err) != errClass(b.Err)) {
		return fmt.Sprintf("error %v vs %v", a.Err, b.Err)
	}
	if a.Err != nil {
		return ""
	}
	if (len(a.Matched) == 0) != (len(b.Matched) == 0) {
		return fmt.Sprintf("matched %d vs %d candidates", len(a.Matched), len(b.Matched))
	}
	nv := b.NewVal
	if a.Local != nil && a.Local.Kind == core.TypeIDTarget && len(b.Matched) > 0 {
		if nv >= uint64(len(newToOld)) {
			return fmt.Sprintf("target type id %d out of range", nv)
		}
		nv = uint64(newToOld[nv])
	}
	switch {
	case a.Poison != b.Poison:
		return fmt.Sprintf("poison %v vs %v", a.Poison, b.Poison)
	case a.NewVal != nv:
		return fmt.Sprintf("value %d vs %d", a.NewVal, nv)
	case a.NewSize != b.NewSize:
		return fmt.Sprintf("size %d vs %d", a.NewSize, b.NewSize)
	case a.FailMemSz != b.FailMemSz:
		return "memory size adjustment differs"
	}
	return ""
}
