package btfgen

import (
	"slices"

	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// recRef places one relocation in its object's groups: group -1 for the
// relocations core.Relocator decides without candidates (local type IDs,
// invalid specs, anonymous types), else the group and the index of the
// relocation's spec in group.specs.
type recRef struct {
	group, spec int32
}

// decider makes libbpf's decisions for the relocations of one object
// against one target, in order, as core.Relocator.Relocate does, but with
// the work per relocation (after the first of each spec and candidate
// list) an array lookup: each group's candidate lists are numbered, and
// the decision of each (spec, list) is made once.
type decider struct {
	p      *Plan
	obj    int
	rl     *core.Relocator
	target *core.Target
	memo   *evalMemo // nil: candidates from target
	groups []groupState
	// results holds every decision made, each once; steps refer to it.
	results []core.Result
}

// groupState is the candidate list of one group's local type as libbpf
// prunes it.
type groupState struct {
	// lists holds the distinct lists the type has had (the first is the
	// target's candidates), cur the current one; nil until first used.
	lists [][]rawbtf.TypeID
	cur   int32
	// steps[k][l] is the decision of spec k on list l.
	steps [][]step
}

// step is a decision made, 1 + its index in decider.results (0: not
// yet made), and the list it leaves.
type step struct {
	res, next int32
}

// newDecider returns a decider for object i against target, whose
// candidate evaluations come from memo when it is not nil; its decisions
// go into buf's array when it is large enough.
func (p *Plan) newDecider(i int, target *core.Target, memo *evalMemo, buf []core.Result) *decider {
	o := p.objects[i]
	rl := core.NewRelocator(o.BTF, target)
	if memo != nil {
		rl.Evaluate = func(local *core.Spec, c rawbtf.TypeID) core.Evaluation {
			return memo.evaluation(local, target.BTF, c)
		}
	}
	// Most specs are decided once, on their type's first list.
	n := 0
	for _, g := range p.groups[i] {
		n += len(g.specs)
	}
	for _, ref := range p.recs[i] {
		if ref.group < 0 {
			n++
		}
	}
	n += n / 8
	if cap(buf) < n {
		buf = make([]core.Result, 0, n)
	}
	return &decider{p: p, obj: i, rl: rl, target: target, memo: memo, groups: make([]groupState, len(p.groups[i])), results: buf[:0]}
}

// next decides relocation j and returns the index of its decision in
// d.results; relocations must be decided in order.
func (d *decider) next(j int) int32 {
	ref := d.p.recs[d.obj][j]
	if ref.group < 0 {
		r := &d.p.objects[d.obj].Relocations[j]
		d.results = append(d.results, d.rl.Relocate(r.Relo, r.Spec, r.SpecErr))
		return int32(len(d.results) - 1)
	}
	st := &d.groups[ref.group]
	g := &d.p.groups[d.obj][ref.group]
	if st.lists == nil {
		var cands []rawbtf.TypeID
		if d.memo != nil {
			cands = d.memo.cands[d.obj][ref.group]
		} else {
			cands = d.target.Candidates(d.p.objects[d.obj].BTF.Type(g.local))
		}
		st.lists = [][]rawbtf.TypeID{cands}
		st.steps = make([][]step, len(g.specs))
	}
	row := st.steps[ref.spec]
	if int(st.cur) < len(row) && row[st.cur].res > 0 {
		s := row[st.cur]
		st.cur = s.next
		return s.res - 1
	}
	res := d.rl.Decide(g.specs[ref.spec], st.lists[st.cur])
	next := st.cur
	if res.Err == nil && len(res.Matched) > 0 {
		next = st.list(res.Matched)
	}
	if int(st.cur) >= len(row) {
		row = append(row, make([]step, int(st.cur)+1-len(row))...)
		st.steps[ref.spec] = row
	}
	d.results = append(d.results, res)
	ri := int32(len(d.results))
	row[st.cur] = step{res: ri, next: next}
	st.cur = next
	return ri - 1
}

// list returns the number of candidate list l, adding it.
func (s *groupState) list(l []rawbtf.TypeID) int32 {
	for i, o := range s.lists {
		if slices.Equal(o, l) {
			return int32(i)
		}
	}
	s.lists = append(s.lists, l)
	return int32(len(s.lists) - 1)
}
