package rawbtf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// Kinds of the 2026 location information, which rawbtf does not know.
const (
	kindLocParam = btftest.KindLocParam
	kindLocProto = btftest.KindLocProto
	kindLocSec   = btftest.KindLocSec
)

var locLayouts = btftest.LocationLayouts

// newFormat builds a BTF with a layout section: known types around types
// of unknown kinds, the last with a 24-bit vlen.
func newFormat(order binary.ByteOrder) *btftest.Builder {
	b := btftest.New()
	b.Order = order
	i := b.Int("int", 4, true)
	b.Unknown(kindLocParam, "", 2, 4, 4, 7)
	b.Unknown(kindLocProto, "", 1, 0, 4, 2)
	s := b.Struct("s", 8, btftest.M{Name: "a", Type: i}, btftest.M{Name: "b", Type: i, BitOff: 32})
	b.Unknown(kindLocSec, "inline.text", 70000, 0, 12, 1)
	b.Typedef("s_t", s)
	return b.WithLayout(locLayouts)
}

func TestParseNewFormat(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		b, err := rawbtf.Parse(newFormat(order).Bytes())
		if err != nil {
			t.Fatalf("%v: %v", order, err)
		}
		if b.NumTypes() != 7 || b.HeaderLen() != 32 || !b.HasLayout() || b.LayoutKinds() != 23 {
			t.Fatalf("%v: %d types, header %d, layout %v of %d kinds", order, b.NumTypes(), b.HeaderLen(), b.HasLayout(), b.LayoutKinds())
		}
		for _, tc := range []struct {
			id   rawbtf.TypeID
			kind rawbtf.Kind
			name string
			vlen int
			len  int
		}{
			{1, rawbtf.KindInt, "int", 0, 16},
			{2, kindLocParam, "", 2, 12 + 4 + 2*4},
			{3, kindLocProto, "", 1, 12 + 4},
			{4, rawbtf.KindStruct, "s", 2, 12 + 24},
			{5, kindLocSec, "inline.text", 70000, 12 + 70000*12},
			{6, rawbtf.KindTypedef, "s_t", 0, 12},
		} {
			ty := b.Type(tc.id)
			if ty.Kind() != tc.kind || ty.Kind().Known() != (tc.kind < 20) || ty.Name() != tc.name || ty.Vlen() != tc.vlen || len(ty.Raw()) != tc.len {
				t.Errorf("%v [%d]: %s %q vlen %d, %d bytes; want %s %q vlen %d, %d bytes",
					order, tc.id, ty.Kind(), ty.Name(), ty.Vlen(), len(ty.Raw()), tc.kind, tc.name, tc.vlen, tc.len)
			}
		}
		if sk, ok := b.Skip(6); !ok || sk.ID != 4 || sk.Member(1).BitOffset != 32 {
			t.Errorf("%v: typedef after the unknown kinds skips to [%d]", order, sk.ID)
		}
		if l, ok := b.Layout(kindLocSec); !ok || l != locLayouts[kindLocSec] {
			t.Errorf("%v: layout of LOCSEC %+v, %v", order, l, ok)
		}
		if _, ok := b.Layout(23); ok {
			t.Errorf("%v: layout of a kind beyond the section", order)
		}
		if _, err := b.ResolveSize(5); !errors.Is(err, rawbtf.ErrResolve) {
			t.Errorf("%v: size of an unknown kind: %v", order, err)
		}
	}
}

// A struct with more than 65535 members is read whole, in either format:
// vlen has 24 bits whatever the header.
func TestParse24BitVlen(t *testing.T) {
	for _, layout := range []bool{false, true} {
		b := btftest.New()
		i := b.Int("int", 4, true)
		ms := make([]btftest.M, 70000)
		for j := range ms {
			ms[j] = btftest.M{Name: "m", Type: i, BitOff: uint32(32 * j)}
		}
		b.Struct("wide", 4*70000, ms...)
		b.Enum("e", 4, false, btftest.E{Name: "X"})
		if layout {
			b.WithLayout(nil)
		}
		spec, err := rawbtf.Parse(b.Bytes())
		if err != nil {
			t.Fatalf("layout %v: %v", layout, err)
		}
		if spec.NumTypes() != 4 || spec.Type(2).Vlen() != 70000 || spec.Type(2).Member(69999).BitOffset != 32*69999 || spec.Type(3).Name() != "e" {
			t.Errorf("layout %v: %d types, vlen %d", layout, spec.NumTypes(), spec.Type(2).Vlen())
		}
	}
}

func TestParseNewFormatErrors(t *testing.T) {
	unknown := func(layout map[rawbtf.Kind]rawbtf.KindLayout, k rawbtf.Kind) []byte {
		b := btftest.New()
		b.Int("int", 4, true)
		b.Unknown(k, "mystery", 1, 0, 4, 0)
		if layout != nil {
			b.WithLayout(layout)
		}
		return b.Bytes()
	}
	good := newFormat(binary.LittleEndian).Bytes()
	patch := func(off int, v uint32) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	typeLen := binary.LittleEndian.Uint32(good[12:])
	for _, tc := range []struct {
		name, data string
		msg        string
	}{
		{"unknown kind without a layout section", string(unknown(nil, kindLocProto)), "type [2] 'mystery' has unknown kind 21, and there is no layout section"},
		{"unknown kind beyond the layout section", string(unknown(map[rawbtf.Kind]rawbtf.KindLayout{}, kindLocProto)), "beyond the 20 kinds of the layout section"},
		{"layout entry not in words", string(unknown(map[rawbtf.Kind]rawbtf.KindLayout{kindLocProto: {ElemSize: 6}}, kindLocProto)), "not in 4-byte words"},
		{"misaligned layout", string(patch(24, typeLen+2)), "not 4-byte aligned"},
		{"partial layout entry", string(patch(28, 23*4-2)), "not a multiple of 4"},
		{"layout beyond the end", string(patch(28, 1<<20)), "beyond end of data"},
		{"layout over the types", string(patch(24, 0)), "overlaps the type section"},
	} {
		_, err := rawbtf.Parse([]byte(tc.data))
		if !errors.Is(err, rawbtf.ErrCorrupt) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want ErrCorrupt saying %q", tc.name, err, tc.msg)
		}
	}
	// A 32-byte header without a layout section is the classic format.
	b := btftest.New()
	b.Int("int", 4, true)
	b.Layout = []rawbtf.KindLayout{}
	if spec, err := rawbtf.Parse(b.Bytes()); err != nil || spec.HasLayout() || spec.HeaderLen() != 32 {
		t.Errorf("32-byte header, empty layout: %v", err)
	}
}

// Split BTF skips unknown kinds by its own layout section, or else by its
// base's, as libbpf does.
func TestParseSplitNewFormat(t *testing.T) {
	bb := btftest.New()
	i := bb.Int("int", 4, true)
	withLayout := bb.WithLayout(locLayouts).BTF()
	bb.Layout = nil
	classic := bb.BTF()
	split := func(layout bool) []byte {
		sb := btftest.NewSplit(classic)
		sb.Unknown(kindLocSec, "inline.text", 3, 0, 12, 0)
		sb.Struct("nf_conn", 4, btftest.M{Name: "status", Type: i})
		if layout {
			sb.WithLayout(locLayouts)
		}
		return sb.Bytes()
	}
	for _, tc := range []struct {
		name   string
		base   *rawbtf.BTF
		layout bool
		ok     bool
	}{
		{"own layout", classic, true, true},
		{"base's layout", withLayout, false, true},
		{"no layout", classic, false, false},
	} {
		sb, err := rawbtf.ParseSplit(split(tc.layout), tc.base)
		if !tc.ok {
			if !errors.Is(err, rawbtf.ErrCorrupt) {
				t.Errorf("%s: %v, want ErrCorrupt", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c := sb.Type(sb.FirstID() + 1); c.Name() != "nf_conn" || sb.Type(sb.FirstID()).Kind() != kindLocSec || sb.HasLayout() != tc.layout {
			t.Errorf("%s: [%d] %q", tc.name, c.ID, c.Name())
		}
	}
}

// Merged split BTF keeps the types of unknown kinds, laid out by the
// splits' own layout sections or their base's; SplitNames walks past them.
func TestMergeSplitNewFormat(t *testing.T) {
	bb := btftest.New()
	i := bb.Int("int", 4, true)
	classic := bb.BTF()
	withLayout := bb.WithLayout(locLayouts).BTF()
	module := func(base *rawbtf.BTF, name string, layout bool) *btftest.Builder {
		sb := btftest.NewSplit(base)
		sb.Unknown(kindLocSec, "inline.text", 3, 0, 12, 0)
		sb.Struct(name, 4, btftest.M{Name: "x", Type: i})
		if layout {
			sb.WithLayout(locLayouts)
		}
		return sb
	}
	for _, tc := range []struct {
		name   string
		base   *rawbtf.BTF
		layout bool
	}{
		{"own layouts", classic, true},
		{"the base's layout", withLayout, false},
	} {
		a, b := module(tc.base, "a", tc.layout), module(tc.base, "b", tc.layout)
		var names []string
		err := rawbtf.SplitNamesOn(b.Bytes(), tc.base, func(k rawbtf.Kind, off uint32) { names = append(names, k.String()) })
		if err != nil || strings.Join(names, " ") != "UNKNOWN_KIND(22) STRUCT" {
			t.Errorf("%s: SplitNamesOn: %v, %v", tc.name, names, err)
		}
		if err := rawbtf.SplitNames(b.Bytes(), func(rawbtf.Kind, uint32) {}); (err == nil) != tc.layout {
			t.Errorf("%s: SplitNames without the base: %v", tc.name, err)
		}
		merged, firsts, err := rawbtf.MergeSplit(tc.base, []*rawbtf.BTF{a.BTF(), b.BTF()})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for j, want := range []string{"a", "b"} {
			if u, s := merged.Type(firsts[j]), merged.Type(firsts[j]+1); u.Kind() != kindLocSec || u.Vlen() != 3 || s.Name() != want {
				t.Errorf("%s: module %d: %s vlen %d, then %q", tc.name, j, u.Kind(), u.Vlen(), s.Name())
			}
		}
	}
	// Splits that lay the same unknown kind out differently cannot merge.
	odd := btftest.NewSplit(classic)
	odd.Unknown(kindLocSec, "inline.text", 1, 0, 8, 0)
	odd.WithLayout(map[rawbtf.Kind]rawbtf.KindLayout{kindLocSec: {ElemSize: 8}})
	if _, _, err := rawbtf.MergeSplit(classic, []*rawbtf.BTF{module(classic, "a", true).BTF(), odd.BTF()}); !errors.Is(err, rawbtf.ErrCorrupt) {
		t.Errorf("different layouts of one kind: %v, want ErrCorrupt", err)
	}
}
