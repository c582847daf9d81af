package btfgen_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// FuzzMinimize minimizes kernel BTFs made of fuzz bytes for a fixed
// object, execsnoop.bpf.o: Minimize must return a result whose BTF parses
// again and reproduces the decisions (never ErrSelfCheck, which means a
// bug), or another error; never panic or hang. The crasher
// testdata/fuzz/FuzzMinimize/887a4bf02a83b313 (a pointer bitfield, whose
// size libbpf reads from the pointee's type ID) is now refused by
// rawbtf.Parse, as the kernel's BTF loader refuses it. Seeded with the minimized BTF of
// every test kernel, which keeps the inputs small and the matches real.
func FuzzMinimize(f *testing.F) {
	obj, err := bpfobj.Open("../../testdata/bpf/execsnoop.bpf.o")
	if err != nil {
		f.Fatal(err)
	}
	plan := btfgen.NewPlan([]*bpfobj.Object{obj})
	kernels, _ := filepath.Glob("../../testdata/kernels/*/*/*/*.btf.tar.xz")
	if len(kernels) == 0 {
		f.Fatal("no test kernels")
	}
	for _, k := range kernels {
		data, _, err := kbtf.ReadFile(k, nil)
		if err != nil {
			f.Fatal(err)
		}
		kb, err := rawbtf.Parse(data)
		if err != nil {
			f.Fatal(err)
		}
		res, err := plan.Minimize(kb)
		if err != nil {
			f.Fatalf("%s: %v", k, err)
		}
		f.Add(res.BTF)
	}
	f.Add([]byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0})

	f.Fuzz(func(t *testing.T, in []byte) {
		kb, err := rawbtf.Parse(in)
		if err != nil {
			return
		}
		type result struct {
			res *btfgen.Result
			err error
		}
		done := make(chan result, 1)
		go func() {
			res, err := plan.Minimize(kb)
			done <- result{res, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Minimize of a %d-byte kernel BTF did not return in 10s", len(in))
		}
		if r.err != nil {
			if errors.Is(r.err, btfgen.ErrSelfCheck) {
				t.Fatalf("self-check failed (a btftool bug): %v", r.err)
			}
			if strings.Contains(r.err.Error(), "\n") {
				t.Errorf("multi-line error %q", r.err)
			}
			if r.res != nil {
				t.Error("result returned with an error")
			}
			return
		}
		mb, err := rawbtf.Parse(r.res.BTF)
		if err != nil {
			t.Fatalf("minimized BTF does not parse: %v", err)
		}
		if got := mb.NumTypes() - 1; got != r.res.Types {
			t.Errorf("Result.Types = %d, the BTF has %d", r.res.Types, got)
		}
		if mb.ByteOrder() != kb.ByteOrder() {
			t.Error("minimized BTF changed byte order")
		}
		if len(r.res.Objects) != 1 || r.res.Objects[0].Decisions.Len() != len(obj.Relocations) {
			t.Errorf("results for %d objects, want 1 with %d relocations", len(r.res.Objects), len(obj.Relocations))
		}
	})
}
