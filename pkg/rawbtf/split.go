package rawbtf

import (
	"encoding/binary"
	"fmt"
)

// MergeSplit returns one split BTF on base holding the own types of every
// split BTF in splits, in order: the types of splits[i] follow those of
// splits[i-1], their references to their own types and their own string
// offsets renumbered to match, while references to base types and names
// stay as they are. This is how several kernel modules' types are put
// side by side in one ID space. firsts[i] is the ID the first type of
// splits[i] gets in the result.
//
// Every element of splits must be split BTF on base (ParseSplit).
func MergeSplit(base *BTF, splits []*BTF) (merged *BTF, firsts []TypeID, err error) {
	if base == nil || base.base != nil {
		return nil, nil, fmt.Errorf("%w: MergeSplit needs a base BTF", ErrCorrupt)
	}
	baseN := TypeID(base.NumTypes())
	strBase := uint32(len(base.strings))
	var types, strs []byte
	firsts = make([]TypeID, len(splits))
	next := baseN
	for i, s := range splits {
		if s.base != base {
			return nil, nil, fmt.Errorf("%w: split BTF %d of %d is not on the given base", ErrWrongBase, i+1, len(splits))
		}
		firsts[i] = next
		idDelta := uint32(next - baseN)
		strDelta := uint32(len(strs))
		mapID := func(id uint32) uint32 {
			if id >= uint32(baseN) {
				return id + idDelta
			}
			return id
		}
		mapStr := func(off uint32) uint32 {
			if off >= strBase {
				return off + strDelta
			}
			return off
		}
		for id := s.FirstID(); int(id) < s.NumTypes(); id++ {
			t := s.Type(id)
			at := len(types)
			types = append(types, t.Raw()...)
			rec := types[at:]
			put := func(word int, f func(uint32) uint32) {
				p := rec[word*4:]
				s.order.PutUint32(p, f(s.order.Uint32(p)))
			}
			put(0, mapStr)
			k, vlen := t.Kind(), t.Vlen()
			if k.hasRef() {
				put(2, mapID)
			}
			// The records of a type of a kind this package does not know
			// are copied as they are: which of their words are IDs or
			// names cannot be told.
			switch k {
			case KindArray:
				put(3, mapID)
				put(4, mapID)
			case KindStruct, KindUnion:
				for m := 0; m < vlen; m++ {
					put(3+3*m, mapStr)
					put(4+3*m, mapID)
				}
			case KindEnum:
				for m := 0; m < vlen; m++ {
					put(3+2*m, mapStr)
				}
			case KindEnum64:
				for m := 0; m < vlen; m++ {
					put(3+3*m, mapStr)
				}
			case KindFuncProto:
				for m := 0; m < vlen; m++ {
					put(3+2*m, mapStr)
					put(4+2*m, mapID)
				}
			case KindDatasec:
				for m := 0; m < vlen; m++ {
					put(3+3*m, mapID)
				}
			}
		}
		strs = append(strs, s.strings...)
		next += TypeID(len(s.offsets) - 1)
	}
	layout, err := mergedLayout(base, splits)
	if err != nil {
		return nil, nil, err
	}
	order := base.order
	hlen := headerLen
	if layout != nil {
		hlen = layoutHeaderLen
	}
	hdr := make([]byte, hlen, hlen+len(types)+len(layout)+len(strs))
	order.PutUint16(hdr, Magic)
	hdr[2] = 1
	order.PutUint32(hdr[4:], uint32(hlen))
	order.PutUint32(hdr[8:], 0)
	order.PutUint32(hdr[12:], uint32(len(types)))
	order.PutUint32(hdr[16:], uint32(len(types)+len(layout)))
	order.PutUint32(hdr[20:], uint32(len(strs)))
	if layout != nil {
		order.PutUint32(hdr[24:], uint32(len(types)))
		order.PutUint32(hdr[28:], uint32(len(layout)))
	}
	data := append(append(append(hdr, types...), layout...), strs...)
	merged, err = ParseSplit(data, base)
	if err != nil {
		return nil, nil, fmt.Errorf("merging split BTF: %w", err)
	}
	return merged, firsts, nil
}

// mergedLayout returns the layout section of MergeSplit's result: none
// when no split has types of kinds this package does not know, else one
// describing every kind the splits' layouts (their own, or the base's)
// describe. Splits that describe a kind they use differently are an
// error.
func mergedLayout(base *BTF, splits []*BTF) ([]byte, error) {
	var merged []byte
	var from []int // the split whose entry merged holds, per kind
	need := false
	for i, s := range splits {
		for id := s.FirstID(); int(id) < s.NumTypes() && !need; id++ {
			need = !s.Type(id).Kind().Known()
		}
		l := s.layout
		for k := 0; k < len(l)/layoutEntryLen; k++ {
			e := l[k*layoutEntryLen : (k+1)*layoutEntryLen]
			if k*layoutEntryLen >= len(merged) {
				merged = append(merged, e...)
				from = append(from, i)
				continue
			}
			if m := merged[k*layoutEntryLen:][:layoutEntryLen]; string(m) != string(e) && !Kind(k).Known() {
				return nil, fmt.Errorf("%w: split BTF %d and %d lay kind %d out differently", ErrCorrupt, from[k]+1, i+1, k)
			}
		}
	}
	if !need {
		return nil, nil
	}
	// Kinds described by the base's layout only keep its entries.
	if len(base.layout) > len(merged) {
		merged = append(merged, base.layout[len(merged):]...)
	}
	return merged, nil
}

// SplitNames calls fn with the kind and name offset of every named type
// of the raw (split) BTF data: the quick look a module index takes to
// learn which names a module defines before parsing it with ParseSplit.
// It reads only the header and the types' common headers, and checks no
// more than it needs to stay within data. In split BTF a name offset below
// the base's string section length names a base string; the others name
// the split's own strings (StringsIn), from that length on. It returns an
// error wrapping ErrNotBTF or ErrCorrupt when the data cannot be walked.
//
// Types of kinds this package does not know are skipped by the data's
// layout section; SplitNamesOn also uses its base's, as ParseSplit does.
func SplitNames(data []byte, fn func(kind Kind, nameOff uint32)) error {
	return SplitNamesOn(data, nil, fn)
}

// SplitNamesOn is SplitNames for split BTF data on base: types of kinds
// this package does not know are skipped by the data's layout section or,
// when it has none, by base's. base may be nil.
func SplitNamesOn(data []byte, base *BTF, fn func(kind Kind, nameOff uint32)) error {
	sec, err := sections(data)
	if err != nil {
		return err
	}
	view := &BTF{big: sec.big, order: binary.LittleEndian, layout: sec.layout}
	if sec.big {
		view.order = binary.BigEndian
	}
	if view.layout == nil && base != nil {
		view.layout = base.layout
	}
	var lens [kindMask + 1]recordLen
	view.recordLens(&lens)
	t := sec.types
	for off := 0; off < len(t); {
		if len(t)-off < 12 {
			return fmt.Errorf("%w: type truncated at offset %d", ErrCorrupt, off)
		}
		nameOff := sec.u32(t[off:])
		info := sec.u32(t[off+4:])
		kind := Kind(info >> 24 & kindMask)
		rl := lens[kind]
		if rl.elem < 0 {
			return fmt.Errorf("%w: type at offset %d has unknown kind %d, which no layout section describes", ErrCorrupt, off, kind)
		}
		extra := int(rl.info) + int(info&vlenMask)*int(rl.elem)
		if len(t)-off-12 < extra {
			return fmt.Errorf("%w: type at offset %d truncated", ErrCorrupt, off)
		}
		if nameOff != 0 {
			fn(kind, nameOff)
		}
		off += 12 + extra
	}
	return nil
}

// StringsIn returns the string section of the BTF data, without parsing
// its types: a split BTF's own strings, whose offsets start at its base's
// string section length.
func StringsIn(data []byte) ([]byte, error) {
	sec, err := sections(data)
	if err != nil {
		return nil, err
	}
	return sec.strings, nil
}

// rawSections are the sections of raw BTF located from its header.
type rawSections struct {
	big                    bool
	types, strings, layout []byte
}

func (s *rawSections) u32(p []byte) uint32 {
	if s.big {
		return uint32(p[3]) | uint32(p[2])<<8 | uint32(p[1])<<16 | uint32(p[0])<<24
	}
	return uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24
}

// sections locates the type and string sections of data, checking what
// Parse checks of the header.
func sections(data []byte) (*rawSections, error) {
	if len(data) < 4 {
		return nil, fmt.Errorf("%w: %d bytes is too short for a header", ErrNotBTF, len(data))
	}
	s := &rawSections{}
	switch {
	case data[0] == 0x9f && data[1] == 0xeb:
	case data[0] == 0xeb && data[1] == 0x9f:
		s.big = true
	default:
		return nil, fmt.Errorf("%w: bad magic % x", ErrNotBTF, data[:2])
	}
	if len(data) < headerLen {
		return nil, fmt.Errorf("%w: truncated header (%d bytes)", ErrCorrupt, len(data))
	}
	hdrLen := s.u32(data[4:])
	typeOff, typeLen := s.u32(data[8:]), s.u32(data[12:])
	strOff, strLen := s.u32(data[16:]), s.u32(data[20:])
	if hdrLen < headerLen || uint64(hdrLen) > uint64(len(data)) {
		return nil, fmt.Errorf("%w: header length %d out of range", ErrCorrupt, hdrLen)
	}
	body := data[hdrLen:]
	if uint64(typeOff)+uint64(typeLen) > uint64(len(body)) || uint64(strOff)+uint64(strLen) > uint64(len(body)) {
		return nil, fmt.Errorf("%w: sections beyond end of data (%d bytes)", ErrCorrupt, len(body))
	}
	s.types, s.strings = body[typeOff:typeOff+typeLen], body[strOff:strOff+strLen]
	if hdrLen >= layoutHeaderLen {
		if layoutOff, layoutLen := s.u32(data[24:]), s.u32(data[28:]); layoutLen != 0 {
			if err := checkLayout(layoutOff, layoutLen, typeOff, typeLen, strOff, strLen, len(body)); err != nil {
				return nil, err
			}
			s.layout = body[layoutOff : layoutOff+layoutLen]
		}
	}
	return s, nil
}
