package rawbtf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// copyAll re-encodes every type of b with ed.
func copyAll(tb testing.TB, b *rawbtf.BTF, ed func(rawbtf.Type) rawbtf.Edit) []byte {
	tb.Helper()
	enc := rawbtf.NewEncoder(b.ByteOrder())
	for id := 1; id < b.NumTypes(); id++ {
		t := b.Type(rawbtf.TypeID(id))
		if _, err := enc.Copy(t, ed(t)); err != nil {
			tb.Fatal(err)
		}
	}
	out, err := enc.Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func noEdit(rawbtf.Type) rawbtf.Edit { return rawbtf.Edit{} }

func TestEncoderCopiesExactly(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		in := sample(order)
		b, err := rawbtf.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if out := copyAll(t, b, noEdit); !bytes.Equal(out, in) {
			t.Errorf("%v: copy of every type differs from the input", order)
		}
	}
}

// The new format is re-encoded in the classic one, types of unknown kinds
// as placeholders with the IDs kept.
func TestEncoderWritesClassicFormat(t *testing.T) {
	b, err := rawbtf.Parse(newFormat(binary.LittleEndian).Bytes())
	if err != nil {
		t.Fatal(err)
	}
	out, err := rawbtf.Parse(copyAll(t, b, noEdit))
	if err != nil {
		t.Fatal(err)
	}
	if out.HeaderLen() != 24 || out.HasLayout() || out.NumTypes() != b.NumTypes() {
		t.Fatalf("header %d, layout %v, %d types", out.HeaderLen(), out.HasLayout(), out.NumTypes())
	}
	for id := 1; id < b.NumTypes(); id++ {
		in, got := b.Type(rawbtf.TypeID(id)), out.Type(rawbtf.TypeID(id))
		switch {
		case !in.Kind().Known():
			if got.Kind() != rawbtf.KindVar || got.Name() != "" || got.Ref() != 0 {
				t.Errorf("[%d] of unknown kind became %s %q -> [%d], want an anonymous VAR of void", id, got.Kind(), got.Name(), got.Ref())
			}
		case !bytes.Equal(b.CanonicalForm(in.ID), out.CanonicalForm(got.ID)):
			t.Errorf("[%d] %s %q changed", id, in.Kind(), in.Name())
		}
	}
}

func TestEncoderEdits(t *testing.T) {
	b, err := rawbtf.Parse(sample(binary.LittleEndian))
	if err != nil {
		t.Fatal(err)
	}
	out := copyAll(t, b, func(ty rawbtf.Type) rawbtf.Edit {
		switch ty.Name() {
		case "s":
			return rawbtf.Edit{Keep: func(i int) bool { return i == 1 }}
		case "bits":
			return rawbtf.Edit{Member: func(i int, m rawbtf.Member) rawbtf.Member { m.BitOffset += 8; return m }}
		case "e":
			return rawbtf.Edit{EnumValue: func(i int, v rawbtf.EnumValue) rawbtf.EnumValue { v.Value += 5; return v }}
		case "e64":
			// Remap is applied to references only; e64 has none.
			return rawbtf.Edit{Remap: func(rawbtf.TypeID) rawbtf.TypeID { return 99 }}
		case "s_t":
			return rawbtf.Edit{Remap: func(rawbtf.TypeID) rawbtf.TypeID { return 3 }}
		}
		return rawbtf.Edit{}
	})
	e, err := rawbtf.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	s := e.Type(3)
	if s.Vlen() != 1 || e.String(s.Member(0).NameOff) != "b" || s.Member(0).BitOffset != 64 || s.Size() != 16 {
		t.Errorf("s: vlen %d, member %q at %d", s.Vlen(), e.String(s.Member(0).NameOff), s.Member(0).BitOffset)
	}
	if m := e.Type(9).Member(1); m.BitOffset != 11 || m.BitfieldSize != 5 {
		t.Errorf("bits.y: %+v", m)
	}
	if v := e.Type(7).EnumValue(0).Value; v != 3 {
		t.Errorf("e.NEG+5 = %d", int64(v))
	}
	if r := e.Type(5).Ref(); r != 3 {
		t.Errorf("s_t refers to [%d]", r)
	}
}

func TestEncoderRefuses(t *testing.T) {
	b, err := rawbtf.Parse(sample(binary.LittleEndian))
	if err != nil {
		t.Fatal(err)
	}
	wb := btftest.New()
	i := wb.Int("int", 4, true)
	ms := make([]btftest.M, rawbtf.MaxClassicVlen+1)
	for j := range ms {
		ms[j] = btftest.M{Name: "m", Type: i}
	}
	wb.Struct("wide", 4, ms...)
	wide, err := rawbtf.Parse(wb.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		t    rawbtf.Type
		ed   rawbtf.Edit
	}{
		{"void", b.Type(0), rawbtf.Edit{}},
		{"more members than the classic format holds", wide.Type(2), rawbtf.Edit{}},
		{"bitfield without the kind flag", b.Type(3), rawbtf.Edit{Member: func(i int, m rawbtf.Member) rawbtf.Member { m.BitfieldSize = 3; return m }}},
		{"bit offset beyond 24 bits", b.Type(9), rawbtf.Edit{Member: func(i int, m rawbtf.Member) rawbtf.Member { m.BitOffset = 1 << 24; return m }}},
		{"enum value beyond 32 bits", b.Type(7), rawbtf.Edit{EnumValue: func(i int, v rawbtf.EnumValue) rawbtf.EnumValue { v.Value = 1 << 33; return v }}},
	} {
		enc := rawbtf.NewEncoder(binary.LittleEndian)
		if _, err := enc.Copy(tc.t, tc.ed); !errors.Is(err, rawbtf.ErrEncode) {
			t.Errorf("%s: %v, want ErrEncode", tc.name, err)
		}
		if enc.NumTypes() != 1 {
			t.Errorf("%s: a refused type was added", tc.name)
		}
	}
	// Dropping members brings a wide struct within the classic format.
	enc := rawbtf.NewEncoder(binary.LittleEndian)
	if _, err := enc.Copy(wide.Type(2), rawbtf.Edit{Keep: func(i int) bool { return i < 10 }, Remap: func(rawbtf.TypeID) rawbtf.TypeID { return 0 }}); err != nil {
		t.Errorf("wide struct trimmed to 10 members: %v", err)
	}
	// A reference to a type never added.
	enc = rawbtf.NewEncoder(binary.LittleEndian)
	if _, err := enc.Copy(b.Type(5), rawbtf.Edit{}); err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Bytes(); !errors.Is(err, rawbtf.ErrEncode) {
		t.Errorf("dangling reference: %v, want ErrEncode", err)
	}
}
