package reach

import (
	"github.com/btftool/btftool/internal/bpfprog"
)

// regs is a set of registers r0-r10, one bit each.
type regs uint16

// callerSaved is r0-r5, which a call leaves unknown; args is r1-r5,
// which a bpf-to-bpf call passes to the callee.
const (
	callerSaved regs = 0x3f
	args        regs = 0x3e
)

// reg returns the set of register r, empty for r > 10 (never a register
// the walk tracks).
func reg(r uint8) regs {
	if r > 10 {
		return 0
	}
	return 1 << r
}

// relevance returns the locations of locs (in order) whose relocated value
// can decide a conditional branch of a walk: a backward analysis, over
// every path whatever the branches and poisoned instructions (so a
// superset of what any walk follows), of the registers whose value at an
// instruction can reach an operand of a conditional jump through movs,
// ALU instructions and the r1-r5 of bpf-to-bpf calls. A relocated value
// written by a mov, ALU instruction or ldimm64 into a register that is
// relevant after it is relevant; the value of any other relocated
// instruction (a load, store or jump) is not read by the walk at all.
// Two kernels agreeing on the relevant values and on every poison flag
// get the same walks.
func relevance(c *code, locs []locInfo) []int32 {
	// patched[g] marks the instructions of function g that a relocation
	// patches (their immediate, not a register, is the ALU source).
	patched := make([][]uint64, len(c.funcs)) // bit sets
	for _, l := range locs {
		if l.key < 0 {
			continue
		}
		for _, g := range c.byKey[l.key] {
			if n := c.funcs[g].Len(); l.insn >= 0 && int(l.insn) < n {
				if patched[g] == nil {
					patched[g] = make([]uint64, (n+63)/64)
				}
				patched[g][l.insn/64] |= 1 << (l.insn % 64)
			}
		}
	}
	in := make([][]regs, len(c.funcs)) // registers relevant before each instruction
	for g, f := range c.funcs {
		in[g] = make([]regs, f.Len())
	}
	// before returns the registers relevant before instruction i of g,
	// none out of the function. A pass goes backwards, so only a read of
	// an instruction not after the current one (a loop) or of another
	// function (a call) can see a value this pass has not updated yet.
	var curG int32
	var curI int
	stale := false
	before := func(g int32, i int) regs {
		if i < 0 || i >= len(in[g]) {
			return 0
		}
		if g != curG || i <= curI {
			stale = true
		}
		return in[g][i]
	}
	for {
		changed := false
		stale = false
		for g := len(c.funcs) - 1; g >= 0; g-- {
			f := c.funcs[g]
			for i := f.Len() - 1; i >= 0; i-- {
				// Relevance only grows, to a fixed point.
				curG, curI = int32(g), i
				p := patched[g] != nil && patched[g][i/64]&(1<<(i%64)) != 0
				if r := in[g][i] | transfer(c, int32(g), f, i, p, before); r != in[g][i] {
					in[g][i] = r
					changed = true
				}
			}
		}
		// Without a stale read, this pass computed the fixed point.
		if !changed || !stale {
			break
		}
	}
	var out []int32
	for id, l := range locs {
		if l.key < 0 {
			continue
		}
		for _, g := range c.byKey[l.key] {
			f := c.funcs[g]
			if l.insn < 0 || int(l.insn) >= f.Len() {
				continue
			}
			i := int(l.insn)
			x := f.Raw(i)
			var after regs
			switch {
			case (x.Class() == bpfprog.ClassALU || x.Class() == bpfprog.ClassALU64) && x.Dst <= 10:
				after = before(g, i+1)
			case x.Op == bpfprog.OpLDIMM64 && x.Dst <= 10:
				after = before(g, i+2)
			default:
				continue
			}
			if after&reg(x.Dst) != 0 {
				out = append(out, int32(id))
				break
			}
		}
	}
	return out
}

// transfer returns the registers relevant before instruction i of
// function g (f) given those relevant before its successors (before), as
// the walk (walker.reachable) interprets it; patched says a relocation
// writes its immediate.
func transfer(c *code, g int32, f *bpfprog.Func, i int, patched bool, before func(int32, int) regs) regs {
	x := f.Raw(i)
	switch x.Class() {
	case bpfprog.ClassALU, bpfprog.ClassALU64:
		if x.Dst > 10 {
			return 0 // the walk stops here
		}
		out := before(g, i+1)
		dst := reg(x.Dst)
		var src regs
		if x.Op&0x08 != 0 && !patched {
			src = reg(x.Src)
		}
		switch x.Op & 0xf0 {
		case 0xb0: // mov: dst's old value is not read
			if out&dst != 0 {
				return out&^dst | src
			}
			return out &^ dst
		default: // neg reads dst; the others dst and src
			if out&dst != 0 {
				return out | src
			}
			return out
		}
	case bpfprog.ClassLD:
		if x.Op == bpfprog.OpLDIMM64 {
			// A callback starts with no register known.
			return before(g, i+2) &^ reg(x.Dst)
		}
		return before(g, i+1) &^ callerSaved
	case bpfprog.ClassLDX:
		return before(g, i+1) &^ reg(x.Dst)
	case bpfprog.ClassSTX:
		if x.Op&0xe0 == 0xc0 {
			return before(g, i+1) &^ (reg(x.Src) | reg(0))
		}
		return before(g, i+1)
	case bpfprog.ClassJMP, bpfprog.ClassJMP32:
		op := x.Op & 0xf0
		switch {
		case x.Op == bpfprog.OpExit:
			return 0
		case x.Op == bpfprog.OpCall:
			r := before(g, i+1) &^ callerSaved
			if h, at, ok := c.target(g, i); ok {
				r |= before(h, at) & args
			}
			return r
		case op == 0x00: // ja
			off := int(x.Off)
			if x.Class() == bpfprog.ClassJMP32 {
				off = int(x.Imm)
			}
			return before(g, i+1+off)
		default: // a conditional jump reads its operands
			r := before(g, i+1+int(x.Off)) | before(g, i+1) | reg(x.Dst)
			if x.Op&0x08 != 0 {
				r |= reg(x.Src)
			}
			return r
		}
	}
	return before(g, i+1) // ST
}
