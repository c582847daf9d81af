package btfgen

import (
	"github.com/btftool/btftool/pkg/rawbtf"
)

// emit encodes the kept types of the kernel BTF in their original order,
// in the kernel's byte order. References to types not kept (pointer
// targets never followed) become void. Hidden types (see hideShadowed)
// are emitted anonymous, or elided for typedefs. It returns the encoding
// and the kernel type ID of every new ID.
func emit(k *rawbtf.BTF, m *marks) ([]byte, []rawbtf.TypeID) {
	oldToNew := make(map[rawbtf.TypeID]rawbtf.TypeID)
	newToOld := []rawbtf.TypeID{0}
	// A hidden typedef is elided: what refers to it refers to its target.
	elided := func(id rawbtf.TypeID) bool {
		return m.hidden[id] && k.Type(id).Kind() == rawbtf.KindTypedef
	}
	for id := 1; id < k.NumTypes(); id++ {
		if m.flags[id]&kept != 0 && !elided(rawbtf.TypeID(id)) {
			oldToNew[rawbtf.TypeID(id)] = rawbtf.TypeID(len(newToOld))
			newToOld = append(newToOld, rawbtf.TypeID(id))
		}
	}
	remap := func(id rawbtf.TypeID) uint32 {
		for n := 0; n < 1<<16 && elided(id); n++ {
			id = k.Type(id).Ref()
		}
		return uint32(oldToNew[id])
	}
	b := rawbtf.NewBuilder(k.ByteOrder())
	for _, id := range newToOld[1:] {
		t := k.Type(id)
		var name uint32
		if !m.hidden[id] {
			name = b.AddString(t.NameBytes())
		}
		kind, vlen, kflag := t.Kind(), t.Vlen(), t.KindFlag()
		switch kind {
		case rawbtf.KindInt:
			b.BeginType(name, rawbtf.Info(kind, 0, kflag), t.Size())
			b.U32(rawbtf.RawU32(t, 12))
		case rawbtf.KindPtr, rawbtf.KindTypedef, rawbtf.KindVolatile, rawbtf.KindConst,
			rawbtf.KindRestrict, rawbtf.KindTypeTag, rawbtf.KindFunc:
			b.BeginType(name, rawbtf.Info(kind, vlen, kflag), remap(t.Ref()))
		case rawbtf.KindVar:
			b.BeginType(name, rawbtf.Info(kind, 0, kflag), remap(t.Ref()))
			b.U32(t.Linkage())
		case rawbtf.KindDeclTag:
			b.BeginType(name, rawbtf.Info(kind, 0, kflag), remap(t.Ref()))
			b.U32(uint32(t.ComponentIdx()))
		case rawbtf.KindArray:
			a := t.Array()
			b.BeginType(name, rawbtf.Info(kind, 0, false), 0)
			b.U32(remap(a.Type))
			b.U32(remap(a.IndexType))
			b.U32(a.Nelems)
		case rawbtf.KindStruct, rawbtf.KindUnion:
			n := 0
			for i := 0; i < vlen; i++ {
				if m.memberKept(id, i) {
					n++
				}
			}
			b.BeginType(name, rawbtf.Info(kind, n, kflag), t.Size())
			for i := 0; i < vlen; i++ {
				if !m.memberKept(id, i) {
					continue
				}
				mem := t.Member(i)
				b.U32(b.AddString(k.StringBytes(mem.NameOff)))
				b.U32(remap(mem.Type))
				b.U32(t.MemberRawOffset(i))
			}
		case rawbtf.KindEnum, rawbtf.KindEnum64:
			b.BeginType(name, rawbtf.Info(kind, vlen, kflag), t.Size())
			for i := 0; i < vlen; i++ {
				v := t.EnumValue(i)
				b.U32(b.AddString(k.StringBytes(v.NameOff)))
				b.U32(uint32(v.Value))
				if kind == rawbtf.KindEnum64 {
					b.U32(uint32(v.Value >> 32))
				}
			}
		case rawbtf.KindFuncProto:
			b.BeginType(name, rawbtf.Info(kind, vlen, kflag), remap(t.Ref()))
			for i := 0; i < vlen; i++ {
				p := t.Param(i)
				b.U32(b.AddString(k.StringBytes(p.NameOff)))
				b.U32(remap(p.Type))
			}
		case rawbtf.KindDatasec:
			b.BeginType(name, rawbtf.Info(kind, vlen, kflag), t.Size())
			for i := 0; i < vlen; i++ {
				v := t.VarSecinfo(i)
				b.U32(remap(v.Type))
				b.U32(v.Offset)
				b.U32(v.Size)
			}
		default: // FWD, FLOAT
			b.BeginType(name, rawbtf.Info(kind, vlen, kflag), t.SizeOrType())
		}
	}
	return b.Bytes(), newToOld
}
