package btfgen_test

import (
	"github.com/btftool/btftool/pkg/bpfobj"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// twoURBPrivs returns a kernel with two unrelated struct urb_priv (as a
// kernel built with both ohci-hcd and uhci-hcd has), a local urb_priv
// reading length (only the first has it) and then urb (only the second),
// and how many urb_priv the minimized BTF keeps when the two reads are in
// the functions given.
func keptURBPrivs(t *testing.T, progs [2]string) int {
	t.Helper()
	kb := btftest.New()
	u16 := kb.Int("short unsigned int", 2, false)
	v := kb.Ptr(0)
	kb.Struct("urb_priv", 32, btftest.M{Name: "ed", Type: v}, btftest.M{Name: "length", Type: u16, BitOff: 64})
	kb.Struct("urb_priv", 56, btftest.M{Name: "node", Type: v}, btftest.M{Name: "urb", Type: v, BitOff: 128})
	kernel := kb.BTF()

	lb := btftest.New()
	lu16 := lb.Int("u16", 2, false)
	lv := lb.Ptr(0)
	up := lb.Struct("urb_priv", 16, btftest.M{Name: "length", Type: lu16}, btftest.M{Name: "urb", Type: lv, BitOff: 64})
	o := object(t, lb.BTF(), relo(up, "0:0", core.FieldByteOffset), relo(up, "0:1", core.FieldByteOffset))
	for i, p := range progs {
		r := &o.Relocations[i]
		r.Place = &bpfobj.Place{Section: r.Section, Program: p} // places are shared: a new one
	}
	_, min := minimize(t, kernel, o)
	sameDecisions(t, o, kernel, min)
	n := 0
	for id := 1; id < min.NumTypes(); id++ {
		if min.Type(rawbtf.TypeID(id)).Name() == "urb_priv" {
			n++
		}
	}
	return n
}

// TestKeepsCandidatesLibbpfPrunes: within one function, libbpf drops the
// second urb_priv from the candidates at the read of length, so it never
// sees it match urb, and bpftool's output leaves it out. cilium/ebpf
// relocates both reads together and finds both urb_priv equally good and
// disagreeing (it refuses the program as ambiguous): the minimized BTF
// keeps it, so that cilium/ebpf decides as on the full BTF too. In two
// functions, a loader that loads only the second needs it for libbpf.
func TestKeepsCandidatesLibbpfPrunes(t *testing.T) {
	if n := keptURBPrivs(t, [2]string{"giveback", "giveback"}); n != 2 {
		t.Errorf("one function: %d urb_priv kept, want 2", n)
	}
	if n := keptURBPrivs(t, [2]string{"read_length", "read_urb"}); n != 2 {
		t.Errorf("two functions: %d urb_priv kept, want 2", n)
	}
	if n := keptURBPrivs(t, [2]string{"", ""}); n != 2 {
		t.Errorf("no functions known: %d urb_priv kept, want 2", n)
	}
}
