package kmod_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/rawbtf"
)

const testdata = "../../testdata/kernels/debian/12/x86_64/"

var vmlinux = sync.OnceValues(func() (map[string]*rawbtf.BTF, error) {
	out := map[string]*rawbtf.BTF{}
	for _, r := range []string{"6.1.0-56-amd64", "6.12.117+deb12-amd64"} {
		data, _, err := kbtf.ReadFile(testdata+r+".btf.tar.xz", nil)
		if err != nil {
			return nil, err
		}
		if out[r], err = rawbtf.Parse(data); err != nil {
			return nil, err
		}
	}
	return out, nil
})

func kernel(tb testing.TB, release string) *rawbtf.BTF {
	tb.Helper()
	ks, err := vmlinux()
	if err != nil {
		tb.Fatal(err)
	}
	return ks[release]
}

func open(tb testing.TB, release string) *kmod.Set {
	tb.Helper()
	s, err := kmod.Open([]string{testdata + release + ".modules.tar.xz"}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func names(ns ...string) map[string]struct{} {
	m := map[string]struct{}{}
	for _, n := range ns {
		m[n] = struct{}{}
	}
	return m
}

func TestOpen(t *testing.T) {
	s := open(t, "6.1.0-56-amd64")
	if s.Len() != 10 || s.Release() != "6.1.0-56-amd64" {
		t.Errorf("%d modules of %q", s.Len(), s.Release())
	}
	if err := s.CheckRelease("6.1.0-56-amd64"); err != nil {
		t.Error(err)
	}
	if err := s.CheckRelease("6.12.117+deb12-amd64"); !errors.Is(err, kmod.ErrWrongKernel) {
		t.Errorf("other release: %v", err)
	}
	if err := s.CheckRelease(""); err != nil {
		t.Errorf("unknown release: %v", err)
	}
	if _, err := kmod.Open([]string{testdata + "6.1.0-56-amd64.modules.tar.xz", testdata + "6.12.117+deb12-amd64.modules.tar.xz"}, nil); !errors.Is(err, kmod.ErrMixedReleases) {
		t.Errorf("two kernels' modules: %v", err)
	}
	if _, err := kmod.Open([]string{t.TempDir()}, nil); err == nil {
		t.Error("a directory without modules was accepted")
	}
}

// TestExtend checks which modules Extend takes, and that their types keep
// their meaning in the merged BTF: every type of each module is the same
// there as in the module's own split BTF, with its references to its own
// types moved along.
func TestExtend(t *testing.T) {
	tests := []struct {
		release string
		names   []string
		want    []string // modules taken
	}{
		{"6.1.0-56-amd64", nil, nil},
		{"6.1.0-56-amd64", []string{"btftool_no_such_type"}, nil},
		{"6.1.0-56-amd64", []string{"nf_conntrack_net"}, []string{"nf_conntrack"}},
		// Defined by two modules.
		{"6.1.0-56-amd64", []string{"cmd_ctrl_node"}, []string{"libertas_sdio", "usb8xxx"}},
		{"6.12.117+deb12-amd64", []string{"urb_priv", "nft_nat"}, []string{"nft_nat", "ohci_hcd", "uhci_hcd"}},
		// nf_conntrack's own file_system_type is named by a string of
		// vmlinux (which has its own file_system_type).
		{"6.1.0-56-amd64", []string{"file_system_type"}, []string{"nf_conntrack"}},
		// A flavor of a name asked for counts.
		{"6.1.0-56-amd64", []string{"asus_rfkill"}, []string{"asus_laptop", "asus_wmi"}},
	}
	for _, tc := range tests {
		vm := kernel(t, tc.release)
		s := open(t, tc.release)
		k, err := s.Extend(vm, names(tc.names...))
		if err != nil {
			t.Fatalf("%v: %v", tc.names, err)
		}
		var got []string
		for _, m := range k.Modules {
			got = append(got, m.Name)
		}
		if !equal(got, tc.want) {
			t.Errorf("%s %v: modules %v, want %v", tc.release, tc.names, got, tc.want)
		}
		if len(tc.want) == 0 {
			if k.BTF != vm {
				t.Errorf("%v: BTF is not vmlinux", tc.names)
			}
			continue
		}
		if !k.BTF.IsSplit() || k.BTF.Base() != vm || k.Vmlinux != vm {
			t.Fatalf("%v: not split BTF on vmlinux", tc.names)
		}
		for _, m := range k.Modules {
			alone := parseModule(t, s, m.Name, vm)
			if n := int(m.End - m.First); n != alone.NumTypes()-int(alone.FirstID()) {
				t.Errorf("%s: %d types merged, %d in the module", m.Name, n, alone.NumTypes()-int(alone.FirstID()))
			}
			for i := rawbtf.TypeID(0); m.First+i < m.End; i++ {
				if why := sameType(alone, alone.FirstID()+i, k.BTF, m.First+i); why != "" {
					t.Fatalf("%s: type %d differs once merged: %s", m.Name, i, why)
				}
			}
			if l := k.ModuleOf(m.First); l == nil || l.Name != m.Name {
				t.Errorf("ModuleOf(%d) = %v, want %s", m.First, l, m.Name)
			}
			if l := k.ModuleOf(m.End - 1); l == nil || l.Name != m.Name {
				t.Errorf("ModuleOf(%d) = %v, want %s", m.End-1, l, m.Name)
			}
		}
		if k.ModuleOf(1) != nil || k.ModuleOf(vm.FirstID()) != nil {
			t.Error("ModuleOf a vmlinux type is not nil")
		}
		// ModulesOf names each module once, in the order of the IDs.
		var ids []rawbtf.TypeID
		var want []string
		for i := len(k.Modules) - 1; i >= 0; i-- {
			m := k.Modules[i]
			ids = append(ids, 1, m.First, m.End-1)
			want = append(want, m.Name)
		}
		if got := k.ModulesOf(ids); !slices.Equal(got, want) {
			t.Errorf("ModulesOf = %q, want %q", got, want)
		}
		if got := k.ModulesOf([]rawbtf.TypeID{1}); got != nil {
			t.Errorf("ModulesOf a vmlinux type = %q", got)
		}
	}
}

func parseModule(tb testing.TB, s *kmod.Set, name string, vm *rawbtf.BTF) *rawbtf.BTF {
	tb.Helper()
	for _, m := range s.Modules() {
		if m.Name == name {
			k, err := s.Extend(vm, moduleNames(tb, m))
			if err != nil {
				tb.Fatal(err)
			}
			for _, l := range k.Modules {
				if l.Name == name && len(k.Modules) == 1 {
					return k.BTF
				}
			}
		}
	}
	tb.Fatalf("module %s not found alone", name)
	return nil
}

// moduleNames returns a name only the module m defines, found by trying
// the names its types carry.
func moduleNames(tb testing.TB, m kmod.Module) map[string]struct{} {
	tb.Helper()
	switch m.Name {
	case "libertas_sdio":
		return names("if_sdio_card")
	case "usb8xxx":
		return names("if_usb_card")
	case "ohci_hcd":
		return names("ohci_hcd")
	case "uhci_hcd":
		return names("uhci_hcd")
	case "asus_laptop":
		return names("asus_laptop")
	case "asus_wmi":
		return names("asus_wmi")
	case "nft_nat":
		return names("nft_nat")
	case "nf_conntrack":
		return names("nf_conntrack_net")
	}
	tb.Fatalf("no name for module %s", m.Name)
	return nil
}

func TestExtendRefusesModulesOfAnotherKernel(t *testing.T) {
	s := open(t, "6.12.117+deb12-amd64")
	_, err := s.Extend(kernel(t, "6.1.0-56-amd64"), names("nf_conntrack_net"))
	if !errors.Is(err, kmod.ErrWrongKernel) || !errors.Is(err, rawbtf.ErrWrongBase) {
		t.Errorf("error %v, want ErrWrongKernel wrapping rawbtf.ErrWrongBase", err)
	}
}

// sameType compares type a of module BTF x with type b of merged BTF y:
// kind, names, sizes, values and references, which must name the same
// vmlinux type or the same module type, moved by b-a.
func sameType(x *rawbtf.BTF, a rawbtf.TypeID, y *rawbtf.BTF, b rawbtf.TypeID) string {
	ta, tb := x.Type(a), y.Type(b)
	ref := func(ra, rb rawbtf.TypeID) bool {
		if ra < x.FirstID() {
			return ra == rb
		}
		return rb == ra+b-a
	}
	if ta.Kind() != tb.Kind() || ta.Name() != tb.Name() || ta.Vlen() != tb.Vlen() || ta.KindFlag() != tb.KindFlag() {
		return fmt.Sprintf("%s %q vlen %d vs %s %q vlen %d", ta.Kind(), ta.Name(), ta.Vlen(), tb.Kind(), tb.Name(), tb.Vlen())
	}
	switch ta.Kind() {
	case rawbtf.KindStruct, rawbtf.KindUnion:
		for i := 0; i < ta.Vlen(); i++ {
			ma, mb := ta.Member(i), tb.Member(i)
			if x.String(ma.NameOff) != y.String(mb.NameOff) || ma.BitOffset != mb.BitOffset || ma.BitfieldSize != mb.BitfieldSize || !ref(ma.Type, mb.Type) {
				return fmt.Sprintf("member %d", i)
			}
		}
		if ta.Size() != tb.Size() {
			return "size"
		}
	case rawbtf.KindEnum, rawbtf.KindEnum64:
		for i := 0; i < ta.Vlen(); i++ {
			ea, eb := ta.EnumValue(i), tb.EnumValue(i)
			if x.String(ea.NameOff) != y.String(eb.NameOff) || ea.Value != eb.Value {
				return fmt.Sprintf("enumerator %d", i)
			}
		}
	case rawbtf.KindFuncProto:
		for i := 0; i < ta.Vlen(); i++ {
			pa, pb := ta.Param(i), tb.Param(i)
			if x.String(pa.NameOff) != y.String(pb.NameOff) || !ref(pa.Type, pb.Type) {
				return fmt.Sprintf("parameter %d", i)
			}
		}
		if !ref(ta.Ref(), tb.Ref()) {
			return "return type"
		}
	case rawbtf.KindArray:
		aa, ab := ta.Array(), tb.Array()
		if aa.Nelems != ab.Nelems || !ref(aa.Type, ab.Type) || !ref(aa.IndexType, ab.IndexType) {
			return "array"
		}
	case rawbtf.KindDatasec:
		for i := 0; i < ta.Vlen(); i++ {
			va, vb := ta.VarSecinfo(i), tb.VarSecinfo(i)
			if va.Offset != vb.Offset || va.Size != vb.Size || !ref(va.Type, vb.Type) {
				return fmt.Sprintf("variable %d", i)
			}
		}
	case rawbtf.KindInt, rawbtf.KindFloat, rawbtf.KindFwd:
		if !bytes.Equal(ta.Raw()[8:], tb.Raw()[8:]) {
			return "encoding"
		}
	default:
		if !ref(ta.Ref(), tb.Ref()) {
			return "reference"
		}
	}
	return ""
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestExtendRefusesUnneededModulesOfAnotherKernel: modules of another
// kernel are refused even when no type of theirs is needed.
func TestExtendRefusesUnneededModulesOfAnotherKernel(t *testing.T) {
	for _, pair := range [][2]string{{"6.12.117+deb12-amd64", "6.1.0-56-amd64"}, {"6.1.0-56-amd64", "6.12.117+deb12-amd64"}} {
		s := open(t, pair[0])
		_, err := s.Extend(kernel(t, pair[1]), nil)
		if !errors.Is(err, kmod.ErrWrongKernel) {
			t.Errorf("%s modules on %s: %v, want ErrWrongKernel", pair[0], pair[1], err)
		}
	}
}
