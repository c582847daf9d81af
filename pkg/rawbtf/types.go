package rawbtf

import "fmt"

// TypeID identifies a type within one BTF. ID 0 is void.
type TypeID uint32

// Kind is the BTF_KIND_* of a type.
type Kind uint8

// The BTF kinds, numbered as in the kernel's uapi/linux/btf.h.
const (
	KindUnknown Kind = iota // void
	KindInt
	KindPtr
	KindArray
	KindStruct
	KindUnion
	KindEnum
	KindFwd
	KindTypedef
	KindVolatile
	KindConst
	KindRestrict
	KindFunc
	KindFuncProto
	KindVar
	KindDatasec
	KindFloat
	KindDeclTag
	KindTypeTag
	KindEnum64
	maxKind = KindEnum64
)

var kindNames = [...]string{
	KindUnknown:   "UNKN",
	KindInt:       "INT",
	KindPtr:       "PTR",
	KindArray:     "ARRAY",
	KindStruct:    "STRUCT",
	KindUnion:     "UNION",
	KindEnum:      "ENUM",
	KindFwd:       "FWD",
	KindTypedef:   "TYPEDEF",
	KindVolatile:  "VOLATILE",
	KindConst:     "CONST",
	KindRestrict:  "RESTRICT",
	KindFunc:      "FUNC",
	KindFuncProto: "FUNC_PROTO",
	KindVar:       "VAR",
	KindDatasec:   "DATASEC",
	KindFloat:     "FLOAT",
	KindDeclTag:   "DECL_TAG",
	KindTypeTag:   "TYPE_TAG",
	KindEnum64:    "ENUM64",
}

// String returns the kind as bpftool prints it ("STRUCT", "FUNC_PROTO"),
// and a kind this package does not know as "UNKNOWN_KIND(22)".
func (k Kind) String() string {
	if k <= maxKind {
		return kindNames[k]
	}
	return fmt.Sprintf("UNKNOWN_KIND(%d)", uint8(k))
}

// C returns the kind as libbpf's btf_kind_str spells it ("struct",
// "func_proto"), and a kind this package does not know as "unknown kind
// 22".
func (k Kind) C() string {
	if !k.Known() {
		return fmt.Sprintf("unknown kind %d", uint8(k))
	}
	switch k {
	case KindUnknown:
		return "void"
	case KindPtr:
		return "ptr"
	case KindFuncProto:
		return "func_proto"
	case KindDeclTag:
		return "decl_tag"
	case KindTypeTag:
		return "type_tag"
	}
	s := []byte(k.String())
	for i, c := range s {
		if 'A' <= c && c <= 'Z' {
			s[i] = c + 'a' - 'A'
		}
	}
	return string(s)
}

// Known reports whether k is a kind this package knows, the kinds of the
// kernel up to 6.0 (ENUM64). Parse skips the types of other kinds by the
// layout section; their records cannot be read, only their common header.
func (k Kind) Known() bool { return k <= maxKind }

// IsComposite reports whether k is a struct or a union.
func (k Kind) IsComposite() bool { return k == KindStruct || k == KindUnion }

// IsEnum reports whether k is an enum or an enum64.
func (k Kind) IsEnum() bool { return k == KindEnum || k == KindEnum64 }

// IsModifier reports whether k is a qualifier that libbpf skips like a
// typedef: volatile, const, restrict and type tags.
func (k Kind) IsModifier() bool {
	return k == KindVolatile || k == KindConst || k == KindRestrict || k == KindTypeTag
}

// hasRef reports whether the size_type word of k holds a type ID.
func (k Kind) hasRef() bool {
	switch k {
	case KindPtr, KindTypedef, KindVolatile, KindConst, KindRestrict,
		KindFunc, KindFuncProto, KindVar, KindDeclTag, KindTypeTag:
		return true
	}
	return false
}

// Integer encoding bits of an INT type.
const (
	IntSigned = 1 << 0
	IntChar   = 1 << 1
	IntBool   = 1 << 2
)

// Member is a member of a struct or union.
type Member struct {
	NameOff   uint32
	Type      TypeID
	BitOffset uint32 // from the start of the enclosing type
	// BitfieldSize is the bitfield width, 0 for a regular member. It is
	// only ever non-zero when the enclosing type has the kind flag set.
	BitfieldSize uint32
}

// EnumValue is an enumerator of an ENUM or ENUM64.
type EnumValue struct {
	NameOff uint32
	// Value is the enumerator's value as libbpf's CO-RE reports it: for an
	// ENUM the 32-bit value sign-extended to 64 bits whatever the enum's
	// signedness, for an ENUM64 the 64-bit value.
	Value uint64
}

// Param is a parameter of a FUNC_PROTO.
type Param struct {
	NameOff uint32
	Type    TypeID
}

// Array is the description of an ARRAY type.
type Array struct {
	Type      TypeID
	IndexType TypeID
	Nelems    uint32
}

// VarSecinfo is one variable of a DATASEC.
type VarSecinfo struct {
	Type   TypeID
	Offset uint32
	Size   uint32
}
