// Package btftest builds small BTFs in Go for tests: synthetic kernels with
// fields moved, renamed, retyped or duplicated, and local (object) types,
// in the classic format or in the format with a layout section, malformed
// on purpose where a test needs it. It encodes word by word and checks
// nothing; pkg/rawbtf's Encoder is the validating encoder.
package btftest

import (
	"encoding/binary"
	"fmt"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// Info encodes the info word of a type: vlen in bits 0-23, kind in bits
// 24-30, the kind flag in bit 31. Out-of-range values are truncated.
func Info(k rawbtf.Kind, vlen int, kflag bool) uint32 {
	v := uint32(k&0x7f)<<24 | uint32(vlen)&rawbtf.MaxVlen
	if kflag {
		v |= 1 << 31
	}
	return v
}

// ID is a type ID in a Builder.
type ID = rawbtf.TypeID

// M describes a struct or union member.
type M struct {
	Name     string
	Type     ID
	BitOff   uint32
	Bitfield uint32 // bitfield width; non-zero sets the kind flag of the struct
}

// E describes an enumerator.
type E struct {
	Name  string
	Value int64
}

// P describes a function parameter.
type P struct {
	Name string
	Type ID
}

type typ struct {
	name  string
	info  uint32
	st    uint32
	extra []any // uint32 words or string (name offset)
}

// Builder accumulates types. Forward references are allowed: IDs are
// assigned in call order starting at 1.
type Builder struct {
	types []typ
	Order binary.ByteOrder
	// Layout, when set, makes Bytes write the format with a layout
	// section: a 32-byte header locating it, and one entry per kind, as
	// libbpf's btf__new_empty_opts with add_layout lays it out (types,
	// layout, strings).
	Layout []rawbtf.KindLayout
	// base is set for split BTF (NewSplit).
	base *rawbtf.BTF
}

// KnownLayouts returns the layout section entries of the kinds rawbtf
// knows, indexed by kind, as the kernel's encoder writes them.
func KnownLayouts() []rawbtf.KindLayout {
	l := make([]rawbtf.KindLayout, rawbtf.KindEnum64+1)
	l[rawbtf.KindInt].InfoSize = 4
	l[rawbtf.KindArray].InfoSize = 12
	l[rawbtf.KindStruct].ElemSize = 12
	l[rawbtf.KindUnion].ElemSize = 12
	l[rawbtf.KindEnum].ElemSize = 8
	l[rawbtf.KindFuncProto].ElemSize = 8
	l[rawbtf.KindVar].InfoSize = 4
	l[rawbtf.KindDatasec].ElemSize = 12
	l[rawbtf.KindDeclTag].InfoSize = 4
	l[rawbtf.KindEnum64].ElemSize = 12
	return l
}

// WithLayout sets b.Layout to the known kinds' entries and extra (by
// kind, beyond the known kinds) and returns b.
func (b *Builder) WithLayout(extra map[rawbtf.Kind]rawbtf.KindLayout) *Builder {
	l := KnownLayouts()
	for k, e := range extra {
		for int(k) >= len(l) {
			l = append(l, rawbtf.KindLayout{})
		}
		l[k] = e
	}
	b.Layout = l
	return b
}

// New returns an empty little-endian Builder.
func New() *Builder { return &Builder{Order: binary.LittleEndian} }

// NewSplit returns an empty Builder of split BTF on base, as a kernel
// module's BTF is: IDs continue the base's, names the base holds are
// referred to at their offsets in the base (as pahole deduplicates them),
// and the types added may refer to the base's types by their IDs.
func NewSplit(base *rawbtf.BTF) *Builder {
	return &Builder{Order: base.ByteOrder(), base: base}
}

func (b *Builder) first() ID {
	if b.base == nil {
		return 1
	}
	return ID(b.base.NumTypes())
}

func (b *Builder) add(t typ) ID {
	b.types = append(b.types, t)
	return b.first() + ID(len(b.types)) - 1
}

// Next returns the ID the next added type will get.
func (b *Builder) Next() ID { return b.first() + ID(len(b.types)) }

// Int adds an INT of size bytes.
func (b *Builder) Int(name string, size uint32, signed bool) ID {
	enc := uint32(0)
	if signed {
		enc = rawbtf.IntSigned
	}
	return b.add(typ{name: name, info: Info(rawbtf.KindInt, 0, false), st: size, extra: []any{enc<<24 | size*8}})
}

// IntBits adds an INT with explicit bit offset and width (old-style bitfield).
func (b *Builder) IntBits(name string, size uint32, offset, bits uint8) ID {
	return b.add(typ{name: name, info: Info(rawbtf.KindInt, 0, false), st: size, extra: []any{uint32(offset)<<16 | uint32(bits)}})
}

// Float adds a FLOAT.
func (b *Builder) Float(name string, size uint32) ID {
	return b.add(typ{name: name, info: Info(rawbtf.KindFloat, 0, false), st: size})
}

// Ptr adds a pointer to target.
func (b *Builder) Ptr(target ID) ID {
	return b.add(typ{info: Info(rawbtf.KindPtr, 0, false), st: uint32(target)})
}

// Ref adds a TYPEDEF, CONST, VOLATILE, RESTRICT or TYPE_TAG.
func (b *Builder) Ref(kind rawbtf.Kind, name string, target ID) ID {
	return b.add(typ{name: name, info: Info(kind, 0, false), st: uint32(target)})
}

// Typedef adds a typedef.
func (b *Builder) Typedef(name string, target ID) ID { return b.Ref(rawbtf.KindTypedef, name, target) }

// Const adds a const qualifier.
func (b *Builder) Const(target ID) ID { return b.Ref(rawbtf.KindConst, "", target) }

// Array adds an array.
func (b *Builder) Array(elem, index ID, n uint32) ID {
	return b.add(typ{info: Info(rawbtf.KindArray, 0, false), extra: []any{uint32(elem), uint32(index), n}})
}

func (b *Builder) composite(kind rawbtf.Kind, name string, size uint32, ms []M) ID {
	kflag := false
	for _, m := range ms {
		if m.Bitfield != 0 {
			kflag = true
		}
	}
	var extra []any
	for _, m := range ms {
		off := m.BitOff
		if kflag {
			off |= m.Bitfield << 24
		}
		extra = append(extra, m.Name, uint32(m.Type), off)
	}
	return b.add(typ{name: name, info: Info(kind, len(ms), kflag), st: size, extra: extra})
}

// Struct adds a struct.
func (b *Builder) Struct(name string, size uint32, ms ...M) ID {
	return b.composite(rawbtf.KindStruct, name, size, ms)
}

// Union adds a union.
func (b *Builder) Union(name string, size uint32, ms ...M) ID {
	return b.composite(rawbtf.KindUnion, name, size, ms)
}

// Fwd adds a forward declaration (of a union when union is set).
func (b *Builder) Fwd(name string, union bool) ID {
	return b.add(typ{name: name, info: Info(rawbtf.KindFwd, 0, union)})
}

// Enum adds a 32-bit-valued ENUM of the given size.
func (b *Builder) Enum(name string, size uint32, signed bool, es ...E) ID {
	var extra []any
	for _, e := range es {
		extra = append(extra, e.Name, uint32(e.Value))
	}
	return b.add(typ{name: name, info: Info(rawbtf.KindEnum, len(es), signed), st: size, extra: extra})
}

// Enum64 adds an ENUM64.
func (b *Builder) Enum64(name string, size uint32, signed bool, es ...E) ID {
	var extra []any
	for _, e := range es {
		extra = append(extra, e.Name, uint32(uint64(e.Value)), uint32(uint64(e.Value)>>32))
	}
	return b.add(typ{name: name, info: Info(rawbtf.KindEnum64, len(es), signed), st: size, extra: extra})
}

// FuncProto adds a function prototype.
func (b *Builder) FuncProto(ret ID, ps ...P) ID {
	var extra []any
	for _, p := range ps {
		extra = append(extra, p.Name, uint32(p.Type))
	}
	return b.add(typ{info: Info(rawbtf.KindFuncProto, len(ps), false), st: uint32(ret), extra: extra})
}

// Func adds a function of the given prototype.
func (b *Builder) Func(name string, proto ID) ID {
	return b.add(typ{name: name, info: Info(rawbtf.KindFunc, 1, false), st: uint32(proto)})
}

// Raw adds a type with an arbitrary info word and records.
func (b *Builder) Raw(name string, info, sizeOrType uint32, words ...uint32) ID {
	var extra []any
	for _, w := range words {
		extra = append(extra, w)
	}
	return b.add(typ{name: name, info: info, st: sizeOrType, extra: extra})
}

// Bytes encodes the BTF.
func (b *Builder) Bytes() []byte {
	// Split BTF names what the base holds at its offsets in the base, as
	// pahole deduplicates them.
	baseStrs := map[string]uint32{}
	var start uint32
	if b.base != nil {
		for off := uint32(1); off < uint32(b.base.StringsLen()); {
			s := b.base.StringBytes(off)
			if _, ok := baseStrs[string(s)]; !ok {
				baseStrs[string(s)] = off
			}
			off += uint32(len(s)) + 1
		}
		start = uint32(b.base.StringsLen())
	}
	own := []byte{0}
	ownIdx := map[string]uint32{}
	str := func(s string) uint32 {
		if s == "" {
			return 0
		}
		if off, ok := baseStrs[s]; ok {
			return off
		}
		if off, ok := ownIdx[s]; ok {
			return off
		}
		off := start + uint32(len(own))
		own = append(append(own, s...), 0)
		ownIdx[s] = off
		return off
	}
	var types []byte
	o := b.Order.(binary.AppendByteOrder)
	u32 := func(v uint32) { types = o.AppendUint32(types, v) }
	for _, t := range b.types {
		u32(str(t.name))
		u32(t.info)
		u32(t.st)
		for _, x := range t.extra {
			switch v := x.(type) {
			case uint32:
				u32(v)
			case string:
				u32(str(v))
			}
		}
	}
	var layout []byte
	for _, l := range b.Layout {
		layout = append(layout, l.InfoSize, l.ElemSize)
		layout = o.AppendUint16(layout, l.Flags)
	}
	hdrLen := 24
	if b.Layout != nil {
		hdrLen = 32
	}
	hdr := make([]byte, hdrLen)
	p := b.Order
	p.PutUint16(hdr, rawbtf.Magic)
	hdr[2] = 1
	p.PutUint32(hdr[4:], uint32(hdrLen))
	p.PutUint32(hdr[12:], uint32(len(types)))
	p.PutUint32(hdr[16:], uint32(len(types)+len(layout)))
	p.PutUint32(hdr[20:], uint32(len(own)))
	if b.Layout != nil {
		p.PutUint32(hdr[24:], uint32(len(types)))
		p.PutUint32(hdr[28:], uint32(len(layout)))
	}
	return append(append(append(hdr, types...), layout...), own...)
}

// FromBTF returns a Builder holding every type of src (a base BTF), to
// add types to or re-encode in another format: its types are copied word
// for word, names as strings. It panics on split BTF.
func FromBTF(src *rawbtf.BTF) *Builder {
	if src.IsSplit() {
		panic("btftest.FromBTF: split BTF")
	}
	b := &Builder{Order: src.ByteOrder()}
	for id := 1; id < src.NumTypes(); id++ {
		t := src.Type(rawbtf.TypeID(id))
		raw := t.Raw()
		word := func(i int) uint32 { return src.ByteOrder().Uint32(raw[4*i:]) }
		// Which record words are name offsets: the first of each entry.
		step := 0
		switch t.Kind() {
		case rawbtf.KindStruct, rawbtf.KindUnion, rawbtf.KindEnum64:
			step = 3
		case rawbtf.KindEnum, rawbtf.KindFuncProto:
			step = 2
		}
		extra := make([]any, 0, len(raw)/4-3)
		for w := 0; w < len(raw)/4-3; w++ {
			v := word(3 + w)
			if step > 0 && w%step == 0 {
				extra = append(extra, string(src.StringBytes(v)))
			} else {
				extra = append(extra, v)
			}
		}
		b.add(typ{name: t.Name(), info: word(1), st: word(2), extra: extra})
	}
	return b
}

// Unknown adds a type of kind k, which rawbtf does not know, with vlen
// entries: info holds infoSize bytes and each entry elemSize bytes (both
// multiples of 4), all words filled with fill. A layout section must
// describe k (WithLayout) for rawbtf to read it.
func (b *Builder) Unknown(k rawbtf.Kind, name string, vlen int, infoSize, elemSize int, fill uint32) ID {
	if k.Known() || infoSize%4 != 0 || elemSize%4 != 0 {
		panic(fmt.Sprintf("btftest.Unknown: kind %d, sizes %d and %d", k, infoSize, elemSize))
	}
	extra := make([]any, (infoSize+vlen*elemSize)/4)
	for i := range extra {
		extra[i] = fill
	}
	return b.add(typ{name: name, info: Info(k, vlen, false), st: 0, extra: extra})
}

// BTF encodes and parses the BTF, panicking on error (test input is
// expected to be valid). Split BTF is parsed on its base.
func (b *Builder) BTF() *rawbtf.BTF {
	var spec *rawbtf.BTF
	var err error
	if b.base != nil {
		spec, err = rawbtf.ParseSplit(b.Bytes(), b.base)
	} else {
		spec, err = rawbtf.Parse(b.Bytes())
	}
	if err != nil {
		panic(err)
	}
	return spec
}

// The kinds of the 2026 location information (BTF_KIND_LOC_PARAM,
// LOC_PROTO and LOCSEC: inline sites), which rawbtf does not know.
const (
	KindLocParam rawbtf.Kind = 20
	KindLocProto rawbtf.Kind = 21
	KindLocSec   rawbtf.Kind = 22
)

// LocationLayouts are the layout section entries of the location kinds,
// for WithLayout.
var LocationLayouts = map[rawbtf.Kind]rawbtf.KindLayout{
	KindLocParam: {InfoSize: 4, ElemSize: 4},
	KindLocProto: {ElemSize: 4},
	KindLocSec:   {ElemSize: 12},
}

// AddLocations adds location information as a kernel with inline sites
// has it: a LOC_PARAM, a LOC_PROTO referring to it and a LOCSEC of sites
// entries (sites may exceed 65535: vlen has 24 bits). WithLayout with
// LocationLayouts makes it readable.
func (b *Builder) AddLocations(sites int) {
	param := b.Unknown(KindLocParam, "", 1, 4, 4, 8)
	b.add(typ{info: Info(KindLocProto, 1, false), extra: []any{uint32(param)}})
	b.Unknown(KindLocSec, "inline.text", sites, 0, 12, 1)
}

// NewFormatOf re-encodes the base BTF full in the format with a layout
// section, as a 2026 kernel's: location information (AddLocations) of
// sites sites follows its types and, when wide is not 0, a struct
// btftool_wide of wide int members.
func NewFormatOf(full *rawbtf.BTF, sites, wide int) []byte {
	b := FromBTF(full)
	b.AddLocations(sites)
	if wide > 0 {
		i := b.Int("int", 4, true)
		ms := make([]M, wide)
		for j := range ms {
			ms[j] = M{Name: "m", Type: i, BitOff: uint32(32 * j)}
		}
		b.Struct("btftool_wide", uint32(4*wide), ms...)
	}
	return b.WithLayout(LocationLayouts).Bytes()
}
