package rawbtf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/rawbtf"
)

func sample(order binary.ByteOrder) []byte {
	b := btftest.New()
	b.Order = order
	i := b.Int("int", 4, true)
	l := b.Int("long int", 8, true)
	s := b.Struct("s", 16, btftest.M{Name: "a", Type: i}, btftest.M{Name: "b", Type: l, BitOff: 64})
	b.Typedef("s_t", b.Const(s))
	b.Array(i, i, 4)
	b.Enum("e", 4, true, btftest.E{Name: "NEG", Value: -2})
	b.Enum64("e64", 8, false, btftest.E{Name: "BIG", Value: 1 << 40})
	b.Struct("bits", 4, btftest.M{Name: "x", Type: i, Bitfield: 3}, btftest.M{Name: "y", Type: i, BitOff: 3, Bitfield: 5})
	return b.Bytes()
}

func TestParseBothByteOrders(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		spec, err := rawbtf.Parse(sample(order))
		if err != nil {
			t.Fatal(err)
		}
		if spec.ByteOrder() != order || spec.NumTypes() != 10 {
			t.Fatalf("%v: order %v, %d types", order, spec.ByteOrder(), spec.NumTypes())
		}
		s := spec.Type(3)
		if s.Kind() != rawbtf.KindStruct || s.Name() != "s" || s.Size() != 16 || s.Vlen() != 2 {
			t.Errorf("type 3: %s %q size %d vlen %d", s.Kind(), s.Name(), s.Size(), s.Vlen())
		}
		if m := s.Member(1); spec.String(m.NameOff) != "b" || m.Type != 2 || m.BitOffset != 64 {
			t.Errorf("member: %+v", m)
		}
		if sz, err := spec.ResolveSize(5); err != nil || sz != 16 {
			t.Errorf("size of typedef s_t: %d, %v", sz, err)
		}
		if sz, err := spec.ResolveSize(6); err != nil || sz != 16 {
			t.Errorf("size of int[4]: %d, %v", sz, err)
		}
		if v := spec.Type(7).EnumValue(0).Value; v != uint64(0xfffffffffffffffe) {
			t.Errorf("enum value %#x", v)
		}
		if v := spec.Type(8).EnumValue(0).Value; v != 1<<40 {
			t.Errorf("enum64 value %#x", v)
		}
		if m := spec.Type(9).Member(1); m.BitOffset != 3 || m.BitfieldSize != 5 {
			t.Errorf("bitfield %+v", m)
		}
		if spec.PtrSize() != 8 || !spec.HasLong() {
			t.Errorf("pointer size %d", spec.PtrSize())
		}
		if skipped, ok := spec.Skip(5); !ok || skipped.ID != 3 {
			t.Errorf("Skip(typedef) = %d", skipped.ID)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := sample(binary.LittleEndian)
	patch := func(off int, v uint32) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, rawbtf.ErrNotBTF},
		{"bad magic", []byte("ELF\x00 not btf at all, not at all"), rawbtf.ErrNotBTF},
		{"truncated header", good[:10], rawbtf.ErrCorrupt},
		{"truncated types", good[:40], rawbtf.ErrCorrupt},
		{"type section beyond end", patch(12, 1<<30), rawbtf.ErrCorrupt},
		{"string section beyond end", patch(20, 1<<31), rawbtf.ErrCorrupt},
		{"unknown kind", patch(24+4, 31<<24), rawbtf.ErrCorrupt},
		{"name offset out of range", patch(24, 1<<20), rawbtf.ErrCorrupt},
		{"type id out of range", patch(24+16+12+4, 999), rawbtf.ErrCorrupt},
		{"huge vlen", patch(24+32+4, uint32(rawbtf.KindStruct)<<24|0xffff), rawbtf.ErrCorrupt},
	} {
		if _, err := rawbtf.Parse(tc.data); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestCyclesAreRejected(t *testing.T) {
	for name, build := range map[string]func(b *btftest.Builder){
		"typedef naming itself": func(b *btftest.Builder) { b.Typedef("a", 1) },
		"two typedefs":          func(b *btftest.Builder) { b.Typedef("a", 2); b.Typedef("b", 1) },
		"pointer loop":          func(b *btftest.Builder) { b.Ptr(2); b.Const(1) },
		"array of itself":       func(b *btftest.Builder) { b.Int("int", 4, true); b.Array(2, 1, 4) },
	} {
		b := btftest.New()
		build(b)
		if _, err := rawbtf.Parse(b.Bytes()); !errors.Is(err, rawbtf.ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
	// A bitfield must be an integer or an enum (the kernel refuses others).
	pb := btftest.New()
	pb.Struct("s", 8, btftest.M{Name: "p", Type: pb.Next() + 1, Bitfield: 14})
	pb.Ptr(0)
	if _, err := rawbtf.Parse(pb.Bytes()); !errors.Is(err, rawbtf.ErrCorrupt) {
		t.Errorf("pointer bitfield: %v, want ErrCorrupt", err)
	}
	// A pointer cycle through a struct is fine.
	b := btftest.New()
	b.Struct("list", 8, btftest.M{Name: "next", Type: 2})
	b.Ptr(1)
	if _, err := rawbtf.Parse(b.Bytes()); err != nil {
		t.Errorf("struct list { struct list *next; }: %v", err)
	}
}
