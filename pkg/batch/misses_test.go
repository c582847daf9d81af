package batch_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/core"
)

// TestMisses: each object's Misses name, per relocation, the kernels it
// misses on, and agree with the per-kernel counts and the object totals.
func TestMisses(t *testing.T) {
	sum, err := run(t, batch.Options{Input: rawTree(t), Output: filepath.Join(t.TempDir(), "out")})
	if err != nil {
		t.Fatal(err)
	}
	perKernel := map[string]map[string][2]int32{} // kernel → object → counts
	for _, k := range sum.Kernels {
		perKernel[k.Rel] = map[string][2]int32{}
		for _, m := range k.Misses {
			perKernel[k.Rel][m.Path] = [2]int32{m.Unsatisfied, m.Failed}
		}
	}
	total := 0
	for _, o := range sum.Objects {
		got := map[string][2]int32{}
		unsat, failed := 0, 0
		for _, m := range o.Misses {
			if !slices.IsSorted(m.Kernels) || len(m.Kernels) == 0 || m.Path == "" {
				t.Errorf("%s: miss %+v", o.Path, m)
			}
			for _, k := range m.Kernels {
				c := got[k]
				switch m.Status {
				case core.StatusUnsatisfied:
					c[0]++
					unsat++
				case core.StatusFailed:
					c[1]++
					failed++
				default:
					t.Errorf("%s: status %s", o.Path, m.Status)
				}
				got[k] = c
			}
		}
		total += len(o.Misses)
		if unsat != o.Unsatisfied || failed != o.Failed || len(got) != o.Kernels {
			t.Errorf("%s: misses count %d unsatisfied, %d failed on %d kernels; summary %d, %d on %d", o.Path, unsat, failed, len(got), o.Unsatisfied, o.Failed, o.Kernels)
		}
		for k, c := range got {
			if perKernel[k][o.Path] != c {
				t.Errorf("%s on %s: misses say %v, kernel result %v", o.Path, k, c, perKernel[k][o.Path])
			}
		}
	}
	if total == 0 {
		t.Fatal("no relocation misses on the test kernels: the test checks nothing")
	}
}
