package core_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// TestRelocateOncePerSpecAndList checks Relocate, which makes each (spec,
// candidate list) decision once, against libbpf's procedure spelled out:
// every relocation decided with Decide on its type's current list, the
// list pruned to the matches after each that matched without error. The
// objects' records share specs (pkg/bpfobj), so the memo is exercised.
func TestRelocateOncePerSpecAndList(t *testing.T) {
	paths, _ := filepath.Glob("../../testdata/bpf/*.bpf.o")
	kernels, _ := filepath.Glob("../../testdata/kernels/*/*/*/*.btf.tar.xz")
	if len(paths) == 0 || len(kernels) == 0 {
		t.Fatal("no test objects or kernels")
	}
	repeated := 0
	for _, k := range kernels {
		data, _, err := kbtf.ReadFile(k, nil)
		if err != nil {
			t.Fatal(err)
		}
		kb, err := rawbtf.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		target := core.NewTarget(kb)
		for _, p := range paths {
			o, err := bpfobj.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			memo := core.NewRelocator(o.BTF, target)
			plain := core.NewRelocator(o.BTF, target)
			lists := map[rawbtf.TypeID][]rawbtf.TypeID{}
			seen := map[*core.Spec]bool{}
			for i := range o.Relocations {
				r := &o.Relocations[i]
				got := memo.Relocate(r.Relo, r.Spec, r.SpecErr)
				var want core.Result
				if r.Spec == nil || r.Kind == core.TypeIDLocal || len(o.BTF.Type(r.TypeID).NameBytes()) == 0 {
					want = plain.Relocate(r.Relo, r.Spec, r.SpecErr)
				} else {
					l, ok := lists[r.TypeID]
					if !ok {
						l = target.Candidates(o.BTF.Type(r.TypeID))
					}
					want = plain.Decide(r.Spec, l)
					if want.Err == nil && len(want.Matched) > 0 {
						l = want.Matched
					}
					lists[r.TypeID] = l
					if seen[r.Spec] {
						repeated++
					}
					seen[r.Spec] = true
				}
				if g, w := describe(got), describe(want); g != w {
					t.Errorf("%s, %s relo #%d: Relocate %s, want %s", filepath.Base(k), filepath.Base(p), i, g, w)
				}
			}
		}
	}
	if repeated == 0 {
		t.Error("no record shares its spec with an earlier one: the memo is not exercised")
	}
}

func describe(r core.Result) string {
	ts := "nil"
	if r.Target != nil {
		ts = r.Target.String()
	}
	return fmt.Sprintf("%+v matched %v cands %d err %v target %s", r.Outcome, r.Matched, r.Candidates, r.Err, ts)
}
