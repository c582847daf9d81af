package rawbtf_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// splitPair returns a base BTF and split BTF on it that refers to base
// types and names, and to its own.
func splitPair(t testing.TB, order binary.ByteOrder) (base, split *rawbtf.BTF) {
	t.Helper()
	bb := btftest.New()
	bb.Order = order
	i := bb.Int("int", 4, true)
	l := bb.Int("long", 8, true)
	task := bb.Struct("task_struct", 16, btftest.M{Name: "pid", Type: i}, btftest.M{Name: "state", Type: l, BitOff: 64})
	base = bb.BTF()

	sb := btftest.NewSplit(base)
	ptr := sb.Ptr(task)
	conn := sb.Struct("nf_conn", 24,
		btftest.M{Name: "owner", Type: ptr},
		btftest.M{Name: "status", Type: l, BitOff: 64},
		btftest.M{Name: "pid", Type: i, BitOff: 128})
	sb.Typedef("nf_conn_t", conn)
	split = sb.BTF()
	return base, split
}

func TestParseSplit(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		base, split := splitPair(t, order)
		if !split.IsSplit() || split.Base() != base || base.IsSplit() {
			t.Fatalf("%v: IsSplit/Base wrong", order)
		}
		if got, want := split.FirstID(), rawbtf.TypeID(base.NumTypes()); got != want {
			t.Errorf("FirstID %d, want %d", got, want)
		}
		if split.NumTypes() != base.NumTypes()+3 || split.StringsStart() != uint32(base.StringsLen()) {
			t.Errorf("%d types, strings start at %d", split.NumTypes(), split.StringsStart())
		}
		// Base types through the split view are the base's.
		if ts := split.Type(3); ts.Name() != "task_struct" || ts.BTF() != base {
			t.Errorf("type 3 through split: %q of %p", ts.Name(), ts.BTF())
		}
		conn := split.Type(split.FirstID() + 1) // after the pointer
		if conn.Name() != "nf_conn" || conn.BTF() != split || conn.Vlen() != 3 {
			t.Fatalf("own type: %q vlen %d", conn.Name(), conn.Vlen())
		}
		// "pid" is a base string, "owner" and "status" are the module's.
		names := []string{}
		for i := 0; i < conn.Vlen(); i++ {
			m := conn.Member(i)
			names = append(names, split.String(m.NameOff))
			if i == 2 && m.NameOff >= split.StringsStart() {
				t.Errorf("pid should be named from the base's strings, offset %d", m.NameOff)
			}
		}
		if names[0] != "owner" || names[1] != "status" || names[2] != "pid" {
			t.Errorf("member names %q", names)
		}
		ptr := split.Type(conn.Member(0).Type)
		if ptr.Kind() != rawbtf.KindPtr || split.Type(ptr.Ref()).Name() != "task_struct" {
			t.Errorf("member 0: %s to %q", ptr.Kind(), split.Type(ptr.Ref()).Name())
		}
		if sk, ok := split.Skip(split.FirstID() + 2); !ok || sk.Name() != "nf_conn" {
			t.Errorf("typedef skips to %q", sk.Name())
		}
		if sz, err := split.ResolveSize(split.FirstID() + 2); err != nil || sz != 24 {
			t.Errorf("size %d, %v", sz, err)
		}
		if split.PtrSize() != 8 || split.LongType() != 2 {
			t.Errorf("pointer size %d from [%d]", split.PtrSize(), split.LongType())
		}
		if !split.StringIs(conn.NameOff(), []byte("nf_conn")) || split.StringIs(conn.NameOff(), []byte("nf_con")) {
			t.Error("StringIs")
		}
		if split.StringByte(conn.NameOff()) != 'n' || split.StringEmpty(conn.NameOff()) || !split.StringEmpty(split.StringsStart()) {
			t.Error("StringByte/StringEmpty")
		}
	}
}

func TestParseSplitRefusesWrongBase(t *testing.T) {
	base, split := splitPair(t, binary.LittleEndian)
	raw := splitBytes(t, base)

	// Another kernel: the same names at other offsets, other type counts.
	ob := btftest.New()
	ob.Int("unsigned char", 1, false)
	ob.Int("int", 4, true)
	ob.Int("long", 8, true)
	ob.Struct("task_struct", 16, btftest.M{Name: "pid", Type: 2})
	other := ob.BTF()
	_, err := rawbtf.ParseSplit(raw, other)
	if !errors.Is(err, rawbtf.ErrWrongBase) {
		t.Errorf("wrong base: %v, want ErrWrongBase", err)
	}
	if _, err := rawbtf.ParseSplit(raw, split); err == nil {
		t.Error("split on split accepted")
	}
	if _, err := rawbtf.ParseSplit(raw, nil); err == nil {
		t.Error("nil base accepted")
	}
	bigBase, _ := splitPair(t, binary.BigEndian)
	if _, err := rawbtf.ParseSplit(raw, bigBase); !errors.Is(err, rawbtf.ErrWrongBase) {
		t.Errorf("byte order mismatch: %v", err)
	}
}

func TestParseSplitChecksOwnTypes(t *testing.T) {
	base, _ := splitPair(t, binary.LittleEndian)
	sb := btftest.NewSplit(base)
	a := sb.Next()
	sb.Typedef("a", a+1)
	sb.Typedef("b", a)
	if _, err := rawbtf.ParseSplit(sb.Bytes(), base); !errors.Is(err, rawbtf.ErrCorrupt) {
		t.Errorf("cycle in split types: %v", err)
	}
	sb = btftest.NewSplit(base)
	sb.Typedef("dangling", rawbtf.TypeID(base.NumTypes()+5))
	if _, err := rawbtf.ParseSplit(sb.Bytes(), base); err == nil {
		t.Error("reference beyond the split types accepted")
	}
}

func splitBytes(t testing.TB, base *rawbtf.BTF) []byte {
	t.Helper()
	sb := btftest.NewSplit(base)
	sb.Struct("nf_conn", 8, btftest.M{Name: "status", Type: 2})
	sb.Struct("nf_ct_ext", 8, btftest.M{Name: "pid", Type: 1})
	return sb.Bytes()
}
