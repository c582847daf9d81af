package rawbtf

import "encoding/binary"

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
	num := map[TypeID]uint32{0: 0, id: 1}
	queue := []TypeID{id}
	var out []byte
	u32 := func(v uint32) { out = binary.LittleEndian.AppendUint32(out, v) }
	ref := func(r uint32) {
		n, ok := num[TypeID(r)]
		if !ok {
			n = uint32(len(num))
			num[TypeID(r)] = n
			queue = append(queue, TypeID(r))
		}
		u32(n)
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
	return out
}
