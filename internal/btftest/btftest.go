// Package btftest builds small BTFs in Go for tests: synthetic kernels with
// fields moved, renamed, retyped or duplicated, and local (object) types.
package btftest

import (
	"encoding/binary"

	"github.com/btftool/btftool/pkg/rawbtf"
)

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
	// base is set for split BTF (NewSplit).
	base *rawbtf.BTF
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
	return b.add(typ{name: name, info: rawbtf.Info(rawbtf.KindInt, 0, false), st: size, extra: []any{enc<<24 | size*8}})
}

// IntBits adds an INT with explicit bit offset and width (old-style bitfield).
func (b *Builder) IntBits(name string, size uint32, offset, bits uint8) ID {
	return b.add(typ{name: name, info: rawbtf.Info(rawbtf.KindInt, 0, false), st: size, extra: []any{uint32(offset)<<16 | uint32(bits)}})
}

// Float adds a FLOAT.
func (b *Builder) Float(name string, size uint32) ID {
	return b.add(typ{name: name, info: rawbtf.Info(rawbtf.KindFloat, 0, false), st: size})
}

// Ptr adds a pointer to target.
func (b *Builder) Ptr(target ID) ID {
	return b.add(typ{info: rawbtf.Info(rawbtf.KindPtr, 0, false), st: uint32(target)})
}

// Ref adds a TYPEDEF, CONST, VOLATILE, RESTRICT or TYPE_TAG.
func (b *Builder) Ref(kind rawbtf.Kind, name string, target ID) ID {
	return b.add(typ{name: name, info: rawbtf.Info(kind, 0, false), st: uint32(target)})
}

// Typedef adds a typedef.
func (b *Builder) Typedef(name string, target ID) ID { return b.Ref(rawbtf.KindTypedef, name, target) }

// Const adds a const qualifier.
func (b *Builder) Const(target ID) ID { return b.Ref(rawbtf.KindConst, "", target) }

// Array adds an array.
func (b *Builder) Array(elem, index ID, n uint32) ID {
	return b.add(typ{info: rawbtf.Info(rawbtf.KindArray, 0, false), extra: []any{uint32(elem), uint32(index), n}})
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
	return b.add(typ{name: name, info: rawbtf.Info(kind, len(ms), kflag), st: size, extra: extra})
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
	return b.add(typ{name: name, info: rawbtf.Info(rawbtf.KindFwd, 0, union)})
}

// Enum adds a 32-bit-valued ENUM of the given size.
func (b *Builder) Enum(name string, size uint32, signed bool, es ...E) ID {
	var extra []any
	for _, e := range es {
		extra = append(extra, e.Name, uint32(e.Value))
	}
	return b.add(typ{name: name, info: rawbtf.Info(rawbtf.KindEnum, len(es), signed), st: size, extra: extra})
}

// Enum64 adds an ENUM64.
func (b *Builder) Enum64(name string, size uint32, signed bool, es ...E) ID {
	var extra []any
	for _, e := range es {
		extra = append(extra, e.Name, uint32(uint64(e.Value)), uint32(uint64(e.Value)>>32))
	}
	return b.add(typ{name: name, info: rawbtf.Info(rawbtf.KindEnum64, len(es), signed), st: size, extra: extra})
}

// FuncProto adds a function prototype.
func (b *Builder) FuncProto(ret ID, ps ...P) ID {
	var extra []any
	for _, p := range ps {
		extra = append(extra, p.Name, uint32(p.Type))
	}
	return b.add(typ{info: rawbtf.Info(rawbtf.KindFuncProto, len(ps), false), st: uint32(ret), extra: extra})
}

// Func adds a function of the given prototype.
func (b *Builder) Func(name string, proto ID) ID {
	return b.add(typ{name: name, info: rawbtf.Info(rawbtf.KindFunc, 1, false), st: uint32(proto)})
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
	if b.base != nil {
		return b.splitBytes()
	}
	rb := rawbtf.NewBuilder(b.Order)
	for _, t := range b.types {
		rb.BeginType(rb.AddString([]byte(t.name)), t.info, t.st)
		for _, x := range t.extra {
			switch v := x.(type) {
			case uint32:
				rb.U32(v)
			case string:
				rb.U32(rb.AddString([]byte(v)))
			}
		}
	}
	return rb.Bytes()
}

// splitBytes encodes split BTF on b.base.
func (b *Builder) splitBytes() []byte {
	baseStrs := map[string]uint32{}
	for off := uint32(1); off < uint32(b.base.StringsLen()); {
		s := b.base.StringBytes(off)
		if _, ok := baseStrs[string(s)]; !ok {
			baseStrs[string(s)] = off
		}
		off += uint32(len(s)) + 1
	}
	start := uint32(b.base.StringsLen())
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
	var w [4]byte
	u32 := func(v uint32) { b.Order.PutUint32(w[:], v); types = append(types, w[:]...) }
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
	hdr := make([]byte, 24)
	b.Order.PutUint16(hdr, rawbtf.Magic)
	hdr[2] = 1
	b.Order.PutUint32(hdr[4:], 24)
	b.Order.PutUint32(hdr[12:], uint32(len(types)))
	b.Order.PutUint32(hdr[16:], uint32(len(types)))
	b.Order.PutUint32(hdr[20:], uint32(len(own)))
	return append(append(hdr, types...), own...)
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
