package btfgen

import (
	"github.com/btftool/btftool/pkg/rawbtf"
)

// emit encodes the kept types of the kernel BTF in their original order,
// in the kernel's byte order and the classic format. References to types
// not kept (pointer targets never followed) become void; kept types of
// kinds rawbtf does not know become placeholders (rawbtf.Encoder.Copy).
// Hidden types (see hideShadowed) are emitted anonymous, or elided for
// typedefs. It returns the encoding and the kernel type ID of every new
// ID.
func emit(k *rawbtf.BTF, m *marks) ([]byte, []rawbtf.TypeID, error) {
	oldToNew := make(map[rawbtf.TypeID]rawbtf.TypeID)
	newToOld := []rawbtf.TypeID{0}
	// A hidden typedef is elided: what refers to it refers to its target.
	elided := func(id rawbtf.TypeID) bool {
		return m.hidden[id] && k.Type(id).Kind() == rawbtf.KindTypedef
	}
	for id := 1; id < k.NumTypes(); id++ {
		if m.flags[id]&kept != 0 && !elided(rawbtf.TypeID(id)) {
			oldToNew[rawbtf.TypeID(id)] = rawbtf.TypeID(len(newToOld))
			newToOld = append(newToOld, rawbtf.TypeID(id))
		}
	}
	enc := rawbtf.NewEncoder(k.ByteOrder())
	// Room for the kept types whole; their names take about half as
	// much again in the kernels measured.
	size := 0
	for _, id := range newToOld[1:] {
		size += len(k.Type(id).Raw())
	}
	enc.Grow(size, size/2)
	var id rawbtf.TypeID
	edit := rawbtf.Edit{
		Remap: func(old rawbtf.TypeID) rawbtf.TypeID {
			for n := 0; n < 1<<16 && elided(old); n++ {
				old = k.Type(old).Ref()
			}
			return oldToNew[old]
		},
		Keep: func(i int) bool { return m.memberKept(id, i) },
	}
	for _, id = range newToOld[1:] {
		t := k.Type(id)
		ed := edit
		if !t.Kind().IsComposite() {
			ed.Keep = nil // enums, prototypes and data sections whole
		}
		ed.Anonymous = m.hidden[id]
		if _, err := enc.Copy(t, ed); err != nil {
			return nil, nil, err
		}
	}
	out, err := enc.Bytes()
	return out, newToOld, err
}
