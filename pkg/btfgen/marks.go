package btfgen

import (
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// Mark flags of a kernel type.
const (
	kept       uint8 = 1 << iota // the type is emitted
	followed                     // marked following pointers (type compatibility shape)
	shaped                       // marked with its type_matches shape, not behind a pointer
	shapedPtr                    // marked with its type_matches shape behind a pointer
	allMembers                   // every member of a composite is kept
)

// marks records what of a kernel BTF the minimized BTF keeps.
type marks struct {
	b     *rawbtf.BTF
	flags []uint8
	// members holds, for composites with some members kept, one bool per
	// member.
	members map[rawbtf.TypeID][]bool
	changed bool
	// oldToNew is fixCandidates' ID map, kept between rounds.
	oldToNew []rawbtf.TypeID
	// hidden holds the module types that vmlinux shadows and that are
	// emitted without their name, unhideable those that would be wrong
	// candidates and cannot be hidden, with the relocation concerned
	// (see hideShadowed).
	hidden     map[rawbtf.TypeID]bool
	unhideable map[rawbtf.TypeID]string
}

func newMarks(b *rawbtf.BTF) *marks {
	return &marks{b: b, flags: make([]uint8, b.NumTypes()), members: make(map[rawbtf.TypeID][]bool),
		hidden: map[rawbtf.TypeID]bool{}, unhideable: map[rawbtf.TypeID]string{}}
}

func (m *marks) set(id rawbtf.TypeID, f uint8) bool {
	if m.flags[id]&f == f {
		return false
	}
	m.flags[id] |= f
	m.changed = true
	return true
}

// member keeps member i of composite id.
func (m *marks) member(id rawbtf.TypeID, i int) {
	ms := m.members[id]
	if ms == nil {
		ms = make([]bool, m.b.Type(id).Vlen())
		m.members[id] = ms
	}
	if !ms[i] {
		ms[i] = true
		m.changed = true
	}
}

func (m *marks) memberKept(id rawbtf.TypeID, i int) bool {
	if m.flags[id]&allMembers != 0 {
		return true
	}
	ms := m.members[id]
	return ms != nil && ms[i]
}

// typ keeps a type and what its encoding refers to, like bpftool's
// btfgen_mark_type: composites are kept as shells (size, no members),
// enums whole, and pointer targets only when follow is set.
func (m *marks) typ(id rawbtf.TypeID, follow bool) {
	for depth := 0; id != 0 && depth < 1<<16; depth++ {
		f := kept
		if follow {
			f |= followed
		}
		if !m.set(id, f) {
			return
		}
		t := m.b.Type(id)
		switch k := t.Kind(); k {
		case rawbtf.KindPtr:
			if !follow {
				return
			}
			id = t.Ref()
		case rawbtf.KindTypedef, rawbtf.KindVolatile, rawbtf.KindConst, rawbtf.KindRestrict,
			rawbtf.KindTypeTag, rawbtf.KindFunc, rawbtf.KindVar, rawbtf.KindDeclTag:
			id = t.Ref()
		case rawbtf.KindArray:
			a := t.Array()
			m.typ(a.IndexType, follow)
			id = a.Type
		case rawbtf.KindFuncProto:
			for i := 0; i < t.Vlen(); i++ {
				m.typ(t.Param(i).Type, follow)
			}
			id = t.Ref()
		case rawbtf.KindDatasec:
			for i := 0; i < t.Vlen(); i++ {
				m.typ(t.VarSecinfo(i).Type, follow)
			}
			return
		default: // INT, FLOAT, ENUM, ENUM64, STRUCT, UNION, FWD, void
			return
		}
	}
}

// field keeps what a matched field relocation reads of the target: the
// root, each member on the access path with its type, and the element
// types of arrays on the way (bpftool's btfgen_record_field_relo).
func (m *marks) field(s *core.Spec) {
	b := m.b
	id := s.Root
	m.typ(id, false)
	for i := 1; i < len(s.Raw); i++ {
		t, ok := b.Skip(id)
		if !ok {
			return
		}
		id = t.ID
		switch {
		case t.Kind().IsComposite():
			idx := s.Raw[i]
			if idx >= t.Vlen() {
				return
			}
			m.member(id, idx)
			id = t.Member(idx).Type
			m.typ(id, false)
		case t.Kind() == rawbtf.KindArray:
			id = t.Array().Type
		default:
			return
		}
	}
}

// shape keeps everything libbpf's type_matches relation looks at from a
// type: all members of composites not behind a pointer, recursively; only
// name and kind of composites behind one.
func (m *marks) shape(id rawbtf.TypeID, behindPtr bool) {
	for depth := 0; id != 0 && depth < 1<<16; depth++ {
		f := kept | shaped
		if behindPtr {
			f = kept | shapedPtr
		}
		if !m.set(id, f) {
			return
		}
		t := m.b.Type(id)
		switch k := t.Kind(); k {
		case rawbtf.KindStruct, rawbtf.KindUnion:
			if behindPtr {
				return
			}
			m.set(id, allMembers)
			for i := 0; i < t.Vlen(); i++ {
				m.shape(t.Member(i).Type, false)
			}
			return
		case rawbtf.KindPtr:
			behindPtr = true
			id = t.Ref()
		case rawbtf.KindTypedef, rawbtf.KindVolatile, rawbtf.KindConst, rawbtf.KindRestrict, rawbtf.KindTypeTag:
			id = t.Ref()
		case rawbtf.KindArray:
			a := t.Array()
			m.typ(a.IndexType, false)
			id = a.Type
		case rawbtf.KindFuncProto:
			for i := 0; i < t.Vlen(); i++ {
				m.shape(t.Param(i).Type, behindPtr)
			}
			id = t.Ref()
		case rawbtf.KindFunc, rawbtf.KindVar, rawbtf.KindDeclTag:
			// Out of type_matches' reach, but must stay encodable.
			m.typ(t.Ref(), false)
			return
		case rawbtf.KindDatasec:
			for i := 0; i < t.Vlen(); i++ {
				m.typ(t.VarSecinfo(i).Type, false)
			}
			return
		default: // INT, FLOAT, ENUM, ENUM64 and FWD carry all they need.
			return
		}
	}
}

// deep keeps a type with everything reachable from it. It is used for the
// rare candidates on which libbpf's matching fails with an error, so that
// the minimized BTF reproduces the failure.
func (m *marks) deep(id rawbtf.TypeID) {
	stack := []rawbtf.TypeID{id}
	seen := map[rawbtf.TypeID]bool{}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if id == 0 || seen[id] {
			continue
		}
		seen[id] = true
		m.typ(id, true)
		t := m.b.Type(id)
		if t.Kind().IsComposite() {
			m.set(id, allMembers)
			for i := 0; i < t.Vlen(); i++ {
				stack = append(stack, t.Member(i).Type)
			}
		}
		if k := t.Kind(); k.IsModifier() || k == rawbtf.KindTypedef || k == rawbtf.KindPtr {
			stack = append(stack, t.Ref())
		}
		if t.Kind() == rawbtf.KindArray {
			stack = append(stack, t.Array().Type)
		}
	}
}

// relocation keeps what matched candidate spec s of a relocation needs.
func (m *marks) relocation(s *core.Spec) {
	switch {
	case s.Kind.IsField():
		m.field(s)
	case s.Kind == core.TypeMatches:
		m.shape(s.Root, false)
	case s.Kind.IsType():
		m.typ(s.Root, true)
	case s.Kind.IsEnumval():
		m.typ(s.Root, false)
	}
}

// fixFlexArrays keeps the last member of every composite that keeps a
// zero-length array member that is not its last: otherwise the array would
// become the last member of the minimized type, and libbpf would treat it
// as a flexible array and accept indices into it that it rejects with the
// full BTF.
func (m *marks) fixFlexArrays() {
	for id, ms := range m.members {
		t := m.b.Type(id)
		last := t.Vlen() - 1
		if last < 0 || ms[last] {
			continue
		}
		for i, k := range ms {
			if !k {
				continue
			}
			mt, ok := m.b.Skip(t.Member(i).Type)
			if ok && mt.Kind() == rawbtf.KindArray && mt.Array().Nelems == 0 {
				m.member(id, last)
				m.typ(t.Member(last).Type, false)
				break
			}
		}
	}
}
