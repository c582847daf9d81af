package verify

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
)

// site is one relocated instruction of a program.
type site struct {
	relo *btf.CORERelocation
	ins  asm.Instruction
	fn   string // function holding the instruction
	off  int    // instruction index within fn
}

// sites lists the CO-RE relocated instructions of a program in order.
func sites(ps *ebpf.ProgramSpec) []site {
	var out []site
	fn, off := ps.Name, 0
	for i := range ps.Instructions {
		ins := &ps.Instructions[i]
		if s := ins.Symbol(); s != "" {
			fn, off = s, 0
		}
		if r := btf.CORERelocationMetadata(ins); r != nil {
			out = append(out, site{relo: r, ins: *ins, fn: fn, off: off})
		}
		off += int(ins.Size() / asm.InstructionSize)
	}
	return out
}

// record finds the .BTF.ext record of a site: the function's program in
// bpfobj (preferring the entry program's section for duplicate names),
// then the instruction offset.
func (po *planObject) record(ps *ebpf.ProgramSpec, s site) (int, bool) {
	var prog *bpfobj.Program
	for i := range po.obj.Programs {
		p := &po.obj.Programs[i]
		if p.Name != s.fn {
			continue
		}
		if prog == nil || p.Section == ps.SectionName {
			prog = p
		}
	}
	if prog == nil {
		return 0, false
	}
	i, ok := po.byOff[secOff{prog.Section, uint32(prog.Offset) + uint32(s.off)*8}]
	return i, ok
}

// progFixups is cilium/ebpf's relocation of one program against one BTF.
type progFixups struct {
	fix []btf.COREFixup
	err error
}

// ciliumFixups is cilium/ebpf's relocation of every program of a plan
// against one BTF, indexed by object and program; an object's entry is
// nil when it was not relocated.
type ciliumFixups [][]progFixups

// relocatable reports why po's programs cannot be relocated against BTF
// in order bo by cilium/ebpf; "" when they can.
func (po *planObject) relocatable(bo binary.ByteOrder) string {
	if po.spec == nil {
		return "unreadable"
	}
	if po.spec.ByteOrder != bo {
		return fmt.Sprintf("%s: cilium/ebpf cannot relocate a %v object against %v BTF", po.obj.Path, po.spec.ByteOrder, bo)
	}
	return ""
}

// ciliumRelocate runs cilium/ebpf's CORERelocate for every program with
// CO-RE relocations against spec, in order bo. A nil spec fails every
// program with specErr.
func (p *Plan) ciliumRelocate(spec *btf.Spec, specErr error, bo binary.ByteOrder) ciliumFixups {
	return p.eachProgram(bo, func(po *planObject, pi int, ps *ebpf.ProgramSpec) progFixups {
		if spec == nil {
			return progFixups{err: specErr}
		}
		fix, err := btf.CORERelocate(po.relos[pi], []*btf.Spec{spec}, ps.ByteOrder, po.spec.Types.TypeID)
		return progFixups{fix: fix, err: err}
	})
}

// ciliumRelocateModules is ciliumRelocate against the full BTF of a
// kernel with modules: relocations that libbpf decides against the
// modules (k.servedByModules) are relocated against their types alone
// (modSpec), the others against vmlinux (vmSpec), and the fixups put back
// in order. cilium/ebpf groups relocations by local type, and each local
// type is in one group, so each of its decisions is made on the
// candidates libbpf considers.
func (p *Plan) ciliumRelocateModules(k *Kernel, vmSpec, modSpec *btf.Spec, bo binary.ByteOrder) ciliumFixups {
	return p.eachProgram(bo, func(po *planObject, pi int, ps *ebpf.ProgramSpec) progFixups {
		relos := po.relos[pi]
		var vmRelos, modRelos []*btf.CORERelocation
		var vmAt, modAt []int
		for j, s := range po.sites[pi] {
			if idx, ok := po.record(ps, s); ok && k.servedByModules(po.obj, idx) {
				modRelos, modAt = append(modRelos, relos[j]), append(modAt, j)
			} else {
				vmRelos, vmAt = append(vmRelos, relos[j]), append(vmAt, j)
			}
		}
		var pf progFixups
		fix := make([]btf.COREFixup, len(relos))
		for _, g := range []struct {
			relos []*btf.CORERelocation
			at    []int
			spec  *btf.Spec
		}{{vmRelos, vmAt, vmSpec}, {modRelos, modAt, modSpec}} {
			if len(g.relos) == 0 {
				continue
			}
			f, err := btf.CORERelocate(g.relos, []*btf.Spec{g.spec}, ps.ByteOrder, po.spec.Types.TypeID)
			if err != nil && pf.err == nil {
				pf.err = err
			}
			for i, j := range g.at {
				if i < len(f) {
					fix[j] = f[i]
				}
			}
		}
		if pf.err == nil {
			pf.fix = fix
		}
		return pf
	})
}

// eachProgram calls relocate for every program with CO-RE relocations of
// every object cilium/ebpf can relocate against BTF in order bo.
func (p *Plan) eachProgram(bo binary.ByteOrder, relocate func(po *planObject, pi int, ps *ebpf.ProgramSpec) progFixups) ciliumFixups {
	out := make(ciliumFixups, len(p.objs))
	for oi, po := range p.objs {
		if po.relocatable(bo) != "" {
			continue
		}
		out[oi] = make([]progFixups, len(po.progs))
		for pi, ps := range po.progs {
			if len(po.relos[pi]) > 0 {
				out[oi][pi] = relocate(po, pi, ps)
			}
		}
	}
	return out
}

// libbpfRelocate runs btftool's libbpf engine on every relocation of
// every object against the full BTF.
func (p *Plan) libbpfRelocate(k *Kernel) [][]core.Result {
	target := k.targetFor(p)
	out := make([][]core.Result, len(p.objs))
	for oi, po := range p.objs {
		o := po.obj
		if po.spec == nil {
			continue
		}
		rl := core.NewRelocator(o.BTF, target)
		out[oi] = make([]core.Result, len(o.Relocations))
		for i := range o.Relocations {
			r := &o.Relocations[i]
			out[oi][i] = rl.Relocate(r.Relo, r.Spec, r.SpecErr)
		}
	}
	return out
}

// compare builds the per-relocation report from cilium/ebpf's fixups
// against the full and the minimized BTF and btftool's libbpf results.
func (p *Plan) compare(rep *Report, k *Kernel, fullSpec, minSpec *btf.Spec, full, minimized ciliumFixups, libbpfAll [][]core.Result) {
	for oi, po := range p.objs {
		o := po.obj
		if po.spec == nil {
			if len(o.Relocations) > 0 {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s: cilium/ebpf cannot read the object (%v): its %d relocation record(s) were not checked", o.Path, po.err, len(o.Relocations)))
			}
			continue
		}
		libbpf := libbpfAll[oi]
		reached := make([]bool, len(o.Relocations))
		skip := po.relocatable(k.btf.ByteOrder())
		if skip != "" {
			rep.Notes = append(rep.Notes, skip)
		}
		for pi, ps := range po.progs {
			ss := po.sites[pi]
			if len(ss) == 0 {
				continue
			}
			var fullFix, minFix []btf.COREFixup
			var fullErr, minErr error
			if skip == "" {
				fullFix, fullErr = full[oi][pi].fix, full[oi][pi].err
				minFix, minErr = minimized[oi][pi].fix, minimized[oi][pi].err
			}
			// libbpf fails the whole object on a relocation error, cilium
			// the program: compare that first.
			var libbpfErr error
			idx := make([]int, len(ss))
			for i, s := range ss {
				j, ok := po.record(ps, s)
				if !ok {
					idx[i] = -1
					continue
				}
				idx[i] = j
				reached[j] = true
				if libbpfErr == nil {
					libbpfErr = libbpf[j].Err
				}
			}
			for i, s := range ss {
				rr := RelocReport{Object: o.Path, Program: ps.Name, Section: ps.SectionName, Function: s.fn, Insn: s.off}
				var rel *bpfobj.Relocation
				if j := idx[i]; j >= 0 {
					rel = &o.Relocations[j]
					rr.Kind, rr.Path = rel.Kind, rel.Path()
				} else {
					rr.Kind, rr.Path = kindOf(s.relo), s.relo.String()
				}
				if skip != "" {
					rr.Status, rr.Why = StatusSkipped, "byte order"
					rep.Relocations = append(rep.Relocations, rr)
					continue
				}
				rr.Full = ciliumOutcome(s.ins, fixAt(fullFix, i), fullErr, rr.Kind, fullSpec)
				rr.Min = ciliumOutcome(s.ins, fixAt(minFix, i), minErr, rr.Kind, minSpec)
				rr.Status = StatusOK
				if why := differ(rr.Full, rr.Min, rr.Kind); why != "" {
					rr.Status, rr.Why = StatusMismatch, why
				}
				if rel != nil {
					lo := libbpfOutcome(&libbpf[idx[i]], s.ins, fullSpec)
					rr.Libbpf = &lo
					why := ""
					switch {
					case fullErr != nil && libbpfErr != nil:
					case fullErr != nil:
						why = "cilium/ebpf refuses the program, libbpf does not"
					case libbpfErr != nil:
						why = fmt.Sprintf("libbpf refuses the object (%v), cilium/ebpf does not", libbpfErr)
					default:
						why = differ(rr.Full, lo, rr.Kind)
					}
					if why != "" && rr.Status == StatusOK {
						rr.Status, rr.Why = StatusEngineDisagreement, "cilium/ebpf vs libbpf on the full BTF: "+why
					}
				}
				rep.Relocations = append(rep.Relocations, rr)
			}
		}
		n := 0
		for _, ok := range reached {
			if !ok {
				n++
			}
		}
		if n > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %d relocation record(s) in code no program reaches were not checked", o.Path, n))
		}
	}
}

func fixAt(f []btf.COREFixup, i int) *btf.COREFixup {
	if i < len(f) {
		return &f[i]
	}
	return nil
}

// kindOf recovers the kind of a cilium/ebpf relocation from its string,
// "CORERelocation(byte_off, ...)".
func kindOf(r *btf.CORERelocation) core.Kind {
	s := strings.TrimPrefix(r.String(), "CORERelocation(")
	if i := strings.IndexByte(s, ','); i >= 0 {
		s = s[:i]
	}
	for _, k := range core.Kinds() {
		if k.String() == s {
			return k
		}
	}
	return core.Kind(^uint32(0))
}

// isPoisoned recognises the instructions cilium/ebpf poisons with.
func isPoisoned(ins *asm.Instruction) bool {
	if ins.Constant != btf.COREBadRelocationSentinel {
		return false
	}
	return ins.IsBuiltinCall() || (ins.OpCode.IsDWordLoad() && ins.Dst == asm.R10)
}

// relocated returns the value a relocation wrote into ins.
func relocated(ins *asm.Instruction) uint64 {
	switch ins.OpCode.Class() {
	case asm.LdXClass, asm.StClass, asm.StXClass:
		return uint64(int64(ins.Offset))
	}
	return uint64(ins.Constant)
}

// ciliumOutcome applies a fixup to a copy of its instruction.
func ciliumOutcome(ins asm.Instruction, fix *btf.COREFixup, progErr error, k core.Kind, spec *btf.Spec) Outcome {
	if progErr != nil {
		return Outcome{Err: progErr.Error()}
	}
	if fix == nil {
		return Outcome{Err: "no fixup"}
	}
	cp := ins
	if err := fix.Apply(&cp); err != nil {
		return Outcome{Err: err.Error()}
	}
	out := Outcome{Insn: fmt.Sprint(cp)}
	if isPoisoned(&cp) {
		out.Poison = true
		return out
	}
	v := relocated(&cp)
	out.Value = &v
	if k == core.TypeIDTarget && spec != nil {
		out.Type = describeID(spec, btf.TypeID(v))
	}
	return out
}

// libbpfOutcome is btftool's libbpf engine's decision as an Outcome. A
// load or store whose field size changed in a way libbpf cannot adjust
// is poisoned, as libbpf does.
func libbpfOutcome(r *core.Result, ins asm.Instruction, spec *btf.Spec) Outcome {
	if r.Err != nil {
		return Outcome{Err: r.Err.Error()}
	}
	switch ins.OpCode.Class() {
	case asm.LdXClass, asm.StClass, asm.StXClass:
		if r.FailMemSz {
			return Outcome{Poison: true}
		}
	}
	if r.Poison {
		return Outcome{Poison: true}
	}
	v := r.NewVal
	out := Outcome{Value: &v}
	if r.Local != nil && r.Local.Kind == core.TypeIDTarget && len(r.Matched) > 0 {
		out.Type = describeID(spec, btf.TypeID(v))
	}
	return out
}

// errClass reduces an engine's error message to what must agree between
// runs: ambiguity, lack of support, or the message itself.
func errClass(msg string) string {
	switch {
	case strings.Contains(msg, "ambiguous") || strings.Contains(msg, "multiple types match"):
		return "ambiguous"
	case strings.Contains(msg, ebpf.ErrNotSupported.Error()):
		return "not supported"
	}
	return msg
}

// differ says how outcome b differs from a; "" when they are the same.
func differ(a, b Outcome, k core.Kind) string {
	switch {
	case a.Err != "" || b.Err != "":
		if a.Err != "" && b.Err != "" && errClass(a.Err) == errClass(b.Err) {
			return ""
		}
		return fmt.Sprintf("%s vs %s", a, b)
	case a.Poison != b.Poison:
		return fmt.Sprintf("%s vs %s", a, b)
	case a.Poison:
		return ""
	case k == core.TypeIDTarget:
		if a.Type != b.Type {
			return fmt.Sprintf("target type %s vs %s", a.Type, b.Type)
		}
		return ""
	case *a.Value != *b.Value:
		return fmt.Sprintf("%s vs %s", a, b)
	case a.Insn != "" && b.Insn != "" && a.Insn != b.Insn:
		return fmt.Sprintf("instruction %s vs %s", a.Insn, b.Insn)
	}
	return ""
}

// describeID describes a type of spec by kind, name and size, following
// qualifiers, typedefs, pointers and arrays, so that types of two BTFs
// can be compared without their IDs.
func describeID(spec *btf.Spec, id btf.TypeID) string {
	if id == 0 {
		return "void"
	}
	t, err := spec.TypeByID(id)
	if err != nil {
		return fmt.Sprintf("invalid type [%d]", id)
	}
	return describe(t, 0)
}

func describe(t btf.Type, depth int) string {
	if depth > 8 {
		return "..."
	}
	size := func() string {
		if sz, err := btf.Sizeof(t); err == nil {
			return fmt.Sprintf(" size %d", sz)
		}
		return ""
	}
	switch v := t.(type) {
	case *btf.Void:
		return "void"
	case *btf.Int:
		return fmt.Sprintf("int %s size %d encoding %d", v.Name, v.Size, v.Encoding)
	case *btf.Pointer:
		return "ptr to " + describe(v.Target, depth+1)
	case *btf.Array:
		return fmt.Sprintf("array[%d] of %s", v.Nelems, describe(v.Type, depth+1))
	case *btf.Struct:
		return fmt.Sprintf("struct %s size %d", v.Name, v.Size)
	case *btf.Union:
		return fmt.Sprintf("union %s size %d", v.Name, v.Size)
	case *btf.Enum:
		return fmt.Sprintf("enum %s size %d signed %v", v.Name, v.Size, v.Signed)
	case *btf.Fwd:
		return fmt.Sprintf("fwd %s %s", v.Kind, v.Name)
	case *btf.Typedef:
		return fmt.Sprintf("typedef %s = %s", v.Name, describe(v.Type, depth+1))
	case *btf.Const:
		return "const " + describe(v.Type, depth+1)
	case *btf.Volatile:
		return "volatile " + describe(v.Type, depth+1)
	case *btf.Restrict:
		return "restrict " + describe(v.Type, depth+1)
	case *btf.TypeTag:
		return fmt.Sprintf("type_tag %q %s", v.Value, describe(v.Type, depth+1))
	case *btf.FuncProto:
		return fmt.Sprintf("func_proto(%d params) returning %s", len(v.Params), describe(v.Return, depth+1))
	case *btf.Func:
		return fmt.Sprintf("func %s", v.Name)
	case *btf.Float:
		return fmt.Sprintf("float %s size %d", v.Name, v.Size)
	}
	return fmt.Sprintf("%T %s%s", t, t.TypeName(), size())
}
