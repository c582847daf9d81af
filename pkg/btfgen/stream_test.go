package btfgen_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/core"
)

// streamObjects returns the objects at paths for MinimizeEach, counting
// how often each is opened.
func streamObjects(t testing.TB, paths []string, opens []int) btfgen.Objects {
	t.Helper()
	names := map[string]struct{}{}
	for _, p := range paths {
		o, err := bpfobj.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		btfgen.ObjectNames(names, o)
	}
	return btfgen.Objects{Names: names, N: len(paths), Open: func(i int) (*bpfobj.Object, error) {
		if opens != nil {
			opens[i]++
		}
		return bpfobj.Open(paths[i])
	}}
}

// decisionText describes a decision, local and target specs by their
// paths (MinimizeEach reads the objects again: the pointers differ).
func decisionText(r *core.Result) string {
	local, target := "nil", "nil"
	if r.Local != nil {
		local = r.Local.String()
	}
	if r.Target != nil {
		target = r.Target.String()
	}
	return fmt.Sprintf("%s %+v matched %v cands %d err %v target %s", local, r.Outcome, r.Matched, r.Candidates, r.Err, target)
}

// TestMinimizeEachIsMinimize: MinimizeEach makes the BTF, byte for byte,
// and the decisions of Plan.Minimize, for the test objects (and the heavy
// ones when built) on every test kernel, reading each object three times.
func TestMinimizeEachIsMinimize(t *testing.T) {
	objs := testObjects(t)
	heavy, _ := filepath.Glob("../../testdata/heavy/many/h[12].bpf.o")
	for _, p := range heavy {
		o, err := bpfobj.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	kernels, _ := filepath.Glob("../../testdata/kernels/*/*/*/*.btf.tar.xz")
	if len(objs) == 0 || len(kernels) == 0 {
		t.Fatal("no test objects or kernels")
	}
	paths := make([]string, len(objs))
	for i, o := range objs {
		paths[i] = o.Path
	}
	for _, k := range kernels {
		kb := readKernel(t, k)
		want, err := btfgen.NewPlan(objs).Minimize(kb)
		if err != nil {
			t.Fatal(err)
		}
		opens := make([]int, len(paths))
		i := 0
		got, err := btfgen.MinimizeEach(kb, streamObjects(t, paths, opens), func(or btfgen.ObjectResult) error {
			w := want.Objects[i]
			if or.Object.Path != w.Object.Path || or.Decisions.Len() != w.Decisions.Len() {
				t.Fatalf("%s: object %d is %s with %d decisions, want %s with %d", filepath.Base(k), i, or.Object.Path, or.Decisions.Len(), w.Object.Path, w.Decisions.Len())
			}
			for j := range or.Decisions.Len() {
				if g, w := decisionText(or.Decisions.At(j)), decisionText(w.Decisions.At(j)); g != w {
					t.Errorf("%s: %s relo %d: %s, want %s", filepath.Base(k), filepath.Base(or.Object.Path), j, g, w)
				}
			}
			i++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if i != len(objs) {
			t.Errorf("%s: each called for %d objects, want %d", filepath.Base(k), i, len(objs))
		}
		if !bytes.Equal(got.BTF, want.BTF) || got.Types != want.Types || !slices.Equal(got.Unknown, want.Unknown) {
			t.Errorf("%s: BTF of %d bytes, %d types; Minimize: %d bytes, %d types", filepath.Base(k), len(got.BTF), got.Types, len(want.BTF), want.Types)
		}
		for i, n := range opens {
			if n != 3 {
				t.Errorf("%s: %s opened %d times, want 3", filepath.Base(k), filepath.Base(paths[i]), n)
			}
		}
	}
}

// TestMinimizeEachErrors: an object that cannot be opened, one of the
// other byte order and an error of each stop MinimizeEach with that error.
func TestMinimizeEachErrors(t *testing.T) {
	kb := readKernel(t, "../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz")
	paths, _ := filepath.Glob("../../testdata/bpf/*.bpf.o")
	objs := streamObjects(t, paths[:2], nil)
	gone := errors.New("gone")
	bad := objs
	bad.Open = func(i int) (*bpfobj.Object, error) {
		if i == 1 {
			return nil, gone
		}
		return objs.Open(i)
	}
	if _, err := btfgen.MinimizeEach(kb, bad, func(btfgen.ObjectResult) error { return nil }); !errors.Is(err, gone) {
		t.Errorf("open error: %v", err)
	}
	stop := errors.New("stop")
	if _, err := btfgen.MinimizeEach(kb, objs, func(btfgen.ObjectResult) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("each error: %v", err)
	}
	local, task, _ := localTask(binary.LittleEndian)
	o := object(t, local, relo(task, "0:0", core.FieldByteOffset))
	little := btfgen.Objects{Names: map[string]struct{}{}, N: 1, Open: func(int) (*bpfobj.Object, error) { return o, nil }}
	btfgen.ObjectNames(little.Names, o)
	if _, err := btfgen.MinimizeEach(kernelTask(binary.BigEndian), little, func(btfgen.ObjectResult) error { return nil }); !errors.Is(err, btfgen.ErrByteOrder) {
		t.Errorf("byte order: %v, want ErrByteOrder", err)
	}
}
