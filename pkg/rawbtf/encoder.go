package rawbtf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unsafe"
)

// ErrEncode means a type cannot be encoded in the classic format.
var ErrEncode = errors.New("cannot encode BTF")

// Encoder encodes a new BTF in the classic format that every reader of
// BTF knows, whatever its age: a 24-byte header, no layout section, only
// kinds this package knows (see Kind.Known) and at most MaxClassicVlen
// members, enumerators, parameters or variables per type. Types are
// copied from existing BTFs, with edits (Copy); they get consecutive IDs
// from 1 in the order they are added, strings are deduplicated, and the
// encoding is deterministic.
type Encoder struct {
	big    bool
	types  []byte
	strs   []byte
	strIdx map[string]uint32
	ntypes int
	// maxRef is the largest type ID referred to so far, by type maxRefBy.
	maxRef, maxRefBy TypeID
}

// NewEncoder returns an Encoder that encodes in the given byte order.
func NewEncoder(order binary.ByteOrder) *Encoder {
	return &Encoder{big: order == binary.BigEndian, strs: []byte{0}, strIdx: map[string]uint32{"": 0}}
}

// Edit says how Copy changes a type as it encodes it. The zero Edit
// copies the type as it is.
type Edit struct {
	// Remap returns the ID in the new BTF of each type the copied type
	// refers to (0 for void); nil keeps the IDs as they are.
	Remap func(TypeID) TypeID
	// Keep reports whether member, enumerator, parameter or variable i
	// is encoded; nil keeps them all. vlen is the number kept.
	Keep func(i int) bool
	// Member, when set, returns member i of a struct or union as it is to
	// be encoded (Type is remapped after it).
	Member func(i int, m Member) Member
	// EnumValue, when set, returns enumerator i of an enum as it is to be
	// encoded.
	EnumValue func(i int, v EnumValue) EnumValue
	// Anonymous encodes the type without its name.
	Anonymous bool
}

func (e *Encoder) u32(v uint32) {
	if e.big {
		e.types = binary.BigEndian.AppendUint32(e.types, v)
	} else {
		e.types = binary.LittleEndian.AppendUint32(e.types, v)
	}
}

// str adds s to the string section (once) and returns its offset.
func (e *Encoder) str(s []byte) uint32 {
	if off, ok := e.strIdx[string(s)]; ok {
		return off
	}
	off := uint32(len(e.strs))
	e.strs = append(append(e.strs, s...), 0)
	// The key is the copy just appended: the bytes of e.strs up to its
	// length are never written again (append writes past it, into this
	// array or a new one), so a string over them does not change.
	e.strIdx[unsafe.String(&e.strs[off], len(s))] = off
	return off
}

// Grow makes room for about types bytes of type data and strs bytes of
// strings more, so that encoding that much does not grow the buffers
// step by step.
func (e *Encoder) Grow(types, strs int) {
	e.types = slices.Grow(e.types, types)
	e.strs = slices.Grow(e.strs, strs)
}

func info(k Kind, vlen int, kflag bool) uint32 {
	v := uint32(k)<<24 | uint32(vlen)
	if kflag {
		v |= 1 << 31
	}
	return v
}

// hasEntries reports whether vlen counts records of kind k (for FUNC it
// is the linkage).
func hasEntries(k Kind) bool {
	switch k {
	case KindStruct, KindUnion, KindEnum, KindEnum64, KindFuncProto, KindDatasec:
		return true
	}
	return false
}

// Copy appends a copy of t, which may belong to any BTF, with ed applied,
// and returns its ID.
//
// A type of a kind this package does not know cannot be encoded: Copy
// appends a Placeholder in its place, so that the IDs of the types after
// it and every reference to it stay as they are.
//
// It fails, wrapping ErrEncode, for void, for more entries than the
// classic format holds, and for a member or enumerator (from an Edit)
// that the type cannot encode. Nothing is appended then.
func (e *Encoder) Copy(t Type, ed Edit) (TypeID, error) {
	k := t.Kind()
	switch {
	case t.ID == 0:
		return 0, fmt.Errorf("%w: void is not a type to copy", ErrEncode)
	case !k.Known():
		return e.Placeholder(), nil
	}
	src := t.b
	vlen, n := t.Vlen(), t.Vlen()
	entries := hasEntries(k)
	if entries && ed.Keep != nil {
		n = 0
		for i := range vlen {
			if ed.Keep(i) {
				n++
			}
		}
	}
	if n > MaxClassicVlen {
		return 0, fmt.Errorf("%w: type [%d] '%s' would have %d entries, more than the classic format's %d", ErrEncode, t.ID, PrintableName(t.NameBytes()), n, MaxClassicVlen)
	}
	keep := func(i int) bool { return !entries || ed.Keep == nil || ed.Keep(i) }
	id := TypeID(e.ntypes + 1)
	mark, maxRef, maxRefBy := len(e.types), e.maxRef, e.maxRefBy
	ref := func(r TypeID) uint32 {
		if ed.Remap != nil {
			r = ed.Remap(r)
		}
		if r > e.maxRef {
			e.maxRef, e.maxRefBy = r, id
		}
		return uint32(r)
	}
	fail := func(err error) (TypeID, error) {
		e.types, e.maxRef, e.maxRefBy = e.types[:mark], maxRef, maxRefBy
		return 0, err
	}
	kflag := t.KindFlag()
	if ed.Anonymous {
		e.u32(0)
	} else {
		e.u32(e.str(t.NameBytes()))
	}
	e.u32(info(k, n, kflag))
	if k.hasRef() {
		e.u32(ref(t.Ref()))
	} else {
		e.u32(t.SizeOrType())
	}
	switch k {
	case KindInt, KindVar, KindDeclTag:
		e.u32(t.u32(12))
	case KindArray:
		a := t.Array()
		e.u32(ref(a.Type))
		e.u32(ref(a.IndexType))
		e.u32(a.Nelems)
	case KindStruct, KindUnion:
		for i := range vlen {
			if !keep(i) {
				continue
			}
			m := t.Member(i)
			if ed.Member != nil {
				m = ed.Member(i, m)
			}
			off := m.BitOffset
			switch {
			case kflag && (m.BitOffset > 0xffffff || m.BitfieldSize > 0xff):
				return fail(fmt.Errorf("%w: type [%d] member %d: bit offset %d or bitfield size %d does not fit", ErrEncode, t.ID, i, m.BitOffset, m.BitfieldSize))
			case kflag:
				off |= m.BitfieldSize << 24
			case m.BitfieldSize != 0:
				return fail(fmt.Errorf("%w: type [%d] member %d: a bitfield in a type without the kind flag", ErrEncode, t.ID, i))
			}
			e.u32(e.str(src.StringBytes(m.NameOff)))
			e.u32(ref(m.Type))
			e.u32(off)
		}
	case KindEnum, KindEnum64:
		for i := range vlen {
			if !keep(i) {
				continue
			}
			v := t.EnumValue(i)
			if ed.EnumValue != nil {
				v = ed.EnumValue(i, v)
			}
			if k == KindEnum && v.Value > 0xffffffff && v.Value < 0xffffffff80000000 {
				return fail(fmt.Errorf("%w: type [%d] enumerator %d: value %#x does not fit 32 bits", ErrEncode, t.ID, i, v.Value))
			}
			e.u32(e.str(src.StringBytes(v.NameOff)))
			e.u32(uint32(v.Value))
			if k == KindEnum64 {
				e.u32(uint32(v.Value >> 32))
			}
		}
	case KindFuncProto:
		for i := range vlen {
			if keep(i) {
				p := t.Param(i)
				e.u32(e.str(src.StringBytes(p.NameOff)))
				e.u32(ref(p.Type))
			}
		}
	case KindDatasec:
		for i := range vlen {
			if keep(i) {
				v := t.VarSecinfo(i)
				e.u32(ref(v.Type))
				e.u32(v.Offset)
				e.u32(v.Size)
			}
		}
	}
	e.ntypes++
	return id, nil
}

// Placeholder appends a type that stands for one the classic format
// cannot hold, such as a type of a kind this package does not know, and
// returns its ID: an anonymous VAR of void. libbpf's CO-RE relations
// (field and type compatibility, type_matches) never relate a local type
// to a VAR, as they never relate one to a type of a kind they do not
// know: so a relocation decides the same with the placeholder as with the
// type it stands for, and referring to it keeps the references to that
// type apart from void (which "void *" is compatible with).
func (e *Encoder) Placeholder() TypeID {
	e.u32(0)
	e.u32(info(KindVar, 0, false))
	e.u32(0)
	e.u32(0) // static linkage
	e.ntypes++
	return TypeID(e.ntypes)
}

// NumTypes returns the number of types added so far, void included.
func (e *Encoder) NumTypes() int { return e.ntypes + 1 }

// Bytes returns the encoded BTF: header, type section, string section. It
// fails, wrapping ErrEncode, when a type refers to a type that was not
// added.
func (e *Encoder) Bytes() ([]byte, error) {
	if int(e.maxRef) >= e.NumTypes() {
		return nil, fmt.Errorf("%w: type [%d] refers to type [%d], but there are only %d types", ErrEncode, e.maxRefBy, e.maxRef, e.ntypes)
	}
	var o binary.ByteOrder = binary.LittleEndian
	if e.big {
		o = binary.BigEndian
	}
	out := make([]byte, headerLen, headerLen+len(e.types)+len(e.strs))
	o.PutUint16(out[0:], Magic)
	out[2] = 1 // version
	out[3] = 0 // flags
	o.PutUint32(out[4:], headerLen)
	o.PutUint32(out[8:], 0)
	o.PutUint32(out[12:], uint32(len(e.types)))
	o.PutUint32(out[16:], uint32(len(e.types)))
	o.PutUint32(out[20:], uint32(len(e.strs)))
	out = append(out, e.types...)
	return append(out, e.strs...), nil
}
