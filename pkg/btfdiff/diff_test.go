package btfdiff

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// render prints a report one line per type and change.
func render(r *Report) []string {
	var out []string
	for _, t := range r.Types {
		out = append(out, string(t.Op)+" "+t.Key.String())
		for _, c := range t.Changes {
			out = append(out, "  "+c.String())
		}
	}
	return out
}

// base adds the types most cases share: int, long, char, struct a and b.
type ids struct{ i, l, u, c, a, b btftest.ID }

func base(bb *btftest.Builder) ids {
	var x ids
	x.i = bb.Int("int", 4, true)
	x.l = bb.Int("long unsigned int", 8, false)
	x.u = bb.Int("unsigned int", 4, false)
	x.c = bb.Int("char", 1, true)
	x.a = bb.Struct("a", 8, btftest.M{Name: "x", Type: x.l})
	x.b = bb.Struct("b", 8, btftest.M{Name: "y", Type: x.l})
	return x
}

type build func(bb *btftest.Builder, x ids)

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new build
		want     []string
	}{
		{
			name: "identical",
			old:  func(bb *btftest.Builder, x ids) { bb.Struct("s", 8, btftest.M{Name: "f", Type: x.i}) },
			new:  func(bb *btftest.Builder, x ids) { bb.Struct("s", 8, btftest.M{Name: "f", Type: x.i}) },
		},
		{
			name: "renumbered",
			old: func(bb *btftest.Builder, x ids) {
				p := bb.Ptr(x.a)
				bb.Struct("s", 16, btftest.M{Name: "f", Type: x.i}, btftest.M{Name: "p", Type: p, BitOff: 64})
			},
			new: func(bb *btftest.Builder, x ids) {
				bb.Struct("pad", 0)
				s := bb.Next()
				p := s + 1
				bb.Struct("s", 16, btftest.M{Name: "f", Type: x.i}, btftest.M{Name: "p", Type: p, BitOff: 64})
				bb.Ptr(x.a)
			},
			want: []string{"+ struct pad"},
		},
		{
			name: "added and removed types",
			old:  func(bb *btftest.Builder, x ids) { bb.Struct("gone", 4, btftest.M{Name: "f", Type: x.i}) },
			new:  func(bb *btftest.Builder, x ids) { bb.Enum("fresh", 4, false, btftest.E{Name: "A", Value: 1}) },
			want: []string{"+ enum fresh", "- struct gone"},
		},
		{
			name: "members",
			old: func(bb *btftest.Builder, x ids) {
				bb.Struct("s", 24,
					btftest.M{Name: "state", Type: x.l},
					btftest.M{Name: "keep", Type: x.i, BitOff: 64},
					btftest.M{Name: "typ", Type: x.i, BitOff: 96},
					btftest.M{Name: "ptr", Type: bb.Ptr(x.a), BitOff: 128})
			},
			new: func(bb *btftest.Builder, x ids) {
				bb.Struct("s", 32,
					btftest.M{Name: "__state", Type: x.u},
					btftest.M{Name: "keep", Type: x.i, BitOff: 64},
					btftest.M{Name: "typ", Type: x.l, BitOff: 128},
					btftest.M{Name: "ptr", Type: bb.Ptr(x.b), BitOff: 192})
			},
			want: []string{
				"~ struct s",
				"  ~ size: 24 → 32",
				"  - member state: long unsigned int at 0",
				"  + member __state: unsigned int at 0",
				"  ~ member typ (retyped, moved): int at 12 → long unsigned int at 16",
				"  ~ member ptr (retyped, moved): struct a * at 16 → struct b * at 24",
			},
		},
		{
			name: "bitfields",
			old: func(bb *btftest.Builder, x ids) {
				bb.Struct("s", 4, btftest.M{Name: "lo", Type: x.u, Bitfield: 3}, btftest.M{Name: "hi", Type: x.u, BitOff: 3, Bitfield: 5})
			},
			new: func(bb *btftest.Builder, x ids) {
				bb.Struct("s", 4, btftest.M{Name: "lo", Type: x.u, Bitfield: 4}, btftest.M{Name: "hi", Type: x.u, BitOff: 4, Bitfield: 5})
			},
			want: []string{
				"~ struct s",
				"  ~ member lo (bitfield): unsigned int :3 at 0 → unsigned int :4 at 0",
				"  ~ member hi (moved): unsigned int :5 at 0:3 → unsigned int :5 at 0:4",
			},
		},
		{
			name: "enum values",
			old: func(bb *btftest.Builder, x ids) {
				bb.Enum("e", 4, false, btftest.E{Name: "A", Value: 0}, btftest.E{Name: "B", Value: 1}, btftest.E{Name: "C", Value: 2})
			},
			new: func(bb *btftest.Builder, x ids) {
				bb.Enum("e", 4, false, btftest.E{Name: "A", Value: 0}, btftest.E{Name: "C", Value: 5}, btftest.E{Name: "D", Value: 6})
			},
			want: []string{"~ enum e", "  - enumerator B: 1", "  ~ enumerator C: 2 → 5", "  + enumerator D: 6"},
		},
		{
			name: "enum to enum64",
			old:  func(bb *btftest.Builder, x ids) { bb.Enum("e", 4, true, btftest.E{Name: "A", Value: -1}) },
			new:  func(bb *btftest.Builder, x ids) { bb.Enum64("e", 8, true, btftest.E{Name: "A", Value: -1}) },
			want: []string{"~ enum e", "  ~ kind: enum → enum64", "  ~ size: 4 → 8"},
		},
		{
			name: "typedef target",
			old:  func(bb *btftest.Builder, x ids) { bb.Typedef("t", x.i); bb.Typedef("same", x.i) },
			new:  func(bb *btftest.Builder, x ids) { bb.Typedef("same", x.i); bb.Typedef("t", x.l) },
			want: []string{"~ typedef t", "  ~ target: int → long unsigned int"},
		},
		{
			name: "func prototype",
			old: func(bb *btftest.Builder, x ids) {
				bb.Func("f", bb.FuncProto(x.i, btftest.P{Name: "p", Type: bb.Ptr(x.a)}, btftest.P{Name: "n", Type: x.i}))
				bb.Func("g", bb.FuncProto(0, btftest.P{Name: "v", Type: x.i}))
			},
			new: func(bb *btftest.Builder, x ids) {
				bb.Func("g", bb.FuncProto(0, btftest.P{Name: "renamed", Type: x.i}))
				bb.Func("f", bb.FuncProto(x.l, btftest.P{Name: "p", Type: bb.Ptr(x.b)}, btftest.P{Name: "n", Type: x.i}, btftest.P{Name: "flags", Type: x.u}))
			},
			want: []string{
				"~ func f",
				"  ~ return: int → long unsigned int",
				"  ~ param 1 (p): struct a * → struct b *",
				"  + param 3 (flags): unsigned int",
			},
		},
		{
			name: "anonymous union inserted before another",
			old: func(bb *btftest.Builder, x ids) {
				u := bb.Union("", 8, btftest.M{Name: "x", Type: x.l}, btftest.M{Name: "y", Type: x.i})
				bb.Struct("s", 16, btftest.M{Name: "a", Type: x.i}, btftest.M{Type: u, BitOff: 64})
			},
			new: func(bb *btftest.Builder, x ids) {
				p := bb.Union("", 4, btftest.M{Name: "p", Type: x.i}, btftest.M{Name: "q", Type: x.u})
				u := bb.Union("", 8, btftest.M{Name: "x", Type: x.l}, btftest.M{Name: "y", Type: x.i})
				bb.Struct("s", 16, btftest.M{Name: "a", Type: x.i}, btftest.M{Type: p, BitOff: 32}, btftest.M{Type: u, BitOff: 64})
			},
			want: []string{"~ struct s", "  + member <anon union:p>: union {...} at 4"},
		},
		{
			name: "anonymous union member changes",
			old: func(bb *btftest.Builder, x ids) {
				u := bb.Union("", 8, btftest.M{Name: "x", Type: x.l}, btftest.M{Name: "y", Type: x.i})
				bb.Struct("s", 16, btftest.M{Name: "a", Type: x.i}, btftest.M{Type: u, BitOff: 64})
			},
			new: func(bb *btftest.Builder, x ids) {
				p := bb.Union("", 4, btftest.M{Name: "p", Type: x.i})
				u := bb.Union("", 8, btftest.M{Name: "z", Type: x.c}, btftest.M{Name: "y", Type: x.l})
				bb.Struct("s", 16, btftest.M{Type: p, BitOff: 0}, btftest.M{Name: "a", Type: x.i, BitOff: 32}, btftest.M{Type: u, BitOff: 64})
			},
			want: []string{
				"~ struct s",
				"  + member <anon union:p>: union {...} at 0",
				"  ~ member a (moved): int at 0 → int at 4",
				"  - member <anon union:y>.x: long unsigned int at 0",
				"  ~ member <anon union:y>.y (retyped): int at 0 → long unsigned int at 0",
				"  + member <anon union:y>.z: char at 0",
			},
		},
		{
			name: "duplicates in another order",
			old: func(bb *btftest.Builder, x ids) {
				bb.Struct("dup", 4, btftest.M{Name: "f", Type: x.i})
				bb.Struct("dup", 8, btftest.M{Name: "g", Type: x.l})
				bb.Struct("dup", 4, btftest.M{Name: "f", Type: x.i})
			},
			new: func(bb *btftest.Builder, x ids) {
				bb.Struct("dup", 8, btftest.M{Name: "g", Type: x.l})
				bb.Struct("dup", 4, btftest.M{Name: "f", Type: x.i})
			},
		},
		{
			name: "duplicates with one changed",
			old: func(bb *btftest.Builder, x ids) {
				bb.Struct("dup", 4, btftest.M{Name: "f", Type: x.i})
				bb.Struct("dup", 8, btftest.M{Name: "g", Type: x.l})
			},
			new: func(bb *btftest.Builder, x ids) {
				bb.Struct("dup", 8, btftest.M{Name: "g", Type: x.l}, btftest.M{Name: "h", Type: x.i})
				bb.Struct("dup", 4, btftest.M{Name: "f", Type: x.i})
			},
			want: []string{"~ struct dup", "  + member h: int at 0"},
		},
		{
			name: "duplicate variant added",
			old: func(bb *btftest.Builder, x ids) {
				bb.Struct("dup", 4, btftest.M{Name: "f", Type: x.i})
				bb.Struct("dup", 4, btftest.M{Name: "f", Type: x.i})
			},
			new: func(bb *btftest.Builder, x ids) {
				bb.Struct("dup", 4, btftest.M{Name: "f", Type: x.i})
				bb.Struct("dup", 16, btftest.M{Name: "k", Type: x.a})
			},
			want: []string{"~ struct dup", "  + variant: struct of size 16, 1 members"},
		},
		{
			name: "anonymous enums",
			old: func(bb *btftest.Builder, x ids) {
				bb.Enum("", 4, false, btftest.E{Name: "TASK_COMM_LEN", Value: 16})
				bb.Enum("", 4, false, btftest.E{Name: "X_A", Value: 1}, btftest.E{Name: "X_B", Value: 2})
			},
			new: func(bb *btftest.Builder, x ids) {
				bb.Enum("", 4, false, btftest.E{Name: "X_B", Value: 2}, btftest.E{Name: "X_C", Value: 3})
				bb.Enum("", 4, false, btftest.E{Name: "TASK_COMM_LEN", Value: 16})
			},
			want: []string{"~ enum <anon:X_B>", "  - enumerator X_A: 1", "  + enumerator X_C: 3"},
		},
		{
			name: "type tags are transparent",
			old:  func(bb *btftest.Builder, x ids) { bb.Struct("s", 8, btftest.M{Name: "p", Type: bb.Ptr(x.a)}) },
			new: func(bb *btftest.Builder, x ids) {
				tag := bb.Ref(rawbtf.KindTypeTag, "rcu", x.a)
				bb.Struct("s", 8, btftest.M{Name: "p", Type: bb.Ptr(tag)})
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ob, nb := btftest.New(), btftest.New()
			tc.old(ob, base(ob))
			tc.new(nb, base(nb))
			got := render(Diff(ob.BTF(), nb.BTF(), nil))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			// Reversed, the same types differ (or not).
			if rev := Diff(nb.BTF(), ob.BTF(), nil); (len(rev.Types) == 0) != (len(tc.want) == 0) {
				t.Errorf("reversed: %d types differ, want %d", len(rev.Types), len(tc.want))
			}
		})
	}
}

// swapped re-encodes b in the other byte order with rawbtf.Encoder.
func swapped(tb testing.TB, b *rawbtf.BTF) *rawbtf.BTF {
	tb.Helper()
	var order binary.ByteOrder = binary.BigEndian
	if b.ByteOrder() == binary.BigEndian {
		order = binary.LittleEndian
	}
	enc := rawbtf.NewEncoder(order)
	for id := 1; id < b.NumTypes(); id++ {
		if _, err := enc.Copy(b.Type(rawbtf.TypeID(id)), rawbtf.Edit{}); err != nil {
			tb.Fatal(err)
		}
	}
	raw, err := enc.Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := rawbtf.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestSwappedSynthetic(t *testing.T) {
	bb := btftest.New()
	x := base(bb)
	u := bb.Union("", 8, btftest.M{Name: "x", Type: x.l}, btftest.M{Name: "y", Type: x.i})
	bb.Struct("s", 16, btftest.M{Name: "a", Type: x.i, Bitfield: 3}, btftest.M{Type: u, BitOff: 64})
	bb.Enum64("e", 8, false, btftest.E{Name: "BIG", Value: 1 << 40})
	bb.Func("f", bb.FuncProto(x.i, btftest.P{Name: "p", Type: bb.Ptr(x.a)}))
	b := bb.BTF()
	bb.Order = binary.BigEndian
	for name, other := range map[string]*rawbtf.BTF{"builder": swapped(t, b), "btftest": bb.BTF()} {
		if other.ByteOrder() != binary.BigEndian {
			t.Fatalf("%s: not big-endian", name)
		}
		if r := Diff(b, other, nil); len(r.Types) > 0 {
			t.Errorf("%s: byte-swapped copy differs: %v", name, render(r))
		}
	}
}

func TestScope(t *testing.T) {
	ob, nb := btftest.New(), btftest.New()
	for i, bb := range []*btftest.Builder{ob, nb} {
		x := base(bb)
		inner := bb.Struct("inner", 4, btftest.M{Name: "v", Type: x.i})
		if i == 1 {
			bb.Struct("a2", 4)
		}
		td := bb.Typedef("inner_t", inner)
		behind := bb.Struct("behind", 4+uint32(i)*4, btftest.M{Name: "w", Type: x.i})
		bb.Struct("outer", 16, btftest.M{Name: "in", Type: bb.Array(td, x.i, 2)}, btftest.M{Name: "p", Type: bb.Ptr(behind), BitOff: 64})
		bb.Struct("other", 4+uint32(i)*4, btftest.M{Name: "w", Type: x.i})
		if i == 1 {
			// A change to inner reached through typedef and array.
			bb.Struct("inner", 4, btftest.M{Name: "v2", Type: x.i})
		}
	}
	for _, tc := range []struct {
		patterns []string
		want     []string
	}{
		{[]string{"outer"}, []string{"~ struct inner"}}, // not behind, a pointer away
		{[]string{"oth*"}, []string{"~ struct other"}},
		{[]string{"struct behind"}, []string{"~ struct behind"}},
		{[]string{"union behind"}, nil},
		{[]string{"inner_t"}, []string{"~ struct inner"}},
		{[]string{"a*"}, []string{"+ struct a2"}},
	} {
		s, err := TypeScope(tc.patterns, ob.BTF(), nb.BTF())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, td := range Diff(ob.BTF(), nb.BTF(), &Options{Scope: s}).Types {
			got = append(got, string(td.Op)+" "+td.Key.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v: got %v, want %v", tc.patterns, got, tc.want)
		}
	}
	if _, err := TypeScope([]string{"[x"}, ob.BTF()); err == nil {
		t.Error("bad pattern accepted")
	}
}
