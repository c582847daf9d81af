package rawbtf

import (
	"errors"
	"fmt"
	"strconv"
)

// maxResolveDepth bounds walks along type references, as libbpf does, so
// that a cycle in hostile input cannot loop forever.
const maxResolveDepth = 32

// ErrResolve means a type's size could not be determined.
var ErrResolve = errors.New("cannot resolve type")

// Skip follows typedefs and modifiers (const, volatile, restrict, type
// tags) from id and returns the first other type, like libbpf's
// skip_mods_and_typedefs. ok is false if the chain is too long or cyclic.
func (b *BTF) Skip(id TypeID) (t Type, ok bool) {
	for range 64 {
		t = b.Type(id)
		k := t.Kind()
		if k != KindTypedef && !k.IsModifier() {
			return t, true
		}
		id = t.Ref()
	}
	return Type{b: b}, false
}

// longNames are the spellings of "long" libbpf uses to infer pointer size.
var longNames = [...]string{
	"long", "long int", "int long", "unsigned long", "long unsigned",
	"unsigned long int", "unsigned int long", "long unsigned int",
	"long int unsigned", "int unsigned long", "int long unsigned",
}

func isLongName(name []byte) bool {
	if len(name) < 4 || len(name) > 17 {
		return false
	}
	for _, n := range longNames {
		if string(name) == n {
			return true
		}
	}
	return false
}

// PtrSize returns the size of a pointer as libbpf determines it: the size
// of the first 4- or 8-byte INT spelled like "long", else 8.
func (b *BTF) PtrSize() int {
	if b.ptrSize == 0 {
		return 8
	}
	return b.ptrSize
}

// HasLong reports whether b names a "long" INT, which fixes its pointer size.
func (b *BTF) HasLong() bool { return b.ptrSize != 0 }

// LongType returns the INT that fixes the pointer size (see PtrSize), or 0.
func (b *BTF) LongType() TypeID { return b.longID }

// ResolveSize returns the byte size of a type as libbpf's btf__resolve_size
// computes it: through typedefs, modifiers, VARs and DECL_TAGs, multiplying
// array lengths. It fails for void, FWD, FUNC and FUNC_PROTO.
func (b *BTF) ResolveSize(id TypeID) (int64, error) {
	nelems := uint64(1)
	for range maxResolveDepth {
		if id == 0 {
			break
		}
		t := b.Type(id)
		switch t.Kind() {
		case KindInt, KindStruct, KindUnion, KindEnum, KindEnum64, KindDatasec, KindFloat:
			return mulSize(nelems, uint64(t.Size()), id)
		case KindPtr:
			return mulSize(nelems, uint64(b.PtrSize()), id)
		case KindTypedef, KindVolatile, KindConst, KindRestrict, KindVar, KindDeclTag, KindTypeTag:
			id = t.Ref()
		case KindArray:
			a := t.Array()
			if nelems != 0 && uint64(a.Nelems) > 0xffffffff/nelems {
				return 0, fmt.Errorf("%w [%d]: array too large", ErrResolve, id)
			}
			nelems *= uint64(a.Nelems)
			id = a.Type
		default:
			return 0, fmt.Errorf("%w [%d]: %s has no size", ErrResolve, id, t.Kind())
		}
	}
	return 0, fmt.Errorf("%w [%d]", ErrResolve, id)
}

func mulSize(nelems, size uint64, id TypeID) (int64, error) {
	if nelems != 0 && size > 0xffffffff/nelems {
		return 0, fmt.Errorf("%w [%d]: size too large", ErrResolve, id)
	}
	return int64(nelems * size), nil
}

// EssentialName returns name without a CO-RE flavor suffix: "task_struct"
// for "task_struct___old". Like libbpf it cuts at the last "X___Y" where
// neither X nor Y is an underscore.
func EssentialName(name []byte) []byte {
	for i := len(name) - 5; i >= 0; i-- {
		if name[i] != '_' && name[i+1] == '_' && name[i+2] == '_' && name[i+3] == '_' && name[i+4] != '_' {
			return name[:i+1]
		}
	}
	return name
}

// PrintableName returns name for a one-line message: as it is when every
// byte is printable ASCII, as a Go-quoted string otherwise (a malformed
// BTF can name a type "\a\n").
func PrintableName(name []byte) string {
	for _, c := range name {
		if c < 0x20 || c > 0x7e {
			return strconv.Quote(string(name))
		}
	}
	return string(name)
}
