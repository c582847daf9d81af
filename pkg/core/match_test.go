package core_test

import (
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

func TestFieldCompatibility(t *testing.T) {
	lb := btftest.New()
	u := lb.Int("unsigned int", 4, false)
	ls := lb.Struct("s", 4, btftest.M{Name: "f", Type: u})
	local := lb.BTF()
	for _, tc := range []struct {
		name      string
		build     func(b *btftest.Builder) rawbtf.TypeID
		matched   bool
		failMemSz bool
	}{
		{"wider unsigned", func(b *btftest.Builder) rawbtf.TypeID { return b.Int("long unsigned int", 8, false) }, true, false},
		{"wider signed", func(b *btftest.Builder) rawbtf.TypeID { return b.Int("long", 8, true) }, true, true},
		{"through typedef and const", func(b *btftest.Builder) rawbtf.TypeID {
			return b.Const(b.Typedef("u32", b.Int("unsigned int", 4, false)))
		}, true, false},
		{"struct", func(b *btftest.Builder) rawbtf.TypeID { return b.Struct("x", 4) }, false, false},
		{"pointer", func(b *btftest.Builder) rawbtf.TypeID { return b.Ptr(0) }, false, false},
		{"old-style bitfield int", func(b *btftest.Builder) rawbtf.TypeID { return b.IntBits("int", 4, 2, 8) }, false, false},
	} {
		b := btftest.New()
		ft := tc.build(b)
		b.Struct("s", 8, btftest.M{Name: "f", Type: ft})
		res := relocate(t, local, b.BTF(), relo(ls, "0:0", core.FieldByteOffset))
		if got := len(res[0].Matched) > 0; got != tc.matched || res[0].FailMemSz != tc.failMemSz {
			t.Errorf("%s: matched %v failMemSz %v, want %v %v (err %v)", tc.name, got, res[0].FailMemSz, tc.matched, tc.failMemSz, res[0].Err)
		}
	}
}

func TestTypeMatchesRules(t *testing.T) {
	for _, tc := range []struct {
		name    string
		local   func(b *btftest.Builder) rawbtf.TypeID
		target  func(b *btftest.Builder)
		matches bool
	}{
		{"int sign differs",
			func(b *btftest.Builder) rawbtf.TypeID { return b.Typedef("t", b.Int("int", 4, true)) },
			func(b *btftest.Builder) { b.Typedef("t", b.Int("unsigned int", 4, false)) }, false},
		{"struct with extra target member",
			func(b *btftest.Builder) rawbtf.TypeID {
				return b.Struct("s", 4, btftest.M{Name: "a", Type: b.Int("int", 4, true)})
			},
			func(b *btftest.Builder) {
				i := b.Int("int", 4, true)
				b.Struct("s", 8, btftest.M{Name: "z", Type: i}, btftest.M{Name: "a", Type: i, BitOff: 32})
			}, true},
		{"member renamed",
			func(b *btftest.Builder) rawbtf.TypeID {
				return b.Struct("s", 4, btftest.M{Name: "a", Type: b.Int("int", 4, true)})
			},
			func(b *btftest.Builder) { b.Struct("s", 4, btftest.M{Name: "b", Type: b.Int("int", 4, true)}) }, false},
		{"pointee struct vs fwd",
			func(b *btftest.Builder) rawbtf.TypeID {
				return b.Struct("s", 8, btftest.M{Name: "p", Type: b.Ptr(b.Next() + 1)}, btftest.M{Name: "q", Type: 0})
			},
			func(b *btftest.Builder) {
				b.Struct("s", 8, btftest.M{Name: "p", Type: b.Ptr(b.Fwd("s", false))}, btftest.M{Name: "q", Type: 0})
			}, true},
		{"array length",
			func(b *btftest.Builder) rawbtf.TypeID {
				i := b.Int("int", 4, true)
				return b.Typedef("a", b.Array(i, i, 4))
			},
			func(b *btftest.Builder) { i := b.Int("int", 4, true); b.Typedef("a", b.Array(i, i, 5)) }, false},
		{"enum names not values",
			func(b *btftest.Builder) rawbtf.TypeID { return b.Enum("e", 4, false, btftest.E{Name: "X", Value: 1}) },
			func(b *btftest.Builder) {
				b.Enum("e", 4, false, btftest.E{Name: "Y", Value: 1}, btftest.E{Name: "X", Value: 7})
			}, true},
	} {
		lb := btftest.New()
		root := tc.local(lb)
		b := btftest.New()
		tc.target(b)
		res := relocate(t, lb.BTF(), b.BTF(), relo(root, "0", core.TypeMatches))
		if got := res[0].NewVal == 1; got != tc.matches || res[0].Err != nil {
			t.Errorf("%s: matches %v, want %v (err %v)", tc.name, got, tc.matches, res[0].Err)
		}
	}
}
