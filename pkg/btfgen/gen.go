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
// subset of programs a loader enables. Trimming can only make a candidate
// stop matching, except where a pointer's target became void; so every
// kept candidate is evaluated again against the minimized BTF, and one
// that behaves differently there gets what the relocation examines kept
// too. Finally every object's relocations are run against the minimized
// BTF in libbpf's order and must decide as they do on the full BTF.
package btfgen

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// Errors returned by Minimize.
var (
	// ErrSelfCheck means the minimized BTF did not reproduce libbpf's
	// decisions on the full BTF. It indicates a bug in btftool.
	ErrSelfCheck = errors.New("minimized BTF does not reproduce the full BTF's CO-RE decisions")
	// ErrByteOrder means an object was built for the other endianness than
	// the kernel's: libbpf would refuse to load it there.
	ErrByteOrder = errors.New("object and kernel byte orders differ")
	// ErrUnrepresentable means no single BTF file can make libbpf decide
	// as it does on the running kernel with its modules: a module type
	// that vmlinux shadows is needed by one relocation, and would be a
	// candidate for another in a file that holds both (see
	// docs/design.md).
	ErrUnrepresentable = errors.New("module types cannot be represented in one BTF")
)

// Plan is a set of objects prepared once for minimization against any
// number of kernels. It is safe for concurrent use.
type Plan struct {
	objects []*bpfobj.Object
	groups  [][]group
	// recs holds, per object, each relocation's group and spec index
	// in it (see decider).
	recs  [][]recRef
	names map[string]struct{}
	// Classes of specs are worth their cost (a few ms for dozens of
	// objects) only for a plan used for more than one kernel: they are
	// built on the second Minimize.
	uses    atomic.Int32
	once    sync.Once
	classes atomic.Pointer[classes]
}

// classes groups the specs of all objects that any kernel must treat the
// same way (same kind and access path, isomorphic local types, same
// pointer size): only one representative per class is matched against a
// kernel's candidates. A nil *classes puts every spec in its own class.
type classes struct {
	// rep maps a spec to its class's representative, when another.
	rep map[*core.Spec]*core.Spec
	// orig holds, for the specs that are not their class's
	// representative, the outcome fields core.Calc derives from the
	// local spec alone (OrigVal, OrigSize, OrigType, Validate), which
	// may name local type IDs; the rest of an outcome is the class's.
	orig map[*core.Spec]core.Outcome
}

// group is the relocations of one object against one local root type,
// by distinct local spec: relocations sharing a *core.Spec (the same
// kind and access string) are matched and computed identically.
type group struct {
	local rawbtf.TypeID
	specs []*core.Spec // in order of first use
	first []int        // index into Object.Relocations of each spec's first use
}

// NewPlan prepares objects for minimization.
func NewPlan(objs []*bpfobj.Object) *Plan {
	p := &Plan{objects: objs, groups: make([][]group, len(objs)), recs: make([][]recRef, len(objs)), names: map[string]struct{}{}}
	for i, o := range objs {
		byType := map[rawbtf.TypeID]int{}
		seen := map[*core.Spec]int32{}
		recs := make([]recRef, len(o.Relocations))
		p.recs[i] = recs
		for j := range o.Relocations {
			r := &o.Relocations[j]
			recs[j] = recRef{group: -1}
			name, ok := candidateName(o, r)
			if !ok {
				continue
			}
			g, ok := byType[r.TypeID]
			if !ok {
				// Once per local type: inserting a key converted from
				// bytes allocates it.
				p.names[string(rawbtf.EssentialName(name))] = struct{}{}
				g = len(p.groups[i])
				byType[r.TypeID] = g
				p.groups[i] = append(p.groups[i], group{local: r.TypeID})
			}
			k, ok := seen[r.Spec]
			if !ok {
				k = int32(len(p.groups[i][g].specs))
				seen[r.Spec] = k
				p.groups[i][g].specs = append(p.groups[i][g].specs, r.Spec)
				p.groups[i][g].first = append(p.groups[i][g].first, j)
			}
			recs[j] = recRef{group: int32(g), spec: k}
		}
	}
	return p
}

// candidateName returns the name of r's local type when r is decided
// against candidates of that name (a valid spec of a named type, of any
// kind but local_type_id); the other relocations need no candidates.
func candidateName(o *bpfobj.Object, r *bpfobj.Relocation) ([]byte, bool) {
	if r.Spec == nil || r.Kind == core.TypeIDLocal {
		return nil, false
	}
	name := o.BTF.Type(r.TypeID).NameBytes()
	return name, len(name) > 0
}

// classesForUse returns the classes to use for one Minimize: none for the
// plan's first, built once for the later ones.
func (p *Plan) classesForUse() *classes {
	if p.uses.Add(1) < 2 {
		return nil
	}
	p.once.Do(func() { p.classes.Store(p.buildClasses()) })
	return p.classes.Load()
}

// buildClasses puts each spec of the plan's groups in a class with the
// first spec of any object with the same key. Two specs in a class are
// matched and computed identically against any kernel: core reads local
// types only through rawbtf's accessors and the BTF's pointer size. Only
// what core computes from local type IDs (type ID values, the original
// type) may differ, so the outcome's local half is each spec's own.
func (p *Plan) buildClasses() *classes {
	cl := &classes{rep: map[*core.Spec]*core.Spec{}, orig: map[*core.Spec]core.Outcome{}}
	reps := map[string]*core.Spec{}
	// Canonical forms, interned by their SHA-256 (a form can be hundreds
	// of KB: the graph a kernel struct reaches).
	formIDs := map[[sha256.Size]byte]uint32{}
	var canon rawbtf.Canonicalizer
	var key []byte
	// Isomorphic roots have the same kind and name: a spec alone with
	// its kind, pointer size, root kind and name and access path is its
	// own class, without computing the canonical form of its root (the
	// whole graph it reaches).
	peers := map[string]int{}
	for i := range p.objects {
		for _, g := range p.groups[i] {
			for _, spec := range g.specs {
				key = appendPeerKey(key[:0], spec)
				peers[string(key)]++
			}
		}
	}
	for i := range p.objects {
		forms := map[rawbtf.TypeID]uint32{}
		for _, g := range p.groups[i] {
			for _, spec := range g.specs {
				if key = appendPeerKey(key[:0], spec); peers[string(key)] < 2 {
					continue
				}
				fid, ok := forms[spec.Root]
				if !ok {
					sum := sha256.Sum256(canon.Form(spec.BTF, spec.Root))
					if fid, ok = formIDs[sum]; !ok {
						fid = uint32(len(formIDs))
						formIDs[sum] = fid
					}
					forms[spec.Root] = fid
				}
				key = append(key[:0], byte(spec.Kind), byte(spec.BTF.PtrSize()))
				key = binary.LittleEndian.AppendUint32(key, fid)
				for _, i := range spec.Raw {
					key = binary.LittleEndian.AppendUint32(key, uint32(i))
				}
				r, ok := reps[string(key)]
				if !ok {
					reps[string(key)] = spec
					continue
				}
				cl.rep[spec] = r
				// The local half of Calc, from the spec against itself.
				if out, err := core.Calc(spec, spec); err == nil && !out.Poison {
					cl.orig[spec] = out
				}
			}
		}
	}
	return cl
}

// appendPeerKey appends to buf what specs of one class have in common
// without comparing their local types: kind, pointer size, the root's
// kind and name, the access path.
func appendPeerKey(buf []byte, spec *core.Spec) []byte {
	root := spec.BTF.Type(spec.Root)
	name := root.NameBytes()
	buf = append(buf, byte(spec.Kind), byte(spec.BTF.PtrSize()), byte(root.Kind()))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(name)))
	buf = append(buf, name...)
	for _, i := range spec.Raw {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(i))
	}
	return buf
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
	// Kernel is the kernel the decisions were made against, with the
	// modules MinimizeModules searched; nil for Minimize. The candidate
	// type IDs of Objects (core.Result.Matched) are those of Kernel.BTF:
	// Kernel.ModuleOf tells which module a candidate comes from.
	Kernel *kmod.Kernel
	// Unknown lists the kernel types of kinds rawbtf does not know that
	// kept types refer to. The classic format cannot hold them: BTF has
	// a placeholder in their place (rawbtf.Encoder.Placeholder), which
	// no relocation matches, as none matches them.
	Unknown []rawbtf.TypeID
}

// ObjectResult is the decisions for one object.
type ObjectResult struct {
	Object *bpfobj.Object
	// Decisions holds libbpf's decision for each of Object.Relocations
	// (Decisions.At), each distinct decision once.
	Decisions core.Decisions
}

// Unsatisfied returns the indices of relocations that matched nothing
// (core.StatusUnsatisfied), and of those libbpf fails on
// (core.StatusFailed).
func (r *ObjectResult) Unsatisfied() (unsatisfied, failed []int32) {
	status := make([]core.Status, len(r.Decisions.Distinct))
	for k := range r.Decisions.Distinct {
		status[k] = core.StatusOf(&r.Decisions.Distinct[k])
	}
	// Counted first: the lists are kept for every kernel of a tree.
	nu, nf := 0, 0
	for _, k := range r.Decisions.Of {
		switch status[k] {
		case core.StatusFailed:
			nf++
		case core.StatusUnsatisfied:
			nu++
		}
	}
	if nu > 0 {
		unsatisfied = make([]int32, 0, nu)
	}
	if nf > 0 {
		failed = make([]int32, 0, nf)
	}
	for j, k := range r.Decisions.Of {
		switch status[k] {
		case core.StatusFailed:
			failed = append(failed, int32(j))
		case core.StatusUnsatisfied:
			unsatisfied = append(unsatisfied, int32(j))
		}
	}
	return
}

// Minimize generates the minimized BTF of kernel for the plan's objects.
//
// It fails with ErrByteOrder when an object is built for the other
// endianness than the kernel.
func (p *Plan) Minimize(kernel *rawbtf.BTF) (*Result, error) {
	if err := p.checkOrder(kernel); err != nil {
		return nil, err
	}
	return p.minimize(kernel, core.NewTargetFor(kernel, p.names))
}

// MinimizeModules is Minimize for a kernel whose modules' BTF is known:
// the local types vmlinux has no candidate for are looked for in the
// modules, as libbpf does on the running kernel, and the minimized BTF —
// one ordinary (base) BTF, as libbpf's btf_custom_path and cilium/ebpf's
// KernelTypes take — holds the module types their relocations need. With
// it libbpf decides every relocation as it does on the running kernel
// with its vmlinux and module BTF, including for a type that vmlinux and
// a module both define (vmlinux's wins) and types several modules define
// (all are candidates). Result.Kernel tells which module each candidate
// comes from.
//
// It fails with ErrUnrepresentable in the rare case no single BTF can do
// that, and with errors from kmod.Set.Extend for modules that do not fit
// the kernel.
func (p *Plan) MinimizeModules(vmlinux *rawbtf.BTF, mods *kmod.Set) (*Result, error) {
	if err := p.checkOrder(vmlinux); err != nil {
		return nil, err
	}
	k, target, err := mods.ExtendFor(core.NewTargetFor(vmlinux, p.names), p.objects)
	if err != nil {
		return nil, err
	}
	res, err := p.minimize(k.BTF, target)
	if err != nil {
		return nil, err
	}
	res.Kernel = k
	return res, nil
}

func (p *Plan) checkOrder(kernel *rawbtf.BTF) error {
	for _, o := range p.objects {
		if o.BTF.ByteOrder() != kernel.ByteOrder() {
			return fmt.Errorf("%w: %s is %s, the kernel BTF %s", ErrByteOrder, o.Path, orderName(o.BTF.ByteOrder()), orderName(kernel.ByteOrder()))
		}
	}
	return nil
}

// minimize is Minimize against target, whose BTF is kernel.
func (p *Plan) minimize(kernel *rawbtf.BTF, target *core.Target) (*Result, error) {
	m := newMarks(kernel)
	memo := &evalMemo{cl: p.classesForUse(), specs: map[*core.Spec]*specEvals{}, cands: p.groupCandidates(target)}
	ws := &groupWork{seen: map[string]bool{}}
	for i, o := range p.objects {
		for gi, g := range p.groups[i] {
			p.markGroup(m, o, g, memo.cands[i][gi], target, memo, ws)
		}
	}
	// libbpf's decisions on the full BTF consider a subset of the
	// candidates markGroup evaluated: reuse those evaluations.
	res := &Result{Objects: make([]ObjectResult, len(p.objects))}
	for i, o := range p.objects {
		res.Objects[i] = ObjectResult{Object: o, Decisions: p.relocateAll(i, target, memo)}
	}
	r := rounds{
		adjust: func(mb *rawbtf.BTF, newToOld []rawbtf.TypeID) (bool, error) {
			if kernel.IsSplit() && p.hideShadowed(m, target, mb, newToOld) {
				return true, nil
			}
			return p.fixCandidates(m, target, memo, mb, newToOld), nil
		},
		check: func(mb *rawbtf.BTF, newToOld []rawbtf.TypeID) ([]string, error) {
			return p.check(res, mb, newToOld), nil
		},
		keepAll: func() error {
			for i := range p.objects {
				p.keepAllMatches(m, target, i)
			}
			return nil
		},
	}
	out, err := r.run(kernel, m)
	if err != nil {
		return nil, err
	}
	res.BTF, res.Types, res.Unknown = out.BTF, out.Types, out.Unknown
	return res, nil
}

func orderName(o binary.ByteOrder) string {
	if o == binary.BigEndian {
		return "big-endian"
	}
	return "little-endian"
}

// evalMemo holds, for each class representative (see Plan.rep),
// core.Evaluate's results for the candidates of its group against one
// target.
type evalMemo struct {
	cl    *classes
	specs map[*core.Spec]*specEvals
	// cands holds the target's candidates of each group (see
	// groupCandidates).
	cands [][][]rawbtf.TypeID
}

// groupCandidates returns target's candidates for the local type of each
// group of each object, indexed like p.groups.
func (p *Plan) groupCandidates(target *core.Target) [][][]rawbtf.TypeID {
	out := make([][][]rawbtf.TypeID, len(p.objects))
	for i, o := range p.objects {
		out[i] = make([][]rawbtf.TypeID, len(p.groups[i]))
		for gi, g := range p.groups[i] {
			out[i][gi] = target.Candidates(o.BTF.Type(g.local))
		}
	}
	return out
}

// specEvals is parallel to the candidate list of a group, which
// core.Target returns in ascending ID order.
type specEvals struct {
	spec  *core.Spec // the class representative evaluated
	cands []rawbtf.TypeID
	// evals keeps the target spec of the first candidate that matched
	// (matched says there is one) and no other.
	evals   []core.Evaluation
	matched bool
}

// get returns the evaluation of candidate c, if recorded.
func (e *specEvals) get(c rawbtf.TypeID) (core.Evaluation, bool) {
	i, ok := slices.BinarySearch(e.cands, c)
	if !ok {
		return core.Evaluation{}, false
	}
	return e.evals[i], true
}

// representative returns the representative of local's class.
func (cl *classes) representative(local *core.Spec) *core.Spec {
	if cl == nil {
		return local
	}
	if r := cl.rep[local]; r != nil {
		return r
	}
	return local
}

// evaluation returns local's evaluation on candidate c of tb from memo
// when its class was evaluated: as is for the representative itself, with
// the outcome recomputed from local's own types for the others.
func (memo *evalMemo) evaluation(local *core.Spec, tb *rawbtf.BTF, c rawbtf.TypeID) core.Evaluation {
	cl := memo.cl
	rep := cl.representative(local)
	e := memo.specs[rep]
	if e == nil {
		return core.Evaluate(local, tb, c)
	}
	ev, ok := e.get(c)
	switch {
	case !ok:
		return core.Evaluate(local, tb, c)
	case rep == local || (!ev.Matched && ev.Err == nil):
		return ev
	case ev.Matched && ev.Err == nil:
		o, ok := cl.orig[local]
		if !ok {
			return core.Evaluate(local, tb, c)
		}
		ev.Outcome.OrigVal, ev.Outcome.OrigSize, ev.Outcome.OrigType, ev.Outcome.Validate = o.OrigVal, o.OrigSize, o.OrigType, o.Validate
		return ev
	case ev.Matched:
		return core.Evaluate(local, tb, c)
	default:
		// A matching error: its message may name local types.
		return core.Evaluate(local, tb, c)
	}
}

// relocateAll decides every relocation of object i against target as
// libbpf does, reusing the evaluations in memo when it is not nil.
func (p *Plan) relocateAll(i int, target *core.Target, memo *evalMemo) core.Decisions {
	d := p.newDecider(i, target, memo, nil)
	of := make([]int32, len(p.objects[i].Relocations))
	for j := range of {
		of[j] = d.next(j)
	}
	return core.Decisions{Distinct: slices.Clip(d.results), Of: of}
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
func (p *Plan) markGroup(m *marks, o *bpfobj.Object, g group, cands []rawbtf.TypeID, target *core.Target, memo *evalMemo, ws *groupWork) {
	if len(cands) == 0 {
		return
	}
	kernel := target.BTF
	n := len(g.specs)
	ws.reset(n)
	seen, specs, key, kb, evals, fresh, scratch := ws.seen, ws.specs, ws.key, ws.kb, ws.evals, ws.fresh, ws.scratch
	defer func() { ws.kb = kb }()
	sorted := slices.IsSorted(cands)
	for j, spec := range g.specs {
		rep := memo.cl.representative(spec)
		if e := memo.specs[rep]; e != nil && sorted {
			// Another spec of the class was evaluated: same behaviour.
			evals[j] = e
			continue
		}
		evals[j] = &specEvals{spec: rep, cands: cands, evals: make([]core.Evaluation, len(cands))}
		fresh[j] = true
		if sorted {
			memo.specs[rep] = evals[j]
		}
	}
	// Target specs are matched into scratch; the memo keeps (clones) that
	// of each spec's first match only.
	for ci, c := range cands {
		any := false
		for j := range n {
			var ev core.Evaluation
			if fresh[j] {
				ev = core.EvaluateInto(evals[j].spec, kernel, c, &scratch[j])
				kept := ev
				kept.Target = nil
				if ev.Matched && ev.Err == nil && !evals[j].matched {
					// The first match is the one libbpf takes its
					// values from on the full candidate list: keep
					// its spec for the decisions (core.Result.Target).
					kept.Target = ev.Target.Clone()
					evals[j].matched = true
				}
				evals[j].evals[ci] = kept
			} else {
				ev = evals[j].evals[ci]
			}
			b := behaviourOf(ev)
			any = any || b.matched || b.failed
			key[j], specs[j] = b, ev.Target
		}
		if !any {
			continue
		}
		kb = appendBehaviourKey(kb[:0], key)
		if seen[string(kb)] { // no allocation for the lookup
			continue
		}
		seen[string(kb)] = true
		for j, b := range key {
			switch {
			case b.matched:
				ts := specs[j]
				if ts == nil {
					// Evaluated for another spec of the class.
					ts, _ = core.MatchCandidate(memo.cl.representative(g.specs[j]), kernel, c)
				}
				if ts != nil {
					m.relocation(ts)
				}
			case b.failed:
				m.deep(c)
			}
		}
	}
}

// groupWork is markGroup's working memory, reused from group to group.
type groupWork struct {
	seen    map[string]bool
	specs   []*core.Spec
	key     []behaviour
	kb      []byte
	evals   []*specEvals
	fresh   []bool
	scratch []core.Spec
}

// reset readies ws for a group of n specs.
func (ws *groupWork) reset(n int) {
	clear(ws.seen)
	if cap(ws.specs) < n {
		ws.specs, ws.key, ws.evals, ws.fresh = make([]*core.Spec, n), make([]behaviour, n), make([]*specEvals, n), make([]bool, n)
	}
	if cap(ws.scratch) < n {
		ws.scratch = append(ws.scratch[:cap(ws.scratch)], make([]core.Spec, n-cap(ws.scratch))...)
	}
	ws.specs, ws.key, ws.evals, ws.fresh = ws.specs[:n], ws.key[:n], ws.evals[:n], ws.fresh[:n]
	clear(ws.specs)
	clear(ws.evals)
	clear(ws.fresh)
	ws.scratch = ws.scratch[:n]
}

// appendBehaviourKey appends the encoding of a behaviour vector, a map
// key, to buf.
func appendBehaviourKey(buf []byte, bs []behaviour) []byte {
	for _, b := range bs {
		var flags byte
		for i, f := range []bool{b.matched, b.failed, b.poison, b.failMemSz} {
			if f {
				flags |= 1 << i
			}
		}
		buf = append(buf, flags)
		buf = binary.LittleEndian.AppendUint32(buf, b.bitOffset)
		buf = binary.LittleEndian.AppendUint32(buf, b.newSize)
		buf = binary.LittleEndian.AppendUint64(buf, b.newVal)
	}
	return buf
}

// behaviourOf is the behaviour an evaluation stands for.
func behaviourOf(ev core.Evaluation) behaviour {
	var r behaviour
	switch {
	case !ev.Matched:
		r.failed = ev.Err != nil
	case ev.Err != nil:
		r.matched, r.failed = true, true
	default:
		r.matched = true
		r.poison, r.failMemSz, r.newSize, r.newVal = ev.Outcome.Poison, ev.Outcome.FailMemSz, ev.Outcome.NewSize, ev.Outcome.NewVal
	}
	if ev.Matched {
		r.bitOffset = ev.BitOffset
	}
	return r
}

// fixCandidates compares, for every relocation and every candidate kept
// in the minimized BTF mb, the candidate's behaviour in mb with its
// behaviour in the full BTF. Trimming can only make matches fail, except
// through pointers whose targets became void: a candidate that matches in
// mb but not in the full BTF (or with another result) gets what the
// relocation examines kept too. A candidate that matches less than in the
// full BTF needs nothing: markGroup kept a representative with its full
// behaviour. It reports whether it changed anything.
func (p *Plan) fixCandidates(m *marks, target *core.Target, memo *evalMemo, mb *rawbtf.BTF, newToOld []rawbtf.TypeID) bool {
	if len(m.oldToNew) != target.BTF.NumTypes() {
		m.oldToNew = make([]rawbtf.TypeID, target.BTF.NumTypes())
	} else {
		clear(m.oldToNew)
	}
	oldToNew := m.oldToNew
	for n, o := range newToOld {
		oldToNew[o] = rawbtf.TypeID(n)
	}
	var scratch core.Spec
	m.changed = false
	for i := range p.objects {
		for gi := range p.groups[i] {
			g := &p.groups[i][gi]
			for _, c := range memo.cands[i][gi] {
				nc := oldToNew[c]
				if nc == 0 {
					continue
				}
				for _, local := range g.specs {
					if memo.cl.representative(local) != local {
						// Its class's representative, in another
						// group, behaves the same.
						continue
					}
					ev := memo.evaluation(local, target.BTF, c)
					want, ts := behaviourOf(ev), ev.Target
					got := behaviourOf(core.EvaluateInto(local, mb, nc, &scratch))
					if local.Kind == core.TypeIDTarget && got.matched {
						got.newVal = uint64(newToOld[got.newVal])
					}
					if got == want || (!got.matched && !got.failed) {
						// Same, or matching less than in the full
						// BTF: harmless, a representative with the
						// full behaviour is kept.
						continue
					}
					if want.matched && ts == nil {
						// The memo keeps only first matches: match again.
						ts, _ = core.MatchCandidate(local, target.BTF, c)
					}
					switch {
					case want.matched && ts != nil:
						m.relocation(ts)
					case local.Kind == core.TypeMatches:
						m.shape(c, false)
					case local.Kind.IsType():
						m.typ(c, true)
					default:
						m.deep(c)
					}
				}
			}
		}
	}
	return m.changed
}

// check relocates every object against the minimized BTF and returns the
// relocations whose decision differs from the full BTF's. Each pair of
// decisions (on the full BTF, on mb) is compared once: relocations of the
// same pair decide the same.
func (p *Plan) check(res *Result, mb *rawbtf.BTF, newToOld []rawbtf.TypeID) []string {
	target := core.NewTargetFor(mb, p.names)
	var bad []string
	var compared []pairCheck // by decision on mb
	var buf []core.Result    // the decisions on mb, object after object
	for i, o := range p.objects {
		d := p.newDecider(i, target, nil, buf)
		full := &res.Objects[i].Decisions
		compared = compared[:0]
		for j := range o.Relocations {
			k := d.next(j)
			for int(k) >= len(compared) {
				compared = append(compared, pairCheck{})
			}
			f := full.Of[j]
			c := &compared[k]
			if c.full != f+1 {
				*c = pairCheck{full: f + 1, bad: differs(&full.Distinct[f], &d.results[k], newToOld) != ""}
			}
			if c.bad {
				r := &o.Relocations[j]
				why := differs(&full.Distinct[f], &d.results[k], newToOld)
				bad = append(bad, fmt.Sprintf("%s: %s relo #%d %s %s: %s", o.Path, r.Section, r.Index, r.Kind, r.Path(), why))
			}
		}
		buf = d.results
	}
	return bad
}

// pairCheck is the last comparison check made for one decision on the
// minimized BTF: with the full BTF's decision full-1, and whether they
// differ.
type pairCheck struct {
	full int32
	bad  bool
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
