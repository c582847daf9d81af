package reach

// The implementation of Decide before Prepare (commit cb8ea51), the
// reference the prepared, memoized one is compared with.

import (
	"fmt"
	"slices"
	"sync"

	"github.com/btftool/btftool/internal/bpfprog"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/needsbtf"
)

// refObject is Object as it was: every relocation's verdict in full.
type refObject struct {
	Path     string    `json:"path"`
	Programs []Program `json:"programs"`
	Relocs   []Reloc   `json:"relocations"`
}

// refPatches holds patches by function, then by instruction.
type refPatches map[funcKey]map[int]Patch

// set records p at l.
func (by refPatches) set(l Loc, p Patch) {
	k := funcKey{l.Section, l.Func}
	if by[k] == nil {
		by[k] = map[int]Patch{}
	}
	by[k][l.Insn] = p
}

// at returns the patch at l (none: the zero Patch).
func (by refPatches) at(l Loc) Patch { return by[funcKey{l.Section, l.Func}][l.Insn] }

// refWalker is Reachable's working memory, reused from one program to the
// next: a heavy object's programs have hundreds of thousands of
// instruction slots, each with an abstract refState.
type refWalker struct {
	states  []refState
	visited []bool
	seen    []bool
	frames  map[*bpfprog.Func]*refFrame
	work    []refItem
	out     Reached
}

type refItem struct {
	f *bpfprog.Func
	i int
}

type refFrame struct {
	states  []refState
	visited []bool // states[i] holds a refState
	seen    []bool // instruction i was interpreted
	patches map[int]Patch
}

// reachable is Reachable with patches grouped by function. The Reached it returns, and the slices in it, are
// valid until the next call.
func (w *refWalker) reachable(o *bpfprog.Object, prog *bpfprog.Func, patches refPatches) Reached {
	if w.frames == nil {
		w.frames, w.out = map[*bpfprog.Func]*refFrame{}, Reached{}
	}
	clear(w.frames)
	clear(w.out)
	used := 0
	frames := w.frames
	frameOf := func(f *bpfprog.Func) *refFrame {
		fr := frames[f]
		if fr == nil {
			n := f.Len()
			if used+n > len(w.states) {
				// Earlier frames keep the old arrays; later ones take
				// fresh, larger ones.
				size := max(2*len(w.states), used+n)
				w.states, w.visited, w.seen = make([]refState, size), make([]bool, size), make([]bool, size)
				used = 0
			}
			fr = &refFrame{states: w.states[used : used+n : used+n], visited: w.visited[used : used+n : used+n], seen: w.seen[used : used+n : used+n]}
			used += n
			clear(fr.visited)
			clear(fr.seen)
			fr.patches = patches[funcKey{f.Section, f.Name}]
			frames[f] = fr
		}
		return fr
	}
	work := w.work[:0]
	push := func(f *bpfprog.Func, i int, s refState) {
		if i < 0 || i >= f.Len() {
			return
		}
		fr := frameOf(f)
		if fr.visited[i] {
			j, changed := refJoin(fr.states[i], s)
			if !changed {
				return
			}
			s = j
		}
		fr.states[i], fr.visited[i] = s, true
		work = append(work, refItem{f, i})
	}
	var entry refState
	push(prog, 0, entry)
	for len(work) > 0 {
		it := work[len(work)-1]
		work = work[:len(work)-1]
		f, i := it.f, it.i
		fr := frames[f]
		fr.seen[i] = true
		s := fr.states[i]
		in := f.Insn(i)
		p, patched := fr.patches[i]
		if patched && p.Poison {
			continue
		}
		switch in.Class() {
		case bpfprog.ClassALU, bpfprog.ClassALU64:
			if in.Dst > 10 {
				continue
			}
			src := value{known: true, v: uint64(int64(in.Imm))}
			if in.Op&0x08 != 0 {
				src = value{}
				if in.Src <= 10 {
					src = s[in.Src]
				}
			}
			if patched { // libbpf writes the value into the immediate
				src = value{known: true, v: p.Value}
			}
			s[in.Dst] = alu(in, s[in.Dst], src)
			push(f, i+1, s)
		case bpfprog.ClassLD:
			if in.Op == bpfprog.OpLDIMM64 {
				if in.Dst <= 10 {
					s[in.Dst] = value{}
					switch {
					case patched:
						s[in.Dst] = value{known: true, v: p.Value}
					case in.Src == 0 && in.Sym() == "" && i+1 < f.Len():
						s[in.Dst] = value{known: true, v: uint64(uint32(in.Imm)) | uint64(uint32(f.Insn(i+1).Imm))<<32}
					}
				}
				if g, at, ok := o.Target(f, i); ok {
					var cb refState
					push(g, at, cb)
				}
				push(f, i+2, s)
				continue
			}
			// legacy packet access: r0 and the caller-saved registers.
			for r := 0; r <= 5; r++ {
				s[r] = value{}
			}
			push(f, i+1, s)
		case bpfprog.ClassLDX:
			if in.Dst <= 10 {
				s[in.Dst] = value{}
			}
			push(f, i+1, s)
		case bpfprog.ClassST:
			push(f, i+1, s)
		case bpfprog.ClassSTX:
			if in.Op&0xe0 == 0xc0 { // atomic: fetch writes src, cmpxchg r0
				if in.Src <= 10 {
					s[in.Src] = value{}
				}
				s[0] = value{}
			}
			push(f, i+1, s)
		case bpfprog.ClassJMP, bpfprog.ClassJMP32:
			op := in.Op & 0xf0
			switch {
			case in.Op == bpfprog.OpExit:
				continue
			case in.Op == bpfprog.OpCall:
				if g, at, ok := o.Target(f, i); ok {
					var callee refState
					copy(callee[1:6], s[1:6])
					push(g, at, callee)
				}
				for r := 0; r <= 5; r++ {
					s[r] = value{}
				}
				push(f, i+1, s)
			case op == 0x00: // ja
				off := int(in.Off)
				if in.Class() == bpfprog.ClassJMP32 {
					off = int(in.Imm)
				}
				push(f, i+1+off, s)
			default:
				taken, known := refBranch(in, s)
				if !known || taken {
					push(f, i+1+int(in.Off), s)
				}
				if !known || !taken {
					push(f, i+1, s)
				}
			}
		default:
			push(f, i+1, s)
		}
	}
	for f, fr := range frames {
		w.out[funcKey{f.Section, f.Name}] = fr.seen
	}
	// Keep the memory, not the functions of this object.
	clear(work[:cap(work)])
	w.work = work[:0]
	clear(frames)
	return w.out
}

// refDecide gives every relocation and every program of obj (read as prog
// too) its verdict on a kernel, from results, libbpf's decisions for
// obj.Relocations on that kernel (core.Relocator.Relocate, in order).
func refDecide(obj *bpfobj.Object, prog *bpfprog.Object, results []core.Result, k Kernel) (*refObject, error) {
	if len(results) != len(obj.Relocations) {
		return nil, fmt.Errorf("%s: %d results for %d relocations", obj.Path, len(results), len(obj.Relocations))
	}
	out := &refObject{Path: obj.Path}
	patches := refPatches{} // by function, then instruction
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
		patches.set(l, Patch{Poison: res.Poison || res.FailMemSz && refIsMem(prog, l), Value: res.NewVal})
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
	w := refWalkers.Get().(*refWalker)
	defer refWalkers.Put(w)
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
	relocs := make([]Reloc, 0, len(obj.Relocations))
	for j := range obj.Relocations {
		res := &results[j]
		rv := Reloc{Index: j, Status: core.StatusOK, Reachable: reachedBy[j]}
		switch {
		case res.Err != nil:
			rv.Status = core.StatusFailed
		case !res.Unsatisfied() && !patches.at(refLocOf(obj, j)).Poison:
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
		relocs = append(relocs, rv)
	}
	out.Relocs = relocs
	return out, nil
}

// refWalkers holds Reachable's working memory between refDecide calls (a run
// decides one object after another).
var refWalkers = sync.Pool{New: func() any { return new(refWalker) }}

// refLocOf returns where relocation j of obj is.
func refLocOf(obj *bpfobj.Object, j int) Loc {
	r := &obj.Relocations[j]
	return Loc{r.Section, r.Program, r.Insn(obj)}
}

// refIsMem reports whether the instruction at l is a load or store, which
// libbpf poisons when it cannot resize it (core.Outcome.FailMemSz).
func refIsMem(prog *bpfprog.Object, l Loc) bool {
	for _, f := range prog.Funcs {
		if f.Section == l.Section && f.Name == l.Func && l.Insn >= 0 && l.Insn < f.Len() {
			c := f.Insn(l.Insn).Class()
			return c == bpfprog.ClassLDX || c == bpfprog.ClassST || c == bpfprog.ClassSTX
		}
	}
	return false
}

type refState [11]value

func refJoin(a, b refState) (refState, bool) {
	changed := false
	for i := range a {
		if a[i].known && (!b[i].known || b[i].v != a[i].v) {
			a[i] = value{}
			changed = true
		}
	}
	return a, changed
}

// branch decides a conditional jump; known is false when an operand is
// not known.
func refBranch(in bpfprog.Insn, s refState) (taken, known bool) {
	if in.Dst > 10 {
		return false, false
	}
	d := s[in.Dst]
	src := value{known: true, v: uint64(int64(in.Imm))}
	if in.Op&0x08 != 0 {
		src = value{}
		if in.Src <= 10 {
			src = s[in.Src]
		}
	}
	if !d.known || !src.known {
		return false, false
	}
	return compare(in, d.v, src.v)
}
