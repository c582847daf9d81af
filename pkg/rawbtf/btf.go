package rawbtf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Magic is the BTF magic number.
const Magic = 0xeB9F

// The header is 24 bytes in the classic format, 32 when it also locates a
// layout section (kernel 7.1's uapi/linux/btf.h).
const (
	headerLen       = 24
	layoutHeaderLen = 32
)

// MaxVlen is the largest number of members, enumerators, parameters or
// variables a type can have: vlen takes bits 0-23 of the info word.
const MaxVlen = 1<<24 - 1

// MaxClassicVlen is the largest vlen readers from before the 24-bit vlen
// (libbpf before 2026, cilium/ebpf v0.22) decode correctly: they read
// bits 0-15 only.
const MaxClassicVlen = 1<<16 - 1

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
	// ErrWrongBase means split BTF does not fit the base BTF it was given:
	// it was made for another kernel's vmlinux.
	ErrWrongBase = errors.New("split BTF does not belong to this base")
)

func orderName(o binary.ByteOrder) string {
	if o == binary.BigEndian {
		return "big-endian"
	}
	return "little-endian"
}

// BTF is a parsed raw BTF blob. Types are decoded on demand from the
// original bytes, which the BTF keeps and must not be modified.
type BTF struct {
	order   binary.ByteOrder
	big     bool // order is big-endian: decode without an interface call
	types   []byte
	strings []byte
	// offsets[id-idBase] is the start of own type id in types; offsets[0]
	// is unused.
	offsets []uint32
	data    []byte // the blob
	size    int    // its length
	hdrLen  uint32 // header length from the header
	// layout is the layout section, one 4-byte entry per kind: b's own,
	// or for split BTF without one its base's (as libbpf does). nil when
	// there is none.
	layout    []byte
	ownLayout bool
	ptrSize   int    // from the first "long" INT, 0 if there is none
	longID    TypeID // that INT
	// Split BTF (ParseSplit): the base BTF, the last type ID of the base
	// (0 for a base BTF) and the length of its string section, where the
	// own strings start (0 for a base BTF).
	base    *BTF
	idBase  TypeID
	strBase uint32
}

// Parse parses raw BTF in either byte order. The returned BTF aliases data.
//
// Parse checks everything later accessors rely on: section bounds, known
// kinds, records within the type section, type IDs and name offsets in
// range. Errors wrap ErrNotBTF or ErrCorrupt.
func Parse(data []byte) (*BTF, error) { return parse(data, nil) }

// ParseSplit parses split BTF: the .BTF section of a kernel module, or a
// file of /sys/kernel/btf other than vmlinux, whose type IDs and string
// offsets continue those of base (the kernel's vmlinux BTF). The returned
// BTF holds the base's types too: IDs below base.NumTypes() and string
// offsets below base.StringsLen() name the base's, so every accessor works
// on the combined view, as libbpf's btf__new_split does. Types of the base
// come back as Types of base (Type.BTF() is base).
//
// base must be a base BTF (split BTF on split BTF is refused) in the same
// byte order. Besides what Parse checks, every name offset that points into
// the base must point at the start of one of its strings: module BTF made
// for another kernel fails this check with overwhelming likelihood, and
// the error (wrapping ErrWrongBase) says so.
func ParseSplit(data []byte, base *BTF) (*BTF, error) {
	if base == nil {
		return nil, fmt.Errorf("%w: split BTF needs a base", ErrCorrupt)
	}
	if base.base != nil {
		return nil, fmt.Errorf("%w: the base of split BTF cannot itself be split", ErrCorrupt)
	}
	return parse(data, base)
}

// IsSplit reports whether b was parsed with ParseSplit.
func (b *BTF) IsSplit() bool { return b.base != nil }

// Base returns the base of a split BTF; nil for a base BTF.
func (b *BTF) Base() *BTF { return b.base }

// FirstID returns the first type ID b holds types of its own for: 1 for
// a base BTF, base.NumTypes() for a split one.
func (b *BTF) FirstID() TypeID { return b.idBase + 1 }

// StringsStart returns the offset at which b's own strings start: 0 for a
// base BTF, the base's StringsLen() for a split one.
func (b *BTF) StringsStart() uint32 { return b.strBase }

func parse(data []byte, base *BTF) (*BTF, error) {
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
	// A header of 32 bytes or more locates the layout section; bytes
	// beyond the fields known here are ignored, as libbpf does.
	var layoutOff, layoutLen uint32
	if hdrLen >= layoutHeaderLen {
		layoutOff, layoutLen = order.Uint32(data[24:]), order.Uint32(data[28:])
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
		data:    data,
		size:    len(data),
		hdrLen:  hdrLen,
	}
	if layoutLen != 0 {
		if err := checkLayout(layoutOff, layoutLen, typeOff, typeLen, strOff, strLen, len(body)); err != nil {
			return nil, err
		}
		b.layout, b.ownLayout = body[layoutOff:layoutOff+layoutLen], true
	}
	if base != nil {
		if base.order != order {
			return nil, fmt.Errorf("%w: split BTF is %s, its base %s", ErrWrongBase, orderName(order), orderName(base.order))
		}
		b.base, b.idBase, b.strBase = base, TypeID(base.NumTypes()-1), uint32(len(base.strings))
		b.ptrSize, b.longID = base.ptrSize, base.longID
		if b.layout == nil {
			// Split BTF shares its base's layout (libbpf's
			// btf_type_size_unknown).
			b.layout = base.layout
		}
	}
	switch {
	case len(b.strings) > 0 && b.strings[len(b.strings)-1] != 0:
		return nil, fmt.Errorf("%w: string section does not end with NUL", ErrCorrupt)
	case len(b.strings) > 0 && b.strings[0] != 0 && base == nil:
		// libbpf asks this of base BTF only.
		return nil, fmt.Errorf("%w: string section does not start with NUL", ErrCorrupt)
	case uint64(b.strBase)+uint64(len(b.strings)) > 1<<32-1:
		return nil, fmt.Errorf("%w: string sections of %d and %d bytes together overflow offsets", ErrCorrupt, b.strBase, len(b.strings))
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

// layoutEntryLen is the size of one struct btf_layout: info_sz (u8),
// elem_sz (u8), flags (u16).
const layoutEntryLen = 4

// checkLayout validates the location of the layout section as the kernel
// does (btf_parse_layout_sec, btf_check_sec_info): 4-byte aligned, whole
// entries, within the data and overlapping neither other section.
func checkLayout(off, n, typeOff, typeLen, strOff, strLen uint32, body int) error {
	end := uint64(off) + uint64(n)
	overlaps := func(o, l uint32) bool { return l != 0 && uint64(o) < end && uint64(off) < uint64(o)+uint64(l) }
	switch {
	case off%4 != 0:
		return fmt.Errorf("%w: layout section offset %d not 4-byte aligned", ErrCorrupt, off)
	case n%layoutEntryLen != 0:
		return fmt.Errorf("%w: layout section length %d is not a multiple of %d", ErrCorrupt, n, layoutEntryLen)
	case end > uint64(body):
		return fmt.Errorf("%w: layout section [%d, +%d) beyond end of data (%d bytes)", ErrCorrupt, off, n, body)
	case overlaps(typeOff, typeLen):
		return fmt.Errorf("%w: layout section [%d, +%d) overlaps the type section", ErrCorrupt, off, n)
	case overlaps(strOff, strLen):
		return fmt.Errorf("%w: layout section [%d, +%d) overlaps the string section", ErrCorrupt, off, n)
	}
	return nil
}

// KindLayout is one entry of the layout section: how a type of one kind
// is encoded, so that a reader can skip kinds it does not know.
type KindLayout struct {
	// InfoSize is the length of the single record after the common
	// 12-byte header (4 for an INT's encoding word).
	InfoSize uint8
	// ElemSize is the length of each of the type's vlen records (12 for
	// a struct's members).
	ElemSize uint8
	// Flags is unused so far.
	Flags uint16
}

// Layout returns the layout section's entry for kind k; ok is false when
// there is no layout section or it does not describe k. Split BTF without
// a layout section of its own uses its base's.
func (b *BTF) Layout(k Kind) (l KindLayout, ok bool) {
	at := int(k) * layoutEntryLen
	if at+layoutEntryLen > len(b.layout) {
		return KindLayout{}, false
	}
	e := b.layout[at:]
	return KindLayout{InfoSize: e[0], ElemSize: e[1], Flags: b.order.Uint16(e[2:])}, true
}

// LayoutKinds returns the number of kinds the layout section describes,
// 0 when there is none.
func (b *BTF) LayoutKinds() int { return len(b.layout) / layoutEntryLen }

// HasLayout reports whether b's own header locates a layout section.
func (b *BTF) HasLayout() bool { return b.ownLayout }

// HeaderLen returns the length of b's header: 24 in the classic format, 32
// (or more) in the format with a layout section.
func (b *BTF) HeaderLen() int { return int(b.hdrLen) }

// unknownLen returns the length of the records after the common header of
// type id of unknown kind k, from the layout section.
func (b *BTF) unknownLen(id int, nameOff uint32, k Kind, vlen int) (int, error) {
	l, ok := b.Layout(k)
	switch {
	case !ok && len(b.layout) == 0:
		return 0, fmt.Errorf("%w: type [%d]%s has unknown kind %d, and there is no layout section to skip it by", ErrCorrupt, id, b.quotedName(nameOff), k)
	case !ok:
		return 0, fmt.Errorf("%w: type [%d]%s has unknown kind %d, beyond the %d kinds of the layout section", ErrCorrupt, id, b.quotedName(nameOff), k, b.LayoutKinds())
	case l.InfoSize%4 != 0 || l.ElemSize%4 != 0:
		return 0, fmt.Errorf("%w: type [%d]%s of unknown kind %d: layout entry (info %d, element %d bytes) not in 4-byte words", ErrCorrupt, id, b.quotedName(nameOff), k, l.InfoSize, l.ElemSize)
	}
	return int(l.InfoSize) + vlen*int(l.ElemSize), nil
}

// quotedName returns " 'name'" for a valid, non-empty name offset, "" for
// others.
func (b *BTF) quotedName(off uint32) string {
	if off == 0 || int64(off) >= int64(b.StringsLen()) {
		return ""
	}
	return fmt.Sprintf(" '%s'", b.StringBytes(off))
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
	var lens [kindMask + 1]recordLen
	b.recordLens(&lens)
	nstr := b.strBase + uint32(len(b.strings))
	// A name pointing into the base must point at one of its strings.
	midBaseString := func(off uint32) bool {
		return off < b.strBase && off > 0 && b.base.strings[off-1] != 0
	}
	var maxRef uint32
	var maxRefAt int
	ref := func(id uint32, at int) {
		if id > maxRef {
			maxRef, maxRefAt = id, at
		}
	}
	for off := 0; off < len(t); {
		id := int(b.idBase) + len(offsets)
		if len(t)-off < 12 {
			return fmt.Errorf("%w: type [%d] truncated at offset %d", ErrCorrupt, id, off)
		}
		nameOff := u32(t[off:])
		info := u32(t[off+4:])
		st := u32(t[off+8:])
		kind := Kind(info >> 24 & kindMask)
		vlen := int(info & vlenMask)
		if nameOff >= nstr && nameOff != 0 {
			return fmt.Errorf("%w: type [%d] name offset %d beyond string section (%d bytes)", ErrCorrupt, id, nameOff, nstr)
		}
		if midBaseString(nameOff) {
			return fmt.Errorf("%w: type [%d] name offset %d falls inside a string of the base", ErrWrongBase, id, nameOff)
		}
		// A kind this package does not know is skipped by the layout
		// section, its records uninterpreted.
		rl := lens[kind]
		if rl.elem < 0 {
			_, err := b.unknownLen(id, nameOff, kind, vlen)
			return err
		}
		extra := int(rl.info) + vlen*int(rl.elem)
		if len(t)-off-12 < extra {
			return fmt.Errorf("%w: type [%d] %s with %d entries truncated at offset %d", ErrCorrupt, id, kind, vlen, off)
		}
		if kind.hasRef() {
			ref(st, id)
		}
		if kind == KindInt && b.ptrSize == 0 && (st == 4 || st == 8) && isLongName(b.StringBytes(nameOff)) {
			b.ptrSize, b.longID = int(st), TypeID(id)
		}
		rec := t[off+12 : off+12+extra]
		switch kind {
		case KindArray:
			ref(u32(rec), id)
			ref(u32(rec[4:]), id)
		case KindStruct, KindUnion:
			for i := 0; i < vlen; i++ {
				if no := u32(rec[i*12:]); no >= nstr && nstr > 0 {
					return fmt.Errorf("%w: type [%d] member %d name offset out of range", ErrCorrupt, id, i)
				} else if midBaseString(no) {
					return fmt.Errorf("%w: type [%d] member %d name offset %d falls inside a string of the base", ErrWrongBase, id, i, no)
				}
				ref(u32(rec[i*12+4:]), id)
			}
		case KindEnum, KindEnum64:
			step := extra / max(vlen, 1)
			for i := 0; i < vlen; i++ {
				if no := u32(rec[i*step:]); no >= nstr && nstr > 0 {
					return fmt.Errorf("%w: type [%d] enumerator %d name offset out of range", ErrCorrupt, id, i)
				} else if midBaseString(no) {
					return fmt.Errorf("%w: type [%d] enumerator %d name offset %d falls inside a string of the base", ErrWrongBase, id, i, no)
				}
			}
		case KindFuncProto:
			for i := 0; i < vlen; i++ {
				if no := u32(rec[i*8:]); no >= nstr && nstr > 0 {
					return fmt.Errorf("%w: type [%d] parameter %d name offset out of range", ErrCorrupt, id, i)
				} else if midBaseString(no) {
					return fmt.Errorf("%w: type [%d] parameter %d name offset %d falls inside a string of the base", ErrWrongBase, id, i, no)
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
	if n := uint32(b.idBase) + uint32(len(offsets)); maxRef >= n {
		return fmt.Errorf("%w: type [%d] refers to type [%d], but there are only %d types", ErrCorrupt, maxRefAt, maxRef, n-1)
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
	for id := int(b.FirstID()); id < b.NumTypes(); id++ {
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
	// Indexed by id-idBase: the base's types were checked with the base,
	// and cannot refer to b's.
	state := make([]uint8, len(b.offsets)) // 0 new, 1 on the current path, 2 done
	var path []TypeID
	for start := 1; start < len(b.offsets); start++ {
		id := b.idBase + TypeID(start)
		path = path[:0]
		for id > b.idBase && state[id-b.idBase] == 0 {
			state[id-b.idBase] = 1
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
		if id > b.idBase && state[id-b.idBase] == 1 {
			return fmt.Errorf("%w: type [%d] is part of a reference cycle", ErrCorrupt, id)
		}
		for _, p := range path {
			state[p-b.idBase] = 2
		}
	}
	return nil
}

// recordLen is the length of the single record after a type's common
// header (info) and of each of its vlen records (elem); elem is -1 for a
// kind that cannot be read.
type recordLen struct{ info, elem int32 }

// recordLens fills in the record lengths of every kind: the known kinds'
// (extraLen), and those the layout section gives for the others.
func (b *BTF) recordLens(lens *[kindMask + 1]recordLen) {
	for k := range lens {
		kind := Kind(k)
		switch {
		case kind.Known():
			one, two := extraLen(kind, 1), extraLen(kind, 2)
			lens[k] = recordLen{info: int32(2*one - two), elem: int32(two - one)}
		default:
			lens[k].elem = -1
			if l, ok := b.Layout(kind); ok && l.InfoSize%4 == 0 && l.ElemSize%4 == 0 {
				lens[k] = recordLen{info: int32(l.InfoSize), elem: int32(l.ElemSize)}
			}
		}
	}
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
// 0 to NumTypes()-1. For split BTF it counts the base's types too.
func (b *BTF) NumTypes() int { return int(b.idBase) + len(b.offsets) }

// Bytes returns the raw blob b was parsed from (for split BTF, its own
// part, without the base's). The caller must not modify it.
func (b *BTF) Bytes() []byte { return b.data }

// Size returns the length in bytes of the raw blob.
func (b *BTF) Size() int { return b.size }

// StringsLen returns the length of the string section: string offsets
// range over 0 to StringsLen()-1. For split BTF it counts the base's
// string section too.
func (b *BTF) StringsLen() int { return int(b.strBase) + len(b.strings) }

// Valid reports whether id names a type of b (void included).
func (b *BTF) Valid(id TypeID) bool { return int(id) < b.NumTypes() }

// Type returns the type with the given ID. It panics if the ID is out of
// range: check with Valid first when the ID comes from outside b.
func (b *BTF) Type(id TypeID) Type {
	if id <= b.idBase {
		return b.baseType(id)
	}
	return Type{b: b, ID: id, off: b.offsets[id-b.idBase]}
}

// baseType is Type for void and, in split BTF, the base's types. The base
// is never split, so it does not recurse (which keeps Type inlinable).
func (b *BTF) baseType(id TypeID) Type {
	if id == 0 {
		return Type{b: b}
	}
	bb := b.base
	return Type{b: bb, ID: id, off: bb.offsets[id]}
}

// own returns the strings off points into (b's own, or its base's) and
// the offset within them.
func (b *BTF) own(off uint32) ([]byte, uint32) {
	if off < b.strBase {
		return b.base.strings, off
	}
	return b.strings, off - b.strBase
}

// StringBytes returns the NUL-terminated string at off, without the NUL,
// aliasing the BTF's bytes. It returns nil when off is out of range.
func (b *BTF) StringBytes(off uint32) []byte {
	strs, off := b.own(off)
	if int64(off) >= int64(len(strs)) {
		return nil
	}
	s := strs[off:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// StringIs reports whether the string at off is name, without scanning
// for its end first: most names differ in their first bytes.
func (b *BTF) StringIs(off uint32, name []byte) bool {
	strs, off := b.own(off)
	if int64(off) >= int64(len(strs)) {
		return len(name) == 0
	}
	end := int64(off) + int64(len(name))
	if end >= int64(len(strs)) {
		return end == int64(len(strs)) && string(strs[off:]) == string(name)
	}
	return strs[end] == 0 && string(strs[off:end]) == string(name)
}

// StringByte returns the byte at offset off of the string section, 0 when
// off is out of range.
func (b *BTF) StringByte(off uint32) byte {
	strs, off := b.own(off)
	if int64(off) >= int64(len(strs)) {
		return 0
	}
	return strs[off]
}

// StringEmpty reports whether the string at off is empty (or out of
// range, which StringBytes also reads as empty).
func (b *BTF) StringEmpty(off uint32) bool {
	strs, off := b.own(off)
	return int64(off) >= int64(len(strs)) || strs[off] == 0
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

// The info word: vlen in bits 0-23, kind in bits 24-30, kind flag in bit 31.
const (
	vlenMask = MaxVlen
	kindMask = 0x7f
)

// Kind returns the type's kind; KindUnknown for void. It may be a kind
// this package does not know (see Kind.Known), skipped by the layout
// section.
func (t Type) Kind() Kind { return Kind(t.info() >> 24 & kindMask) }

// Vlen returns the number of members, enumerators, parameters or variables.
func (t Type) Vlen() int { return int(t.info() & vlenMask) }

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

// Raw returns the type's encoded bytes, common header included. For a
// kind this package does not know, the layout section gives their length.
func (t Type) Raw() []byte {
	if t.ID == 0 {
		return nil
	}
	k, vlen := t.Kind(), t.Vlen()
	n := extraLen(k, vlen)
	if !k.Known() {
		// Parse checked the layout entry.
		l, _ := t.b.Layout(k)
		n = int(l.InfoSize) + vlen*int(l.ElemSize)
	}
	return t.b.types[t.off : t.off+12+uint32(n)]
}
