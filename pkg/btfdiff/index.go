package btfdiff

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// class is the kind class by which top-level types are identified.
type class uint8

const (
	clsNone class = iota
	clsStruct
	clsUnion
	clsEnum
	clsTypedef
	clsInt
	clsFloat
	clsFwd
	clsFunc
	clsVar
)

var classNames = [...]string{"", "struct", "union", "enum", "typedef", "int", "float", "fwd", "func", "var"}

func (c class) String() string { return classNames[c] }

func classOf(k rawbtf.Kind) class {
	switch k {
	case rawbtf.KindStruct:
		return clsStruct
	case rawbtf.KindUnion:
		return clsUnion
	case rawbtf.KindEnum, rawbtf.KindEnum64:
		return clsEnum
	case rawbtf.KindTypedef:
		return clsTypedef
	case rawbtf.KindInt:
		return clsInt
	case rawbtf.KindFloat:
		return clsFloat
	case rawbtf.KindFwd:
		return clsFwd
	case rawbtf.KindFunc:
		return clsFunc
	case rawbtf.KindVar:
		return clsVar
	}
	return clsNone
}

// entry is one top-level type of a side: named, or an anonymous struct,
// union or enum that no other type refers to.
type entry struct {
	name []byte // aliases the BTF; nil when anonymous
	id   rawbtf.TypeID
	cls  class
}

func compareEntries(a, b entry) int {
	if c := bytes.Compare(a.name, b.name); c != 0 {
		return c
	}
	if c := cmp.Compare(a.cls, b.cls); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// side is one BTF being compared, with memoized type descriptions.
type side struct {
	b *rawbtf.BTF
	// desc[id] is the hash of how type id is described where it is
	// referenced; 0 means not computed yet, busy that it is being computed.
	desc    []uint64
	entries []entry // sorted by name, class and ID
}

const busy = 1

func newSide(b *rawbtf.BTF) *side {
	s := &side{b: b, desc: make([]uint64, b.NumTypes())}
	n := b.NumTypes()
	// Mark anonymous composites and enums some other type refers to: they
	// are compared through their referrers.
	referenced := make([]bool, n)
	entries := 0
	for id := 1; id < n; id++ {
		t := b.Type(rawbtf.TypeID(id))
		switch t.Kind() {
		case rawbtf.KindStruct, rawbtf.KindUnion:
			for i := range t.Vlen() {
				referenced[t.Member(i).Type] = true
			}
		case rawbtf.KindPtr, rawbtf.KindTypedef, rawbtf.KindVolatile, rawbtf.KindConst,
			rawbtf.KindRestrict, rawbtf.KindTypeTag, rawbtf.KindFunc, rawbtf.KindVar:
			referenced[t.Ref()] = true
		case rawbtf.KindArray:
			referenced[t.Array().Type] = true
		case rawbtf.KindFuncProto:
			referenced[t.Ref()] = true
			for i := range t.Vlen() {
				referenced[t.Param(i).Type] = true
			}
		}
		if classOf(t.Kind()) != clsNone {
			entries++
		}
	}
	s.entries = make([]entry, 0, entries)
	for id := 1; id < n; id++ {
		t := b.Type(rawbtf.TypeID(id))
		c := classOf(t.Kind())
		if c == clsNone {
			continue
		}
		name := t.NameBytes()
		if len(name) == 0 {
			if referenced[id] || (c != clsStruct && c != clsUnion && c != clsEnum) {
				continue
			}
			name = nil
		}
		s.entries = append(s.entries, entry{name: name, id: rawbtf.TypeID(id), cls: c})
	}
	slices.SortFunc(s.entries, compareEntries)
	return s
}

// Hashing: a fast 64-bit mix, deterministic across runs and byte orders.

const (
	seedVoid uint64 = 0x9ae16a3b2f90404f + iota
	seedNamed
	seedPtr
	seedConst
	seedVolatile
	seedRestrict
	seedArray
	seedProto
	seedComposite
	seedEnum
	seedMember
	seedEnumerator
	seedCycle
	seedOther
	seedShape
)

func mix(h, v uint64) uint64 {
	h ^= v
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>31
}

func mixBytes(h uint64, p []byte) uint64 {
	h = mix(h, uint64(len(p)))
	for len(p) >= 8 {
		h = mix(h, binary.LittleEndian.Uint64(p))
		p = p[8:]
	}
	var t uint64
	for i, c := range p {
		t |= uint64(c) << (8 * i)
	}
	return mix(h, t)
}

// maxDepth bounds recursion through anonymous types in hostile input.
const maxDepth = 64

// descOf returns the hash of how type id is referred to: named types by
// kind class and name, others by structure.
func (s *side) descOf(id rawbtf.TypeID, depth int) uint64 {
	if id == 0 {
		return seedVoid
	}
	if !s.b.Valid(id) {
		return seedOther
	}
	switch v := s.desc[id]; {
	case v > busy:
		return v
	case v == busy || depth > maxDepth:
		return seedCycle
	}
	s.desc[id] = busy
	t := s.b.Type(id)
	var h uint64
	switch k := t.Kind(); k {
	case rawbtf.KindTypeTag:
		h = s.descOf(t.Ref(), depth+1)
	case rawbtf.KindPtr:
		h = mix(seedPtr, s.descOf(t.Ref(), depth+1))
	case rawbtf.KindConst:
		h = mix(seedConst, s.descOf(t.Ref(), depth+1))
	case rawbtf.KindVolatile:
		h = mix(seedVolatile, s.descOf(t.Ref(), depth+1))
	case rawbtf.KindRestrict:
		h = mix(seedRestrict, s.descOf(t.Ref(), depth+1))
	case rawbtf.KindArray:
		a := t.Array()
		h = mix(mix(seedArray, uint64(a.Nelems)), s.descOf(a.Type, depth+1))
	case rawbtf.KindFuncProto:
		h = s.protoHash(t, depth)
	case rawbtf.KindStruct, rawbtf.KindUnion, rawbtf.KindEnum, rawbtf.KindEnum64, rawbtf.KindFwd:
		name := t.NameBytes()
		if len(name) == 0 {
			h = s.shape(t, depth)
			break
		}
		c := classOf(k)
		if k == rawbtf.KindFwd {
			// "struct foo" whether or not it is defined.
			c = clsStruct
			if t.KindFlag() {
				c = clsUnion
			}
		}
		h = mixBytes(mix(seedNamed, uint64(c)), name)
	default:
		h = mixBytes(mix(seedNamed, uint64(classOf(k))+100*uint64(k)), t.NameBytes())
	}
	if h <= busy {
		h += 2
	}
	s.desc[id] = h
	return h
}

func (s *side) protoHash(t rawbtf.Type, depth int) uint64 {
	h := mix(mix(seedProto, uint64(t.Vlen())), s.descOf(t.Ref(), depth+1))
	for i := range t.Vlen() {
		h = mix(h, s.descOf(t.Param(i).Type, depth+1))
	}
	return h
}

// memberHash is the hash of one member: name, type, offset, bitfield.
func (s *side) memberHash(m rawbtf.Member, depth int) uint64 {
	h := mixBytes(seedMember, s.b.StringBytes(m.NameOff))
	h = mix(h, s.descOf(m.Type, depth+1))
	return mix(h, uint64(m.BitOffset)|uint64(m.BitfieldSize)<<32)
}

// enumValue returns enumerator i's value as it is printed: signed, or
// unsigned in the enum's width.
func enumValue(t rawbtf.Type, i int) uint64 {
	v := t.EnumValue(i).Value
	if t.Kind() == rawbtf.KindEnum && !t.KindFlag() {
		v &= 0xffffffff
	}
	return v
}

// shape returns the structural hash of a type: what must be equal for two
// same-named types to have no differences. Members and enumerators count
// regardless of their order.
func (s *side) shape(t rawbtf.Type, depth int) uint64 {
	k := t.Kind()
	h := mix(seedShape, uint64(k))
	switch k {
	case rawbtf.KindStruct, rawbtf.KindUnion:
		h = mix(h, uint64(t.Size()))
		var sum uint64
		for i := range t.Vlen() {
			sum += s.memberHash(t.Member(i), depth)
		}
		return mix(h, sum)
	case rawbtf.KindEnum, rawbtf.KindEnum64:
		h = mix(h, uint64(t.Size()))
		if t.KindFlag() {
			h = mix(h, 1)
		}
		var sum uint64
		for i := range t.Vlen() {
			sum += mix(mixBytes(seedEnumerator, s.b.StringBytes(t.EnumValue(i).NameOff)), enumValue(t, i))
		}
		return mix(h, sum)
	case rawbtf.KindTypedef:
		return mix(h, s.descOf(t.Ref(), depth+1))
	case rawbtf.KindInt:
		enc, off, bits := t.IntEncoding()
		return mix(h, uint64(t.Size())<<32|uint64(enc)<<16|uint64(off)<<8|uint64(bits))
	case rawbtf.KindFloat:
		return mix(h, uint64(t.Size()))
	case rawbtf.KindFwd:
		if t.KindFlag() {
			return mix(h, 1)
		}
		return h
	case rawbtf.KindFunc, rawbtf.KindVar:
		return mix(mix(h, uint64(t.Linkage())), s.descOf(t.Ref(), depth+1))
	}
	return h
}
