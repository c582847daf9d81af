package reach

import (
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

type state [11]value

func join(a, b state) (state, bool) {
	changed := false
	for i := range a {
		if a[i].known && (!b[i].known || b[i].v != a[i].v) {
			a[i] = value{}
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
	var w walker
	return w.reachable(o, prog, groupPatches(patches))
}

// funcPatches holds patches by function, then by instruction.
type funcPatches map[funcKey]map[int]Patch

// groupPatches returns patches by function.
func groupPatches(patches map[Loc]Patch) funcPatches {
	by := funcPatches{}
	for l, p := range patches {
		by.set(l, p)
	}
	return by
}

// set records p at l.
func (by funcPatches) set(l Loc, p Patch) {
	k := funcKey{l.Section, l.Func}
	if by[k] == nil {
		by[k] = map[int]Patch{}
	}
	by[k][l.Insn] = p
}

// at returns the patch at l (none: the zero Patch).
func (by funcPatches) at(l Loc) Patch { return by[funcKey{l.Section, l.Func}][l.Insn] }

// walker is Reachable's working memory, reused from one program to the
// next: a heavy object's programs have hundreds of thousands of
// instruction slots, each with an abstract state.
type walker struct {
	states  []state
	visited []bool
	seen    []bool
	frames  map[*bpfprog.Func]*frame
	work    []item
	out     Reached
}

type item struct {
	f *bpfprog.Func
	i int
}

type frame struct {
	states  []state
	visited []bool // states[i] holds a state
	seen    []bool // instruction i was interpreted
	patches map[int]Patch
}

// reachable is Reachable with patches grouped by function
// (groupPatches). The Reached it returns, and the slices in it, are
// valid until the next call.
func (w *walker) reachable(o *bpfprog.Object, prog *bpfprog.Func, patches funcPatches) Reached {
	if w.frames == nil {
		w.frames, w.out = map[*bpfprog.Func]*frame{}, Reached{}
	}
	clear(w.frames)
	clear(w.out)
	used := 0
	frames := w.frames
	frameOf := func(f *bpfprog.Func) *frame {
		fr := frames[f]
		if fr == nil {
			n := len(f.Insns)
			if used+n > len(w.states) {
				// Earlier frames keep the old arrays; later ones take
				// fresh, larger ones.
				size := max(2*len(w.states), used+n)
				w.states, w.visited, w.seen = make([]state, size), make([]bool, size), make([]bool, size)
				used = 0
			}
			fr = &frame{states: w.states[used : used+n : used+n], visited: w.visited[used : used+n : used+n], seen: w.seen[used : used+n : used+n]}
			used += n
			clear(fr.visited)
			clear(fr.seen)
			fr.patches = patches[funcKey{f.Section, f.Name}]
			frames[f] = fr
		}
		return fr
	}
	work := w.work[:0]
	push := func(f *bpfprog.Func, i int, s state) {
		if i < 0 || i >= len(f.Insns) {
			return
		}
		fr := frameOf(f)
		if fr.visited[i] {
			j, changed := join(fr.states[i], s)
			if !changed {
				return
			}
			s = j
		}
		fr.states[i], fr.visited[i] = s, true
		work = append(work, item{f, i})
	}
	var entry state
	push(prog, 0, entry)
	for len(work) > 0 {
		it := work[len(work)-1]
		work = work[:len(work)-1]
		f, i := it.f, it.i
		fr := frames[f]
		fr.seen[i] = true
		s := fr.states[i]
		in := f.Insns[i]
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
					case in.Src == 0 && in.Sym() == "" && i+1 < len(f.Insns):
						s[in.Dst] = value{known: true, v: uint64(uint32(in.Imm)) | uint64(uint32(f.Insns[i+1].Imm))<<32}
					}
				}
				if g, at, ok := o.Target(f, i); ok {
					var cb state
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
					var callee state
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
				taken, known := branch(in, s)
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
	a, b := d.v, src.v
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
