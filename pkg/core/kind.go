package core

import "fmt"

// Kind is a CO-RE relocation kind (enum bpf_core_relo_kind).
type Kind uint32

// The relocation kinds, numbered as in the kernel's uapi/linux/bpf.h.
const (
	FieldByteOffset Kind = iota
	FieldByteSize
	FieldExists
	FieldSigned
	FieldLShiftU64
	FieldRShiftU64
	TypeIDLocal
	TypeIDTarget
	TypeExists
	TypeSize
	EnumvalExists
	EnumvalValue
	TypeMatches
	numKinds
)

var kindNames = [...]string{
	FieldByteOffset: "byte_off",
	FieldByteSize:   "byte_sz",
	FieldExists:     "field_exists",
	FieldSigned:     "signed",
	FieldLShiftU64:  "lshift_u64",
	FieldRShiftU64:  "rshift_u64",
	TypeIDLocal:     "local_type_id",
	TypeIDTarget:    "target_type_id",
	TypeExists:      "type_exists",
	TypeSize:        "type_size",
	EnumvalExists:   "enumval_exists",
	EnumvalValue:    "enumval_value",
	TypeMatches:     "type_matches",
}

// Kinds lists every relocation kind in numeric order.
func Kinds() []Kind {
	ks := make([]Kind, numKinds)
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

// String returns the kind as libbpf names it ("byte_off", "type_matches").
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("unknown(%d)", uint32(k))
}

// Valid reports whether k is a kind this package knows.
func (k Kind) Valid() bool { return k < numKinds }

// IsField reports whether k relocates a field access.
func (k Kind) IsField() bool { return k <= FieldRShiftU64 }

// IsType reports whether k is a type-based relocation.
func (k Kind) IsType() bool {
	return k == TypeIDLocal || k == TypeIDTarget || k == TypeExists || k == TypeSize || k == TypeMatches
}

// IsEnumval reports whether k relocates an enumerator.
func (k Kind) IsEnumval() bool { return k == EnumvalExists || k == EnumvalValue }

// MarshalText implements encoding.TextMarshaler for JSON output.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler: it accepts the names
// String returns.
func (k *Kind) UnmarshalText(b []byte) error {
	for i, n := range kindNames {
		if n == string(b) {
			*k = Kind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown relocation kind %q", b)
}
