package batch

import (
	"path/filepath"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// TestMissesCountsUnsatisfied checks that misses counts what
// ObjectResult.Unsatisfied lists, on the test objects and kernels.
func TestMissesCountsUnsatisfied(t *testing.T) {
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
	plan := btfgen.NewPlan(objs)
	total := 0
	for _, k := range kernels {
		data, _, err := kbtf.ReadFile(k, nil)
		if err != nil {
			t.Fatal(err)
		}
		kb, err := rawbtf.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		res, err := plan.Minimize(kb)
		if err != nil {
			t.Fatal(err)
		}
		for i := range res.Objects {
			u, f := res.Objects[i].Unsatisfied()
			mu, mf := misses(&res.Objects[i])
			if int(mu) != len(u) || int(mf) != len(f) {
				t.Errorf("%s, %s: misses %d unsatisfied, %d failed; Unsatisfied lists %d, %d",
					filepath.Base(k), filepath.Base(objs[i].Path), mu, mf, len(u), len(f))
			}
			total += len(u) + len(f)
		}
	}
	if total == 0 {
		t.Error("no unsatisfied relocation in the test objects: the test checks nothing")
	}
}
