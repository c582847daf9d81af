package core_test

import (
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

func TestFieldRelocations(t *testing.T) {
	local, task := localTask()
	// Target: fields moved, comm longer, state renamed to __state and
	// retyped, real_parent inside an anonymous union.
	b := btftest.New()
	i := b.Int("int", 4, true)
	c := b.Int("char", 1, true)
	ui := b.Int("unsigned int", 4, false)
	void := rawbtf.TypeID(0)
	vp := b.Ptr(void)
	anon := b.Union("", 8, btftest.M{Name: "real_parent", Type: vp}, btftest.M{Name: "other", Type: i})
	arr := b.Array(c, i, 32)
	b.Struct("task_struct", 128,
		btftest.M{Name: "__state", Type: ui, BitOff: 0},
		btftest.M{Name: "tgid", Type: i, BitOff: 64},
		btftest.M{Name: "pid", Type: i, BitOff: 96},
		btftest.M{Type: anon, BitOff: 192},
		btftest.M{Name: "comm", Type: arr, BitOff: 512},
	)
	target := b.BTF()
	res := relocate(t, local, target,
		relo(task, "0:0", core.FieldByteOffset),   // pid moved
		relo(task, "0:1", core.FieldByteOffset),   // tgid moved
		relo(task, "0:2", core.FieldByteOffset),   // real_parent in anon union
		relo(task, "0:3:5", core.FieldByteOffset), // comm[5]
		relo(task, "0:3", core.FieldByteSize),     // sizeof comm
		relo(task, "0:4", core.FieldExists),       // state gone
		relo(task, "0:4", core.FieldByteOffset),   // state gone: poison
		relo(task, "0:0", core.FieldSigned),
		relo(task, "0:0", core.FieldExists),
	)
	check(t, "pid", res[0], want{val: 12, matched: true})
	check(t, "tgid", res[1], want{val: 8, matched: true})
	check(t, "real_parent", res[2], want{val: 24, matched: true})
	check(t, "comm[5]", res[3], want{val: 69, matched: true})
	check(t, "sizeof comm", res[4], want{val: 32, matched: true})
	check(t, "state exists", res[5], want{val: 0})
	check(t, "state offset", res[6], want{poison: true})
	check(t, "pid signed", res[7], want{val: 1, matched: true})
	check(t, "pid exists", res[8], want{val: 1, matched: true})
	if p := res[3].Local.Path(); p != "struct task_struct.comm[5]" {
		t.Errorf("path %q", p)
	}
	if s := res[2].Target.String(); s != "<byte_off> struct task_struct.real_parent (0:3:0 @ offset 24)" {
		t.Errorf("target spec %q", s)
	}
}

func TestArrayBoundsAndFlex(t *testing.T) {
	lb := btftest.New()
	i := lb.Int("int", 4, true)
	la := lb.Array(i, i, 4)
	ls := lb.Struct("s", 16, btftest.M{Name: "a", Type: la})
	local := lb.BTF()

	for _, tc := range []struct {
		name    string
		build   func(b *btftest.Builder, i rawbtf.TypeID)
		matched bool
	}{
		{"bigger", func(b *btftest.Builder, i rawbtf.TypeID) {
			b.Struct("s", 32, btftest.M{Name: "a", Type: b.Array(i, i, 8)})
		}, true},
		{"smaller", func(b *btftest.Builder, i rawbtf.TypeID) {
			b.Struct("s", 8, btftest.M{Name: "a", Type: b.Array(i, i, 2)})
		}, false},
		{"flex last", func(b *btftest.Builder, i rawbtf.TypeID) {
			b.Struct("s", 4, btftest.M{Name: "x", Type: i}, btftest.M{Name: "a", Type: b.Array(i, i, 0), BitOff: 32})
		}, true},
		{"zero length not last", func(b *btftest.Builder, i rawbtf.TypeID) {
			b.Struct("s", 8, btftest.M{Name: "a", Type: b.Array(i, i, 0)}, btftest.M{Name: "y", Type: i, BitOff: 32})
		}, false},
		{"not an array", func(b *btftest.Builder, i rawbtf.TypeID) {
			b.Struct("s", 8, btftest.M{Name: "a", Type: i})
		}, false},
	} {
		b := btftest.New()
		ti := b.Int("int", 4, true)
		tc.build(b, ti)
		res := relocate(t, local, b.BTF(), relo(ls, "0:0:3", core.FieldByteOffset))
		if got := len(res[0].Matched) > 0; got != tc.matched {
			t.Errorf("%s: matched %v, want %v (err %v)", tc.name, got, tc.matched, res[0].Err)
		}
	}
}

func TestBitfields(t *testing.T) {
	// local: struct b { unsigned int x:3; unsigned int y:5; }
	lb := btftest.New()
	u := lb.Int("unsigned int", 4, false)
	ls := lb.Struct("b", 4, btftest.M{Name: "x", Type: u, Bitfield: 3}, btftest.M{Name: "y", Type: u, BitOff: 3, Bitfield: 5})
	local := lb.BTF()
	// target: y moved to bit 30 and widened to 6 bits, x signed.
	b := btftest.New()
	tu := b.Int("unsigned int", 4, false)
	ts := b.Int("int", 4, true)
	b.Struct("b", 8, btftest.M{Name: "x", Type: ts, BitOff: 0, Bitfield: 3}, btftest.M{Name: "y", Type: tu, BitOff: 30, Bitfield: 6})
	res := relocate(t, local, b.BTF(),
		relo(ls, "0:1", core.FieldByteOffset),
		relo(ls, "0:1", core.FieldByteSize),
		relo(ls, "0:1", core.FieldLShiftU64),
		relo(ls, "0:1", core.FieldRShiftU64),
		relo(ls, "0:0", core.FieldSigned),
		relo(ls, "0:1", core.FieldSigned),
	)
	// y spans bits 30..35: a 4-byte load at 0 cannot hold it, an 8-byte one can.
	check(t, "byte_off", res[0], want{val: 0, matched: true})
	check(t, "byte_sz", res[1], want{val: 8, matched: true})
	check(t, "lshift", res[2], want{val: 64 - (30 + 6), matched: true})
	check(t, "rshift", res[3], want{val: 64 - 6, matched: true})
	check(t, "x signed", res[4], want{val: 1, matched: true})
	check(t, "y signed", res[5], want{val: 0, matched: true})
}

func TestEnumRelocations(t *testing.T) {
	lb := btftest.New()
	le := lb.Enum("e", 4, false, btftest.E{Name: "A", Value: 1}, btftest.E{Name: "B___v2", Value: 2}, btftest.E{Name: "C", Value: 3})
	local := lb.BTF()
	b := btftest.New()
	b.Enum64("e", 8, true, btftest.E{Name: "B", Value: -5}, btftest.E{Name: "A", Value: 1 << 40})
	res := relocate(t, local, b.BTF(),
		relo(le, "0", core.EnumvalValue),
		relo(le, "1", core.EnumvalValue),
		relo(le, "2", core.EnumvalExists),
		relo(le, "2", core.EnumvalValue),
		relo(le, "0", core.EnumvalExists),
	)
	check(t, "A (enum64)", res[0], want{val: 1 << 40, matched: true})
	check(t, "B flavored", res[1], want{val: uint64(0xfffffffffffffffb), matched: true})
	check(t, "C exists", res[2], want{val: 0})
	check(t, "C value", res[3], want{poison: true})
	check(t, "A exists", res[4], want{val: 1, matched: true})
	// A 32-bit enum's value is sign-extended whatever its signedness.
	b = btftest.New()
	b.Enum("e", 4, false, btftest.E{Name: "A", Value: -1})
	res = relocate(t, local, b.BTF(), relo(le, "0", core.EnumvalValue))
	check(t, "A unsigned enum", res[0], want{val: ^uint64(0), matched: true})
}

func TestTypeRelocations(t *testing.T) {
	lb := btftest.New()
	i := lb.Int("int", 4, true)
	// struct s { int a; struct inner *b; }: the pointer (ID 2) refers to
	// inner, added right after s (ID 4).
	ls := lb.Struct("s", 8, btftest.M{Name: "a", Type: i}, btftest.M{Name: "b", Type: lb.Ptr(lb.Next() + 2), BitOff: 64})
	lb.Struct("inner", 4)
	td := lb.Typedef("handler_t", lb.Ptr(lb.FuncProto(i, btftest.P{Name: "x", Type: i})))
	missing := lb.Struct("nowhere", 4)
	local := lb.BTF()

	b := btftest.New()
	ti := b.Int("int", 4, true)
	tl := b.Int("long", 8, true)
	innerT := b.Struct("inner", 12)
	b.Struct("s", 24, btftest.M{Name: "b", Type: b.Ptr(innerT)}, btftest.M{Name: "a", Type: ti, BitOff: 64})
	b.Typedef("handler_t", b.Ptr(b.FuncProto(tl, btftest.P{Type: ti})))
	target := b.BTF()
	res := relocate(t, local, target,
		relo(ls, "0", core.TypeExists),
		relo(ls, "0", core.TypeSize),
		relo(ls, "0", core.TypeMatches),
		relo(td, "0", core.TypeExists),
		relo(td, "0", core.TypeMatches),
		relo(missing, "0", core.TypeExists),
		relo(missing, "0", core.TypeSize),
		relo(ls, "0", core.TypeIDLocal),
		relo(ls, "0", core.TypeIDTarget),
	)
	check(t, "s exists", res[0], want{val: 1, matched: true})
	check(t, "s size", res[1], want{val: 24, matched: true})
	check(t, "s matches", res[2], want{val: 1, matched: true})
	check(t, "handler exists", res[3], want{val: 1, matched: true})
	check(t, "handler matches (int vs long return)", res[4], want{val: 0})
	check(t, "missing exists", res[5], want{val: 0})
	check(t, "missing size", res[6], want{val: 0})
	check(t, "local id", res[7], want{val: uint64(ls)})
	check(t, "target id", res[8], want{val: 5, matched: true}) // int, long, inner, ptr, s
}
