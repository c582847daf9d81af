package btfgen

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// TestDeciderDecidesAsRelocator checks that the plan's decider, with and
// without the evaluation memo, makes core.Relocator's decision for every
// relocation of the test objects on the test kernels.
func TestDeciderDecidesAsRelocator(t *testing.T) {
	paths, _ := filepath.Glob("../../testdata/bpf/*.bpf.o")
	kernels, _ := filepath.Glob("../../testdata/kernels/*/*/*/*.btf.tar.xz")
	if len(paths) == 0 || len(kernels) == 0 {
		t.Fatal("no test objects or kernels")
	}
	var objs []*bpfobj.Object
	for _, p := range paths {
		o, err := bpfobj.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	p := NewPlan(objs)
	for _, k := range kernels {
		data, _, err := kbtf.ReadFile(k, nil)
		if err != nil {
			t.Fatal(err)
		}
		kb, err := rawbtf.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		target := core.NewTargetFor(kb, p.names)
		memo := &evalMemo{specs: map[*core.Spec]*specEvals{}, cands: p.groupCandidates(target)}
		m := newMarks(kb)
		ws := &groupWork{seen: map[string]bool{}}
		for i, o := range objs {
			for gi, g := range p.groups[i] {
				p.markGroup(m, o, g, memo.cands[i][gi], target, memo, ws)
			}
		}
		for i, o := range objs {
			rl := core.NewRelocator(o.BTF, target)
			withMemo := p.relocateAll(i, target, memo)
			without := p.relocateAll(i, target, nil)
			for j := range o.Relocations {
				r := &o.Relocations[j]
				want := describe(rl.Relocate(r.Relo, r.Spec, r.SpecErr))
				if got := describe(*withMemo.At(j)); got != want {
					t.Errorf("%s, %s relo #%d with the memo: %s, want %s", filepath.Base(k), filepath.Base(o.Path), j, got, want)
				}
				if got := describe(*without.At(j)); got != want {
					t.Errorf("%s, %s relo #%d: %s, want %s", filepath.Base(k), filepath.Base(o.Path), j, got, want)
				}
			}
		}
	}
}

func describe(r core.Result) string {
	ts := "nil"
	if r.Target != nil {
		ts = r.Target.String()
	}
	return fmt.Sprintf("%+v matched %v cands %d err %v target %s", r.Outcome, r.Matched, r.Candidates, r.Err, ts)
}
