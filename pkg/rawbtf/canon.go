package rawbtf

import (
	"encoding/binary"
	"slices"
)

// CanonicalForm encodes the graph of types reachable from id so that two
// types, of the same BTF or of different ones, have equal canonical forms
// exactly when their graphs are isomorphic: same kinds, names, sizes,
// encodings, members, offsets, enumerators and values, referring to each
// other in the same way. Type IDs do not appear in it, and neither does
// anything outside the graph (such as the BTF's pointer size).
//
// Anything that reads a type only through this package's accessors, follows
// references and never compares type IDs therefore computes the same
// result for two types with the same canonical form.
//
// Types are numbered in breadth-first order from id, following references
// in record order; each type is written once, with the numbers of the
// types it refers to in place of their IDs.
func (b *BTF) CanonicalForm(id TypeID) []byte {
	var c Canonicalizer
	return slices.Clip(c.Form(b, id))
}

// Canonicalizer computes canonical forms (BTF.CanonicalForm) one after
// another with the same working memory: the types of a large BTF reach
// thousands of others. The zero value is ready for use; it is not safe
// for concurrent use.
type Canonicalizer struct {
	num     []uint32 // 1 + each type's number, 0 when not numbered
	touched []TypeID
	queue   []TypeID
	out     []byte
}

// Form returns the canonical form of type id of b. It is valid until the
// next call.
func (c *Canonicalizer) Form(b *BTF, id TypeID) []byte {
	for _, t := range c.touched {
		if int(t) < len(c.num) {
			c.num[t] = 0
		}
	}
	if n := b.NumTypes() + 1; len(c.num) < n {
		c.num = make([]uint32, n)
	}
	num := c.num
	c.touched = append(c.touched[:0], 0, id)
	num[0], num[id] = 1, 2 // void is 0, id is 1
	queue := append(c.queue[:0], id)
	next := uint32(2)
	out := c.out[:0]
	u32 := func(v uint32) { out = binary.LittleEndian.AppendUint32(out, v) }
	ref := func(r uint32) {
		if int64(r) >= int64(len(num)) {
			// Out of range: numbered like a type, written as invalid.
			u32(0xffffffff)
			return
		}
		n := num[r]
		if n == 0 {
			next++
			n = next
			num[r] = n
			c.touched = append(c.touched, TypeID(r))
			queue = append(queue, TypeID(r))
		}
		u32(n - 1)
	}
	name := func(off uint32) {
		s := b.StringBytes(off)
		u32(uint32(len(s)))
		out = append(out, s...)
	}
	for len(queue) > 0 {
		t := b.Type(queue[0])
		queue = queue[1:]
		if t.ID == 0 || !b.Valid(t.ID) {
			u32(0)
			continue
		}
		info := t.info()
		k := t.Kind()
		u32(info)
		name(t.u32(0))
		if k.hasRef() {
			ref(t.u32(8))
		} else {
			u32(t.u32(8))
		}
		vlen := t.Vlen()
		switch k {
		case KindInt, KindVar, KindDeclTag:
			u32(t.u32(12))
		case KindArray:
			ref(t.u32(12))
			ref(t.u32(16))
			u32(t.u32(20))
		case KindStruct, KindUnion:
			for i := range vlen {
				at := 12 + uint32(i)*12
				name(t.u32(at))
				ref(t.u32(at + 4))
				u32(t.u32(at + 8))
			}
		case KindEnum:
			for i := range vlen {
				at := 12 + uint32(i)*8
				name(t.u32(at))
				u32(t.u32(at + 4))
			}
		case KindEnum64:
			for i := range vlen {
				at := 12 + uint32(i)*12
				name(t.u32(at))
				u32(t.u32(at + 4))
				u32(t.u32(at + 8))
			}
		case KindFuncProto:
			for i := range vlen {
				at := 12 + uint32(i)*8
				name(t.u32(at))
				ref(t.u32(at + 4))
			}
		case KindDatasec:
			for i := range vlen {
				at := 12 + uint32(i)*12
				ref(t.u32(at))
				u32(t.u32(at + 4))
				u32(t.u32(at + 8))
			}
		}
	}
	c.queue, c.out = queue[:0], out
	return out
}
