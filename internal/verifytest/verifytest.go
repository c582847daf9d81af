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

// locate returns the index of the member or enumerator e names in t, -1
// if t is not the type to edit or has no such entry.
func (e Edit) locate(t rawbtf.Type) int {
	k := t.Kind()
	if t.Name() != e.Type || (!k.IsComposite() && !k.IsEnum()) {
		return -1
	}
	b := t.BTF()
	for i := range t.Vlen() {
		off := uint32(0)
		if k.IsComposite() {
			off = t.MemberNameOff(i)
		} else {
			off = t.EnumValue(i).NameOff
		}
		if b.String(off) == e.Member {
			return i
		}
	}
	return -1
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
	enc := rawbtf.NewEncoder(k.ByteOrder())
	for id := 1; id < k.NumTypes(); id++ {
		t := k.Type(rawbtf.TypeID(id))
		var ed rawbtf.Edit
		if at := e.locate(t); !done && at >= 0 {
			done, ed = true, e.edit(at)
		}
		if _, err := enc.Copy(t, ed); err != nil {
			return nil, err
		}
	}
	if !done {
		return nil, fmt.Errorf("%w: %s.%s", ErrNoEdit, e.Type, e.Member)
	}
	return enc.Bytes()
}

// edit is e as a rawbtf.Edit of entry at.
func (e Edit) edit(at int) rawbtf.Edit {
	var ed rawbtf.Edit
	if e.Drop {
		ed.Keep = func(i int) bool { return i != at }
	}
	ed.Member = func(i int, m rawbtf.Member) rawbtf.Member {
		if i == at {
			m.BitOffset += e.ShiftBits
		}
		return m
	}
	ed.EnumValue = func(i int, v rawbtf.EnumValue) rawbtf.EnumValue {
		if i == at {
			v.Value += e.AddValue
		}
		return v
	}
	return ed
}
