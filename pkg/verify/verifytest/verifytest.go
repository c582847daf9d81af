// Package verifytest damages BTF on purpose, for tests that check that
// verification fails when it should: it re-encodes a raw BTF with one
// member or enumerator dropped or moved.
package verifytest

import (
	"errors"
	"fmt"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// ErrNoEdit means the type or member an Edit names is not in the BTF.
var ErrNoEdit = errors.New("nothing to edit")

// Edit is one change to a struct, union or enum, named by type and member
// (or enumerator) name. The first type of that name holding that member
// is changed.
type Edit struct {
	Type   string
	Member string
	// Drop removes the member or enumerator.
	Drop bool
	// ShiftBits is added to the member's bit offset.
	ShiftBits uint32
	// AddValue is added to the enumerator's value.
	AddValue uint64
}

// locate finds the entry (member or enumerator) e names among the vlen
// entries of a type, when target says the type is the one to edit. It
// returns its index (-1 if none), the index to leave out (-1 if none) and
// the number of entries to encode.
func (e Edit) locate(target bool, vlen int, nameOff func(int) uint32, k *rawbtf.BTF) (at, skip, n int) {
	at, skip, n = -1, -1, vlen
	for i := 0; target && i < vlen; i++ {
		if k.String(nameOff(i)) == e.Member {
			at = i
			if e.Drop {
				skip, n = i, vlen-1
			}
			break
		}
	}
	return at, skip, n
}

// Apply re-encodes raw with e applied, in raw's byte order, keeping every
// other type, ID and string as it is. It returns an error wrapping
// ErrNoEdit when e matches nothing.
func Apply(raw []byte, e Edit) ([]byte, error) {
	k, err := rawbtf.Parse(raw)
	if err != nil {
		return nil, err
	}
	done := false
	b := rawbtf.NewBuilder(k.ByteOrder())
	for id := 1; id < k.NumTypes(); id++ {
		t := k.Type(rawbtf.TypeID(id))
		name := b.AddString(t.NameBytes())
		kind, vlen, kflag := t.Kind(), t.Vlen(), t.KindFlag()
		target := !done && t.Name() == e.Type
		switch kind {
		case rawbtf.KindStruct, rawbtf.KindUnion:
			at, skip, n := e.locate(target, vlen, func(i int) uint32 { return t.Member(i).NameOff }, k)
			done = done || at >= 0
			b.BeginType(name, rawbtf.Info(kind, n, kflag), t.Size())
			for i := 0; i < vlen; i++ {
				if i == skip {
					continue
				}
				m := t.Member(i)
				off := t.MemberRawOffset(i)
				if i == at {
					off += e.ShiftBits
				}
				b.U32(b.AddString(k.StringBytes(m.NameOff)))
				b.U32(uint32(m.Type))
				b.U32(off)
			}
		case rawbtf.KindEnum, rawbtf.KindEnum64:
			at, skip, n := e.locate(target, vlen, func(i int) uint32 { return t.EnumValue(i).NameOff }, k)
			done = done || at >= 0
			b.BeginType(name, rawbtf.Info(kind, n, kflag), t.Size())
			for i := 0; i < vlen; i++ {
				if i == skip {
					continue
				}
				v := t.EnumValue(i)
				if i == at {
					v.Value += e.AddValue
				}
				b.U32(b.AddString(k.StringBytes(v.NameOff)))
				b.U32(uint32(v.Value))
				if kind == rawbtf.KindEnum64 {
					b.U32(uint32(v.Value >> 32))
				}
			}
		default:
			copyType(b, k, t, name)
		}
	}
	if !done {
		return nil, fmt.Errorf("%w: %s.%s", ErrNoEdit, e.Type, e.Member)
	}
	return b.Bytes(), nil
}

// copyType re-encodes t unchanged but for its strings.
func copyType(b *rawbtf.Builder, k *rawbtf.BTF, t rawbtf.Type, name uint32) {
	kind, vlen, kflag := t.Kind(), t.Vlen(), t.KindFlag()
	b.BeginType(name, rawbtf.Info(kind, vlen, kflag), t.SizeOrType())
	switch kind {
	case rawbtf.KindInt, rawbtf.KindVar, rawbtf.KindDeclTag:
		b.U32(rawbtf.RawU32(t, 12))
	case rawbtf.KindArray:
		a := t.Array()
		b.U32(uint32(a.Type))
		b.U32(uint32(a.IndexType))
		b.U32(a.Nelems)
	case rawbtf.KindFuncProto:
		for i := 0; i < vlen; i++ {
			p := t.Param(i)
			b.U32(b.AddString(k.StringBytes(p.NameOff)))
			b.U32(uint32(p.Type))
		}
	case rawbtf.KindDatasec:
		for i := 0; i < vlen; i++ {
			v := t.VarSecinfo(i)
			b.U32(uint32(v.Type))
			b.U32(v.Offset)
			b.U32(v.Size)
		}
	}
}
