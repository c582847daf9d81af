package core_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// relocate runs relos in order against target, as libbpf does for one object.
func relocate(tb testing.TB, local, target *rawbtf.BTF, relos ...core.Relo) []core.Result {
	tb.Helper()
	rl := core.NewRelocator(local, core.NewTarget(target))
	out := make([]core.Result, len(relos))
	for i, r := range relos {
		spec, err := core.ParseLocal(local, r)
		out[i] = rl.Relocate(r, spec, err)
	}
	return out
}

func relo(id rawbtf.TypeID, access string, k core.Kind) core.Relo {
	return core.Relo{TypeID: id, Access: access, Kind: k}
}

// want describes an expected decision.
type want struct {
	val     uint64
	poison  bool
	matched bool
	err     error
}

func check(tb testing.TB, name string, got core.Result, w want) {
	tb.Helper()
	if w.err != nil || got.Err != nil {
		if !errors.Is(got.Err, w.err) {
			tb.Errorf("%s: error %v, want %v", name, got.Err, w.err)
		}
		return
	}
	if got.NewVal != w.val || got.Poison != w.poison || (len(got.Matched) > 0) != w.matched {
		tb.Errorf("%s: got val=%d poison=%v matched=%d, want val=%d poison=%v matched=%v",
			name, got.NewVal, got.Poison, len(got.Matched), w.val, w.poison, w.matched)
	}
}

// localTask is the object's view: struct task_struct { int pid; int tgid;
// struct task_struct *real_parent; char comm[16]; long state; }.
func localTask() (*rawbtf.BTF, rawbtf.TypeID) {
	b := btftest.New()
	i := b.Int("int", 4, true)
	c := b.Int("char", 1, true)
	l := b.Int("long", 8, true)
	ts := b.Next()
	p := b.Ptr(ts + 2)
	arr := b.Array(c, i, 16)
	s := b.Struct("task_struct", 48,
		btftest.M{Name: "pid", Type: i, BitOff: 0},
		btftest.M{Name: "tgid", Type: i, BitOff: 32},
		btftest.M{Name: "real_parent", Type: p, BitOff: 64},
		btftest.M{Name: "comm", Type: arr, BitOff: 128},
		btftest.M{Name: "state", Type: l, BitOff: 256},
	)
	_ = ts
	return b.BTF(), s
}

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
	for i, r := range res[1:] {
		check(t, "invalid spec", r, want{err: core.ErrInvalidSpec})
		_ = i
	}
}

// TestNewTargetForFindsWhatNewTargetFinds: the index of the names asked
// for holds exactly the candidates of the full index, flavors and
// one-letter names included, on pahole-like duplicates too.
func TestNewTargetForFindsWhatNewTargetFinds(t *testing.T) {
	b := btftest.New()
	i := b.Int("int", 4, true)
	for range 3 {
		b.Struct("task_struct", 4, btftest.M{Name: "pid", Type: i})
	}
	b.Struct("task_struct___old", 4, btftest.M{Name: "pid", Type: i})
	b.Struct("a", 4, btftest.M{Name: "x", Type: i})
	b.Struct("a___flavor", 4, btftest.M{Name: "x", Type: i})
	b.Struct("ab___c", 4, btftest.M{Name: "x", Type: i})
	b.Struct("ab", 4, btftest.M{Name: "x", Type: i})
	b.Struct("task", 4, btftest.M{Name: "x", Type: i})
	b.Typedef("_", i)
	b.Typedef("__u32", i)
	kernel := b.BTF()
	full := core.NewTarget(kernel)
	names := map[string]struct{}{"task_struct": {}, "a": {}, "ab": {}, "_": {}, "__u32": {}, "missing": {}, "": {}}
	part := core.NewTargetFor(kernel, names)
	lb := btftest.New()
	li := lb.Int("int", 4, true)
	var locals []rawbtf.TypeID
	for n := range names {
		if n != "" {
			locals = append(locals, lb.Struct(n, 4, btftest.M{Name: "x", Type: li}), lb.Typedef(n, li))
		}
	}
	local := lb.BTF()
	total := 0
	for _, id := range locals {
		lt := local.Type(id)
		got, want := part.Candidates(lt), full.Candidates(lt)
		if !slices.Equal(got, want) {
			t.Errorf("%s %s: candidates %v, want %v", lt.Kind(), lt.Name(), got, want)
		}
		total += len(want)
	}
	if total != 10 { // 4 task_struct, a and a___flavor, ab and ab___c, _ and __u32
		t.Errorf("%d candidates in all, want 10", total)
	}
}
