package batch_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/kmod"
)

// TestOutputsNeverInputs: outputs that are inputs, outputs replacing files
// of another kind and output names promising another format are refused
// before any work, with nothing written.
func TestOutputsNeverInputs(t *testing.T) {
	tree := rawTree(t)
	kernel := filepath.Join(tree, "debian/12/x86_64/6.1.0-56-amd64.btf")
	other := t.TempDir()
	writeFile(t, filepath.Join(other, "notes.txt"), []byte("notes\n"))
	writeFile(t, filepath.Join(other, "dir/debian/12/x86_64/6.1.0-56-amd64.btf"), []byte("notes\n"))
	for _, tc := range []struct {
		name   string
		opts   batch.Options
		sentry error
		want   string
	}{
		{"output is the tree", batch.Options{Input: tree, Output: tree}, batch.ErrOutputIsInput, "is also input"},
		{"output is the kernel file", batch.Options{Input: kernel, Output: kernel}, batch.ErrOutputFormat, "names a file"},
		{"a kernel's output is an input", batch.Options{Input: tree, Output: tree + "/../" + filepath.Base(tree)}, batch.ErrOutputIsInput, "the same file as input"},
		{"bzip2 name", batch.Options{Input: tree, Output: filepath.Join(other, "b.tar.bz2")}, batch.ErrOutputFormat, "a .tar.bz2 name"},
		{"directory over a file", batch.Options{Input: tree, Output: filepath.Join(other, "notes.txt")}, batch.ErrWouldReplace, "not a directory"},
		{"kernel output over a file that is not BTF", batch.Options{Input: tree, Output: filepath.Join(other, "dir")}, batch.ErrWouldReplace, "6.1.0-56-amd64.btf exists and is a file of another kind, not BTF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := append(files(t, tree), files(t, other)...)
			_, err := run(t, tc.opts)
			if !errors.Is(err, tc.sentry) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %v saying %q", err, tc.sentry, tc.want)
			}
			if after := append(files(t, tree), files(t, other)...); strings.Join(after, " ") != strings.Join(before, " ") {
				t.Errorf("files %v, were %v", after, before)
			}
		})
	}
	// With Force, files of another kind are replaced; inputs never.
	opts := batch.Options{Input: tree, Output: filepath.Join(other, "dir"), Force: true}
	if _, err := run(t, opts); err != nil {
		t.Errorf("Force: %v", err)
	}
	if _, err := run(t, batch.Options{Input: tree, Output: tree, Force: true}); !errors.Is(err, batch.ErrOutputIsInput) {
		t.Errorf("Force, output is the tree: %v", err)
	}
}

// TestOutputsInsideTheTree: a rerun into outputs inside the input tree, and
// a run next to earlier outputs of other names or of other runs
// (SkipPaths), sees the tree's kernels only.
func TestOutputsInsideTheTree(t *testing.T) {
	tree := rawTree(t)
	for i, opts := range []batch.Options{
		{Output: filepath.Join(tree, "min")},
		{Output: filepath.Join(tree, "min")},
		{Output: filepath.Join(tree, "debian", "min.tar.gz")},
		{Output: filepath.Join(tree, "debian", "min.tar.gz"), Force: true},
		{Output: filepath.Join(tree, "again")},                                      // beside a directory holding a manifest
		{Output: filepath.Join(tree, "later"), SkipPaths: []string{"/nonexistent"}}, // SkipPaths that do not exist
	} {
		opts.Input = tree
		sum, err := run(t, opts)
		if err != nil || sum.Total != len(testKernels) {
			t.Errorf("run %d (%s): %d kernels, want %d (%v)", i, opts.Output, sum.Total, len(testKernels), err)
		}
	}
	// A bundle in a directory that does not exist: its parents are made.
	out := filepath.Join(t.TempDir(), "new", "dir", "b.tar.zst")
	if sum, err := run(t, batch.Options{Input: tree, Output: out}); err != nil || sum.BundleBytes == 0 {
		t.Errorf("bundle in a new directory: %v", err)
	}
}

// TestPanicIsInternal: a panic while processing a kernel fails that kernel
// with ErrInternal; the others are written.
func TestPanicIsInternal(t *testing.T) {
	tree := rawTree(t)
	sum, err := run(t, batch.Options{Input: tree, Output: filepath.Join(t.TempDir(), "out"), Jobs: 1,
		Verify: func(full, min []byte, _ *kmod.Set, objs []*bpfobj.Object) error {
			if len(full) == len(getFixtures(t).raw["debian/12/arm64/6.1.0-50-arm64.btf"]) {
				panic("boom")
			}
			return nil
		}})
	if !errors.Is(err, batch.ErrKernelFailed) || sum.Failed != 1 || sum.Processed != len(testKernels)-1 {
		t.Fatalf("err %v, summary %+v", err, sum)
	}
	if f := sum.Failures()[0]; !errors.Is(f.Err, batch.ErrInternal) || !strings.Contains(f.Error, "panic: boom") {
		t.Errorf("failure %v", f.Err)
	}
}
