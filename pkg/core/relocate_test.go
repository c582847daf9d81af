package core_test

import (
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/core"
)

func TestFlavorsAndAmbiguity(t *testing.T) {
	lb := btftest.New()
	l := lb.Int("long", 8, true)
	old := lb.Struct("task_struct___old", 8, btftest.M{Name: "state", Type: l})
	local := lb.BTF()

	b := btftest.New()
	i := b.Int("int", 4, true)
	b.Struct("task_struct", 16, btftest.M{Name: "state", Type: i, BitOff: 64})
	b.Struct("task_struct___2", 16, btftest.M{Name: "state", Type: i, BitOff: 64})
	res := relocate(t, local, b.BTF(), relo(old, "0:0", core.FieldByteOffset))
	check(t, "two agreeing flavors", res[0], want{val: 8, matched: true})
	if len(res[0].Matched) != 2 {
		t.Errorf("matched %v, want both candidates", res[0].Matched)
	}

	b = btftest.New()
	i = b.Int("int", 4, true)
	b.Struct("task_struct", 16, btftest.M{Name: "state", Type: i, BitOff: 64})
	b.Struct("task_struct", 16, btftest.M{Name: "state", Type: i, BitOff: 32})
	res = relocate(t, local, b.BTF(), relo(old, "0:0", core.FieldByteOffset))
	check(t, "disagreeing duplicates", res[0], want{err: core.ErrAmbiguous})
}

// TestCandidatePruning checks libbpf's per-type candidate cache: once a
// relocation matched some candidates, later relocations of the same local
// type only consider those.
func TestCandidatePruning(t *testing.T) {
	lb := btftest.New()
	i := lb.Int("int", 4, true)
	ls := lb.Struct("foo", 8, btftest.M{Name: "x", Type: i}, btftest.M{Name: "y", Type: i, BitOff: 32})
	local := lb.BTF()
	b := btftest.New()
	ti := b.Int("int", 4, true)
	b.Struct("foo", 4, btftest.M{Name: "x", Type: ti})
	b.Struct("foo", 8, btftest.M{Name: "y", Type: ti, BitOff: 32})
	target := b.BTF()

	res := relocate(t, local, target, relo(ls, "0:0", core.FieldByteOffset), relo(ls, "0:1", core.FieldByteOffset))
	check(t, "x", res[0], want{val: 0, matched: true})
	check(t, "y after x", res[1], want{poison: true})
	res = relocate(t, local, target, relo(ls, "0:1", core.FieldByteOffset))
	check(t, "y alone", res[0], want{val: 4, matched: true})
}

func TestErrors(t *testing.T) {
	lb := btftest.New()
	i := lb.Int("int", 4, true)
	anon := lb.Struct("", 4, btftest.M{Name: "a", Type: i})
	s := lb.Struct("s", 4, btftest.M{Name: "a", Type: i})
	local := lb.BTF()
	b := btftest.New()
	b.Struct("s", 4, btftest.M{Name: "a", Type: b.Int("int", 4, true)})
	res := relocate(t, local, b.BTF(),
		relo(anon, "0:0", core.FieldByteOffset),
		relo(s, "0:7", core.FieldByteOffset),
		relo(s, "x", core.FieldByteOffset),
		relo(s, "0:0", core.Kind(99)),
		relo(s, "1", core.TypeExists),
	)
	check(t, "anonymous", res[0], want{err: core.ErrAnonymous})
	for _, r := range res[1:] {
		check(t, "invalid spec", r, want{err: core.ErrInvalidSpec})
	}
}
