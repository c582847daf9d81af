package btfdump

import (
	"bufio"
	"io"
	"strconv"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// kindName is the kind as bpftool's btf_kind_str spells it, and
// "UNKNOWN_KIND(22)" for a kind rawbtf does not know (see appendUnknown).
func kindName(k rawbtf.Kind) string {
	if k == rawbtf.KindUnknown {
		return "UNKNOWN"
	}
	return k.String()
}

// appendUnknown appends what can be said of a type of a kind rawbtf does
// not know, which Parse skipped by the layout section: its vlen and
// encoded length.
func appendUnknown(buf []byte, t rawbtf.Type) []byte {
	buf = append(buf, " vlen="...)
	buf = appendU(buf, uint32(t.Vlen()))
	buf = append(buf, " bytes="...)
	return appendU(buf, uint32(len(t.Raw())))
}

// name is bpftool's btf_str: "(anon)" for offset 0.
func name(b *rawbtf.BTF, off uint32) []byte {
	if off == 0 {
		return anon
	}
	return b.StringBytes(off)
}

var anon = []byte("(anon)")

func intEncoding(enc uint8) string {
	switch enc {
	case 0:
		return "(none)"
	case rawbtf.IntSigned:
		return "SIGNED"
	case rawbtf.IntChar:
		return "CHAR"
	case rawbtf.IntBool:
		return "BOOL"
	}
	return "UNKN"
}

func funcLinkage(l uint32) string {
	switch l {
	case 0:
		return "static"
	case 1:
		return "global"
	case 2:
		return "extern"
	}
	return "(unknown)"
}

func enumEncoding(t rawbtf.Type) string {
	if t.KindFlag() {
		return "SIGNED"
	}
	return "UNSIGNED"
}

// WriteRaw writes the types ids of b (every type when ids is nil) in the
// format of "bpftool btf dump file F": one "[ID] KIND 'name' ..." line per
// type, members, enumerators, parameters and variables on indented lines.
func WriteRaw(w io.Writer, b *rawbtf.BTF, ids []rawbtf.TypeID) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	var buf []byte
	emit := func(id rawbtf.TypeID) error {
		buf = AppendRaw(buf[:0], b, id)
		_, err := bw.Write(buf)
		return err
	}
	if ids == nil {
		for id := 1; id < b.NumTypes(); id++ {
			if err := emit(rawbtf.TypeID(id)); err != nil {
				return err
			}
		}
	} else {
		for _, id := range ids {
			if err := emit(id); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

func appendU(buf []byte, v uint32) []byte { return strconv.AppendUint(buf, uint64(v), 10) }

func appendQuoted(buf []byte, s []byte) []byte {
	buf = append(buf, '\'')
	buf = append(buf, s...)
	return append(buf, '\'')
}

// AppendRaw appends the bpftool raw dump of type id, newline included, to
// buf and returns the extended buffer.
func AppendRaw(buf []byte, b *rawbtf.BTF, id rawbtf.TypeID) []byte {
	t := b.Type(id)
	k := t.Kind()
	buf = append(buf, '[')
	buf = appendU(buf, uint32(id))
	buf = append(buf, "] "...)
	buf = append(buf, kindName(k)...)
	buf = append(buf, ' ')
	buf = appendQuoted(buf, name(b, t.NameOff()))
	switch k {
	case rawbtf.KindInt:
		enc, off, bits := t.IntEncoding()
		buf = append(buf, " size="...)
		buf = appendU(buf, t.Size())
		buf = append(buf, " bits_offset="...)
		buf = appendU(buf, uint32(off))
		buf = append(buf, " nr_bits="...)
		buf = appendU(buf, uint32(bits))
		buf = append(buf, " encoding="...)
		buf = append(buf, intEncoding(enc)...)
	case rawbtf.KindPtr, rawbtf.KindConst, rawbtf.KindVolatile, rawbtf.KindRestrict,
		rawbtf.KindTypedef, rawbtf.KindTypeTag:
		buf = append(buf, " type_id="...)
		buf = appendU(buf, uint32(t.Ref()))
	case rawbtf.KindArray:
		a := t.Array()
		buf = append(buf, " type_id="...)
		buf = appendU(buf, uint32(a.Type))
		buf = append(buf, " index_type_id="...)
		buf = appendU(buf, uint32(a.IndexType))
		buf = append(buf, " nr_elems="...)
		buf = appendU(buf, a.Nelems)
	case rawbtf.KindStruct, rawbtf.KindUnion:
		buf = append(buf, " size="...)
		buf = appendU(buf, t.Size())
		buf = append(buf, " vlen="...)
		buf = appendU(buf, uint32(t.Vlen()))
		for i := range t.Vlen() {
			m := t.Member(i)
			buf = append(buf, "\n\t"...)
			buf = appendQuoted(buf, name(b, m.NameOff))
			buf = append(buf, " type_id="...)
			buf = appendU(buf, uint32(m.Type))
			buf = append(buf, " bits_offset="...)
			buf = appendU(buf, m.BitOffset)
			if m.BitfieldSize != 0 {
				buf = append(buf, " bitfield_size="...)
				buf = appendU(buf, m.BitfieldSize)
			}
		}
	case rawbtf.KindEnum, rawbtf.KindEnum64:
		buf = append(buf, " encoding="...)
		buf = append(buf, enumEncoding(t)...)
		buf = append(buf, " size="...)
		buf = appendU(buf, t.Size())
		buf = append(buf, " vlen="...)
		buf = appendU(buf, uint32(t.Vlen()))
		signed := t.KindFlag()
		for i := range t.Vlen() {
			v := t.EnumValue(i)
			buf = append(buf, "\n\t"...)
			buf = appendQuoted(buf, name(b, v.NameOff))
			buf = append(buf, " val="...)
			switch {
			case k == rawbtf.KindEnum && signed:
				buf = strconv.AppendInt(buf, int64(int32(v.Value)), 10)
			case k == rawbtf.KindEnum:
				buf = strconv.AppendUint(buf, uint64(uint32(v.Value)), 10)
			case signed:
				buf = strconv.AppendInt(buf, int64(v.Value), 10)
				buf = append(buf, "LL"...)
			default:
				buf = strconv.AppendUint(buf, v.Value, 10)
				buf = append(buf, "ULL"...)
			}
		}
	case rawbtf.KindFwd:
		buf = append(buf, " fwd_kind="...)
		if t.KindFlag() {
			buf = append(buf, "union"...)
		} else {
			buf = append(buf, "struct"...)
		}
	case rawbtf.KindFunc:
		buf = append(buf, " type_id="...)
		buf = appendU(buf, uint32(t.Ref()))
		buf = append(buf, " linkage="...)
		buf = append(buf, funcLinkage(t.Linkage())...)
	case rawbtf.KindFuncProto:
		buf = append(buf, " ret_type_id="...)
		buf = appendU(buf, uint32(t.Ref()))
		buf = append(buf, " vlen="...)
		buf = appendU(buf, uint32(t.Vlen()))
		for i := range t.Vlen() {
			p := t.Param(i)
			buf = append(buf, "\n\t"...)
			buf = appendQuoted(buf, name(b, p.NameOff))
			buf = append(buf, " type_id="...)
			buf = appendU(buf, uint32(p.Type))
		}
	case rawbtf.KindVar:
		buf = append(buf, " type_id="...)
		buf = appendU(buf, uint32(t.Ref()))
		buf = append(buf, ", linkage="...)
		buf = append(buf, funcLinkage(t.Linkage())...)
	case rawbtf.KindDatasec:
		buf = append(buf, " size="...)
		buf = appendU(buf, t.Size())
		buf = append(buf, " vlen="...)
		buf = appendU(buf, uint32(t.Vlen()))
		for i := range t.Vlen() {
			v := t.VarSecinfo(i)
			buf = append(buf, "\n\ttype_id="...)
			buf = appendU(buf, uint32(v.Type))
			buf = append(buf, " offset="...)
			buf = appendU(buf, v.Offset)
			buf = append(buf, " size="...)
			buf = appendU(buf, v.Size)
			if b.Valid(v.Type) {
				vt := b.Type(v.Type)
				buf = append(buf, " ("...)
				buf = append(buf, kindName(vt.Kind())...)
				buf = append(buf, ' ')
				buf = appendQuoted(buf, name(b, vt.NameOff()))
				buf = append(buf, ')')
			}
		}
	case rawbtf.KindFloat:
		buf = append(buf, " size="...)
		buf = appendU(buf, t.Size())
	case rawbtf.KindDeclTag:
		buf = append(buf, " type_id="...)
		buf = appendU(buf, uint32(t.Ref()))
		buf = append(buf, " component_idx="...)
		buf = strconv.AppendInt(buf, int64(t.ComponentIdx()), 10)
	default:
		if !k.Known() {
			buf = appendUnknown(buf, t)
		}
	}
	return append(buf, '\n')
}
