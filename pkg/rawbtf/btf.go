package rawbtf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Magic is the BTF magic number.
const Magic = 0xeB9F

const headerLen = 24

// MaxStringLen is the longest name Parse accepts. The kernel allows 512
// bytes (KSYM_NAME_LEN) for identifiers; anything near this limit is
// corrupt or hostile.
const MaxStringLen = 64 << 10

// Errors returned by Parse, wrapped with details.
var (
	// ErrNotBTF means the data does not start with the BTF magic.
	ErrNotBTF = errors.New("not BTF")
	// ErrCorrupt means the data starts like BTF but is malformed.
	ErrCorrupt = errors.New("corrupt BTF")
)

// BTF is a parsed raw BTF blob. Types are decoded on demand from the
// original bytes, which the BTF keeps and must not be modified.
type BTF struct {
	order   binary.ByteOrder
	big     bool // order is big-endian: decode without an interface call
	types   []byte
	strings []byte
	offsets []uint32 // offsets[id] is the start of type id in types; offsets[0] is unused
	size    int      // total length of the blob
	ptrSize int      // from the first "long" INT, 0 if there is none
	longID  TypeID   // that INT
}

// Parse parses raw BTF in either byte order. The returned BTF aliases data.
//
// Parse checks everything later accessors rely on: section bounds, known
// kinds, records within the type section, type IDs and name offsets in
// range. Errors wrap ErrNotBTF or ErrCorrupt.
func Parse(data []byte) (*BTF, error) {
	if len(data) < 4 {
		return nil, fmt.Errorf("%w: %d bytes is too short for a header", ErrNotBTF, len(data))
	}
	var order binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint16(data) == Magic:
		order = binary.LittleEndian
	case binary.BigEndian.Uint16(data) == Magic:
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: bad magic % x", ErrNotBTF, data[:2])
	}
	if len(data) < headerLen {
		return nil, fmt.Errorf("%w: truncated header (%d bytes)", ErrCorrupt, len(data))
	}
	if v := data[2]; v != 1 {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrCorrupt, v)
	}
	hdrLen := order.Uint32(data[4:])
	typeOff, typeLen := order.Uint32(data[8:]), order.Uint32(data[12:])
	strOff, strLen := order.Uint32(data[16:]), order.Uint32(data[20:])
	if hdrLen < headerLen || uint64(hdrLen) > uint64(len(data)) {
		return nil, fmt.Errorf("%w: header length %d out of range", ErrCorrupt, hdrLen)
	}
	body := data[hdrLen:]
	if uint64(typeOff)+uint64(typeLen) > uint64(len(body)) {
		return nil, fmt.Errorf("%w: type section [%d, +%d) beyond end of data (%d bytes)", ErrCorrupt, typeOff, typeLen, len(body))
	}
	if uint64(strOff)+uint64(strLen) > uint64(len(body)) {
		return nil, fmt.Errorf("%w: string section [%d, +%d) beyond end of data (%d bytes)", ErrCorrupt, strOff, strLen, len(body))
	}
	if typeOff%4 != 0 {
		return nil, fmt.Errorf("%w: type section offset %d not 4-byte aligned", ErrCorrupt, typeOff)
	}
	b := &BTF{
		order:   order,
		big:     order == binary.BigEndian,
		types:   body[typeOff : typeOff+typeLen],
		strings: body[strOff : strOff+strLen],
		size:    len(data),
	}
	if len(b.strings) > 0 && (b.strings[0] != 0 || b.strings[len(b.strings)-1] != 0) {
		return nil, fmt.Errorf("%w: string section does not start and end with NUL", ErrCorrupt)
	}
	for off := 0; off < len(b.strings); {
		n := bytes.IndexByte(b.strings[off:], 0)
		if n > MaxStringLen {
			return nil, fmt.Errorf("%w: string at offset %d is %d bytes long (limit %d)", ErrCorrupt, off, n, MaxStringLen)
		}
		off += n + 1
	}
	if err := b.index(); err != nil {
		return nil, err
	}
	return b, nil
}

// index fills b.offsets and validates every record.
func (b *BTF) index() error {
	// A type takes at least 12 bytes: size the offsets once.
	offsets := make([]uint32, 1, len(b.types)/12+2)
	t := b.types
	big := b.big
	u32 := func(p []byte) uint32 {
		if big {
			return binary.BigEndian.Uint32(p)
		}
		return binary.LittleEndian.Uint32(p)
	}
	nstr := uint32(len(b.strings))
	var maxRef uint32
	var maxRefAt int
	ref := func(id uint32, at int) {
		if id > maxRef {
			maxRef, maxRefAt = id, at
		}
	}
	for off := 0; off < len(t); {
		id := len(offsets)
		if len(t)-off < 12 {
			return fmt.Errorf("%w: type [%d] truncated at offset %d", ErrCorrupt, id, off)
		}
		nameOff := u32(t[off:])
		info := u32(t[off+4:])
		st := u32(t[off+8:])
		kind := Kind(info >> 24 & 0x1f)
		vlen := int(info & 0xffff)
		if kind > maxKind {
			return fmt.Errorf("%w: type [%d] has unknown kind %d", ErrCorrupt, id, kind)
		}
		if nameOff >= nstr && nameOff != 0 {
			return fmt.Errorf("%w: type [%d] name offset %d beyond string section (%d bytes)", ErrCorrupt, id, nameOff, nstr)
		}
		extra := extraLen(kind, vlen)
		if len(t)-off-12 < extra {
			return fmt.Errorf("%w: type [%d] %s with %d entries truncated at offset %d", ErrCorrupt, id, kind, vlen, off)
		}
		if kind.hasRef() {
			ref(st, id)
		}
		if kind == KindInt && b.ptrSize == 0 && (st == 4 || st == 8) && isLongName(b.StringBytes(nameOff)) {
			b.ptrSize, b.longID = int(st), TypeID(len(offsets))
		}
		rec := t[off+12 : off+12+extra]
		switch kind {
		case KindArray:
			ref(u32(rec), id)
			ref(u32(rec[4:]), id)
		case KindStruct, KindUnion:
			for i := 0; i < vlen; i++ {
				if u32(rec[i*12:]) >= nstr && nstr > 0 {
					return fmt.Errorf("%w: type [%d] member %d name offset out of range", ErrCorrupt, id, i)
				}
				ref(u32(rec[i*12+4:]), id)
			}
		case KindEnum, KindEnum64:
			step := extra / max(vlen, 1)
			for i := 0; i < vlen; i++ {
				if u32(rec[i*step:]) >= nstr && nstr > 0 {
					return fmt.Errorf("%w: type [%d] enumerator %d name offset out of range", ErrCorrupt, id, i)
				}
			}
		case KindFuncProto:
			for i := 0; i < vlen; i++ {
				if u32(rec[i*8:]) >= nstr && nstr > 0 {
					return fmt.Errorf("%w: type [%d] parameter %d name offset out of range", ErrCorrupt, id, i)
				}
				ref(u32(rec[i*8+4:]), id)
			}
		case KindDatasec:
			for i := 0; i < vlen; i++ {
				ref(u32(rec[i*12:]), id)
			}
		}
		offsets = append(offsets, uint32(off))
		off += 12 + extra
	}
	if maxRef >= uint32(len(offsets)) {
		return fmt.Errorf("%w: type [%d] refers to type [%d], but there are only %d types", ErrCorrupt, maxRefAt, maxRef, len(offsets)-1)
	}
	b.offsets = offsets
	if err := b.checkCycles(); err != nil {
		return err
	}
	return b.checkBitfields()
}

// checkBitfields rejects bitfield members whose type is not an integer or
// an enum (through typedefs and modifiers), as the kernel's BTF loader
// does: libbpf would read a pointer's target type ID as the field's size.
func (b *BTF) checkBitfields() error {
	for id := 1; id < len(b.offsets); id++ {
		t := b.Type(TypeID(id))
		if !t.Kind().IsComposite() || !t.KindFlag() {
			continue
		}
		for i := 0; i < t.Vlen(); i++ {
			m := t.Member(i)
			if m.BitfieldSize == 0 {
				continue
			}
			mt, _ := b.Skip(m.Type)
			if k := mt.Kind(); k != KindInt && !k.IsEnum() {
				return fmt.Errorf("%w: type [%d] member %d: bitfield of kind %s", ErrCorrupt, id, i, k)
			}
		}
	}
	return nil
}

// checkCycles rejects reference loops that do not pass through a struct,
// union or function prototype, such as a typedef naming itself: no C type
// has one, the kernel's BTF loader refuses them, and following one would
// never end.
func (b *BTF) checkCycles() error {
	state := make([]uint8, len(b.offsets)) // 0 new, 1 on the current path, 2 done
	var path []TypeID
	for start := 1; start < len(b.offsets); start++ {
		id := TypeID(start)
		path = path[:0]
		for id != 0 && state[id] == 0 {
			state[id] = 1
			path = append(path, id)
			t := b.Type(id)
			switch t.Kind() {
			case KindPtr, KindTypedef, KindVolatile, KindConst, KindRestrict, KindTypeTag, KindVar, KindDeclTag, KindFunc:
				id = t.Ref()
			case KindArray:
				id = t.Array().Type
			default:
				id = 0
			}
		}
		if id != 0 && state[id] == 1 {
			return fmt.Errorf("%w: type [%d] is part of a reference cycle", ErrCorrupt, id)
		}
		for _, p := range path {
			state[p] = 2
		}
	}
	return nil
}

// extraLen returns the length of the records following the common header.
func extraLen(k Kind, vlen int) int {
	switch k {
	case KindInt, KindVar, KindDeclTag:
		return 4
	case KindArray:
		return 12
	case KindStruct, KindUnion, KindDatasec, KindEnum64:
		return 12 * vlen
	case KindEnum, KindFuncProto:
		return 8 * vlen
	}
	return 0
}

// ByteOrder returns the byte order the BTF is encoded in.
func (b *BTF) ByteOrder() binary.ByteOrder { return b.order }

// NumTypes returns the number of types including void: valid IDs are
// 0 to NumTypes()-1.
func (b *BTF) NumTypes() int { return len(b.offsets) }

// Size returns the length in bytes of the raw blob.
func (b *BTF) Size() int { return b.size }

// StringsLen returns the length of the string section.
func (b *BTF) StringsLen() int { return len(b.strings) }

// Valid reports whether id names a type of b (void included).
func (b *BTF) Valid(id TypeID) bool { return int(id) < len(b.offsets) }

// Type returns the type with the given ID. It panics if the ID is out of
// range: check with Valid first when the ID comes from outside b.
func (b *BTF) Type(id TypeID) Type {
	if id == 0 {
		return Type{b: b}
	}
	return Type{b: b, ID: id, off: b.offsets[id]}
}

// StringBytes returns the NUL-terminated string at off, without the NUL,
// aliasing the BTF's bytes. It returns nil when off is out of range.
func (b *BTF) StringBytes(off uint32) []byte {
	if int64(off) >= int64(len(b.strings)) {
		return nil
	}
	s := b.strings[off:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// StringIs reports whether the string at off is name, without scanning
// for its end first: most names differ in their first bytes.
func (b *BTF) StringIs(off uint32, name []byte) bool {
	if int64(off) >= int64(len(b.strings)) {
		return len(name) == 0
	}
	end := int64(off) + int64(len(name))
	if end >= int64(len(b.strings)) {
		return end == int64(len(b.strings)) && string(b.strings[off:]) == string(name)
	}
	return b.strings[end] == 0 && string(b.strings[off:end]) == string(name)
}

// StringByte returns the byte at offset off of the string section, 0 when
// off is out of range.
func (b *BTF) StringByte(off uint32) byte {
	if int64(off) >= int64(len(b.strings)) {
		return 0
	}
	return b.strings[off]
}

// StringEmpty reports whether the string at off is empty (or out of
// range, which StringBytes also reads as empty).
func (b *BTF) StringEmpty(off uint32) bool {
	return int64(off) >= int64(len(b.strings)) || b.strings[off] == 0
}

// String returns the string at off; "" when off is out of range.
func (b *BTF) String(off uint32) string { return string(b.StringBytes(off)) }

// Type is a view of one type of a BTF. The zero Type of a BTF is void.
type Type struct {
	b   *BTF
	ID  TypeID
	off uint32
}

func (t Type) u32(at uint32) uint32 {
	p := t.b.types[t.off+at:]
	if t.b.big {
		return binary.BigEndian.Uint32(p)
	}
	return binary.LittleEndian.Uint32(p)
}

func (t Type) info() uint32 {
	if t.ID == 0 {
		return 0
	}
	return t.u32(4)
}

// BTF returns the BTF the type belongs to.
func (t Type) BTF() *BTF { return t.b }

// Kind returns the type's kind; KindUnknown for void.
func (t Type) Kind() Kind { return Kind(t.info() >> 24 & 0x1f) }

// Vlen returns the number of members, enumerators, parameters or variables.
func (t Type) Vlen() int { return int(t.info() & 0xffff) }

// KindFlag returns the kind flag: bitfield encoding for structs and unions,
// signedness for enums, union for forward declarations, attribute for tags.
func (t Type) KindFlag() bool { return t.info()>>31 == 1 }

// NameOff returns the offset of the type's name in the string section.
func (t Type) NameOff() uint32 {
	if t.ID == 0 {
		return 0
	}
	return t.u32(0)
}

// NameBytes returns the type's name without copying; empty if anonymous.
func (t Type) NameBytes() []byte { return t.b.StringBytes(t.NameOff()) }

// Name returns the type's name; "" if anonymous.
func (t Type) Name() string { return string(t.NameBytes()) }

// SizeOrType returns the raw size_type word.
func (t Type) SizeOrType() uint32 {
	if t.ID == 0 {
		return 0
	}
	return t.u32(8)
}

// Size returns the byte size of an INT, ENUM, ENUM64, STRUCT, UNION,
// FLOAT or DATASEC.
func (t Type) Size() uint32 { return t.SizeOrType() }

// Ref returns the type referred to by a PTR, TYPEDEF, modifier, FUNC, VAR,
// DECL_TAG or TYPE_TAG, and the return type of a FUNC_PROTO.
func (t Type) Ref() TypeID { return TypeID(t.SizeOrType()) }

// IntEncoding returns the encoding bits (IntSigned, IntChar, IntBool), bit
// offset and number of bits of an INT.
func (t Type) IntEncoding() (encoding, offset, bits uint8) {
	v := t.u32(12)
	return uint8(v >> 24 & 0x0f), uint8(v >> 16), uint8(v)
}

// Array returns the description of an ARRAY.
func (t Type) Array() Array {
	return Array{Type: TypeID(t.u32(12)), IndexType: TypeID(t.u32(16)), Nelems: t.u32(20)}
}

// Member returns member i of a STRUCT or UNION.
func (t Type) Member(i int) Member {
	at := 12 + uint32(i)*12
	m := Member{NameOff: t.u32(at), Type: TypeID(t.u32(at + 4))}
	off := t.u32(at + 8)
	if t.KindFlag() {
		m.BitOffset, m.BitfieldSize = off&0xffffff, off>>24
	} else {
		m.BitOffset = off
	}
	return m
}

// MemberNameOff returns the name offset of member i, without decoding the
// rest of the member.
func (t Type) MemberNameOff(i int) uint32 { return t.u32(12 + uint32(i)*12) }

// MemberRawOffset returns the raw offset word of member i (bit offset and,
// with the kind flag, the bitfield size).
func (t Type) MemberRawOffset(i int) uint32 { return t.u32(12 + uint32(i)*12 + 8) }

// EnumValue returns enumerator i of an ENUM or ENUM64.
func (t Type) EnumValue(i int) EnumValue {
	if t.Kind() == KindEnum64 {
		at := 12 + uint32(i)*12
		lo, hi := t.u32(at+4), t.u32(at+8)
		return EnumValue{NameOff: t.u32(at), Value: uint64(hi)<<32 | uint64(lo)}
	}
	at := 12 + uint32(i)*8
	return EnumValue{NameOff: t.u32(at), Value: uint64(int64(int32(t.u32(at + 4))))}
}

// Param returns parameter i of a FUNC_PROTO.
func (t Type) Param(i int) Param {
	at := 12 + uint32(i)*8
	return Param{NameOff: t.u32(at), Type: TypeID(t.u32(at + 4))}
}

// VarSecinfo returns variable i of a DATASEC.
func (t Type) VarSecinfo(i int) VarSecinfo {
	at := 12 + uint32(i)*12
	return VarSecinfo{Type: TypeID(t.u32(at)), Offset: t.u32(at + 4), Size: t.u32(at + 8)}
}

// Linkage returns the linkage of a VAR or FUNC.
func (t Type) Linkage() uint32 {
	if t.Kind() == KindFunc {
		return uint32(t.Vlen())
	}
	return t.u32(12)
}

// ComponentIdx returns the component index of a DECL_TAG (-1 for the type
// itself).
func (t Type) ComponentIdx() int32 { return int32(t.u32(12)) }

// Raw returns the type's encoded bytes, common header included.
func (t Type) Raw() []byte {
	if t.ID == 0 {
		return nil
	}
	return t.b.types[t.off : t.off+12+uint32(extraLen(t.Kind(), t.Vlen()))]
}

// RawU32 returns the 32-bit word at byte offset at of t's encoding.
func RawU32(t Type, at uint32) uint32 { return t.u32(at) }
