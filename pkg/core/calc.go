package core

import (
	"errors"
	"fmt"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// Outcome is what a relocation does to its instruction, libbpf's
// bpf_core_relo_res.
type Outcome struct {
	// OrigVal is the value compiled into the instruction, NewVal the
	// relocated one. For TYPE_ID_TARGET NewVal is a type ID of the target.
	OrigVal, NewVal uint64
	// OrigSize and NewSize are the sizes of the accessed field (byte_off
	// relocations of non-bitfields), used to adjust load and store widths.
	OrigSize, NewSize uint32
	// OrigType and NewType are the (modifier-free) types of the field.
	OrigType, NewType rawbtf.TypeID
	// Poison means the instruction is replaced by an invalid call: the
	// relocation could not be satisfied and the code must be dead.
	// (The flags come last: 40 bytes where the first order took 48, for
	// one Outcome per relocation and kernel.)
	Poison bool
	// FailMemSz means a load or store of this field cannot be resized
	// safely; libbpf poisons such LDX/ST/STX instructions.
	FailMemSz bool
	// Validate means libbpf checks that the instruction holds OrigVal.
	Validate bool
}

// fieldValue is the result of libbpf's bpf_core_calc_field_relo for one
// side.
type fieldValue struct {
	val    uint64
	size   uint32
	typeID rawbtf.TypeID
	valid  bool
}

var errPoison = fmt.Errorf("poison")

func calcField(k Kind, s *Spec) (fieldValue, error) {
	var v fieldValue
	if k == FieldExists {
		if s != nil {
			v.val = 1
		}
		return v, nil
	}
	if s == nil {
		return v, errPoison
	}
	b := s.BTF
	acc := s.Access[len(s.Access)-1]
	if acc.Name == nil {
		sz, err := b.ResolveSize(acc.Type)
		switch k {
		case FieldByteOffset:
			if err != nil {
				return v, fmt.Errorf("%w: %w", ErrUnsatisfiable, err)
			}
			v.val, v.size, v.typeID = uint64(s.BitOffset/8), uint32(sz), acc.Type
		case FieldByteSize:
			if err != nil {
				return v, fmt.Errorf("%w: %w", ErrUnsatisfiable, err)
			}
			v.val = uint64(sz)
		default:
			return v, fmt.Errorf("%w: %s cannot be applied to an array element", ErrUnsatisfiable, k)
		}
		v.valid = true
		return v, nil
	}
	t := b.Type(acc.Type)
	m := t.Member(acc.Idx)
	mt, ok := b.Skip(m.Type)
	if !ok {
		return v, fmt.Errorf("%w: typedef chain too long", ErrUnsatisfiable)
	}
	bitOff, bitSz := s.BitOffset, m.BitfieldSize
	var byteOff, byteSz uint32
	bitfield := bitSz > 0
	if bitfield {
		byteSz = mt.Size()
		if byteSz == 0 {
			return v, fmt.Errorf("%w: bitfield of zero-sized type", ErrUnsatisfiable)
		}
		byteOff = bitOff / 8 / byteSz * byteSz
		for bitOff+bitSz-byteOff*8 > byteSz*8 {
			if byteSz >= 8 {
				return v, fmt.Errorf("%w: bitfield cannot be read with a 64-bit load", ErrUnsatisfiable)
			}
			byteSz *= 2
			byteOff = bitOff / 8 / byteSz * byteSz
		}
	} else {
		sz, err := b.ResolveSize(mt.ID)
		if err != nil {
			return v, fmt.Errorf("%w: %w", ErrUnsatisfiable, err)
		}
		byteSz = uint32(sz)
		byteOff = bitOff / 8
		bitSz = byteSz * 8
	}
	v.valid = !bitfield
	switch k {
	case FieldByteOffset:
		v.val = uint64(byteOff)
		if !bitfield {
			v.size, v.typeID = byteSz, mt.ID
		}
	case FieldByteSize:
		v.val = uint64(byteSz)
	case FieldSigned:
		switch {
		case mt.Kind().IsEnum():
			if mt.KindFlag() {
				v.val = 1
			}
		case mt.Kind() == rawbtf.KindInt:
			if enc, _, _ := mt.IntEncoding(); enc&rawbtf.IntSigned != 0 {
				v.val = 1
			}
		}
		v.valid = true
	case FieldLShiftU64:
		v.val = uint64(64 - (bitOff + bitSz - byteOff*8))
	case FieldRShiftU64:
		v.val = uint64(64 - bitSz)
		v.valid = true
	}
	return v, nil
}

func calcType(k Kind, s *Spec) (uint64, error) {
	if s == nil {
		return 0, nil
	}
	switch k {
	case TypeIDTarget:
		return uint64(s.Root), nil
	case TypeExists, TypeMatches:
		return 1, nil
	case TypeSize:
		sz, err := s.BTF.ResolveSize(s.Root)
		if err != nil {
			return 0, fmt.Errorf("%w: %w", ErrUnsatisfiable, err)
		}
		return uint64(sz), nil
	}
	return 0, fmt.Errorf("%w: unexpected kind %s", ErrUnsatisfiable, k)
}

func calcEnumval(k Kind, s *Spec) (uint64, error) {
	switch k {
	case EnumvalExists:
		if s == nil {
			return 0, nil
		}
		return 1, nil
	case EnumvalValue:
		if s == nil {
			return 0, errPoison
		}
		t := s.BTF.Type(s.Access[0].Type)
		return t.EnumValue(s.Access[0].Idx).Value, nil
	}
	return 0, fmt.Errorf("%w: unexpected kind %s", ErrUnsatisfiable, k)
}

// Calc computes a relocation's outcome from the local spec and a matched
// target spec (nil when no candidate matched), as libbpf's
// bpf_core_calc_relo does. Errors wrap ErrUnsatisfiable.
func Calc(local, targ *Spec) (Outcome, error) {
	res := Outcome{Validate: true}
	var err error
	switch k := local.Kind; {
	case k.IsField():
		var lv, tv fieldValue
		lv, err = calcField(k, local)
		if err == nil {
			res.OrigVal, res.OrigSize, res.OrigType, res.Validate = lv.val, lv.size, lv.typeID, lv.valid
			if k == FieldExists {
				res.Validate = true
			}
			tv, err = calcField(k, targ)
		}
		if err == nil {
			res.NewVal, res.NewSize, res.NewType = tv.val, tv.size, tv.typeID
			if res.OrigSize != res.NewSize {
				ot, nt := local.BTF.Type(res.OrigType), targ.BTF.Type(res.NewType)
				switch {
				case ot.Kind() == rawbtf.KindPtr && nt.Kind() == rawbtf.KindPtr:
				case ot.Kind() == rawbtf.KindInt && nt.Kind() == rawbtf.KindInt && !intSigned(ot) && !intSigned(nt):
				default:
					res.FailMemSz = true
				}
			}
		}
	case k.IsType():
		res.OrigVal, err = calcType(k, local)
		if k == TypeIDTarget {
			res.Validate = false
		}
		if err == nil {
			res.NewVal, err = calcType(k, targ)
		}
	case k.IsEnumval():
		res.OrigVal, err = calcEnumval(k, local)
		if err == nil {
			res.NewVal, err = calcEnumval(k, targ)
		}
	default:
		err = fmt.Errorf("%w: unknown kind %s", ErrUnsatisfiable, k)
	}
	if errors.Is(err, errPoison) {
		res.Poison = true
		err = nil
	}
	return res, err
}

// intSigned is libbpf's btf_int_encoding(t) == BTF_INT_SIGNED test, which
// compares the whole encoding.
func intSigned(t rawbtf.Type) bool {
	enc, _, _ := t.IntEncoding()
	return enc == rawbtf.IntSigned
}
