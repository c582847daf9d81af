package btfgen

import (
	"fmt"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// Objects opens the objects of a streamed minimization (MinimizeEach),
// one at a time, as often as it needs them: Open(i) must return an
// object with the same contents each time, for 0 <= i < n.
type Objects struct {
	// Names holds the essential names of the local types of every object
	// (see ObjectNames).
	Names map[string]struct{}
	// N is the number of objects.
	N int
	// Open reads object i.
	Open func(i int) (*bpfobj.Object, error)
}

// ObjectNames adds to names the essential names of the local types
// o's relocations need candidates for, as the kernel index of
// MinimizeEach needs them.
func ObjectNames(names map[string]struct{}, o *bpfobj.Object) {
	for j := range o.Relocations {
		if name, ok := candidateName(o, &o.Relocations[j]); ok {
			if _, seen := names[string(rawbtf.EssentialName(name))]; !seen {
				names[string(rawbtf.EssentialName(name))] = struct{}{}
			}
		}
	}
}

// MinimizeEach is NewPlan(objects).Minimize(kernel) for objects read one
// at a time: it holds one object at once (and, per object, its decisions
// without their local specs), instead of all of them, at the price of
// reading each object three times (after the caller read it once for
// Objects.Names): to mark what it needs, to fix candidates the minimized
// BTF changes and check the decisions, and for each. The BTF is the same, byte for byte, and
// so are the decisions. Once every decision has passed the self-check,
// each is called with the decisions for every object, in order, the
// object open; the Result's Objects is empty. Objects whose byte order
// differs from the kernel's fail with ErrByteOrder; an error from
// objs.Open or each is returned as it is.
//
// It is meant for one kernel and many objects, where holding every object
// is most of the memory; for a tree of kernels, a Plan does the work that
// does not depend on the kernel once.
func MinimizeEach(kernel *rawbtf.BTF, objs Objects, each func(ObjectResult) error) (*Result, error) {
	if kernel.IsSplit() {
		return nil, fmt.Errorf("MinimizeEach: split BTF: use Plan.MinimizeModules")
	}
	target := core.NewTargetFor(kernel, objs.Names)
	m := newMarks(kernel)
	ws := &groupWork{seen: map[string]bool{}}
	// What the later passes compare with: each object's decisions on the
	// full BTF, their local specs dropped (they hold the object's BTF).
	full := make([]core.Decisions, objs.N)
	for i := range objs.N {
		p, err := openPlan(objs, i)
		if err != nil {
			return nil, err
		}
		if err := p.checkOrder(kernel); err != nil {
			return nil, err
		}
		memo := &evalMemo{specs: map[*core.Spec]*specEvals{}, cands: p.groupCandidates(target)}
		for gi, g := range p.groups[0] {
			p.markGroup(m, p.objects[0], g, memo.cands[0][gi], target, memo, ws)
		}
		full[i] = p.relocateAll(0, target, memo)
		for k := range full[i].Distinct {
			full[i].Distinct[k].Local = nil
		}
	}
	// Candidates are fixed and decisions checked in one reading of each
	// object; the checks count only when no object needed a fix
	// (Plan.minimize fixes all, then checks).
	var bad []string
	r := rounds{
		adjust: func(mb *rawbtf.BTF, newToOld []rawbtf.TypeID) (bool, error) {
			changed := false
			bad = nil
			for i := range objs.N {
				p, err := openPlan(objs, i)
				if err != nil {
					return false, err
				}
				memo := &evalMemo{specs: map[*core.Spec]*specEvals{}, cands: p.groupCandidates(target)}
				if p.fixCandidates(m, target, memo, mb, newToOld) {
					changed = true
				}
				if !changed {
					res := &Result{Objects: []ObjectResult{{Object: p.objects[0], Decisions: relink(full[i], p.objects[0])}}}
					bad = append(bad, p.check(res, mb, newToOld)...)
				}
			}
			return changed, nil
		},
		check: func(*rawbtf.BTF, []rawbtf.TypeID) ([]string, error) { return bad, nil },
		keepAll: func() error {
			for i := range objs.N {
				p, err := openPlan(objs, i)
				if err != nil {
					return err
				}
				p.keepAllMatches(m, target, 0)
			}
			return nil
		},
	}
	res, err := r.run(kernel, m)
	if err != nil {
		return nil, err
	}
	for i := range objs.N {
		o, err := objs.Open(i)
		if err != nil {
			return nil, err
		}
		if err := each(ObjectResult{Object: o, Decisions: relink(full[i], o)}); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// openPlan opens object i of objs as a plan of its own.
func openPlan(objs Objects, i int) (*Plan, error) {
	o, err := objs.Open(i)
	if err != nil {
		return nil, err
	}
	return NewPlan([]*bpfobj.Object{o}), nil
}

// relink returns d with each decision's local spec that of o, read again:
// the spec of any relocation of the decision (Result.Local is the spec
// the decision was made for). d's other fields are shared.
func relink(d core.Decisions, o *bpfobj.Object) core.Decisions {
	out := core.Decisions{Distinct: make([]core.Result, len(d.Distinct)), Of: d.Of}
	copy(out.Distinct, d.Distinct)
	for j, k := range d.Of {
		out.Distinct[k].Local = o.Relocations[j].Spec
	}
	return out
}
