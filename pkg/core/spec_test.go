package core_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/core"
)

// TestParseLocalAccessStrings: access strings are read as libbpf's
// bpf_core_parse_spec reads them (sscanf "%d" per index, one optional ':'
// before each), so btftool refuses exactly the strings libbpf refuses.
func TestParseLocalAccessStrings(t *testing.T) {
	b := btftest.New()
	i := b.Int("int", 4, true)
	inner := b.Struct("inner", 8, btftest.M{Name: "x", Type: i}, btftest.M{Name: "y", Type: i, BitOff: 32})
	s := b.Struct("s", 16, btftest.M{Name: "a", Type: i}, btftest.M{Name: "b", Type: inner, BitOff: 32})
	local := b.BTF()
	for _, tc := range []struct {
		access string
		raw    []int
		err    string // a fragment of the error; "" when valid
	}{
		{access: "0", raw: []int{0}},
		{access: "0:1:1", raw: []int{0, 1, 1}},
		{access: "0 1", raw: []int{0, 1}},         // sscanf skips white space
		{access: "0+1", raw: []int{0, 1}},         // and takes a sign
		{access: " 0:\t1", raw: []int{0, 1}},      // before each index
		{access: "00:01", raw: []int{0, 1}},       // leading zeros
		{access: "-0:1", raw: []int{0, 1}},        // -0 is 0
		{access: "0:", err: "not an access path"}, // a ':' with no index after it
		{access: "0::1", err: "not an access path"},
		{access: "0:1 ", err: "not an access path"},
		{access: "0:x", err: "not an access path"},
		{access: "tracepoint/sys_enter", err: "not an access path"},
		{access: ":0", err: "empty access string"},
		{access: "0:-1", err: "negative index"},
		{access: "0:4294967296", err: "out of range"},
		{access: "0:2", err: "out of range"}, // s has 2 members
		{access: strings.Repeat("0:", 64) + "0", err: "longer than 64"},
	} {
		spec, err := core.ParseLocal(local, core.Relo{TypeID: s, Access: tc.access, Kind: core.FieldByteOffset})
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.access, err)
		case tc.err == "" && !slices.Equal(spec.Raw, tc.raw):
			t.Errorf("%q: raw %v, want %v", tc.access, spec.Raw, tc.raw)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, core.ErrInvalidSpec)):
			t.Errorf("%q: error %v, want one wrapping ErrInvalidSpec saying %q", tc.access, err, tc.err)
		}
	}
}

// TestParseLocalVoid: libbpf takes a local_type_id relocation against type
// 0 (void) and refuses every other kind against it.
func TestParseLocalVoid(t *testing.T) {
	local := btftest.New().BTF()
	for _, tc := range []struct {
		kind core.Kind
		ok   bool
	}{
		{core.TypeIDLocal, true},
		{core.FieldByteOffset, false},
		{core.EnumvalValue, false},
	} {
		_, err := core.ParseLocal(local, core.Relo{TypeID: 0, Access: "0", Kind: tc.kind})
		if (err == nil) != tc.ok {
			t.Errorf("%s on void: error %v, want ok=%v", tc.kind, err, tc.ok)
		}
	}
}
