package btfdump

import (
	"errors"
	"fmt"
	"path"
	"slices"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// Type is one BTF type as bpftool's JSON dump describes it. Fields that do
// not apply to the type's kind are omitted from JSON; the lists of the
// kinds that have one (members, values, params, vars) are non-nil, so
// that a type of vlen 0 has "members":[] as in bpftool's dump.
type Type struct {
	ID   rawbtf.TypeID `json:"id"`
	Kind string        `json:"kind"`
	Name string        `json:"name"`
	// Size is the byte size of an INT, STRUCT, UNION, ENUM, ENUM64, FLOAT or
	// DATASEC.
	Size *uint32 `json:"size,omitempty"`
	// TypeID is the referred type of a PTR, TYPEDEF, modifier, FUNC, VAR,
	// TYPE_TAG, DECL_TAG or the element type of an ARRAY.
	TypeID *rawbtf.TypeID `json:"type_id,omitempty"`
	// RetTypeID is the return type of a FUNC_PROTO.
	RetTypeID *rawbtf.TypeID `json:"ret_type_id,omitempty"`
	// Vlen is the number of members, enumerators, parameters or variables.
	Vlen *int `json:"vlen,omitempty"`
	// INT fields.
	BitsOffset *uint8  `json:"bits_offset,omitempty"`
	NrBits     *uint8  `json:"nr_bits,omitempty"`
	Encoding   string  `json:"encoding,omitempty"`
	Linkage    string  `json:"linkage,omitempty"`
	FwdKind    string  `json:"fwd_kind,omitempty"`
	IndexType  *uint32 `json:"index_type_id,omitempty"`
	NrElems    *uint32 `json:"nr_elems,omitempty"`
	// ComponentIdx is the component of a DECL_TAG (-1 for the type itself).
	ComponentIdx *int32       `json:"component_idx,omitempty"`
	Members      []Member     `json:"members,omitzero"`
	Values       []EnumValue  `json:"values,omitzero"`
	Params       []Param      `json:"params,omitzero"`
	Vars         []VarSecinfo `json:"vars,omitzero"`
	// KindNumber and Bytes describe a type of a kind rawbtf does not know
	// (Kind "UNKNOWN_KIND(22)"), skipped by the layout section: its kind
	// and encoded length. Vlen is set too.
	KindNumber *int `json:"kind_number,omitempty"`
	Bytes      *int `json:"bytes,omitempty"`
}

// Member is a member of a STRUCT or UNION.
type Member struct {
	Name         string        `json:"name"`
	TypeID       rawbtf.TypeID `json:"type_id"`
	BitsOffset   uint32        `json:"bits_offset"`
	BitfieldSize uint32        `json:"bitfield_size,omitempty"`
}

// EnumValue is an enumerator; Value holds the signed value when the enum is
// signed and the unsigned one otherwise.
type EnumValue struct {
	Name  string `json:"name"`
	Value any    `json:"val"`
}

// Param is a FUNC_PROTO parameter.
type Param struct {
	Name   string        `json:"name"`
	TypeID rawbtf.TypeID `json:"type_id"`
}

// VarSecinfo is one variable of a DATASEC.
type VarSecinfo struct {
	TypeID rawbtf.TypeID `json:"type_id"`
	Offset uint32        `json:"offset"`
	Size   uint32        `json:"size"`
}

func ptr[T any](v T) *T { return &v }

// Describe returns type id of b as a typed value.
func Describe(b *rawbtf.BTF, id rawbtf.TypeID) Type {
	t := b.Type(id)
	k := t.Kind()
	d := Type{ID: id, Kind: kindName(k), Name: string(name(b, t.NameOff()))}
	switch k {
	case rawbtf.KindInt:
		enc, off, bits := t.IntEncoding()
		d.Size, d.BitsOffset, d.NrBits, d.Encoding = ptr(t.Size()), &off, &bits, intEncoding(enc)
	case rawbtf.KindPtr, rawbtf.KindConst, rawbtf.KindVolatile, rawbtf.KindRestrict,
		rawbtf.KindTypedef, rawbtf.KindTypeTag:
		d.TypeID = ptr(t.Ref())
	case rawbtf.KindArray:
		a := t.Array()
		d.TypeID, d.IndexType, d.NrElems = &a.Type, ptr(uint32(a.IndexType)), &a.Nelems
	case rawbtf.KindStruct, rawbtf.KindUnion:
		d.Size, d.Vlen = ptr(t.Size()), ptr(t.Vlen())
		d.Members = make([]Member, t.Vlen())
		for i := range d.Members {
			m := t.Member(i)
			d.Members[i] = Member{Name: string(name(b, m.NameOff)), TypeID: m.Type, BitsOffset: m.BitOffset, BitfieldSize: m.BitfieldSize}
		}
	case rawbtf.KindEnum, rawbtf.KindEnum64:
		d.Encoding, d.Size, d.Vlen = enumEncoding(t), ptr(t.Size()), ptr(t.Vlen())
		d.Values = make([]EnumValue, t.Vlen())
		for i := range d.Values {
			v := t.EnumValue(i)
			var val any
			switch {
			case k == rawbtf.KindEnum && t.KindFlag():
				val = int64(int32(v.Value))
			case k == rawbtf.KindEnum:
				val = uint64(uint32(v.Value))
			case t.KindFlag():
				val = int64(v.Value)
			default:
				val = v.Value
			}
			d.Values[i] = EnumValue{Name: string(name(b, v.NameOff)), Value: val}
		}
	case rawbtf.KindFwd:
		d.FwdKind = "struct"
		if t.KindFlag() {
			d.FwdKind = "union"
		}
	case rawbtf.KindFunc, rawbtf.KindVar:
		d.TypeID, d.Linkage = ptr(t.Ref()), funcLinkage(t.Linkage())
	case rawbtf.KindFuncProto:
		d.RetTypeID, d.Vlen = ptr(t.Ref()), ptr(t.Vlen())
		d.Params = make([]Param, t.Vlen())
		for i := range d.Params {
			p := t.Param(i)
			d.Params[i] = Param{Name: string(name(b, p.NameOff)), TypeID: p.Type}
		}
	case rawbtf.KindDatasec:
		d.Size, d.Vlen = ptr(t.Size()), ptr(t.Vlen())
		d.Vars = make([]VarSecinfo, t.Vlen())
		for i := range d.Vars {
			v := t.VarSecinfo(i)
			d.Vars[i] = VarSecinfo{TypeID: v.Type, Offset: v.Offset, Size: v.Size}
		}
	case rawbtf.KindFloat:
		d.Size = ptr(t.Size())
	case rawbtf.KindDeclTag:
		d.TypeID, d.ComponentIdx = ptr(t.Ref()), ptr(t.ComponentIdx())
	default:
		if !k.Known() {
			d.KindNumber, d.Vlen, d.Bytes = ptr(int(k)), ptr(t.Vlen()), ptr(len(t.Raw()))
		}
	}
	return d
}

// Refs calls fn for every type ID that type id of b refers to directly,
// void included.
func Refs(b *rawbtf.BTF, id rawbtf.TypeID, fn func(rawbtf.TypeID)) {
	t := b.Type(id)
	switch k := t.Kind(); k {
	case rawbtf.KindPtr, rawbtf.KindConst, rawbtf.KindVolatile, rawbtf.KindRestrict,
		rawbtf.KindTypedef, rawbtf.KindTypeTag, rawbtf.KindFunc, rawbtf.KindVar, rawbtf.KindDeclTag:
		fn(t.Ref())
	case rawbtf.KindArray:
		a := t.Array()
		fn(a.Type)
		fn(a.IndexType)
	case rawbtf.KindStruct, rawbtf.KindUnion:
		for i := range t.Vlen() {
			fn(t.Member(i).Type)
		}
	case rawbtf.KindFuncProto:
		fn(t.Ref())
		for i := range t.Vlen() {
			fn(t.Param(i).Type)
		}
	case rawbtf.KindDatasec:
		for i := range t.Vlen() {
			fn(t.VarSecinfo(i).Type)
		}
	}
}

// Closure returns roots and every type they refer to, transitively, in ID
// order and without void.
func Closure(b *rawbtf.BTF, roots []rawbtf.TypeID) []rawbtf.TypeID {
	seen := make([]bool, b.NumTypes())
	stack := append([]rawbtf.TypeID(nil), roots...)
	var out []rawbtf.TypeID
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if id == 0 || !b.Valid(id) || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
		Refs(b, id, func(r rawbtf.TypeID) {
			if r != 0 && b.Valid(r) && !seen[r] {
				stack = append(stack, r)
			}
		})
	}
	slices.Sort(out)
	return out
}

// ErrNoMatch means a name pattern matched no type.
var ErrNoMatch = errors.New("no type matches")

// Match returns the named types of b whose name matches one of patterns
// (path.Match syntax), in ID order. It returns an error wrapping
// ErrNoMatch naming the first pattern that matches nothing, or
// path.ErrBadPattern.
func Match(b *rawbtf.BTF, patterns []string) ([]rawbtf.TypeID, error) {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("type pattern %q: %w", p, err)
		}
	}
	hits := make([]bool, len(patterns))
	var out []rawbtf.TypeID
	for id := 1; id < b.NumTypes(); id++ {
		n := b.Type(rawbtf.TypeID(id)).NameBytes()
		if len(n) == 0 {
			continue
		}
		matched := false
		for i, p := range patterns {
			if ok, _ := path.Match(p, string(n)); ok {
				hits[i], matched = true, true
			}
		}
		if matched {
			out = append(out, rawbtf.TypeID(id))
		}
	}
	for i, h := range hits {
		if !h {
			return nil, fmt.Errorf("%w %q", ErrNoMatch, patterns[i])
		}
	}
	return out, nil
}
