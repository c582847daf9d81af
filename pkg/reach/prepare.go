package reach

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/btftool/btftool/internal/bpfprog"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/needsbtf"
)

// Prepared is an object read for deciding its verdicts on kernels: what
// does not depend on the kernel (its functions and their control flow,
// where each relocation is, which programs need the kernel's BTF; which
// relocated values can decide a branch, at the first Decide) is found
// once, and Decide does the per-kernel work. Decide remembers the verdicts of the
// last few kernels and gives a kernel whose decisions cannot change them
// (the same flags for every relocation, the same values for those that
// can decide a branch, the same kernel facts) the same Object. A Prepared
// is safe for concurrent use.
type Prepared struct {
	obj  *bpfobj.Object
	prog *bpfprog.Object
	code *code
	// checkErr is obj.Check's error text ("" for none).
	checkErr string
	// objectNeedsBTF names the first program needing the kernel's BTF
	// for the whole object (a ksym or kfunc), "" for none.
	objectNeedsBTF string
	progs          []progInfo
	// lastByName holds the index in progs of the last program of each
	// name.
	lastByName map[string]int32
	// attaches lists the programs (indices in progs) with a named or
	// unnamed attach target, in order.
	attaches []int32

	// locOf holds, for relocation j, the index in locs of the
	// instruction it patches, -1 for a relocation of no program.
	locOf []int32
	locs  []locInfo
	// locInsn holds locs[l].insn, and locsByKey the locations of the
	// functions of each code.keys entry, for patchTable.
	locInsn   []int32
	locsByKey [][]int32
	// relocsByKey lists, for each code.keys entry, the relocations in its
	// functions, in order: the only ones a walk of them can reach.
	relocsByKey [][]int32
	// relevant lists the locations whose relocated value can decide a
	// conditional branch (see relevance), in order, for the memo: found
	// at the first Decide (relevantLocs).
	relevant     []int32
	relevantOnce sync.Once

	memo memo
}

// progInfo is one program of the object.
type progInfo struct {
	fn            int32 // index in code.funcs
	name, section string
	// attach is the program's attach need, when it has one.
	attach *needsbtf.Need
	// variants lists the programs (indices in progs) that are variants
	// of this one (see variants), in order.
	variants []int32
}

// locInfo is one instruction that relocations patch.
type locInfo struct {
	key   int32 // index in code.keys, -1 for no function of the object
	insn  int32
	owner int32 // the last relocation patching it, whose patch libbpf keeps
	// isMem: the instruction is a load or store (see isMem).
	isMem bool
}

// Prepare reads obj, whose programs prog holds, for Decide.
func Prepare(obj *bpfobj.Object, prog *bpfprog.Object) *Prepared {
	p := &Prepared{obj: obj, prog: prog, code: newCode(prog), lastByName: map[string]int32{}}
	if err := obj.Check(); err != nil {
		p.checkErr = err.Error()
	}
	p.prepareLocs()
	p.prepareProgs()
	return p
}

// relevantLocs returns p.relevant, finding it the first time.
func (p *Prepared) relevantLocs() []int32 {
	p.relevantOnce.Do(func() { p.relevant = relevance(p.code, p.locs) })
	return p.relevant
}

// prepareLocs finds the instruction each relocation patches.
func (p *Prepared) prepareLocs() {
	c := p.code
	p.locOf = make([]int32, len(p.obj.Relocations))
	// Relocations of a function's instruction are sorted by function key
	// and instruction; the others (of no function of the object, or
	// beyond every function) are few and found by their Loc.
	type at struct {
		k uint64 // key<<32 | instruction
		j int32
	}
	sorted := make([]at, 0, len(p.obj.Relocations))
	var others map[Loc]int32
	newLoc := func(key int32, l Loc) int32 {
		insn := int32(-1) // out of every function
		if key >= 0 && l.Insn >= 0 && l.Insn <= math.MaxInt32 {
			insn = int32(l.Insn)
		}
		p.locs = append(p.locs, locInfo{key: key, insn: insn, isMem: key >= 0 && c.isMem(key, l.Insn)})
		return int32(len(p.locs) - 1)
	}
	for j := range p.obj.Relocations {
		r := &p.obj.Relocations[j]
		p.locOf[j] = -1
		if !r.InProgram() {
			continue
		}
		l := Loc{r.Section, r.Program, r.Insn(p.obj)}
		key, known := c.keyOf[funcKey{l.Section, l.Func}]
		if known && l.Insn >= 0 && l.Insn <= math.MaxInt32 {
			sorted = append(sorted, at{uint64(key)<<32 | uint64(l.Insn), int32(j)})
			continue
		}
		if !known {
			key = -1
		}
		if others == nil {
			others = map[Loc]int32{}
		}
		id, ok := others[l]
		if !ok {
			id = newLoc(key, l)
			others[l] = id
		}
		p.locs[id].owner = int32(j)
		p.locOf[j] = id
	}
	slices.SortFunc(sorted, func(a, b at) int { return cmp.Or(cmp.Compare(a.k, b.k), cmp.Compare(a.j, b.j)) })
	n := len(p.locs)
	for i, a := range sorted {
		if i == 0 || a.k != sorted[i-1].k {
			n++
		}
	}
	p.locs = slices.Grow(p.locs, n-len(p.locs))
	for i, a := range sorted {
		if i == 0 || a.k != sorted[i-1].k {
			r := &p.obj.Relocations[a.j]
			newLoc(int32(a.k>>32), Loc{r.Section, r.Program, int(uint32(a.k))})
		}
		id := int32(len(p.locs) - 1)
		p.locs[id].owner = a.j // the last of the instruction's relocations
		p.locOf[a.j] = id
	}
	p.locInsn = make([]int32, len(p.locs))
	for id := range p.locs {
		p.locInsn[id] = p.locs[id].insn
	}
	// locsByKey and relocsByKey, each in one array.
	p.locsByKey = groupByKey(len(c.keys), func(yield func(key, v int32)) {
		for id := range p.locs {
			yield(p.locs[id].key, int32(id))
		}
	})
	p.relocsByKey = groupByKey(len(c.keys), func(yield func(key, v int32)) {
		for j, id := range p.locOf {
			if id >= 0 {
				yield(p.locs[id].key, int32(j))
			}
		}
	})
}

// groupByKey returns the values that each yields, in order,
// grouped by their key in [0, keys) (other keys are dropped), the groups
// sharing one array.
func groupByKey(keys int, each func(yield func(key, v int32))) [][]int32 {
	count := make([]int32, keys+1)
	each(func(key, _ int32) {
		if key >= 0 {
			count[key+1]++
		}
	})
	for k := range keys {
		count[k+1] += count[k]
	}
	all := make([]int32, count[keys])
	out := make([][]int32, keys)
	for k := range out {
		out[k] = all[count[k]:count[k]:count[k+1]]
	}
	each(func(key, v int32) {
		if key >= 0 {
			out[key] = append(out[key], v)
		}
	})
	return out
}

// prepareProgs reads the programs, their needs of the kernel's BTF and
// their variants.
func (p *Prepared) prepareProgs() {
	needs := map[string]needsbtf.Program{}
	for _, n := range needsbtf.Analyze(p.prog) {
		needs[n.Section+"\x00"+n.Name] = n
		if n.ObjectOnly() && p.objectNeedsBTF == "" {
			p.objectNeedsBTF = n.String()
		}
	}
	type group struct{ family, ev string }
	groups := map[group][]int32{}
	var types []string // by program
	for i, f := range p.code.funcs {
		if !f.IsProgram() {
			continue
		}
		pi := progInfo{fn: int32(i), name: f.Name, section: f.Section}
		if n, ok := needs[f.Section+"\x00"+f.Name]; ok && n.Needs[0].Kind == needsbtf.Attach {
			a := n.Needs[0]
			pi.attach = &a
			p.attaches = append(p.attaches, int32(len(p.progs)))
		}
		p.lastByName[f.Name] = int32(len(p.progs))
		typ, ev := event(f.Section)
		if families[typ] != "" && ev != "" {
			g := group{families[typ], ev}
			groups[g] = append(groups[g], int32(len(p.progs)))
		}
		types = append(types, typ)
		p.progs = append(p.progs, pi)
	}
	// Variants (see variants) hook the same event with program types of
	// the same family: programs of one group with another type.
	for _, g := range groups {
		for _, a := range g {
			for _, b := range g {
				if pa, pb := &p.progs[a], &p.progs[b]; types[a] != types[b] && pb.name != pa.name {
					pa.variants = append(pa.variants, b)
				}
			}
		}
	}
}

// scratches holds the working memory of Decide calls, shared by all
// objects (a run decides one object after another, on a few goroutines).
var scratches sync.Pool // *scratch

// scratch is the working memory of one Decide call.
type scratch struct {
	w       walker
	flags   []uint8 // by distinct decision: flagErr, flagUnsat, ...
	poison  []bool  // by location
	value   []uint64
	key     []byte
	hits    []int32
	reached []reachPair
	// poisonedByKey lists the poisoned relocations of each code.keys
	// entry: poisoned[poisonedStart[k]:poisonedStart[k+1]].
	poisoned      []int32
	poisonedStart []int32
	keyDone       []bool
}

// reachPair says program prog reaches poisoned relocation j.
type reachPair struct{ j, prog int32 }

// The flags of a decision.
const (
	flagErr = 1 << iota
	flagUnsat
	flagPoison
	flagFailMemSz
)

// Decide gives every relocation and every program of the object its
// verdict on a kernel, from results, libbpf's decisions for its
// relocations on that kernel. The Object may be shared with other calls
// and must not be modified.
func (p *Prepared) Decide(results *core.Decisions, k Kernel) (*Object, error) {
	if results.Len() != len(p.obj.Relocations) {
		return nil, fmt.Errorf("%s: %d results for %d relocations", p.obj.Path, results.Len(), len(p.obj.Relocations))
	}
	s, _ := scratches.Get().(*scratch)
	if s == nil {
		s = new(scratch)
	}
	defer scratches.Put(s)
	in := p.inputs(s, results, k)
	key := p.memoKey(s, results, in)
	if out := p.memo.get(key); out != nil {
		return out, nil
	}
	out := p.decide(s, results, in)
	p.memo.put(key, out)
	return out, nil
}

// decideFresh is Decide without the memo.
func (p *Prepared) decideFresh(results *core.Decisions, k Kernel) *Object {
	s, _ := scratches.Get().(*scratch)
	if s == nil {
		s = new(scratch)
	}
	defer scratches.Put(s)
	return p.decide(s, results, p.inputs(s, results, k))
}

// inputs holds what a verdict depends on beyond the patches: the
// object's load failure, whether the whole object needs the kernel's
// BTF, and each attach program's answer (attachOK, attachNoBTF,
// attachMissing).
type inputs struct {
	loadErr        string
	objectNeedsBTF string
	noBTF          bool
	attach         []byte
}

// The answers for an attach program.
const (
	attachOK = iota
	attachNoBTF
	attachMissing
)

// inputs fills s.flags, s.poison and s.value for results and returns
// the other inputs of the verdict.
func (p *Prepared) inputs(s *scratch, results *core.Decisions, k Kernel) inputs {
	s.flags = s.flags[:0]
	anyErr := false
	for i := range results.Distinct {
		r := &results.Distinct[i]
		var f uint8
		if r.Err != nil {
			f |= flagErr
			anyErr = true
		}
		if r.Unsatisfied() {
			f |= flagUnsat
		}
		if r.Poison {
			f |= flagPoison
		}
		if r.FailMemSz {
			f |= flagFailMemSz
		}
		s.flags = append(s.flags, f)
	}
	var in inputs
	if anyErr {
		for j := range results.Of {
			if s.flags[results.Of[j]]&flagErr != 0 {
				r := &p.obj.Relocations[j]
				in.loadErr = fmt.Sprintf("relo #%d %s: %v", r.Index, r.Path(), results.At(j).Err)
				break
			}
		}
	}
	if in.loadErr == "" {
		in.loadErr = p.checkErr
	}
	if k.NoBTF {
		in.noBTF, in.objectNeedsBTF = true, p.objectNeedsBTF
	}
	in.attach = make([]byte, len(p.attaches))
	for i, pi := range p.attaches {
		a := p.progs[pi].attach
		switch {
		case k.NoBTF:
			in.attach[i] = attachNoBTF
		case k.Attachable != nil && !k.Attachable(a.Name, a.Target):
			in.attach[i] = attachMissing
		}
	}
	s.poison = slices.Grow(s.poison[:0], len(p.locs))[:len(p.locs)]
	s.value = slices.Grow(s.value[:0], len(p.locs))[:len(p.locs)]
	for l := range p.locs {
		li := &p.locs[l]
		d := results.Of[li.owner]
		f := s.flags[d]
		s.poison[l] = f&flagPoison != 0 || f&flagFailMemSz != 0 && li.isMem
		s.value[l] = results.Distinct[d].NewVal
	}
	return in
}

// decide computes the verdicts from what inputs found.
func (p *Prepared) decide(s *scratch, results *core.Decisions, in inputs) *Object {
	c := p.code
	out := &Object{Path: p.obj.Path, Programs: make([]Program, 0, len(p.progs))}
	p.groupPoisoned(s)
	t := &patchTable{byKey: p.locsByKey, insn: p.locInsn, poison: s.poison, value: s.value}
	w := &s.w
	s.reached = s.reached[:0]
	s.keyDone = slices.Grow(s.keyDone[:0], len(c.keys))[:len(c.keys)]
	attachAt := 0
	for i := range p.progs {
		pi := &p.progs[i]
		pr := Program{Name: pi.name, Section: pi.section, Status: Loads}
		switch {
		case in.loadErr != "":
			pr.Why = append(pr.Why, "libbpf refuses the object: "+in.loadErr)
		case in.objectNeedsBTF != "":
			pr.Why = append(pr.Why, "libbpf needs the kernel's BTF for the whole object, which the kernel does not have: "+in.objectNeedsBTF)
		}
		if a := pi.attach; a != nil {
			switch in.attach[attachAt] {
			case attachNoBTF:
				pr.Why = append(pr.Why, "the kernel has no BTF to attach "+pi.name+" ("+a.Name+")")
			case attachMissing:
				pr.Why = append(pr.Why, fmt.Sprintf("the kernel's BTF has no %s attach target %s", a.Name, a.Target))
			}
			attachAt++
		}
		w.reachable(c, pi.fn, t)
		// The poisoned relocations the program reaches, in order: those
		// of each function it reaches (each key once).
		s.hits = s.hits[:0]
		for _, g := range w.touched {
			key := c.fk[g]
			if key < 0 || s.keyDone[key] {
				continue
			}
			s.keyDone[key] = true
			seen := w.frames[g].seen
			for _, j := range s.poisoned[s.poisonedStart[key]:s.poisonedStart[key+1]] {
				if insn := p.locs[p.locOf[j]].insn; insn >= 0 && int(insn) < len(seen) && seen[insn] {
					s.hits = append(s.hits, j)
				}
			}
		}
		for _, g := range w.touched {
			if key := c.fk[g]; key >= 0 {
				s.keyDone[key] = false
			}
		}
		slices.Sort(s.hits)
		for _, j := range s.hits {
			r := &p.obj.Relocations[j]
			pr.Why = append(pr.Why, fmt.Sprintf("reaches poisoned relo #%d %s in %s insn %d", r.Index, r.Path(), r.Program, p.locs[p.locOf[j]].insn))
			s.reached = append(s.reached, reachPair{j, int32(i)})
		}
		if len(pr.Why) > 0 {
			pr.Status = ProgramFails
		}
		out.Programs = append(out.Programs, pr)
	}
	// A failing program whose variant loads needs that variant instead.
	if in.loadErr == "" && in.objectNeedsBTF == "" {
		for i := range out.Programs {
			pr := &out.Programs[i]
			if pr.Status != ProgramFails {
				continue
			}
			for _, q := range p.progs[i].variants {
				if out.Programs[q].Status == Loads {
					pr.Status, pr.Variant = NeedsVariantDisabled, out.Programs[q].Name
					break
				}
			}
		}
	}
	p.relocVerdicts(s, results, out)
	return out
}

// groupPoisoned fills s.poisoned and s.poisonedStart: the relocations of
// each function key whose instruction is poisoned, in order.
func (p *Prepared) groupPoisoned(s *scratch) {
	n := len(p.code.keys)
	s.poisonedStart = slices.Grow(s.poisonedStart[:0], n+1)[:n+1]
	s.poisoned = s.poisoned[:0]
	for key, js := range p.relocsByKey {
		s.poisonedStart[key] = int32(len(s.poisoned))
		for _, j := range js {
			if s.poison[p.locOf[j]] {
				s.poisoned = append(s.poisoned, j)
			}
		}
	}
	s.poisonedStart[n] = int32(len(s.poisoned))
}

// relocVerdicts sets the verdicts on the relocations of out, whose
// programs have theirs, from the walks' s.reached.
func (p *Prepared) relocVerdicts(s *scratch, results *core.Decisions, out *Object) {
	// The programs reaching each poisoned relocation, in program order.
	slices.SortStableFunc(s.reached, func(a, b reachPair) int { return int(a.j - b.j) })
	for k := 0; k < len(s.reached); {
		j := s.reached[k].j
		rr := reachedReloc{j: j}
		for ; k < len(s.reached) && s.reached[k].j == j; k++ {
			rr.progs = append(rr.progs, p.progs[s.reached[k].prog].name)
		}
		out.reachedBy = append(out.reachedBy, rr)
	}
	out.statuses = make([]core.Status, len(p.obj.Relocations))
	next := 0 // in out.reachedBy
	for j := range out.statuses {
		f := s.flags[results.Of[j]]
		l := p.locOf[j]
		var reachable []string
		if next < len(out.reachedBy) && int(out.reachedBy[next].j) == j {
			reachable = out.reachedBy[next].progs
			next++
		}
		st := core.StatusOK
		switch {
		case f&flagErr != 0:
			st = core.StatusFailed
		case f&flagUnsat == 0 && (l < 0 || !s.poison[l]):
			st = core.StatusOK
		case len(reachable) == 0:
			st = core.StatusGuarded
		default:
			st = core.StatusAlternative
			for _, name := range reachable {
				if out.Programs[p.lastByName[name]].Status == ProgramFails {
					st = core.StatusWillFail
				}
			}
		}
		out.statuses[j] = st
	}
}
