package reach

import (
	"slices"

	"github.com/btftool/btftool/internal/bpfprog"
)

// Loc names one instruction slot: the section and function holding it and
// its index within the function.
type Loc struct {
	Section string
	Func    string
	Insn    int
}

// Patch is what libbpf writes into one CO-RE-relocated instruction on one
// kernel.
type Patch struct {
	// Poison: libbpf replaced the instruction with an invalid helper
	// call; the verifier rejects the program if it can reach it.
	Poison bool
	// Value is the relocated value libbpf writes into the immediate of a
	// mov or ldimm64 (an existence check's 0 or 1, a size, an offset).
	Value uint64
}

// value is an abstract register: a known 64-bit constant or unknown.
type value struct {
	known bool
	v     uint64
}

// state is the abstract registers r0-r10 at an instruction: register r
// is known when bit r of known is set, and holds v[r] then (v[r] is 0
// when r is unknown).
type state struct {
	known uint16
	v     [11]uint64
}

// get returns register r, r <= 10.
func (s *state) get(r uint8) value {
	if s.known&(1<<r) == 0 {
		return value{}
	}
	return value{known: true, v: s.v[r]}
}

// set sets register r, r <= 10.
func (s *state) set(r uint8, x value) {
	if !x.known {
		s.known &^= 1 << r
		s.v[r] = 0
		return
	}
	s.known |= 1 << r
	s.v[r] = x.v
}

// forget makes the registers of mask unknown.
func (s *state) forget(mask uint16) {
	s.known &^= mask
	for r := range s.v {
		if mask&(1<<r) != 0 {
			s.v[r] = 0
		}
	}
}

// join returns the state holding what a and b agree on, and whether it
// differs from a.
func join(a, b state) (state, bool) {
	changed := false
	for r := range a.v {
		if bit := uint16(1) << r; a.known&bit != 0 && (b.known&bit == 0 || b.v[r] != a.v[r]) {
			a.known &^= bit
			a.v[r] = 0
			changed = true
		}
	}
	return a, changed
}

// Reachable returns the instructions of prog and the subprograms it calls
// that the verifier can reach once libbpf has applied patches: an
// abstract interpretation of the program in which every register holds a
// known constant or nothing known, constants come from immediates and
// relocated values, conditional jumps on known constants take one branch,
// and poisoned instructions end their path. Like the verifier, it follows
// bpf-to-bpf calls into the callee (with the caller's r1-r5) and on to the
// instruction after the call. Stack slots are not tracked: a constant
// spilled to the stack and read back is unknown, so a guard that clang
// spills can make dead code look reachable, never the other way round.
func Reachable(o *bpfprog.Object, prog *bpfprog.Func, patches map[Loc]Patch) Reached {
	c := newCode(o)
	t := &patchTable{byKey: make([][]int32, len(c.keys))}
	for l, p := range patches {
		k, ok := c.keyOf[funcKey{l.Section, l.Func}]
		if !ok {
			continue
		}
		t.byKey[k] = append(t.byKey[k], int32(len(t.insn)))
		t.insn = append(t.insn, int32(l.Insn))
		t.poison = append(t.poison, p.Poison)
		t.value = append(t.value, p.Value)
	}
	var w walker
	out := Reached{}
	fi, ok := c.index[prog]
	if !ok { // not a function of o: walk it on its own
		c.funcs = append(c.funcs, prog)
		c.fk = append(c.fk, -1)
		c.targets = append(c.targets, nil)
		fi = int32(len(c.funcs) - 1)
		c.index[prog] = fi
	}
	w.reachable(c, fi, t)
	for _, g := range w.touched {
		f := c.funcs[g]
		out[funcKey{f.Section, f.Name}] = slices.Clone(w.frames[g].seen)
	}
	return out
}

// code is the control flow of an object's functions that the walks need,
// read once: functions by index (in bpfprog.Object.Funcs order), the
// (section, name) key of each, and the call and callback targets of each
// function's instructions.
type code struct {
	funcs []*bpfprog.Func
	index map[*bpfprog.Func]int32
	// keys lists the distinct (section, name) of funcs; fk[i] is the
	// index in keys of funcs[i]. Patches are by key.
	keys  []funcKey
	keyOf map[funcKey]int32
	fk    []int32
	// byKey lists the functions of each key, in order.
	byKey [][]int32
	// targets[i] lists the call and callback targets of funcs[i], by
	// instruction.
	targets [][]target
}

// target is what instruction insn of a function calls or loads the
// address of: function fn at instruction at.
type target struct {
	insn, fn, at int32
}

// newCode reads the functions of o.
func newCode(o *bpfprog.Object) *code {
	c := &code{funcs: slices.Clone(o.Funcs), index: make(map[*bpfprog.Func]int32, len(o.Funcs)),
		keyOf: make(map[funcKey]int32, len(o.Funcs)), fk: make([]int32, len(o.Funcs)), targets: make([][]target, len(o.Funcs))}
	for i, f := range c.funcs {
		c.index[f] = int32(i)
		k := funcKey{f.Section, f.Name}
		id, ok := c.keyOf[k]
		if !ok {
			id = int32(len(c.keys))
			c.keys = append(c.keys, k)
			c.byKey = append(c.byKey, nil)
			c.keyOf[k] = id
		}
		c.fk[i] = id
		c.byKey[id] = append(c.byKey[id], int32(i))
	}
	for i, f := range c.funcs {
		for j := range f.Len() {
			if op := f.Raw(j).Op; op != bpfprog.OpCall && op != bpfprog.OpLDIMM64 {
				continue
			}
			if g, at, ok := o.Target(f, j); ok {
				if gi, ok := c.index[g]; ok {
					c.targets[i] = append(c.targets[i], target{int32(j), gi, int32(at)})
				}
			}
		}
	}
	return c
}

// isMem reports whether instruction i of the first function of key
// holding it is a load or store, which libbpf poisons when it cannot
// resize it (core.Outcome.FailMemSz).
func (c *code) isMem(key int32, i int) bool {
	for _, g := range c.byKey[key] {
		if f := c.funcs[g]; i >= 0 && i < f.Len() {
			cl := f.Raw(i).Class()
			return cl == bpfprog.ClassLDX || cl == bpfprog.ClassST || cl == bpfprog.ClassSTX
		}
	}
	return false
}

// target returns what instruction i of function fi calls or loads the
// address of.
func (c *code) target(fi int32, i int) (fn int32, at int, ok bool) {
	ts := c.targets[fi]
	k, found := slices.BinarySearchFunc(ts, int32(i), func(t target, i int32) int { return int(t.insn - i) })
	if !found {
		return 0, 0, false
	}
	return ts[k].fn, int(ts[k].at), true
}

// patchTable holds the patches of one kernel: patch p is at instruction
// insn[p] of the functions of key byKey's index (code.keys), with
// poison[p] and value[p].
type patchTable struct {
	byKey  [][]int32
	insn   []int32
	poison []bool
	value  []uint64
}

// walker is Reachable's working memory, reused from one program to the
// next: a heavy object's programs have hundreds of thousands of
// instruction slots, each with an abstract state.
type walker struct {
	states  []state
	visited []bool
	seen    []bool
	patch   []int32
	frames  []frame // by function index; valid for the touched ones
	touched []int32 // functions of the last walk, in order of first visit
	work    []item
}

type item struct {
	f int32
	i int
}

type frame struct {
	live    bool
	states  []state
	visited []bool  // states[i] holds a state
	seen    []bool  // instruction i was interpreted
	patch   []int32 // index in the patchTable of instruction i's patch, or -1
}

// reachable walks function fi of c with patches t; afterwards w.touched
// lists the functions it reached and w.frames[f].seen their reached
// instructions, valid until the next call.
func (w *walker) reachable(c *code, fi int32, t *patchTable) {
	if len(w.frames) < len(c.funcs) {
		w.frames = make([]frame, len(c.funcs))
	}
	for _, g := range w.touched {
		w.frames[g] = frame{}
	}
	w.touched = w.touched[:0]
	used := 0
	frameOf := func(g int32) *frame {
		fr := &w.frames[g]
		if !fr.live {
			f := c.funcs[g]
			n := f.Len()
			if used+n > len(w.states) {
				// Earlier frames keep the old arrays; later ones take
				// fresh, larger ones.
				size := max(2*len(w.states), used+n)
				w.states, w.visited, w.seen, w.patch = make([]state, size), make([]bool, size), make([]bool, size), make([]int32, size)
				used = 0
			}
			*fr = frame{live: true, states: w.states[used : used+n : used+n], visited: w.visited[used : used+n : used+n],
				seen: w.seen[used : used+n : used+n], patch: w.patch[used : used+n : used+n]}
			used += n
			clear(fr.visited)
			clear(fr.seen)
			for i := range fr.patch {
				fr.patch[i] = -1
			}
			if k := c.fk[g]; k >= 0 && int(k) < len(t.byKey) {
				for _, p := range t.byKey[k] {
					if in := t.insn[p]; in >= 0 && int(in) < n {
						fr.patch[in] = p // the last patch of an instruction wins
					}
				}
			}
			w.touched = append(w.touched, g)
		}
		return fr
	}
	work := w.work[:0]
	push := func(g int32, i int, s state) {
		if i < 0 || i >= c.funcs[g].Len() {
			return
		}
		fr := frameOf(g)
		if fr.visited[i] {
			j, changed := join(fr.states[i], s)
			if !changed {
				return
			}
			s = j
		}
		fr.states[i], fr.visited[i] = s, true
		work = append(work, item{g, i})
	}
	var entry state
	push(fi, 0, entry)
	for len(work) > 0 {
		it := work[len(work)-1]
		work = work[:len(work)-1]
		g, i := it.f, it.i
		f := c.funcs[g]
		fr := &w.frames[g]
		fr.seen[i] = true
		s := fr.states[i]
		in := f.Raw(i)
		var p Patch
		pi := fr.patch[i]
		patched := pi >= 0
		if patched {
			if t.poison[pi] {
				continue
			}
			p.Value = t.value[pi]
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
					src = s.get(in.Src)
				}
			}
			if patched { // libbpf writes the value into the immediate
				src = value{known: true, v: p.Value}
			}
			s.set(in.Dst, alu(in, s.get(in.Dst), src))
			push(g, i+1, s)
		case bpfprog.ClassLD:
			if in.Op == bpfprog.OpLDIMM64 {
				if in.Dst <= 10 {
					s.set(in.Dst, value{})
					switch {
					case patched:
						s.set(in.Dst, value{known: true, v: p.Value})
					case in.Src == 0 && f.Insn(i).Sym() == "" && i+1 < f.Len():
						s.set(in.Dst, value{known: true, v: uint64(uint32(in.Imm)) | uint64(uint32(f.Raw(i+1).Imm))<<32})
					}
				}
				if h, at, ok := c.target(g, i); ok {
					var cb state
					push(h, at, cb)
				}
				push(g, i+2, s)
				continue
			}
			// legacy packet access: r0 and the caller-saved registers.
			s.forget(0x3f)
			push(g, i+1, s)
		case bpfprog.ClassLDX:
			if in.Dst <= 10 {
				s.set(in.Dst, value{})
			}
			push(g, i+1, s)
		case bpfprog.ClassST:
			push(g, i+1, s)
		case bpfprog.ClassSTX:
			if in.Op&0xe0 == 0xc0 { // atomic: fetch writes src, cmpxchg r0
				if in.Src <= 10 {
					s.set(in.Src, value{})
				}
				s.set(0, value{})
			}
			push(g, i+1, s)
		case bpfprog.ClassJMP, bpfprog.ClassJMP32:
			op := in.Op & 0xf0
			switch {
			case in.Op == bpfprog.OpExit:
				continue
			case in.Op == bpfprog.OpCall:
				if h, at, ok := c.target(g, i); ok {
					var callee state
					callee.known = s.known & 0x3e
					copy(callee.v[1:6], s.v[1:6])
					push(h, at, callee)
				}
				s.forget(0x3f)
				push(g, i+1, s)
			case op == 0x00: // ja
				off := int(in.Off)
				if in.Class() == bpfprog.ClassJMP32 {
					off = int(in.Imm)
				}
				push(g, i+1+off, s)
			default:
				taken, known := branch(in, s)
				if !known || taken {
					push(g, i+1+int(in.Off), s)
				}
				if !known || !taken {
					push(g, i+1, s)
				}
			}
		default:
			push(g, i+1, s)
		}
	}
	w.work = work[:0]
}

type funcKey struct{ section, name string }

// Reached is the set of instructions Reachable found reachable.
type Reached map[funcKey][]bool

// Has reports whether the instruction at l is reachable.
func (r Reached) Has(l Loc) bool {
	s := r[funcKey{l.Section, l.Func}]
	return l.Insn >= 0 && l.Insn < len(s) && s[l.Insn]
}

// alu evaluates an ALU or ALU64 instruction on abstract values.
func alu(in bpfprog.Insn, dst, src value) value {
	op := in.Op & 0xf0
	is32 := in.Class() == bpfprog.ClassALU
	if op == 0xb0 { // mov, movsx
		if !src.known {
			return value{}
		}
		v := src.v
		switch in.Off {
		case 8:
			v = uint64(int64(int8(v)))
		case 16:
			v = uint64(int64(int16(v)))
		case 32:
			v = uint64(int64(int32(v)))
		}
		if is32 {
			v = uint64(uint32(v))
		}
		return value{known: true, v: v}
	}
	if op == 0x80 { // neg
		if !dst.known {
			return value{}
		}
		if is32 {
			return value{known: true, v: uint64(uint32(-int32(uint32(dst.v))))}
		}
		return value{known: true, v: uint64(-int64(dst.v))}
	}
	if !dst.known || !src.known || in.Off != 0 {
		return value{}
	}
	a, b := dst.v, src.v
	if is32 {
		a, b = uint64(uint32(a)), uint64(uint32(b))
	}
	var r uint64
	switch op {
	case 0x00:
		r = a + b
	case 0x10:
		r = a - b
	case 0x20:
		r = a * b
	case 0x30:
		if b != 0 {
			r = a / b
		}
	case 0x40:
		r = a | b
	case 0x50:
		r = a & b
	case 0x60, 0x70, 0xc0:
		sh := b & 63
		if is32 {
			sh = b & 31
		}
		switch op {
		case 0x60:
			r = a << sh
		case 0x70:
			r = a >> sh
		default:
			if is32 {
				r = uint64(uint32(int32(uint32(a)) >> sh))
			} else {
				r = uint64(int64(a) >> sh)
			}
		}
	case 0x90:
		r = a
		if b != 0 {
			r = a % b
		}
	case 0xa0:
		r = a ^ b
	default:
		return value{}
	}
	if is32 {
		r = uint64(uint32(r))
	}
	return value{known: true, v: r}
}

// branch decides a conditional jump; known is false when an operand is
// not known.
func branch(in bpfprog.Insn, s state) (taken, known bool) {
	if in.Dst > 10 {
		return false, false
	}
	d := s.get(in.Dst)
	src := value{known: true, v: uint64(int64(in.Imm))}
	if in.Op&0x08 != 0 {
		src = value{}
		if in.Src <= 10 {
			src = s.get(in.Src)
		}
	}
	if !d.known || !src.known {
		return false, false
	}
	return compare(in, d.v, src.v)
}

// compare evaluates the condition of the conditional jump in on the
// operand values a (dst) and b (src or the immediate); known is false for
// an operation it does not know.
func compare(in bpfprog.Insn, a, b uint64) (taken, known bool) {
	sa, sb := int64(a), int64(b)
	if in.Class() == bpfprog.ClassJMP32 {
		a, b = uint64(uint32(a)), uint64(uint32(b))
		sa, sb = int64(int32(uint32(a))), int64(int32(uint32(b)))
	}
	switch in.Op & 0xf0 {
	case 0x10:
		return a == b, true
	case 0x20:
		return a > b, true
	case 0x30:
		return a >= b, true
	case 0x40:
		return a&b != 0, true
	case 0x50:
		return a != b, true
	case 0x60:
		return sa > sb, true
	case 0x70:
		return sa >= sb, true
	case 0xa0:
		return a < b, true
	case 0xb0:
		return a <= b, true
	case 0xc0:
		return sa < sb, true
	case 0xd0:
		return sa <= sb, true
	}
	return false, false
}
