package rawbtf

import "encoding/binary"

// Builder encodes a new BTF. Types get consecutive IDs from 1 in the order
// they are added; strings are deduplicated. The encoding is deterministic.
type Builder struct {
	order   binary.ByteOrder
	types   []byte
	strs    []byte
	strIdx  map[string]uint32
	ntypes  int
	scratch [4]byte
}

// NewBuilder returns a Builder that encodes in the given byte order.
func NewBuilder(order binary.ByteOrder) *Builder {
	return &Builder{order: order, strs: []byte{0}, strIdx: map[string]uint32{"": 0}}
}

// AddString adds s to the string section (once) and returns its offset.
func (b *Builder) AddString(s []byte) uint32 {
	if off, ok := b.strIdx[string(s)]; ok {
		return off
	}
	off := uint32(len(b.strs))
	b.strs = append(b.strs, s...)
	b.strs = append(b.strs, 0)
	b.strIdx[string(s)] = off
	return off
}

// Info encodes the info word of a type.
func Info(k Kind, vlen int, kflag bool) uint32 {
	v := uint32(k)<<24 | uint32(vlen)&0xffff
	if kflag {
		v |= 1 << 31
	}
	return v
}

// BeginType appends a type's common header and returns its new ID. The
// caller then appends exactly the records its kind and vlen call for with
// U32.
func (b *Builder) BeginType(nameOff, info, sizeOrType uint32) TypeID {
	b.ntypes++
	b.U32(nameOff)
	b.U32(info)
	b.U32(sizeOrType)
	return TypeID(b.ntypes)
}

// U32 appends one 32-bit word to the type section.
func (b *Builder) U32(v uint32) {
	b.order.PutUint32(b.scratch[:], v)
	b.types = append(b.types, b.scratch[:]...)
}

// NumTypes returns the number of types added so far, void included.
func (b *Builder) NumTypes() int { return b.ntypes + 1 }

// Bytes returns the encoded BTF: header, type section, string section.
func (b *Builder) Bytes() []byte {
	out := make([]byte, headerLen, headerLen+len(b.types)+len(b.strs))
	o := b.order
	o.PutUint16(out[0:], Magic)
	out[2] = 1 // version
	out[3] = 0 // flags
	o.PutUint32(out[4:], headerLen)
	o.PutUint32(out[8:], 0)
	o.PutUint32(out[12:], uint32(len(b.types)))
	o.PutUint32(out[16:], uint32(len(b.types)))
	o.PutUint32(out[20:], uint32(len(b.strs)))
	out = append(out, b.types...)
	return append(out, b.strs...)
}
