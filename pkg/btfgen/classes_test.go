package btfgen_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// TestClassesChangeNothing: a plan's first kernel is minimized without
// spec classes, later ones with them. On every test kernel, with every
// test object (and libbpf-tools' when extracted), both give the same
// BTF and the same decision for every relocation.
func TestClassesChangeNothing(t *testing.T) {
	objs := testObjects(t)
	kernels, _ := filepath.Glob("../../testdata/kernels/*/*/*/*.btf.tar.xz")
	if len(kernels) == 0 || len(objs) == 0 {
		t.Fatal("no test kernels or objects")
	}
	for _, k := range kernels {
		kb := readKernel(t, k)
		plan := btfgen.NewPlan(objs)
		without, err := plan.Minimize(kb)
		if err != nil {
			t.Fatal(err)
		}
		with, err := plan.Minimize(kb)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(without.BTF, with.BTF) {
			t.Errorf("%s: BTF differs", filepath.Base(k))
		}
		for i := range with.Objects {
			for j := range with.Objects[i].Decisions.Len() {
				w, wo := with.Objects[i].Decisions.At(j), without.Objects[i].Decisions.At(j)
				same := w.Outcome == wo.Outcome && fmt.Sprint(w.Err) == fmt.Sprint(wo.Err) && slices.Equal(w.Matched, wo.Matched) &&
					(w.Target == nil) == (wo.Target == nil) && (w.Target == nil || w.Target.Root == wo.Target.Root && slices.Equal(w.Target.Raw, wo.Target.Raw))
				if !same {
					t.Errorf("%s: %s relo %d: %+v with classes, %+v without", filepath.Base(k), objs[i].Path, j, w, wo)
				}
			}
		}
	}
}

// readKernel reads and parses the kernel BTF at path.
func readKernel(tb testing.TB, path string) *rawbtf.BTF {
	tb.Helper()
	data, _, err := kbtf.ReadFile(path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	kb, err := rawbtf.Parse(data)
	if err != nil {
		tb.Fatal(err)
	}
	return kb
}

// testObjects opens the test objects, and libbpf-tools' when extracted.
func testObjects(tb testing.TB) []*bpfobj.Object {
	tb.Helper()
	files, _ := filepath.Glob("../../testdata/bpf/*.bpf.o")
	more, _ := filepath.Glob("../../testdata/libbpf-tools/*.bpf.o")
	var objs []*bpfobj.Object
	for _, f := range append(files, more...) {
		o, err := bpfobj.Open(f)
		if err != nil {
			tb.Fatal(err)
		}
		objs = append(objs, o)
	}
	return objs
}
