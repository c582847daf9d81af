package btfdiff

import (
	"strconv"
	"strings"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// typeString describes type id the way it is referred to in C, named types
// by name: "int", "struct a *", "const char [16]", "int (*)(void *)".
func typeString(b *rawbtf.BTF, id rawbtf.TypeID) string {
	var sb strings.Builder
	writeType(&sb, b, id, 0)
	return sb.String()
}

func writeType(sb *strings.Builder, b *rawbtf.BTF, id rawbtf.TypeID, depth int) {
	if id == 0 {
		sb.WriteString("void")
		return
	}
	if depth > maxDepth || !b.Valid(id) {
		sb.WriteString("?")
		return
	}
	t := b.Type(id)
	switch k := t.Kind(); k {
	case rawbtf.KindTypeTag:
		writeType(sb, b, t.Ref(), depth+1)
	case rawbtf.KindConst, rawbtf.KindVolatile:
		sb.WriteString(k.C())
		sb.WriteByte(' ')
		writeType(sb, b, t.Ref(), depth+1)
	case rawbtf.KindRestrict:
		writeType(sb, b, t.Ref(), depth+1)
		sb.WriteString(" restrict")
	case rawbtf.KindPtr:
		target := b.Type(t.Ref())
		for target.Kind() == rawbtf.KindTypeTag && depth < maxDepth {
			target = b.Type(target.Ref())
			depth++
		}
		if target.Kind() == rawbtf.KindFuncProto {
			writeType(sb, b, target.Ref(), depth+1)
			sb.WriteString(" (*)")
			writeParams(sb, b, target, depth)
			return
		}
		writeType(sb, b, target.ID, depth+1)
		if !strings.HasSuffix(sb.String(), "*") {
			sb.WriteByte(' ')
		}
		sb.WriteByte('*')
	case rawbtf.KindArray:
		a := t.Array()
		writeType(sb, b, a.Type, depth+1)
		if !strings.HasSuffix(sb.String(), "]") {
			sb.WriteByte(' ')
		}
		sb.WriteByte('[')
		sb.WriteString(strconv.FormatUint(uint64(a.Nelems), 10))
		sb.WriteByte(']')
	case rawbtf.KindFuncProto:
		writeType(sb, b, t.Ref(), depth+1)
		writeParams(sb, b, t, depth)
	case rawbtf.KindStruct, rawbtf.KindUnion, rawbtf.KindEnum, rawbtf.KindEnum64, rawbtf.KindFwd:
		kw := classOf(k).String()
		if k == rawbtf.KindFwd {
			kw = "struct"
			if t.KindFlag() {
				kw = "union"
			}
		}
		sb.WriteString(kw)
		if name := t.NameBytes(); len(name) > 0 {
			sb.WriteByte(' ')
			sb.Write(name)
		} else {
			sb.WriteString(" {...}")
		}
	default:
		if !k.Known() {
			// Skipped by the layout section: nothing but its kind and
			// name can be said.
			sb.WriteString(k.C())
			if name := t.NameBytes(); len(name) > 0 {
				sb.WriteByte(' ')
			}
		}
		sb.Write(t.NameBytes())
	}
}

func writeParams(sb *strings.Builder, b *rawbtf.BTF, proto rawbtf.Type, depth int) {
	sb.WriteByte('(')
	for i := range proto.Vlen() {
		if i > 0 {
			sb.WriteString(", ")
		}
		p := proto.Param(i)
		if p.Type == 0 && i == proto.Vlen()-1 {
			sb.WriteString("...")
			continue
		}
		writeType(sb, b, p.Type, depth+1)
	}
	sb.WriteByte(')')
}

// offsetString prints a bit offset as "24" (bytes) or "24:3" (byte:bit).
func offsetString(bits uint32) string {
	s := strconv.FormatUint(uint64(bits/8), 10)
	if bits%8 != 0 {
		s += ":" + strconv.FormatUint(uint64(bits%8), 10)
	}
	return s
}

// memberString describes a member: "unsigned int at 24", "u32 :3 at 4:2".
func memberString(b *rawbtf.BTF, m rawbtf.Member) string {
	s := typeString(b, m.Type)
	if m.BitfieldSize != 0 {
		s += " :" + strconv.FormatUint(uint64(m.BitfieldSize), 10)
	}
	return s + " at " + offsetString(m.BitOffset)
}

// enumValueString prints enumerator i of t as the enum's signedness says.
func enumValueString(t rawbtf.Type, i int) string {
	v := enumValue(t, i)
	if t.KindFlag() {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatUint(v, 10)
}
