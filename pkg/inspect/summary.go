package inspect

import (
	"cmp"
	"encoding/binary"
	"slices"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// Shapes a BTF can have, see Summary.Shape.
const (
	ShapeFull      = "full"      // a kernel's complete BTF
	ShapeMinimized = "minimized" // cut down to what CO-RE relocations need
	ShapeOther     = "other"     // neither: a module, a BPF object, ...
)

// fullKernelTypes is the number of types above which a BTF with functions
// looks like a whole kernel (they have 30k to 150k types).
const fullKernelTypes = 10000

// Summary describes a BTF.
type Summary struct {
	// ByteOrder is "little-endian" or "big-endian".
	ByteOrder string `json:"byte_order"`
	// Size is the length of the raw BTF in bytes.
	Size int `json:"size"`
	// Types is the number of types, void excluded.
	Types int `json:"types"`
	// Kinds counts the types of each kind present, in kind order.
	Kinds []KindCount `json:"kinds"`
	// StringsSize is the length of the string section in bytes.
	StringsSize int `json:"strings_size"`
	// HeaderLen is the header's length: 24 in the classic format, 32 in
	// the format with a layout section (kernel 7.1).
	HeaderLen int `json:"header_len"`
	// LayoutKinds is the number of kinds the layout section describes, 0
	// without one.
	LayoutKinds int `json:"layout_kinds"`
	// UnknownKinds is the number of types of kinds rawbtf does not know,
	// skipped by the layout section (Kinds names them UNKNOWN_KIND(N)):
	// they cannot be CO-RE candidates and no minimized BTF holds them.
	UnknownKinds int `json:"unknown_kind_types"`
	// Largest lists the ten largest structs and unions, largest first.
	Largest []SizedType `json:"largest"`
	// Sparse is the number of structs whose members cover less than half
	// of their size, as trimmed structs of a minimized BTF do.
	Sparse int `json:"sparse_structs"`
	// Shape is ShapeFull, ShapeMinimized or ShapeOther, and Reason says
	// why.
	Shape  string `json:"shape"`
	Reason string `json:"reason"`
}

// KindCount is the number of types of one kind.
type KindCount struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}

// SizedType is a type and its size.
type SizedType struct {
	ID   rawbtf.TypeID `json:"id"`
	Kind string        `json:"kind"`
	Name string        `json:"name"`
	Size uint32        `json:"size"`
}

// Summarize describes b.
func Summarize(b *rawbtf.BTF) *Summary {
	s := &Summary{ByteOrder: "little-endian", Size: b.Size(), Types: b.NumTypes() - 1, StringsSize: b.StringsLen(),
		HeaderLen: b.HeaderLen(), LayoutKinds: b.LayoutKinds()}
	if b.ByteOrder() == binary.BigEndian {
		s.ByteOrder = "big-endian"
	}
	var counts [128]int // kinds have 7 bits
	var comps []SizedType
	for id := 1; id < b.NumTypes(); id++ {
		t := b.Type(rawbtf.TypeID(id))
		k := t.Kind()
		counts[k]++
		if !k.Known() {
			s.UnknownKinds++
		}
		if !k.IsComposite() {
			continue
		}
		comps = append(comps, SizedType{ID: t.ID, Kind: k.C(), Name: t.Name(), Size: t.Size()})
		if k == rawbtf.KindStruct && t.Size() > 0 && 2*covered(b, t) < int64(t.Size()) {
			s.Sparse++
		}
	}
	for k, n := range counts {
		if n > 0 {
			s.Kinds = append(s.Kinds, KindCount{Kind: rawbtf.Kind(k).String(), Count: n})
		}
	}
	slices.SortStableFunc(comps, func(a, b SizedType) int { return cmp.Compare(b.Size, a.Size) })
	s.Largest = comps[:min(10, len(comps))]
	funcs, datasecs := counts[rawbtf.KindFunc], counts[rawbtf.KindDatasec]
	switch {
	case s.Types > fullKernelTypes && funcs > 0:
		s.Shape, s.Reason = ShapeFull, "more than 10000 types, with functions"
	case funcs == 0 && datasecs == 0 && s.Types <= fullKernelTypes && s.Sparse > 0:
		s.Shape, s.Reason = ShapeMinimized, "few types, no functions or data sections, trimmed structs"
	case funcs == 0 && datasecs == 0 && s.Types <= fullKernelTypes:
		s.Shape, s.Reason = ShapeMinimized, "few types, no functions or data sections"
	default:
		s.Shape, s.Reason = ShapeOther, "neither a full kernel BTF nor a minimized one"
	}
	return s
}

// covered returns the number of bytes of struct t its members cover.
func covered(b *rawbtf.BTF, t rawbtf.Type) int64 {
	var n int64
	for i := range t.Vlen() {
		m := t.Member(i)
		if m.BitfieldSize != 0 {
			n += int64(m.BitfieldSize+7) / 8
			continue
		}
		if sz, err := b.ResolveSize(m.Type); err == nil {
			n += sz
		}
	}
	return n
}
