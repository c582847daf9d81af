// Package bpfprog reads the programs of a BPF ELF object the way libbpf
// links them: every function of an executable section with its raw
// instructions, the ELF relocations of those instructions (calls, map and
// extern references), the subprograms each program calls, the .ksyms
// externs and the struct_ops maps. It reads only what the load-time
// analyses (pkg/needsbtf, pkg/reach) need and leaves CO-RE to pkg/bpfobj.
package bpfprog

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"sort"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// ErrNotBPF means the file is not a BPF ELF object.
var ErrNotBPF = errors.New("not a BPF ELF object")

// Object is the program view of one BPF object.
type Object struct {
	// Path is the file the object was read from.
	Path string
	// Funcs lists the functions of executable sections in section and
	// offset order; those outside ".text" are programs (Func.IsProgram).
	Funcs []*Func
	// Externs maps the name of every extern in the .ksyms datasec to it.
	Externs map[string]Extern
	// StructOps lists the maps defined in .struct_ops and .struct_ops.link.
	StructOps []string
	// bySec lists the functions of each ELF section by offset, for
	// funcAt; nil for an Object not made by Parse.
	bySec map[int]*secFuncs
}

// secFuncs lists the functions of one ELF section.
type secFuncs struct {
	byOffset []*Func // by offset, then symbol order
	// overlap: some functions overlap (a malformed object), so that
	// looking up an offset takes a scan.
	overlap bool
}

// ExternKind says what a .ksyms extern is.
type ExternKind uint8

// The kinds of .ksyms externs.
const (
	// UntypedKsym is a variable of type void (extern const void x
	// __ksym): libbpf finds its address in /proc/kallsyms, no BTF needed.
	UntypedKsym ExternKind = iota
	// TypedKsym is a variable with a BTF type: libbpf finds it in the
	// kernel's BTF by name.
	TypedKsym
	// Kfunc is a function: libbpf finds its BTF ID in the kernel's BTF.
	Kfunc
)

// Extern is one .ksyms extern.
type Extern struct {
	Name string
	Kind ExternKind
	// Weak is set for __weak externs, which libbpf lets be missing from a
	// kernel (their address or ID is 0) — when that kernel has BTF.
	Weak bool
}

// Func is one function of an executable section.
type Func struct {
	Name    string
	Section string
	// Offset is the byte offset of the first instruction in the section.
	Offset uint64
	// insns holds the instruction slots, each packed in 8 bytes (see
	// pack); a 16-byte ldimm64 takes two slots, the second with Op 0.
	insns []uint64
	// rels holds the ELF relocations of the slots that have one, by slot.
	rels []slotRel
	sec  int
}

// slotRel is the ELF relocation of instruction slot i of a function.
type slotRel struct {
	i   int
	rel *insnRel
}

// NewFunc returns a function of section named name holding insns (their
// ELF relocations, if any, are kept), for analyses of code that is not
// read from an object.
func NewFunc(name, section string, insns []Insn) *Func {
	f := &Func{Name: name, Section: section, insns: make([]uint64, len(insns))}
	for i, in := range insns {
		f.insns[i] = pack(in)
		if in.rel != nil {
			f.rels = append(f.rels, slotRel{i, in.rel})
		}
	}
	return f
}

// Len returns the number of instruction slots of f.
func (f *Func) Len() int { return len(f.insns) }

// Insn returns instruction slot i of f, 0 <= i < f.Len().
func (f *Func) Insn(i int) Insn {
	in := unpack(f.insns[i])
	if len(f.rels) > 0 {
		if k, ok := slices.BinarySearchFunc(f.rels, i, func(r slotRel, i int) int { return r.i - i }); ok {
			in.rel = f.rels[k].rel
		}
	}
	return in
}

// Raw returns instruction slot i of f without its ELF relocation (its
// Sym is ""), 0 <= i < f.Len(): cheaper than Insn for a reader that looks
// at the relocation of few instructions.
func (f *Func) Raw(i int) Insn { return unpack(f.insns[i]) }

// Relocated returns the instruction slots of f that have an ELF
// relocation, in slot order, with their index: the only ones whose Sym is
// not "".
func (f *Func) Relocated() iter.Seq2[int, Insn] {
	return func(yield func(int, Insn) bool) {
		for _, r := range f.rels {
			in := unpack(f.insns[r.i])
			in.rel = r.rel
			if !yield(r.i, in) {
				return
			}
		}
	}
}

// pack returns the fields of in (not its relocation) in 8 bytes: Op,
// Dst and Src in the low 16 bits, Off in the next 16, Imm in the high 32.
func pack(in Insn) uint64 {
	return uint64(in.Op) | uint64(in.Dst&0xf)<<8 | uint64(in.Src&0xf)<<12 | uint64(uint16(in.Off))<<16 | uint64(uint32(in.Imm))<<32
}

// unpack is the inverse of pack.
func unpack(x uint64) Insn {
	return Insn{Op: uint8(x), Dst: uint8(x>>8) & 0xf, Src: uint8(x>>12) & 0xf, Off: int16(uint16(x >> 16)), Imm: int32(uint32(x >> 32))}
}

// IsProgram reports whether f is a program (an entry point libbpf loads)
// rather than a subprogram of .text.
func (f *Func) IsProgram() bool { return f.Section != ".text" }

// Insn is one raw instruction slot with its ELF relocation, if any.
type Insn struct {
	Op       uint8
	Dst, Src uint8
	Off      int16
	Imm      int32
	// rel is the instruction's ELF relocation, nil when it has none
	// (most have none: a heavy object has hundreds of thousands of slots).
	rel *insnRel
}

// insnRel is the symbol an instruction is relocated against.
type insnRel struct {
	sym       string
	section   elf.SectionIndex
	value     uint64
	isSection bool
	weak      bool
}

// Sym is the name of the symbol the instruction is relocated against
// ("" when it has no relocation; a section symbol's section name).
func (i Insn) Sym() string {
	if i.rel == nil {
		return ""
	}
	return i.rel.sym
}

// SymSection is the index of the section of the symbol the instruction
// is relocated against (elf.SHN_UNDEF for externs; 0 with no relocation).
func (i Insn) SymSection() elf.SectionIndex {
	if i.rel == nil {
		return 0
	}
	return i.rel.section
}

// SymValue is the value of the symbol the instruction is relocated
// against (0 with no relocation).
func (i Insn) SymValue() uint64 {
	if i.rel == nil {
		return 0
	}
	return i.rel.value
}

// SymIsSection reports whether the instruction is relocated against a
// section symbol.
func (i Insn) SymIsSection() bool { return i.rel != nil && i.rel.isSection }

// SymWeak reports whether the instruction is relocated against a weak
// symbol.
func (i Insn) SymWeak() bool { return i.rel != nil && i.rel.weak }

// Instruction classes and codes used by the analyses.
const (
	ClassLD    = 0x00
	ClassLDX   = 0x01
	ClassST    = 0x02
	ClassSTX   = 0x03
	ClassALU   = 0x04
	ClassJMP   = 0x05
	ClassJMP32 = 0x06
	ClassALU64 = 0x07
	// OpLDIMM64 is BPF_LD|BPF_IMM|BPF_DW.
	OpLDIMM64 = 0x18
	// OpCall is BPF_JMP|BPF_CALL; OpExit is BPF_JMP|BPF_EXIT; OpJA is
	// BPF_JMP|BPF_JA.
	OpCall = 0x85
	OpExit = 0x95
	OpJA   = 0x05
	// PseudoCall is a bpf-to-bpf call's src_reg; PseudoKfuncCall a kfunc
	// call's; PseudoFunc a ldimm64 of a callback's address.
	PseudoCall      = 1
	PseudoKfuncCall = 2
	PseudoFunc      = 4
)

// Class returns the instruction class.
func (i Insn) Class() uint8 { return i.Op & 7 }

// IsKfuncCall reports whether the instruction calls a kfunc: a call
// relocated against a .ksyms function (clang emits src_reg 2 for it, or
// leaves the relocation to libbpf).
func (i Insn) IsKfuncCall(o *Object) bool {
	if i.Op != OpCall {
		return false
	}
	if i.Src == PseudoKfuncCall {
		return true
	}
	e, ok := o.Externs[i.Sym()]
	return ok && i.SymSection() == elf.SHN_UNDEF && e.Kind == Kfunc
}

// Open reads the BPF object at path: its headers and the sections the
// analyses need, not the whole file (debug info is most of a large
// object).
func Open(path string) (*Object, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, err
	}
	o, err := parse(file, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	o.Path = path
	return o, nil
}

// Parse reads a BPF object held in memory.
func Parse(data []byte) (*Object, error) {
	return parse(bytes.NewReader(data), int64(len(data)))
}

// parse reads a BPF object of size bytes from r.
func parse(r io.ReaderAt, size int64) (o *Object, err error) {
	defer func() {
		if r := recover(); r != nil {
			o, err = nil, fmt.Errorf("%w: malformed ELF (%v)", ErrNotBPF, r)
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotBPF, err)
	}
	if f.Machine != elf.EM_BPF {
		return nil, fmt.Errorf("%w: ELF machine is %s", ErrNotBPF, f.Machine)
	}
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_NOBITS && (sec.Offset > uint64(size) || sec.Size > uint64(size)-sec.Offset) {
			return nil, fmt.Errorf("%w: section %q [%d, +%d) beyond end of file (%d bytes)", ErrNotBPF, sec.Name, sec.Offset, sec.Size, size)
		}
	}
	o = &Object{Externs: map[string]Extern{}}
	syms, err := f.Symbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("symbols: %w", err)
	}
	if err := o.readExterns(f, syms); err != nil {
		return nil, err
	}
	sections := sectionReader{r: r, data: map[int][]byte{}}
	var buf []byte // for readInsns
	bySec := map[int][]*Func{}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || int(s.Section) >= len(f.Sections) || s.Section == elf.SHN_UNDEF {
			continue
		}
		sec := f.Sections[s.Section]
		if sec.Flags&elf.SHF_EXECINSTR == 0 || sec.Type == elf.SHT_NOBITS {
			continue
		}
		fn := &Func{Name: s.Name, Section: sec.Name, Offset: s.Value, sec: int(s.Section)}
		if sec.Flags&elf.SHF_COMPRESSED == 0 && s.Value+s.Size >= s.Value {
			// Read the function's instructions, not its whole section.
			if s.Value%8 != 0 || s.Value+s.Size > sec.Size {
				return nil, fmt.Errorf("function %s: [%d, +%d) outside section %s (%d bytes)", s.Name, s.Value, s.Size, sec.Name, sec.Size)
			}
			if fn.insns, err = readInsns(r, int64(sec.Offset+s.Value), s.Size/8, f.ByteOrder, &buf); err != nil {
				return nil, fmt.Errorf("section %s: %w", sec.Name, err)
			}
		} else {
			d, err := sections.read(int(s.Section), sec)
			if err != nil {
				return nil, fmt.Errorf("section %s: %w", sec.Name, err)
			}
			if s.Value%8 != 0 || s.Value+s.Size > uint64(len(d)) {
				return nil, fmt.Errorf("function %s: [%d, +%d) outside section %s (%d bytes)", s.Name, s.Value, s.Size, sec.Name, len(d))
			}
			body := d[s.Value : s.Value+s.Size]
			fn.insns = make([]uint64, len(body)/8)
			for i := range fn.insns {
				fn.insns[i] = pack(decode(f.ByteOrder, body[8*i:8*i+8]))
			}
		}
		o.Funcs = append(o.Funcs, fn)
		bySec[int(s.Section)] = append(bySec[int(s.Section)], fn)
	}
	sort.SliceStable(o.Funcs, func(i, j int) bool {
		a, b := o.Funcs[i], o.Funcs[j]
		if a.Section != b.Section {
			return a.Section < b.Section
		}
		return a.Offset < b.Offset
	})
	o.bySec = make(map[int]*secFuncs, len(bySec))
	for sec, fns := range bySec {
		o.bySec[sec] = newSecFuncs(fns)
	}
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_REL || int(sec.Info) >= len(f.Sections) {
			continue
		}
		fns := bySec[int(sec.Info)]
		if len(fns) == 0 {
			continue
		}
		d, err := sections.read(-1, sec)
		if err != nil {
			return nil, fmt.Errorf("section %s: %w", sec.Name, err)
		}
		for i := 0; i+16 <= len(d); i += 16 {
			off := f.ByteOrder.Uint64(d[i:])
			idx := int(elf.R_SYM64(f.ByteOrder.Uint64(d[i+8:])))
			if idx == 0 || idx > len(syms) {
				continue
			}
			s := syms[idx-1]
			if fn := o.bySec[int(sec.Info)].relocated(fns, off); fn != nil {
				rel := &insnRel{sym: s.Name, section: s.Section, value: s.Value}
				rel.isSection = elf.ST_TYPE(s.Info) == elf.STT_SECTION
				rel.weak = elf.ST_BIND(s.Info) == elf.STB_WEAK
				if rel.isSection && int(s.Section) < len(f.Sections) {
					rel.sym = f.Sections[s.Section].Name
				}
				fn.setRel(int((off-fn.Offset)/8), rel)
			}
		}
	}
	for _, s := range syms {
		if int(s.Section) < len(f.Sections) && s.Section != elf.SHN_UNDEF && s.Name != "" &&
			elf.ST_TYPE(s.Info) != elf.STT_SECTION {
			if n := f.Sections[s.Section].Name; n == ".struct_ops" || n == ".struct_ops.link" {
				o.StructOps = append(o.StructOps, s.Name)
			}
		}
	}
	return o, nil
}

// setRel records rel as the ELF relocation of slot i, replacing any
// earlier one (the last relocation of a slot wins).
func (f *Func) setRel(i int, rel *insnRel) {
	k, ok := slices.BinarySearchFunc(f.rels, i, func(r slotRel, i int) int { return r.i - i })
	if ok {
		f.rels[k].rel = rel
		return
	}
	f.rels = slices.Insert(f.rels, k, slotRel{i, rel})
}

// newSecFuncs returns the functions of one section, fns in symbol order.
func newSecFuncs(fns []*Func) *secFuncs {
	s := &secFuncs{byOffset: slices.Clone(fns)}
	sort.SliceStable(s.byOffset, func(i, j int) bool { return s.byOffset[i].Offset < s.byOffset[j].Offset })
	for i := 1; i < len(s.byOffset); i++ {
		if s.byOffset[i-1].end() > s.byOffset[i].Offset {
			s.overlap = true
		}
	}
	return s
}

// end returns the byte offset after f's last instruction.
func (f *Func) end() uint64 { return f.Offset + uint64(len(f.insns))*8 }

// at returns the first function by offset that holds byte offset off, or
// nil.
func (s *secFuncs) at(off uint64) *Func {
	if s == nil {
		return nil
	}
	return s.first(s.byOffset, off)
}

// relocated returns the function an ELF relocation at byte offset off
// applies to: the first of fns (the section's functions in symbol order)
// that holds it, or nil.
func (s *secFuncs) relocated(fns []*Func, off uint64) *Func { return s.first(fns, off) }

// first returns the first function of fns (the section's, in some order)
// that holds off: without overlaps, the only one, found by offset.
func (s *secFuncs) first(fns []*Func, off uint64) *Func {
	if !s.overlap {
		k := sort.Search(len(s.byOffset), func(i int) bool { return s.byOffset[i].Offset > off }) - 1
		if k >= 0 && off < s.byOffset[k].end() {
			return s.byOffset[k]
		}
		return nil
	}
	for _, fn := range fns {
		if off >= fn.Offset && off < fn.end() {
			return fn
		}
	}
	return nil
}

// sectionReader reads sections of an ELF file whose bounds parse has
// checked, each section once however many functions it holds.
type sectionReader struct {
	r    io.ReaderAt
	data map[int][]byte // by section index
}

// read returns the contents of sec, the section of index i (-1: do not
// keep it for another call).
func (sr *sectionReader) read(i int, sec *elf.Section) ([]byte, error) {
	if d, ok := sr.data[i]; ok {
		return d, nil
	}
	var d []byte
	if sec.Flags&elf.SHF_COMPRESSED != 0 {
		var err error
		if d, err = sec.Data(); err != nil {
			return nil, err
		}
	} else if sec.Size > 0 {
		d = make([]byte, sec.Size)
		if _, err := sr.r.ReadAt(d, int64(sec.Offset)); err != nil {
			return nil, err
		}
	}
	if i >= 0 {
		sr.data[i] = d
	}
	return d, nil
}

// readInsns reads n instruction slots at offset off of r, packed, through
// *buf (grown to at most 64 KiB and kept for the next call).
func readInsns(r io.ReaderAt, off int64, n uint64, order binary.ByteOrder, buf *[]byte) ([]uint64, error) {
	out := make([]uint64, n)
	for done := uint64(0); done < n; {
		k := min(n-done, 8<<10)
		if uint64(cap(*buf)) < 8*k {
			*buf = make([]byte, 8*k)
		}
		b := (*buf)[:8*k]
		if _, err := r.ReadAt(b, off+int64(8*done)); err != nil {
			return nil, err
		}
		for i := range k {
			out[done+i] = pack(decode(order, b[8*i:8*i+8]))
		}
		done += k
	}
	return out, nil
}

func decode(order binary.ByteOrder, b []byte) Insn {
	in := Insn{Op: b[0], Off: int16(order.Uint16(b[2:])), Imm: int32(order.Uint32(b[4:]))}
	if order == binary.LittleEndian {
		in.Dst, in.Src = b[1]&0xf, b[1]>>4
	} else {
		in.Dst, in.Src = b[1]>>4, b[1]&0xf
	}
	return in
}

// readExterns reads the .ksyms datasec of the object's BTF. (cilium/ebpf's
// btf package refuses typed ksyms, so the raw BTF is read.)
func (o *Object) readExterns(f *elf.File, syms []elf.Symbol) error {
	undef := false
	for _, s := range syms {
		undef = undef || s.Section == elf.SHN_UNDEF && s.Name != ""
	}
	if !undef {
		return nil // no extern at all: no .ksyms to read
	}
	sec := f.Section(".BTF")
	if sec == nil || sec.Type == elf.SHT_NOBITS {
		return nil
	}
	d, err := sec.Data()
	if err != nil {
		return fmt.Errorf(".BTF: %w", err)
	}
	b, err := rawbtf.Parse(d)
	if err != nil {
		return fmt.Errorf(".BTF: %w", err)
	}
	weak := map[string]bool{}
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF && elf.ST_BIND(s.Info) == elf.STB_WEAK {
			weak[s.Name] = true
		}
	}
	for id := b.FirstID(); b.Valid(id); id++ {
		t := b.Type(id)
		if t.Kind() != rawbtf.KindDatasec || t.Name() != ".ksyms" {
			continue
		}
		for i := range t.Vlen() {
			vid := t.VarSecinfo(i).Type
			if !b.Valid(vid) {
				return fmt.Errorf(".BTF: .ksyms variable %d: type [%d] out of range", i, vid)
			}
			v := b.Type(vid)
			e := Extern{Name: v.Name(), Weak: weak[v.Name()]}
			switch v.Kind() {
			case rawbtf.KindFunc:
				e.Kind = Kfunc
			case rawbtf.KindVar:
				e.Kind = TypedKsym
				if u, ok := b.Skip(v.Ref()); ok && u.Kind() == rawbtf.KindUnknown {
					e.Kind = UntypedKsym
				}
			default:
				continue
			}
			o.Externs[e.Name] = e
		}
	}
	return nil
}

// funcAt returns the function of section sec (an ELF section index) that
// holds byte offset off, or nil.
func (o *Object) funcAt(sec int, off uint64) *Func {
	if o.bySec != nil {
		return o.bySec[sec].at(off)
	}
	for _, f := range o.Funcs {
		if f.sec == sec && off >= f.Offset && off < f.end() {
			return f
		}
	}
	return nil
}

// Target returns the function and the instruction index within it that a
// bpf-to-bpf call or a callback address load at f.Insn(i) refers to, as
// libbpf resolves it; ok is false for any other instruction or a target
// outside every function.
func (o *Object) Target(f *Func, i int) (g *Func, at int, ok bool) {
	in := f.Insn(i)
	var sec int
	var off int64
	switch {
	case in.Op == OpCall && in.Src == PseudoCall:
		if in.Sym() != "" {
			sec, off = int(in.SymSection()), int64(in.SymValue())+(int64(in.Imm)+1)*8
		} else {
			sec, off = f.sec, int64(f.Offset)+(int64(i)+int64(in.Imm)+1)*8
		}
	case in.Op == OpLDIMM64 && in.Sym() != "" && in.SymSection() != elf.SHN_UNDEF:
		// A callback's address: the symbol's section must be code.
		// global function: the symbol's value is its offset and imm is
		// 0; static function: a section symbol and imm is the offset.
		sec, off = int(in.SymSection()), int64(in.SymValue())+int64(in.Imm)
	case in.Op == OpLDIMM64 && in.Src == PseudoFunc:
		sec, off = f.sec, int64(f.Offset)+(int64(i)+int64(in.Imm)+1)*8
	default:
		return nil, 0, false
	}
	if off < 0 {
		return nil, 0, false
	}
	g = o.funcAt(sec, uint64(off))
	if g == nil {
		return nil, 0, false
	}
	return g, int((uint64(off) - g.Offset) / 8), true
}

// Reachable returns prog and every function it calls, directly or not,
// through bpf-to-bpf calls and callback address loads: the code libbpf
// links into the program. prog comes first.
func (o *Object) Reachable(prog *Func) []*Func {
	seen := map[*Func]bool{prog: true}
	out := []*Func{prog}
	for k := 0; k < len(out); k++ {
		f := out[k]
		for i, x := range f.insns {
			if op := uint8(x); op != OpCall && op != OpLDIMM64 {
				continue // only calls and ldimm64 have targets
			}
			if g, _, ok := o.Target(f, i); ok && !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	return out
}

// Programs returns the functions that are programs, in Funcs order.
func (o *Object) Programs() []*Func {
	var out []*Func
	for _, f := range o.Funcs {
		if f.IsProgram() {
			out = append(out, f)
		}
	}
	return out
}
