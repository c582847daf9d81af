package batch_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// moduleTree copies the x86_64 test kernels into a new tree, with their
// module archives beside them (beside) or in a second tree mirroring the
// first (returned as mirror).
func moduleTree(tb testing.TB, beside bool) (tree, mirror string) {
	tb.Helper()
	tree, mirror = tb.TempDir(), tb.TempDir()
	for _, r := range []string{"6.1.0-56-amd64", "6.12.117+deb12-amd64"} {
		dir := "debian/12/x86_64/"
		copyFile(tb, filepath.Join(kernelsDir, dir+r+".btf.tar.xz"), filepath.Join(tree, dir+r+".btf.tar.xz"))
		mdst := filepath.Join(mirror, dir+r+".modules.tar.xz")
		if beside {
			mdst = filepath.Join(tree, dir+r+".modules.tar.xz")
		}
		copyFile(tb, filepath.Join(kernelsDir, dir+r+".modules.tar.xz"), mdst)
	}
	return tree, mirror
}

func copyFile(tb testing.TB, src, dst string) {
	tb.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	writeFile(tb, dst, data)
}

// TestRunModules: kernels with module archives beside them, or in a tree
// mirroring theirs, are minimized with their modules, exactly as
// btfgen.Plan.MinimizeModules does for each; a rerun skips them, and a
// changed module archive makes it redo that kernel.
func TestRunModules(t *testing.T) {
	fx := getFixtures(t)
	for _, beside := range []bool{true, false} {
		tree, mirror := moduleTree(t, beside)
		out := filepath.Join(t.TempDir(), "out")
		opts := batch.Options{Input: tree, Output: out}
		if !beside {
			opts.Modules = mirror
		}
		sum, err := run(t, opts)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Processed != 2 {
			t.Fatalf("beside %v: %d done", beside, sum.Processed)
		}
		entries, err := kbtf.Walk(tree)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			data, _, err := kbtf.ReadFile(e.Path, nil)
			if err != nil {
				t.Fatal(err)
			}
			vm, err := rawbtf.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			mp := e.Modules
			if !beside {
				mp = kbtf.FindModules(mirror, e.OutRel)
			}
			mods, err := kmod.Open([]string{mp}, nil)
			if err != nil {
				t.Fatal(err)
			}
			want, err := fx.plan.MinimizeModules(vm, mods)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(out, e.OutRel))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.BTF) {
				t.Errorf("beside %v: %s differs from MinimizeModules", beside, e.OutRel)
			}
			if len(want.Kernel.Modules) == 0 || bytes.Equal(got, fx.ref[e.OutRel]) {
				t.Errorf("beside %v: %s made without modules", beside, e.OutRel)
			}
		}
		// A rerun skips both; a changed module archive redoes its kernel.
		sum, err = run(t, opts)
		if err != nil || sum.Skipped != 2 {
			t.Fatalf("rerun: %d skipped, %v", sum.Skipped, err)
		}
		mp := entries[0].Modules
		if !beside {
			mp = kbtf.FindModules(mirror, entries[0].OutRel)
		}
		other := filepath.Join(kernelsDir, "debian/12/x86_64/6.1.0-56-amd64.modules.tar.xz")
		data, _ := os.ReadFile(other)
		writeFile(t, mp, append(data[:len(data):len(data)], 0, 0, 0, 0)) // xz stream padding
		future := time.Now().Add(time.Hour)
		os.Chtimes(mp, future, future)
		sum, err = run(t, opts)
		if err != nil || sum.Processed != 1 || sum.Skipped != 1 {
			t.Errorf("after changing %s: %d done, %d skipped, %v", mp, sum.Processed, sum.Skipped, err)
		}
	}
}

// TestRunModulesOfAnotherKernel: a kernel whose module archive holds
// another kernel's modules fails, naming the archive; the others are done.
func TestRunModulesOfAnotherKernel(t *testing.T) {
	tree, _ := moduleTree(t, true)
	dir := filepath.Join(tree, "debian/12/x86_64/")
	a, b := filepath.Join(dir, "6.1.0-56-amd64.modules.tar.xz"), filepath.Join(dir, "6.12.117+deb12-amd64.modules.tar.xz")
	copyFile(t, b, a)
	sum, err := run(t, batch.Options{Input: tree, Output: filepath.Join(t.TempDir(), "out")})
	if err == nil || sum.Failed != 1 || sum.Processed != 1 {
		t.Fatalf("%d failed, %d done, %v", sum.Failed, sum.Processed, err)
	}
	for _, f := range sum.Failures() {
		if want := "6.1.0-56-amd64.modules.tar.xz"; !bytes.Contains([]byte(f.Error), []byte(want)) {
			t.Errorf("error %q does not name %s", f.Error, want)
		}
	}
}
