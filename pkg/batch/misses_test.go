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

// TestNoMisses: with Options.NoMisses the counts are those of a run that
// keeps the misses, and no relocation list is kept.
func TestNoMisses(t *testing.T) {
	in := rawTree(t)
	with, err := run(t, batch.Options{Input: in, Output: filepath.Join(t.TempDir(), "out")})
	if err != nil {
		t.Fatal(err)
	}
	without, err := run(t, batch.Options{Input: in, Output: filepath.Join(t.TempDir(), "out"), NoMisses: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(with.Objects) != len(without.Objects) || len(with.Objects) == 0 {
		t.Fatalf("%d objects with misses, %d without", len(with.Objects), len(without.Objects))
	}
	kept := 0
	for i, o := range without.Objects {
		w := with.Objects[i]
		kept += len(w.Misses)
		if len(o.Misses) != 0 {
			t.Errorf("%s: %d misses listed with NoMisses", o.Path, len(o.Misses))
		}
		if o.Unsatisfied != w.Unsatisfied || o.Failed != w.Failed || o.Kernels != w.Kernels || o.FailingPrograms != w.FailingPrograms {
			t.Errorf("%s: counts %+v with NoMisses, %+v without", o.Path, o, w)
		}
	}
	if kept == 0 {
		t.Fatal("no relocation misses on the test kernels: the test checks nothing")
	}
	for _, k := range without.Kernels {
		for _, m := range k.Misses {
			if m.UnsatisfiedRelocs != nil || m.FailedRelocs != nil {
				t.Errorf("%s: %s: relocation lists kept with NoMisses", k.Rel, m.Path)
			}
		}
	}
}
