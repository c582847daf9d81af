package core

import (
	"bytes"
	"fmt"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// errMatch reports what libbpf returns as -EINVAL or -E2BIG while
// matching: a walk too deep or a type that cannot be resolved. libbpf then
// fails the whole relocation.
func errMatch(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsatisfiable, fmt.Sprintf(format, args...))
}

// skip is Skip with libbpf's failure mode: a broken chain is an error.
func skip(b *rawbtf.BTF, id rawbtf.TypeID) (rawbtf.Type, error) {
	t, ok := b.Skip(id)
	if !ok {
		return t, errMatch("type [%d]: typedef chain too long", id)
	}
	return t, nil
}

// skipBoth skips modifiers and typedefs on the local and the target side.
func skipBoth(lb *rawbtf.BTF, lid rawbtf.TypeID, tb *rawbtf.BTF, tid rawbtf.TypeID) (lt, tt rawbtf.Type, err error) {
	if lt, err = skip(lb, lid); err == nil {
		tt, err = skip(tb, tid)
	}
	return lt, tt, err
}

// namesEqualEssential compares two names modulo flavor suffix.
func namesEqualEssential(a, b []byte) bool {
	return bytes.Equal(rawbtf.EssentialName(a), rawbtf.EssentialName(b))
}

// typesAreCompat is libbpf's __bpf_core_types_are_compat, used by
// TYPE_EXISTS, TYPE_SIZE and TYPE_ID_TARGET.
func typesAreCompat(lb *rawbtf.BTF, lid rawbtf.TypeID, tb *rawbtf.BTF, tid rawbtf.TypeID, level int) (bool, error) {
	if !KindsCompatible(lb.Type(lid).Kind(), tb.Type(tid).Kind()) {
		return false, nil
	}
	for depth := 32; ; {
		depth--
		if depth < 0 {
			return false, errMatch("type compatibility check too deep")
		}
		lt, tt, err := skipBoth(lb, lid, tb, tid)
		if err != nil {
			return false, err
		}
		if !KindsCompatible(lt.Kind(), tt.Kind()) {
			return false, nil
		}
		switch lt.Kind() {
		case rawbtf.KindUnknown, rawbtf.KindStruct, rawbtf.KindUnion, rawbtf.KindEnum,
			rawbtf.KindFwd, rawbtf.KindEnum64:
			return true, nil
		case rawbtf.KindInt:
			_, lo, _ := lt.IntEncoding()
			_, to, _ := tt.IntEncoding()
			return lo == 0 && to == 0, nil
		case rawbtf.KindPtr:
			lid, tid = lt.Ref(), tt.Ref()
		case rawbtf.KindArray:
			lid, tid = lt.Array().Type, tt.Array().Type
		case rawbtf.KindFuncProto:
			if lt.Vlen() != tt.Vlen() {
				return false, nil
			}
			for i := 0; i < lt.Vlen(); i++ {
				if level <= 0 {
					return false, errMatch("type compatibility check too deep")
				}
				lp, err := skip(lb, lt.Param(i).Type)
				if err != nil {
					return false, err
				}
				tp, err := skip(tb, tt.Param(i).Type)
				if err != nil {
					return false, err
				}
				ok, err := typesAreCompat(lb, lp.ID, tb, tp.ID, level-1)
				if !ok || err != nil {
					return ok, err
				}
			}
			lr, err := skip(lb, lt.Ref())
			if err != nil {
				return false, err
			}
			tr, err := skip(tb, tt.Ref())
			if err != nil {
				return false, err
			}
			lid, tid = lr.ID, tr.ID
		default:
			return false, nil
		}
	}
}

// namesMatch is libbpf's bpf_core_names_match: an anonymous target matches
// only an anonymous local; otherwise essential names must be equal.
func namesMatch(ln, tn []byte) bool {
	if len(tn) == 0 {
		return len(ln) == 0
	}
	return namesEqualEssential(ln, tn)
}

// typesMatch is libbpf's __bpf_core_types_match (TYPE_MATCHES).
func typesMatch(lb *rawbtf.BTF, lid rawbtf.TypeID, tb *rawbtf.BTF, tid rawbtf.TypeID, behindPtr bool, level int) (bool, error) {
	if level <= 0 {
		return false, errMatch("type match too deep")
	}
	for depth := 32; ; {
		depth--
		if depth < 0 {
			return false, errMatch("type match too deep")
		}
		lt, tt, err := skipBoth(lb, lid, tb, tid)
		if err != nil {
			return false, err
		}
		if !namesMatch(lt.NameBytes(), tt.NameBytes()) {
			return false, nil
		}
		lk, tk := lt.Kind(), tt.Kind()
		switch lk {
		case rawbtf.KindUnknown:
			return lk == tk, nil
		case rawbtf.KindFwd:
			lf := lt.KindFlag()
			if behindPtr {
				if lk == tk {
					return lf == tt.KindFlag(), nil
				}
				return (tk == rawbtf.KindStruct && !lf) || (tk == rawbtf.KindUnion && lf), nil
			}
			if lk != tk {
				return false, nil
			}
			return lf == tt.KindFlag(), nil
		case rawbtf.KindEnum, rawbtf.KindEnum64:
			if !tk.IsEnum() {
				return false, nil
			}
			return enumsMatch(lt, tt), nil
		case rawbtf.KindStruct, rawbtf.KindUnion:
			if behindPtr {
				if lk == tk {
					return true, nil
				}
				if tk != rawbtf.KindFwd {
					return false, nil
				}
				return (lk == rawbtf.KindUnion) == tt.KindFlag(), nil
			}
			if lk != tk {
				return false, nil
			}
			return compositesMatch(lt, tt, behindPtr, level)
		case rawbtf.KindInt:
			if lk != tk {
				return false, nil
			}
			le, _, _ := lt.IntEncoding()
			te, _, _ := tt.IntEncoding()
			return lt.Size() == tt.Size() && le&rawbtf.IntSigned == te&rawbtf.IntSigned, nil
		case rawbtf.KindPtr:
			if lk != tk {
				return false, nil
			}
			behindPtr = true
			lid, tid = lt.Ref(), tt.Ref()
		case rawbtf.KindArray:
			if lk != tk {
				return false, nil
			}
			la, ta := lt.Array(), tt.Array()
			if la.Nelems != ta.Nelems {
				return false, nil
			}
			lid, tid = la.Type, ta.Type
		case rawbtf.KindFuncProto:
			if lk != tk || lt.Vlen() != tt.Vlen() {
				return false, nil
			}
			for i := 0; i < lt.Vlen(); i++ {
				ok, err := typesMatch(lb, lt.Param(i).Type, tb, tt.Param(i).Type, behindPtr, level-1)
				if !ok || err != nil {
					return ok, err
				}
			}
			lid, tid = lt.Ref(), tt.Ref()
		default:
			return false, nil
		}
	}
}

func enumsMatch(lt, tt rawbtf.Type) bool {
	if lt.Size() != tt.Size() || lt.Vlen() > tt.Vlen() {
		return false
	}
	lb, tb := lt.BTF(), tt.BTF()
	for i := 0; i < lt.Vlen(); i++ {
		ln := lb.StringBytes(lt.EnumValue(i).NameOff)
		found := false
		for j := 0; j < tt.Vlen(); j++ {
			if namesMatch(ln, tb.StringBytes(tt.EnumValue(j).NameOff)) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func compositesMatch(lt, tt rawbtf.Type, behindPtr bool, level int) (bool, error) {
	if lt.Vlen() > tt.Vlen() {
		return false, nil
	}
	lb, tb := lt.BTF(), tt.BTF()
	for i := 0; i < lt.Vlen(); i++ {
		lm := lt.Member(i)
		ln := lb.StringBytes(lm.NameOff)
		found := false
		for j := 0; j < tt.Vlen(); j++ {
			tm := tt.Member(j)
			if !namesMatch(ln, tb.StringBytes(tm.NameOff)) {
				continue
			}
			ok, err := typesMatch(lb, lm.Type, tb, tm.Type, behindPtr, level-1)
			if err != nil {
				return false, err
			}
			if ok {
				found = true
				break
			}
		}
		if !found {
			return false, nil
		}
	}
	return true, nil
}

// fieldsAreCompat is libbpf's bpf_core_fields_are_compat: can a local
// field's type be relocated to a target field's type.
func fieldsAreCompat(lb *rawbtf.BTF, lid rawbtf.TypeID, tb *rawbtf.BTF, tid rawbtf.TypeID) (bool, error) {
	for range 64 {
		lt, tt, err := skipBoth(lb, lid, tb, tid)
		if err != nil {
			return false, err
		}
		if lt.Kind().IsComposite() && tt.Kind().IsComposite() {
			return true, nil
		}
		if !KindsCompatible(lt.Kind(), tt.Kind()) {
			return false, nil
		}
		switch lt.Kind() {
		case rawbtf.KindPtr, rawbtf.KindFloat:
			return true, nil
		case rawbtf.KindFwd, rawbtf.KindEnum, rawbtf.KindEnum64:
			ln := rawbtf.EssentialName(lt.NameBytes())
			tn := rawbtf.EssentialName(tt.NameBytes())
			return len(ln) == 0 || len(tn) == 0 || bytes.Equal(ln, tn), nil
		case rawbtf.KindInt:
			_, lo, _ := lt.IntEncoding()
			_, to, _ := tt.IntEncoding()
			return lo == 0 && to == 0, nil
		case rawbtf.KindArray:
			lid, tid = lt.Array().Type, tt.Array().Type
		default:
			return false, nil
		}
	}
	return false, errMatch("field compatibility check too deep")
}

// matchMember is libbpf's bpf_core_match_member: find the local member
// named by acc in target composite tid, searching anonymous members
// depth-first, and extend spec with the path to it.
func matchMember(local *Spec, acc Accessor, tb *rawbtf.BTF, tid rawbtf.TypeID, spec *Spec, next *rawbtf.TypeID, depth int) (bool, error) {
	if depth > MaxSpecLen {
		return false, errMatch("anonymous member nesting too deep")
	}
	tt, err := skip(tb, tid)
	if err != nil {
		return false, err
	}
	if !tt.Kind().IsComposite() {
		return false, nil
	}
	lm := local.BTF.Type(acc.Type).Member(acc.Idx)
	lname := acc.Name
	n := tt.Vlen()
	if n > 0 && len(spec.Raw) == MaxSpecLen {
		return false, errMatch("access path longer than %d", MaxSpecLen)
	}
	// Only anonymous members and the one named lname matter: the others
	// are skipped on their name alone.
	for i := 0; i < n; i++ {
		off := tt.MemberNameOff(i)
		anon := tb.StringEmpty(off)
		if !anon && !tb.StringIs(off, lname) {
			continue
		}
		m := tt.Member(i)
		spec.BitOffset += m.BitOffset
		spec.Raw = append(spec.Raw, i)
		if anon {
			found, err := matchMember(local, acc, tb, m.Type, spec, next, depth+1)
			if err != nil || found {
				return found, err
			}
			spec.BitOffset -= m.BitOffset
			spec.Raw = spec.Raw[:len(spec.Raw)-1]
			continue
		}
		spec.Access = append(spec.Access, Accessor{Type: tt.ID, Idx: i, Name: tb.StringBytes(off)})
		*next = m.Type
		ok, err := fieldsAreCompat(local.BTF, lm.Type, tb, m.Type)
		if err != nil {
			return false, err
		}
		if !ok {
			spec.Access = spec.Access[:len(spec.Access)-1]
		}
		return ok, nil
	}
	return false, nil
}

// MatchCandidate is libbpf's bpf_core_spec_match: it matches a local spec
// against candidate root type cand of tb. It returns the target spec, or
// nil if the candidate does not match. An error means libbpf would fail
// the relocation outright.
func MatchCandidate(local *Spec, tb *rawbtf.BTF, cand rawbtf.TypeID) (*Spec, error) {
	targ := &Spec{Access: make([]Accessor, 0, len(local.Access)), Raw: make([]int, 0, len(local.Raw)+2)}
	if ok, err := MatchCandidateInto(local, tb, cand, targ); !ok || err != nil {
		return nil, err
	}
	return targ, nil
}

// MatchCandidateInto is MatchCandidate writing the target spec into targ,
// whose slices it reuses, and reporting whether the candidate matches:
// matching many candidates with one targ allocates nothing. targ is
// overwritten even when the candidate does not match.
func MatchCandidateInto(local *Spec, tb *rawbtf.BTF, cand rawbtf.TypeID, targ *Spec) (bool, error) {
	targ.BTF, targ.Root, targ.Kind = tb, cand, local.Kind
	targ.Access, targ.Raw, targ.BitOffset = targ.Access[:0], targ.Raw[:0], 0
	if local.Kind.IsType() {
		var ok bool
		var err error
		if local.Kind == TypeMatches {
			ok, err = typesMatch(local.BTF, local.Root, tb, cand, false, 32)
		} else {
			ok, err = typesAreCompat(local.BTF, local.Root, tb, cand, 32)
		}
		return ok && err == nil, err
	}
	if local.Kind.IsEnumval() {
		tt, err := skip(tb, cand)
		if err != nil {
			return false, err
		}
		if !tt.Kind().IsEnum() {
			return false, nil
		}
		lname := rawbtf.EssentialName(local.Access[0].Name)
		for i := 0; i < tt.Vlen(); i++ {
			tname := tb.StringBytes(tt.EnumValue(i).NameOff)
			if bytes.Equal(rawbtf.EssentialName(tname), lname) {
				targ.Access = append(targ.Access, Accessor{Type: tt.ID, Idx: i, Name: tname})
				targ.Raw = append(targ.Raw, i)
				return true, nil
			}
		}
		return false, nil
	}
	if !local.Kind.IsField() {
		return false, errMatch("unknown relocation kind %d", local.Kind)
	}
	tid := cand
	for i, acc := range local.Access {
		tt, err := skip(tb, tid)
		if err != nil {
			return false, err
		}
		tid = tt.ID
		if acc.Name != nil {
			ok, err := matchMember(local, acc, tb, tid, targ, &tid, 0)
			if !ok || err != nil {
				return false, err
			}
			continue
		}
		if i > 0 {
			if tt.Kind() != rawbtf.KindArray {
				return false, nil
			}
			a := tt.Array()
			if !isFlexArray(tb, targ.Access[len(targ.Access)-1], a) && acc.Idx >= int(a.Nelems) {
				return false, nil
			}
			elem, err := skip(tb, a.Type)
			if err != nil {
				return false, err
			}
			tid = elem.ID
		}
		if len(targ.Raw) == MaxSpecLen {
			return false, errMatch("access path longer than %d", MaxSpecLen)
		}
		targ.Access = append(targ.Access, Accessor{Type: tid, Idx: acc.Idx})
		targ.Raw = append(targ.Raw, acc.Idx)
		sz, err := tb.ResolveSize(tid)
		if err != nil {
			return false, fmt.Errorf("%w: %w", ErrUnsatisfiable, err)
		}
		targ.BitOffset += uint32(int64(acc.Idx) * sz * 8)
	}
	return true, nil
}
