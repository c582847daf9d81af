package reach

import (
	"testing"

	"github.com/btftool/btftool/internal/bpfprog"
)

// Instruction helpers (BPF opcodes).
func movImm(dst uint8, imm int32) bpfprog.Insn { return bpfprog.Insn{Op: 0xb7, Dst: dst, Imm: imm} }
func mov32Imm(dst uint8, imm int32) bpfprog.Insn {
	return bpfprog.Insn{Op: 0xb4, Dst: dst, Imm: imm}
}
func movReg(dst, src uint8) bpfprog.Insn { return bpfprog.Insn{Op: 0xbf, Dst: dst, Src: src} }
func aluImm(op uint8, dst uint8, imm int32) bpfprog.Insn {
	return bpfprog.Insn{Op: op | 0x07, Dst: dst, Imm: imm}
}
func jImm(op uint8, dst uint8, imm int32, off int16) bpfprog.Insn {
	return bpfprog.Insn{Op: op | 0x05, Dst: dst, Imm: imm, Off: off}
}
func j32Imm(op uint8, dst uint8, imm int32, off int16) bpfprog.Insn {
	return bpfprog.Insn{Op: op | 0x06, Dst: dst, Imm: imm, Off: off}
}
func ldx(dst, src uint8) bpfprog.Insn { return bpfprog.Insn{Op: 0x79, Dst: dst, Src: src} }
func call(helper int32) bpfprog.Insn  { return bpfprog.Insn{Op: bpfprog.OpCall, Imm: helper} }
func exit() bpfprog.Insn              { return bpfprog.Insn{Op: bpfprog.OpExit} }

const (
	jeq  = 0x10
	jne  = 0x50
	jgt  = 0x20
	jsgt = 0x60
	jset = 0x40
	lsh  = 0x60
	rsh  = 0x70
	and  = 0x50
)

// reached runs Reachable on one function and returns which slots it
// reaches.
func reached(insns []bpfprog.Insn, patches map[int]Patch) []bool {
	f := bpfprog.NewFunc("f", "kprobe/x", insns)
	o := &bpfprog.Object{Funcs: []*bpfprog.Func{f}}
	p := map[Loc]Patch{}
	for i, pt := range patches {
		p[Loc{f.Section, f.Name, i}] = pt
	}
	seen := Reachable(o, f, p)
	out := make([]bool, len(insns))
	for i := range insns {
		out[i] = seen.Has(Loc{f.Section, f.Name, i})
	}
	return out
}

func TestReachable(t *testing.T) {
	poison := Patch{Poison: true}
	for _, tc := range []struct {
		name    string
		insns   []bpfprog.Insn
		patches map[int]Patch
		dead    []int // slots that must not be reached
		live    []int // slots that must be reached
	}{
		{
			// r1 = exists (patched 0); if r1 == 0 goto out; poisoned read
			name:    "field_exists false",
			insns:   []bpfprog.Insn{movImm(1, 1), jImm(jeq, 1, 0, 1), ldx(2, 3), exit()},
			patches: map[int]Patch{0: {Value: 0}, 2: poison},
			dead:    []int{2}, live: []int{3},
		},
		{
			name:    "field_exists true",
			insns:   []bpfprog.Insn{movImm(1, 0), jImm(jeq, 1, 0, 1), ldx(2, 3), exit()},
			patches: map[int]Patch{0: {Value: 1}},
			live:    []int{2, 3},
		},
		{
			// the check copied, shifted and masked, then tested with jset
			name: "value through alu ops",
			insns: []bpfprog.Insn{movImm(1, 1), movReg(4, 1), aluImm(lsh, 4, 32), aluImm(rsh, 4, 32),
				aluImm(and, 4, 1), jImm(jset, 4, 1, 1), exit(), ldx(2, 3), exit()},
			patches: map[int]Patch{0: {Value: 0}, 7: poison},
			dead:    []int{7}, live: []int{6},
		},
		{
			// a helper's result is unknown: both ways are taken
			name:    "unknown after call",
			insns:   []bpfprog.Insn{movImm(0, 0), call(5), jImm(jne, 0, 0, 1), exit(), ldx(2, 3), exit()},
			patches: map[int]Patch{4: poison},
			live:    []int{3, 4},
		},
		{
			// r6 survives a helper call (callee-saved)
			name:    "callee-saved register",
			insns:   []bpfprog.Insn{movImm(6, 0), call(5), jImm(jeq, 6, 0, 1), ldx(2, 3), exit()},
			patches: map[int]Patch{3: poison},
			dead:    []int{3},
		},
		{
			// jmp32 compares the low 32 bits, signed compares as signed
			name: "jmp32 and signed",
			insns: []bpfprog.Insn{mov32Imm(1, -1), j32Imm(jsgt, 1, 0, 1), jImm(jgt, 1, 0, 1), ldx(2, 3),
				exit()},
			patches: map[int]Patch{3: poison},
			dead:    []int{3},
		},
		{
			// joined paths lose a constant that differs between them
			name: "join",
			insns: []bpfprog.Insn{call(5), jImm(jeq, 0, 0, 2), movImm(1, 1), jImm(0x00, 0, 0, 1), movImm(1, 0),
				jImm(jeq, 1, 0, 1), ldx(2, 3), exit()},
			patches: map[int]Patch{6: poison},
			live:    []int{6},
		},
		{
			// a poisoned instruction ends its path
			name:    "poison ends the path",
			insns:   []bpfprog.Insn{ldx(2, 3), exit()},
			patches: map[int]Patch{0: poison},
			live:    []int{0}, dead: []int{1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := reached(tc.insns, tc.patches)
			for _, i := range tc.dead {
				if got[i] {
					t.Errorf("slot %d reached, want dead", i)
				}
			}
			for _, i := range tc.live {
				if !got[i] {
					t.Errorf("slot %d not reached", i)
				}
			}
		})
	}
}

func TestReachableLdimm64(t *testing.T) {
	// r1 = 0x100000000 ll; if r1 == 0 goto +1; read
	insns := []bpfprog.Insn{{Op: bpfprog.OpLDIMM64, Dst: 1, Imm: 0}, {Imm: 1}, jImm(jeq, 1, 0, 1), ldx(2, 3), exit()}
	if got := reached(insns, map[int]Patch{3: {Poison: true}}); !got[3] || got[1] {
		t.Errorf("reached %v: want slot 3 live (r1 != 0) and slot 1 (ldimm64's second half) not visited", got)
	}
	// patched to 0 (a type_exists on ldimm64): dead
	if got := reached(insns, map[int]Patch{0: {Value: 0}, 3: {Poison: true}}); got[3] {
		t.Errorf("reached %v: want slot 3 dead", got)
	}
}
