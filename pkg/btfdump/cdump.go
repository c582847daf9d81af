package btfdump

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// COptions tunes WriteC.
type COptions struct {
	// Roots limits the header to these types and what they need; nil
	// means every type, in ID order, as bpftool does.
	Roots []rawbtf.TypeID
	// NoGuard leaves out the #ifndef __VMLINUX_H__ guard and the
	// preserve_access_index pragma around the types.
	NoGuard bool
}

// ErrTypeLoop means the BTF has a cycle of types that contain each other
// by value, which no C declaration order can satisfy.
var ErrTypeLoop = errors.New("unsatisfiable type cycle")

// WriteC writes a C header declaring the types of b, like "bpftool btf dump
// file F format c" (libbpf's btf_dump). Types are emitted so that every
// type used by value is defined first; named structs and unions used only
// through pointers get forward declarations. Layouts that natural alignment
// cannot reproduce get explicit padding members or
// __attribute__((packed)).
//
// An unsatisfiable cycle (ErrTypeLoop) is reported after the whole header
// has been written, as libbpf does: the rest of the output is still usable.
func WriteC(w io.Writer, b *rawbtf.BTF, opts *COptions) error {
	if opts == nil {
		opts = &COptions{}
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	d := newCDumper(b, bw)
	if !opts.NoGuard {
		bw.WriteString("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n" +
			"#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" +
			"#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n" +
			"#endif\n\n")
	}
	var loopErr error
	dump := func(id rawbtf.TypeID) {
		if err := d.dumpType(id); err != nil && loopErr == nil {
			loopErr = err
		}
	}
	if opts.Roots == nil {
		for id := 1; id < b.NumTypes(); id++ {
			dump(rawbtf.TypeID(id))
		}
	} else {
		for _, id := range opts.Roots {
			if b.Valid(id) {
				dump(id)
			}
		}
	}
	if !opts.NoGuard {
		bw.WriteString("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n" +
			"#endif /* __VMLINUX_H__ */\n")
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return loopErr
}

const (
	notOrdered = iota
	ordering
	ordered
)

const (
	notEmitted = iota
	emitting
	emitted
)

type typeState struct {
	order        uint8
	emit         uint8
	fwdEmitted   bool
	nameResolved bool
	referenced   bool
}

// cDumper follows libbpf's btf_dump.c state machine, so that the output
// (order, forward declarations, names) is the same as bpftool's.
type cDumper struct {
	b          *rawbtf.BTF
	w          *bufio.Writer
	ptrSz      int
	states     []typeState
	cached     map[rawbtf.TypeID]string
	typeNames  map[string]int
	identNames map[string]int
	queue      []rawbtf.TypeID
	stack      []rawbtf.TypeID
}

func newCDumper(b *rawbtf.BTF, w *bufio.Writer) *cDumper {
	d := &cDumper{
		b: b, w: w, ptrSz: b.PtrSize(),
		states:     make([]typeState, b.NumTypes()),
		cached:     map[rawbtf.TypeID]string{},
		typeNames:  map[string]int{},
		identNames: map[string]int{},
	}
	d.states[0].order, d.states[0].emit = ordered, emitted
	for id := 1; id < b.NumTypes(); id++ {
		Refs(b, rawbtf.TypeID(id), func(r rawbtf.TypeID) { d.states[r].referenced = true })
	}
	return d
}

func (d *cDumper) printf(format string, args ...any) { fmt.Fprintf(d.w, format, args...) }
func (d *cDumper) puts(s string)                     { d.w.WriteString(s) }

func pfx(lvl int) string {
	const tabs = "\t\t\t\t\t\t\t\t\t\t\t\t\t"
	if lvl >= len(tabs) {
		return tabs
	}
	return tabs[:lvl]
}

func (d *cDumper) dumpType(id rawbtf.TypeID) error {
	d.queue = d.queue[:0]
	_, err := d.orderType(id, false)
	for _, q := range d.queue {
		d.emitType(q, 0)
	}
	return err
}

// orderType is btf_dump_order_type: 1 for a strong link, 0 for a weak one.
func (d *cDumper) orderType(id rawbtf.TypeID, throughPtr bool) (int, error) {
	st := &d.states[id]
	if st.order == ordered {
		return 1, nil
	}
	t := d.b.Type(id)
	k := t.Kind()
	if st.order == ordering {
		if k.IsComposite() && throughPtr && t.NameOff() != 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("%w: [%d]", ErrTypeLoop, id)
	}
	switch k {
	case rawbtf.KindInt, rawbtf.KindFloat:
		st.order = ordered
		return 0, nil
	case rawbtf.KindPtr:
		r, err := d.orderType(t.Ref(), true)
		d.states[id].order = ordered
		return r, err
	case rawbtf.KindArray:
		return d.orderType(t.Array().Type, false)
	case rawbtf.KindStruct, rawbtf.KindUnion:
		if throughPtr && t.NameOff() != 0 {
			return 0, nil
		}
		st.order = ordering
		for i := range t.Vlen() {
			if _, err := d.orderType(t.Member(i).Type, false); err != nil {
				return 0, err
			}
		}
		if t.NameOff() != 0 {
			d.queue = append(d.queue, id)
		}
		d.states[id].order = ordered
		return 1, nil
	case rawbtf.KindEnum, rawbtf.KindEnum64, rawbtf.KindFwd:
		if t.NameOff() != 0 || !st.referenced {
			d.queue = append(d.queue, id)
		}
		st.order = ordered
		return 1, nil
	case rawbtf.KindTypedef:
		strong, err := d.orderType(t.Ref(), throughPtr)
		if err != nil {
			return 0, err
		}
		if throughPtr && strong == 0 {
			return 0, nil
		}
		d.queue = append(d.queue, id)
		d.states[id].order = ordered
		return 1, nil
	case rawbtf.KindVolatile, rawbtf.KindConst, rawbtf.KindRestrict, rawbtf.KindTypeTag:
		return d.orderType(t.Ref(), throughPtr)
	case rawbtf.KindFuncProto:
		strong, err := d.orderType(t.Ref(), throughPtr)
		if err != nil {
			return 0, err
		}
		for i := range t.Vlen() {
			s, err := d.orderType(t.Param(i).Type, throughPtr)
			if err != nil {
				return 0, err
			}
			if s > 0 {
				strong = 1
			}
		}
		return strong, nil
	default: // FUNC, VAR, DATASEC, DECL_TAG
		st.order = ordered
		return 0, nil
	}
}

func (d *cDumper) isBlacklisted(id rawbtf.TypeID) bool {
	return string(d.b.Type(id).NameBytes()) == "__builtin_va_list"
}

// emitType is btf_dump_emit_type.
func (d *cDumper) emitType(id, contID rawbtf.TypeID) {
	st := &d.states[id]
	if st.emit == emitted {
		return
	}
	topLevel := contID == 0
	t := d.b.Type(id)
	k := t.Kind()
	if st.emit == emitting {
		if st.fwdEmitted {
			return
		}
		switch k {
		case rawbtf.KindStruct, rawbtf.KindUnion:
			if id == contID || t.NameOff() == 0 {
				return
			}
			d.emitStructFwd(id, t)
			d.puts(";\n\n")
			d.states[id].fwdEmitted = true
		case rawbtf.KindTypedef:
			if !d.isBlacklisted(id) {
				d.emitTypedefDef(id, t, 0)
				d.puts(";\n\n")
			}
			d.states[id].fwdEmitted = true
		}
		return
	}
	switch k {
	case rawbtf.KindInt:
		d.emitMissingAliases(id)
		d.states[id].emit = emitted
	case rawbtf.KindEnum, rawbtf.KindEnum64:
		if topLevel {
			d.emitEnumDef(id, t, 0)
			d.puts(";\n\n")
		}
		d.states[id].emit = emitted
	case rawbtf.KindPtr, rawbtf.KindVolatile, rawbtf.KindConst, rawbtf.KindRestrict, rawbtf.KindTypeTag:
		d.emitType(t.Ref(), contID)
	case rawbtf.KindArray:
		d.emitType(t.Array().Type, contID)
	case rawbtf.KindFwd:
		d.emitFwdDef(id, t)
		d.puts(";\n\n")
		d.states[id].emit = emitted
	case rawbtf.KindTypedef:
		st.emit = emitting
		d.emitType(t.Ref(), id)
		if !d.states[id].fwdEmitted && !d.isBlacklisted(id) {
			d.emitTypedefDef(id, t, 0)
			d.puts(";\n\n")
		}
		d.states[id].emit = emitted
	case rawbtf.KindStruct, rawbtf.KindUnion:
		st.emit = emitting
		if topLevel || t.NameOff() == 0 {
			newCont := id
			if t.NameOff() == 0 {
				newCont = contID
			}
			for i := range t.Vlen() {
				d.emitType(t.Member(i).Type, newCont)
			}
		} else if !d.states[id].fwdEmitted && id != contID {
			d.emitStructFwd(id, t)
			d.puts(";\n\n")
			d.states[id].fwdEmitted = true
		}
		if topLevel {
			d.emitStructDef(id, t, 0)
			d.puts(";\n\n")
			d.states[id].emit = emitted
		} else {
			d.states[id].emit = notEmitted
		}
	case rawbtf.KindFuncProto:
		d.emitType(t.Ref(), contID)
		for i := range t.Vlen() {
			d.emitType(t.Param(i).Type, contID)
		}
	}
}

// alignOf is libbpf's btf__align_of; 0 when it cannot be determined.
func (d *cDumper) alignOf(id rawbtf.TypeID) int {
	for range 64 {
		t := d.b.Type(id)
		switch t.Kind() {
		case rawbtf.KindInt, rawbtf.KindEnum, rawbtf.KindEnum64, rawbtf.KindFloat:
			return min(d.ptrSz, int(t.Size()))
		case rawbtf.KindPtr:
			return d.ptrSz
		case rawbtf.KindTypedef, rawbtf.KindVolatile, rawbtf.KindConst, rawbtf.KindRestrict, rawbtf.KindTypeTag:
			id = t.Ref()
		case rawbtf.KindArray:
			id = t.Array().Type
		case rawbtf.KindStruct, rawbtf.KindUnion:
			maxAlign := 1
			for i := range t.Vlen() {
				m := t.Member(i)
				a := d.alignOf(m.Type)
				if a <= 0 {
					return 0
				}
				maxAlign = max(maxAlign, a)
				if m.BitfieldSize == 0 && t.MemberRawOffset(i)%uint32(8*a) != 0 {
					return 1
				}
			}
			if int(t.Size())%maxAlign != 0 {
				return 1
			}
			return maxAlign
		default:
			return 0
		}
	}
	return 0
}

func (d *cDumper) isStructPacked(id rawbtf.TypeID, t rawbtf.Type) bool {
	maxAlign := 1
	for i := range t.Vlen() {
		m := t.Member(i)
		a := d.alignOf(m.Type)
		if a != 0 && m.BitfieldSize == 0 && t.MemberRawOffset(i)%uint32(8*a) != 0 {
			return true
		}
		maxAlign = max(a, maxAlign)
	}
	return int(t.Size())%maxAlign != 0
}

func roundup(x, y int) int { return (x + y - 1) / y * y }

func (d *cDumper) emitBitPadding(curOff, nextOff, nextAlign int, inBitfield bool, lvl int) {
	pads := [...]struct {
		name string
		bits int
	}{{"long", d.ptrSz * 8}, {"int", 32}, {"short", 16}, {"char", 8}}
	if curOff >= nextOff {
		return
	}
	newOff, padBits := 0, 0
	padType := ""
	for _, p := range pads {
		padBits, padType = p.bits, p.name
		newOff = roundup(curOff, padBits)
		if newOff <= nextOff {
			break
		}
	}
	if newOff > curOff && newOff <= nextOff {
		if inBitfield ||
			(newOff == nextOff && roundup(curOff, nextAlign*8) != newOff) ||
			(newOff != nextOff && nextOff-newOff <= newOff-curOff) {
			n := 0
			if inBitfield {
				n = newOff - curOff
			}
			d.printf("\n%s%s: %d;", pfx(lvl), padType, n)
		}
		curOff = newOff
	}
	for curOff != nextOff {
		bits := min(nextOff-curOff, padBits)
		if bits == padBits {
			d.printf("\n%s%s: %d;", pfx(lvl), padType, padBits)
			curOff += bits
			continue
		}
		for i := len(pads) - 1; i >= 0; i-- {
			padType, padBits = pads[i].name, pads[i].bits
			if padBits < bits {
				continue
			}
			d.printf("\n%s%s: %d;", pfx(lvl), padType, bits)
			curOff += bits
			break
		}
	}
}

func (d *cDumper) emitStructFwd(id rawbtf.TypeID, t rawbtf.Type) {
	d.puts(structKeyword(t))
	if t.NameOff() != 0 {
		d.puts(" ")
	}
	d.puts(d.typeName(id))
}

func structKeyword(t rawbtf.Type) string {
	if t.Kind() == rawbtf.KindStruct {
		return "struct"
	}
	return "union"
}

func (d *cDumper) emitStructDef(id rawbtf.TypeID, t rawbtf.Type, lvl int) {
	isStruct := t.Kind() == rawbtf.KindStruct
	align := d.alignOf(id)
	packed := isStruct && d.isStructPacked(id, t)
	d.puts(structKeyword(t))
	if t.NameOff() != 0 {
		d.puts(" ")
	}
	d.puts(d.typeName(id))
	d.puts(" {")
	off := 0
	prevBitfield := false
	vlen := t.Vlen()
	for i := range vlen {
		m := t.Member(i)
		fname := d.b.String(m.NameOff)
		mSz := int(m.BitfieldSize)
		mOff := int(m.BitOffset)
		mAlign := 1
		if !packed {
			mAlign = d.alignOf(m.Type)
		}
		inBitfield := prevBitfield && mSz != 0
		d.emitBitPadding(off, mOff, mAlign, inBitfield, lvl+1)
		d.puts("\n")
		d.puts(pfx(lvl + 1))
		d.emitTypeDecl(m.Type, fname, lvl+1)
		if mSz != 0 {
			d.printf(": %d", mSz)
			off = mOff + mSz
			prevBitfield = true
		} else {
			sz, err := d.b.ResolveSize(m.Type)
			if err != nil || sz < 0 {
				sz = 0
			}
			off = mOff + int(sz)*8
			prevBitfield = false
		}
		d.puts(";")
	}
	if isStruct {
		d.emitBitPadding(off, int(t.Size())*8, align, false, lvl+1)
	}
	if vlen != 0 || t.Size() != 0 {
		d.puts("\n")
		d.puts(pfx(lvl))
		d.puts("}")
	} else {
		d.puts("}")
	}
	if packed {
		d.puts(" __attribute__((packed))")
	}
}

var missingBaseTypes = map[string]string{
	"__Poly8_t":   "unsigned char",
	"__Poly16_t":  "unsigned short",
	"__Poly64_t":  "unsigned long long",
	"__Poly128_t": "unsigned __int128",
}

func (d *cDumper) emitMissingAliases(id rawbtf.TypeID) {
	n := d.typeName(id)
	if base, ok := missingBaseTypes[n]; ok {
		d.printf("typedef %s %s;\n\n", base, n)
	}
}

func (d *cDumper) emitEnumVals(t rawbtf.Type, lvl int) {
	signed := t.KindFlag()
	is64 := t.Kind() == rawbtf.KindEnum64
	for i := range t.Vlen() {
		v := t.EnumValue(i)
		n := d.b.String(v.NameOff)
		dup := d.nameDups(d.identNames, n)
		d.puts("\n")
		d.puts(pfx(lvl + 1))
		d.puts(n)
		if dup > 1 {
			d.puts("___")
			d.puts(strconv.Itoa(dup))
		}
		d.puts(" = ")
		switch {
		case !is64 && signed:
			d.puts(strconv.FormatInt(int64(int32(v.Value)), 10))
		case !is64:
			d.puts(strconv.FormatUint(uint64(uint32(v.Value)), 10))
		case signed:
			d.puts(strconv.FormatInt(int64(v.Value), 10) + "LL")
		default:
			d.puts(strconv.FormatUint(v.Value, 10) + "ULL")
		}
		d.puts(",")
	}
}

func (d *cDumper) emitEnumDef(id rawbtf.TypeID, t rawbtf.Type, lvl int) {
	d.puts("enum")
	if t.NameOff() != 0 {
		d.puts(" ")
	}
	d.puts(d.typeName(id))
	vlen := t.Vlen()
	if vlen == 0 {
		return
	}
	d.puts(" {")
	d.emitEnumVals(t, lvl)
	d.puts("\n")
	d.puts(pfx(lvl))
	d.puts("}")
	switch {
	case t.Size() == 1:
		d.puts(" __attribute__((mode(byte)))")
	case t.Size() == 8 && d.ptrSz == 8:
		word := true
		if t.Kind() == rawbtf.KindEnum64 {
			for i := range vlen {
				if t.EnumValue(i).Value>>32 != 0 {
					word = false
					break
				}
			}
		}
		if word {
			d.puts(" __attribute__((mode(word)))")
		}
	}
}

func (d *cDumper) emitFwdDef(id rawbtf.TypeID, t rawbtf.Type) {
	if t.KindFlag() {
		d.puts("union ")
	} else {
		d.puts("struct ")
	}
	d.puts(d.typeName(id))
}

func (d *cDumper) emitTypedefDef(id rawbtf.TypeID, t rawbtf.Type, lvl int) {
	n := d.identName(id)
	if t.Ref() == 0 && n == "__gnuc_va_list" {
		d.puts("typedef __builtin_va_list __gnuc_va_list")
		return
	}
	d.puts("typedef ")
	d.emitTypeDecl(t.Ref(), n, lvl)
}

// emitTypeDecl is btf_dump_emit_type_decl: it pushes the chain of
// modifiers, pointers, arrays and prototypes down to a terminal type and
// prints it in C declarator syntax around fname.
func (d *cDumper) emitTypeDecl(id rawbtf.TypeID, fname string, lvl int) {
	start := len(d.stack)
	for {
		d.stack = append(d.stack, id)
		if id == 0 {
			break
		}
		t := d.b.Type(id)
		switch t.Kind() {
		case rawbtf.KindPtr, rawbtf.KindVolatile, rawbtf.KindConst, rawbtf.KindRestrict,
			rawbtf.KindFuncProto, rawbtf.KindTypeTag:
			id = t.Ref()
			continue
		case rawbtf.KindArray:
			id = t.Array().Type
			continue
		}
		break
	}
	end := len(d.stack)
	frame := d.stack[start:end:end]
	d.emitTypeChain(&frame, fname, lvl)
	d.stack = d.stack[:start]
}

func (d *cDumper) emitMods(decls *[]rawbtf.TypeID) {
	for len(*decls) > 0 {
		id := (*decls)[len(*decls)-1]
		switch d.b.Type(id).Kind() {
		case rawbtf.KindVolatile:
			d.puts("volatile ")
		case rawbtf.KindConst:
			d.puts("const ")
		case rawbtf.KindRestrict:
			d.puts("restrict ")
		default:
			return
		}
		*decls = (*decls)[:len(*decls)-1]
	}
}

func (d *cDumper) dropMods(decls *[]rawbtf.TypeID) {
	for len(*decls) > 0 {
		id := (*decls)[len(*decls)-1]
		if id == 0 || !d.b.Type(id).Kind().IsModifier() {
			return
		}
		*decls = (*decls)[:len(*decls)-1]
	}
}

func (d *cDumper) emitName(name string, lastWasPtr bool) {
	if name != "" && !lastWasPtr {
		d.puts(" ")
	}
	d.puts(name)
}

func (d *cDumper) emitTypeChain(decls *[]rawbtf.TypeID, fname string, lvl int) {
	lastWasPtr := true
	for len(*decls) > 0 {
		id := (*decls)[len(*decls)-1]
		*decls = (*decls)[:len(*decls)-1]
		if id == 0 {
			d.emitMods(decls)
			d.puts("void")
			lastWasPtr = false
			continue
		}
		t := d.b.Type(id)
		k := t.Kind()
		switch k {
		case rawbtf.KindInt, rawbtf.KindFloat:
			d.emitMods(decls)
			d.w.Write(t.NameBytes())
		case rawbtf.KindStruct, rawbtf.KindUnion:
			d.emitMods(decls)
			if t.NameOff() == 0 {
				d.emitStructDef(id, t, lvl)
			} else {
				d.emitStructFwd(id, t)
			}
		case rawbtf.KindEnum, rawbtf.KindEnum64:
			d.emitMods(decls)
			if t.NameOff() == 0 {
				d.emitEnumDef(id, t, lvl)
			} else {
				d.puts("enum ")
				d.puts(d.typeName(id))
			}
		case rawbtf.KindFwd:
			d.emitMods(decls)
			d.emitFwdDef(id, t)
		case rawbtf.KindTypedef:
			d.emitMods(decls)
			d.puts(d.identName(id))
		case rawbtf.KindPtr:
			if lastWasPtr {
				d.puts("*")
			} else {
				d.puts(" *")
			}
		case rawbtf.KindVolatile:
			d.puts(" volatile")
		case rawbtf.KindConst:
			d.puts(" const")
		case rawbtf.KindRestrict:
			d.puts(" restrict")
		case rawbtf.KindTypeTag:
			d.emitMods(decls)
			if t.KindFlag() {
				d.printf(" __attribute__((%s))", t.Name())
			} else {
				d.printf(" __attribute__((btf_type_tag(\"%s\")))", t.Name())
			}
		case rawbtf.KindArray:
			a := t.Array()
			d.dropMods(decls)
			if len(*decls) == 0 {
				d.emitName(fname, lastWasPtr)
				d.printf("[%d]", a.Nelems)
				return
			}
			next := (*decls)[len(*decls)-1]
			multidim := next != 0 && d.b.Type(next).Kind() == rawbtf.KindArray
			if fname != "" && !lastWasPtr {
				d.puts(" ")
			}
			if !multidim {
				d.puts("(")
			}
			d.emitTypeChain(decls, fname, lvl)
			if !multidim {
				d.puts(")")
			}
			d.printf("[%d]", a.Nelems)
			return
		case rawbtf.KindFuncProto:
			d.dropMods(decls)
			if len(*decls) > 0 {
				d.puts(" (")
				d.emitTypeChain(decls, fname, lvl)
				d.puts(")")
			} else {
				d.emitName(fname, lastWasPtr)
			}
			d.puts("(")
			vlen := t.Vlen()
			if vlen == 0 || (vlen == 1 && t.Param(0).Type == 0) {
				d.puts("void)")
				return
			}
			for i := range vlen {
				p := t.Param(i)
				if i > 0 {
					d.puts(", ")
				}
				if i == vlen-1 && p.Type == 0 {
					d.puts("...")
					break
				}
				d.emitTypeDecl(p.Type, d.b.String(p.NameOff), lvl)
			}
			d.puts(")")
			return
		default:
			return
		}
		lastWasPtr = k == rawbtf.KindPtr
	}
	d.emitName(fname, lastWasPtr)
}

func (d *cDumper) nameDups(m map[string]int, name string) int {
	m[name]++
	return m[name]
}

func (d *cDumper) resolveName(id rawbtf.TypeID, m map[string]int) string {
	t := d.b.Type(id)
	if t.NameOff() == 0 {
		return ""
	}
	orig := t.Name()
	st := &d.states[id]
	if st.nameResolved {
		if c, ok := d.cached[id]; ok {
			return c
		}
		return orig
	}
	st.nameResolved = true
	if t.Kind() == rawbtf.KindFwd || (t.Kind() == rawbtf.KindEnum && t.Vlen() == 0) {
		return orig
	}
	if dup := d.nameDups(m, orig); dup > 1 {
		n := orig + "___" + strconv.Itoa(dup)
		d.cached[id] = n
		return n
	}
	return orig
}

func (d *cDumper) typeName(id rawbtf.TypeID) string  { return d.resolveName(id, d.typeNames) }
func (d *cDumper) identName(id rawbtf.TypeID) string { return d.resolveName(id, d.identNames) }
