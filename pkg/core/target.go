package core

import (
	"github.com/btftool/btftool/pkg/rawbtf"
)

// Target is a target BTF (usually a kernel's) prepared for candidate
// search. It is safe for concurrent use.
type Target struct {
	BTF *rawbtf.BTF
	// byName maps essential names to the named types carrying them, in ID
	// order. When partial, only the names asked for at construction are
	// present and other names fall back to a linear scan.
	byName  map[string][]rawbtf.TypeID
	partial bool
}

// NewTarget indexes every named type of b by essential name.
func NewTarget(b *rawbtf.BTF) *Target {
	t := &Target{BTF: b, byName: make(map[string][]rawbtf.TypeID, b.NumTypes()/2)}
	for id := 1; id < b.NumTypes(); id++ {
		name := b.Type(rawbtf.TypeID(id)).NameBytes()
		if len(name) == 0 {
			continue
		}
		ess := rawbtf.EssentialName(name)
		t.byName[string(ess)] = append(t.byName[string(ess)], rawbtf.TypeID(id))
	}
	return t
}

// NewTargetFor indexes only the types whose essential name is among names,
// in one pass over b. Candidate search for other names still works but
// scans b. Use it when the names needed are known up front, as they are
// for a set of objects: it is several times cheaper than NewTarget.
func NewTargetFor(b *rawbtf.BTF, names map[string]struct{}) *Target {
	t := &Target{BTF: b, byName: make(map[string][]rawbtf.TypeID, len(names)), partial: true}
	for n := range names {
		t.byName[n] = nil
	}
	// Most names do not even start like a name needed: a bitmap of the
	// first two bytes of the names needed rules them out without reading
	// them whole. A flavor suffix can start at the second byte ("a___b"
	// is "a"), so names whose second byte is '_' are always read.
	var prefixes [1 << 16 / 64]uint64
	for n := range names {
		if n == "" {
			continue
		}
		k := prefixKey(n[0], 0)
		if len(n) > 1 {
			k = prefixKey(n[0], n[1])
		}
		prefixes[k/64] |= 1 << (k % 64)
	}
	// Kernels that pahole did not deduplicate name the same string from
	// hundreds of types: decide each name offset once. Two bits per byte
	// of the string section: offset decided, and its name needed.
	words := (b.StringsLen() + 63) / 64
	decided, needed := make([]uint64, words), make([]uint64, words)
	for id := 1; id < b.NumTypes(); id++ {
		off := b.Type(rawbtf.TypeID(id)).NameOff()
		if int(off) >= b.StringsLen() || off == 0 {
			continue
		}
		if b1 := b.StringByte(off + 1); b1 != '_' {
			k := prefixKey(b.StringByte(off), b1)
			if prefixes[k/64]&(1<<(k%64)) == 0 {
				continue
			}
		}
		w, bit := off/64, uint64(1)<<(off%64)
		if decided[w]&bit != 0 && needed[w]&bit == 0 {
			continue
		}
		decided[w] |= bit
		name := b.StringBytes(off)
		if len(name) == 0 {
			continue
		}
		ess := rawbtf.EssentialName(name)
		if ids, ok := t.byName[string(ess)]; ok {
			needed[w] |= bit
			t.byName[string(ess)] = append(ids, rawbtf.TypeID(id))
		}
	}
	return t
}

// KindsCompatible is libbpf's btf_kind_core_compat: whether a target type
// of kind b can be a candidate for a local type of kind a (the same kind,
// or both enums of either width).
func KindsCompatible(a, b rawbtf.Kind) bool {
	return a == b || (a.IsEnum() && b.IsEnum())
}

// Candidates returns the target types libbpf considers for a local type:
// every named type of a compatible kind with the same essential name, in
// ID order. The result must not be modified.
//
// When the target is split BTF (a kernel's vmlinux BTF as base, the types
// of its modules on top, see pkg/kmod), libbpf's bpf_core_find_cands rule
// applies: the candidates are vmlinux's if it has any, and only otherwise
// those of the modules.
func (t *Target) Candidates(local rawbtf.Type) []rawbtf.TypeID {
	name := local.NameBytes()
	if len(name) == 0 {
		return nil
	}
	ess := rawbtf.EssentialName(name)
	ids, ok := t.byName[string(ess)]
	if !ok && t.partial {
		ids = t.scan(ess)
	}
	lk := local.Kind()
	// n counts the compatible candidates, inBase those of the base (they
	// come first: ids are in ID order).
	n, inBase := 0, 0
	first := t.BTF.FirstID()
	for _, id := range ids {
		if KindsCompatible(t.BTF.Type(id).Kind(), lk) {
			n++
			if id < first {
				inBase++
			}
		}
	}
	if inBase > 0 && inBase < n {
		n = inBase // vmlinux has candidates: the modules are not searched
	}
	if n == len(ids) {
		return ids
	}
	out := make([]rawbtf.TypeID, 0, n)
	for _, id := range ids {
		if len(out) < n && KindsCompatible(t.BTF.Type(id).Kind(), lk) {
			out = append(out, id)
		}
	}
	return out
}

// FromModules reports whether candidate id comes from a kernel module: the
// target is split BTF and id one of its own types.
func (t *Target) FromModules(id rawbtf.TypeID) bool {
	return t.BTF.IsSplit() && id >= t.BTF.FirstID()
}

func (t *Target) scan(ess []byte) []rawbtf.TypeID {
	var ids []rawbtf.TypeID
	b := t.BTF
	for id := 1; id < b.NumTypes(); id++ {
		name := b.Type(rawbtf.TypeID(id)).NameBytes()
		if len(name) >= len(ess) && string(rawbtf.EssentialName(name)) == string(ess) {
			ids = append(ids, rawbtf.TypeID(id))
		}
	}
	return ids
}

// prefixKey packs the first two bytes of a name (0 for the second of a
// one-byte name).
func prefixKey(b0, b1 byte) uint32 { return uint32(b0)<<8 | uint32(b1) }

// WithModules returns a Target over split, a kernel's vmlinux BTF (t's
// BTF, its base) extended with the types of some of its modules (see
// pkg/kmod): t's index of vmlinux is reused, and only the modules' types
// are indexed.
func (t *Target) WithModules(split *rawbtf.BTF) *Target {
	if split.Base() != t.BTF {
		panic("core: WithModules of split BTF on another base")
	}
	nt := &Target{BTF: split, byName: make(map[string][]rawbtf.TypeID, len(t.byName)), partial: t.partial}
	for n, ids := range t.byName {
		nt.byName[n] = ids
	}
	for id := split.FirstID(); int(id) < split.NumTypes(); id++ {
		name := split.Type(id).NameBytes()
		if len(name) == 0 {
			continue
		}
		ess := rawbtf.EssentialName(name)
		ids, ok := nt.byName[string(ess)]
		if !ok && t.partial {
			continue
		}
		// Copy on first append: the base's lists are shared with t.
		if len(ids) == 0 || ids[len(ids)-1] < split.FirstID() {
			ids = append(ids[:len(ids):len(ids)], id)
		} else {
			ids = append(ids, id)
		}
		nt.byName[string(ess)] = ids
	}
	return nt
}
