package core

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// MaxSpecLen is the longest access path libbpf accepts (BPF_CORE_SPEC_MAX_LEN).
const MaxSpecLen = 64

// Errors describing why a relocation cannot be processed. They are the
// cases in which libbpf fails the whole object load rather than poisoning
// one instruction.
var (
	// ErrInvalidSpec means the relocation's access string does not fit the
	// local type (libbpf: "parsing ... failed").
	ErrInvalidSpec = errors.New("invalid CO-RE access spec")
	// ErrAnonymous means the local root type has no name, so no candidate
	// search is possible.
	ErrAnonymous = errors.New("relocation against an anonymous type")
	// ErrAmbiguous means several target candidates match but disagree on
	// the result (libbpf: "relocation decision ambiguity" or "field offset
	// ambiguity").
	ErrAmbiguous = errors.New("ambiguous relocation")
	// ErrUnsatisfiable means a match was found but the result cannot be
	// computed, such as a bitfield that no 8-byte load covers.
	ErrUnsatisfiable = errors.New("relocation cannot be computed")
)

// Relo is one CO-RE relocation record as found in .BTF.ext.
type Relo struct {
	InsnOff uint32        // byte offset of the instruction within its section
	TypeID  rawbtf.TypeID // local root type
	Access  string        // access string, "0:1:2"
	Kind    Kind
}

// Accessor is one step of a spec: a named member, an array index or an
// enumerator.
type Accessor struct {
	// Type is the type the step indexes into: the struct or union holding
	// a member, the array's element type for an index, the enum for an
	// enumerator. Modifiers and typedefs are already skipped.
	Type rawbtf.TypeID
	// Idx is the member, element or enumerator index.
	Idx int
	// Name is the member or enumerator name; nil for array indices.
	Name []byte
}

// Spec is a relocation resolved against one BTF, libbpf's bpf_core_spec:
// the local spec of the object, or the spec of a matching target candidate.
type Spec struct {
	BTF  *rawbtf.BTF
	Root rawbtf.TypeID
	Kind Kind
	// Access holds the high-level accessors: named members, array indices
	// and enumerators; anonymous members appear only in Raw.
	Access []Accessor
	// Raw holds every index of the access path, anonymous members included.
	Raw []int
	// BitOffset is the bit offset of the accessed field from the root.
	BitOffset uint32
}

// Clone returns a copy of s that shares nothing mutable with it.
func (s *Spec) Clone() *Spec {
	c := *s
	c.Access = slices.Clone(s.Access)
	c.Raw = slices.Clone(s.Raw)
	return &c
}

// ParseLocal parses a relocation's access string against the object's BTF,
// as libbpf's bpf_core_parse_spec does. Errors wrap ErrInvalidSpec.
func ParseLocal(b *rawbtf.BTF, r Relo) (*Spec, error) {
	if !r.Kind.Valid() {
		return nil, fmt.Errorf("%w: unknown relocation kind %d", ErrInvalidSpec, uint32(r.Kind))
	}
	// Type 0 is void: libbpf takes it for a local_type_id relocation (and
	// refuses it, as anonymous, for every other kind).
	if !b.Valid(r.TypeID) || (r.TypeID == 0 && !r.Kind.IsType()) {
		return nil, fmt.Errorf("%w: local type [%d] does not exist", ErrInvalidSpec, r.TypeID)
	}
	if r.Access == "" || r.Access[0] == ':' {
		return nil, fmt.Errorf("%w: empty access string", ErrInvalidSpec)
	}
	s := &Spec{BTF: b, Root: r.TypeID, Kind: r.Kind}
	if r.Kind.IsType() {
		if r.Access != "0" {
			return nil, fmt.Errorf("%w: type relocation with access string %q", ErrInvalidSpec, r.Access)
		}
		return s, nil
	}
	raw, err := parseAccess(r.Access)
	if err != nil {
		return nil, err
	}
	s.Raw = raw
	t, ok := b.Skip(r.TypeID)
	if !ok {
		return nil, fmt.Errorf("%w: type [%d] has a cyclic typedef chain", ErrInvalidSpec, r.TypeID)
	}
	idx := s.Raw[0]
	if r.Kind.IsEnumval() {
		if !t.Kind().IsEnum() || len(s.Raw) > 1 || idx >= t.Vlen() {
			return nil, fmt.Errorf("%w: %q does not name an enumerator of [%d]", ErrInvalidSpec, r.Access, r.TypeID)
		}
		name := b.StringBytes(t.EnumValue(idx).NameOff)
		s.Access = append(s.Access, Accessor{Type: t.ID, Idx: idx, Name: name})
		return s, nil
	}
	s.Access = append(s.Access, Accessor{Type: t.ID, Idx: idx})
	sz, err := b.ResolveSize(t.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	s.BitOffset = uint32(int64(idx) * sz * 8)
	id := t.ID
	for i := 1; i < len(s.Raw); i++ {
		t, ok := b.Skip(id)
		if !ok {
			return nil, fmt.Errorf("%w: cyclic typedef chain", ErrInvalidSpec)
		}
		idx := s.Raw[i]
		switch {
		case t.Kind().IsComposite():
			if idx >= t.Vlen() {
				return nil, fmt.Errorf("%w: member %d of [%d] out of range", ErrInvalidSpec, idx, t.ID)
			}
			m := t.Member(idx)
			s.BitOffset += m.BitOffset
			if m.NameOff != 0 {
				name := b.StringBytes(m.NameOff)
				if len(name) == 0 {
					return nil, fmt.Errorf("%w: member %d of [%d] has an empty name", ErrInvalidSpec, idx, t.ID)
				}
				s.Access = append(s.Access, Accessor{Type: t.ID, Idx: idx, Name: name})
			}
			id = m.Type
		case t.Kind() == rawbtf.KindArray:
			a := t.Array()
			elem, ok := b.Skip(a.Type)
			if !ok {
				return nil, fmt.Errorf("%w: cyclic typedef chain", ErrInvalidSpec)
			}
			if !isFlexArray(b, s.Access[len(s.Access)-1], a) && idx >= int(a.Nelems) {
				return nil, fmt.Errorf("%w: index %d beyond array [%d] of %d", ErrInvalidSpec, idx, t.ID, a.Nelems)
			}
			s.Access = append(s.Access, Accessor{Type: elem.ID, Idx: idx})
			sz, err := b.ResolveSize(elem.ID)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrInvalidSpec, err)
			}
			s.BitOffset += uint32(int64(idx) * sz * 8)
			id = elem.ID
		default:
			return nil, fmt.Errorf("%w: access %q steps into [%d] of kind %s", ErrInvalidSpec, r.Access, t.ID, t.Kind().C())
		}
	}
	return s, nil
}

// parseAccess splits an access string into its indices as libbpf does:
// each index is read like sscanf's "%d" (leading white space, an optional
// sign, digits) and may be preceded by one ':'. Negative indices, which
// libbpf reads out of bounds with, and indices beyond int32 are refused.
// Errors wrap ErrInvalidSpec.
func parseAccess(access string) ([]int, error) {
	var raw []int
	for i := 0; i < len(access); {
		if access[i] == ':' {
			i++
		}
		j := i
		for j < len(access) && isCSpace(access[j]) {
			j++
		}
		neg := false
		if j < len(access) && (access[j] == '+' || access[j] == '-') {
			neg = access[j] == '-'
			j++
		}
		start := j
		for j < len(access) && access[j] >= '0' && access[j] <= '9' {
			j++
		}
		if j == start {
			return nil, fmt.Errorf("%w: access string %q is not an access path (no index at byte %d)", ErrInvalidSpec, access, i)
		}
		n, err := strconv.ParseInt(access[start:j], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: access string %q: index %s out of range", ErrInvalidSpec, access, access[start:j])
		}
		if neg && n != 0 {
			return nil, fmt.Errorf("%w: access string %q: negative index -%d", ErrInvalidSpec, access, n)
		}
		if len(raw) == MaxSpecLen {
			return nil, fmt.Errorf("%w: access string %q longer than %d", ErrInvalidSpec, access, MaxSpecLen)
		}
		raw = append(raw, int(n))
		i = j
	}
	return raw, nil
}

// isCSpace reports whether c is white space for C's isspace.
func isCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// isFlexArray reports whether array a, reached through accessor prev, is a
// flexible array member: zero length and the last member of its struct.
func isFlexArray(b *rawbtf.BTF, prev Accessor, a rawbtf.Array) bool {
	if prev.Name == nil || a.Nelems > 0 {
		return false
	}
	return prev.Idx == b.Type(prev.Type).Vlen()-1
}

// Path returns the spec as a readable access path:
// "struct task_struct.real_parent", "struct trace_event_raw_sys_enter.args[1]",
// "enum bpf_func_id::BPF_FUNC_map_lookup_elem", "typedef u32".
func (s *Spec) Path() string {
	var sb strings.Builder
	root := s.BTF.Type(s.Root)
	sb.WriteString(root.Kind().C())
	sb.WriteByte(' ')
	if name := root.NameBytes(); len(name) > 0 {
		sb.Write(name)
	} else {
		sb.WriteString("<anon>")
	}
	switch {
	case s.Kind.IsEnumval():
		if len(s.Access) > 0 {
			sb.WriteString("::")
			sb.Write(s.Access[0].Name)
		}
	case s.Kind.IsField():
		for i, a := range s.Access {
			if a.Name != nil {
				sb.WriteByte('.')
				sb.Write(a.Name)
			} else if i > 0 || a.Idx > 0 {
				fmt.Fprintf(&sb, "[%d]", a.Idx)
			}
		}
	}
	return sb.String()
}

// String formats the spec as libbpf's debug output does, without the type
// ID: "<byte_off> struct task_struct.pid (0:55 @ offset 2456)".
func (s *Spec) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "<%s> %s", s.Kind, s.Path())
	switch {
	case s.Kind.IsEnumval():
		if len(s.Access) > 0 {
			t := s.BTF.Type(s.Access[0].Type)
			v := t.EnumValue(s.Access[0].Idx).Value
			if t.Kind() == rawbtf.KindEnum && !t.KindFlag() {
				v &= 0xffffffff
			}
			if t.KindFlag() {
				fmt.Fprintf(&sb, " = %d", int64(v))
			} else {
				fmt.Fprintf(&sb, " = %d", v)
			}
		}
	case s.Kind.IsField():
		sb.WriteString(" (")
		for i, r := range s.Raw {
			if i > 0 {
				sb.WriteByte(':')
			}
			sb.WriteString(strconv.Itoa(r))
		}
		if s.BitOffset%8 != 0 {
			fmt.Fprintf(&sb, " @ offset %d.%d)", s.BitOffset/8, s.BitOffset%8)
		} else {
			fmt.Fprintf(&sb, " @ offset %d)", s.BitOffset/8)
		}
	}
	return sb.String()
}
