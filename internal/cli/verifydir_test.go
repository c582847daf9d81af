package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/btftool/btftool/pkg/kbtf"
)

// TestVerifyTree: a tree and a bundle written by gen verify equivalent;
// a missing minimized file and an object the outputs were not made for
// fail with status 1.
func TestVerifyTree(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in", "debian", "12", "x86_64")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(testKernel)
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"6.1.0-56-amd64.btf.tar.xz", "6.1.0-99-amd64.btf.tar.xz"} {
		if err := os.WriteFile(filepath.Join(in, rel), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tree, bundle := filepath.Join(dir, "out"), filepath.Join(dir, "btfs.tar.zst")
	objs := []string{obj("execsnoop.bpf.o"), obj("taskstate.bpf.o")}
	for _, out := range []string{tree, bundle} {
		args := append([]string{"gen", "min_core_btf", "-q", filepath.Join(dir, "in"), out}, objs...)
		if code, _, stderr := runCLI(t, args...); code != 0 {
			t.Fatalf("gen %s: exit %d: %s", out, code, stderr)
		}
		args = append([]string{"verify", filepath.Join(dir, "in"), out}, objs...)
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 || !strings.Contains(stdout, "verify: 2 kernels: all equivalent") {
			t.Errorf("verify %s: exit %d\n%s%s", out, code, stdout, stderr)
		}
	}
	// More objects than the outputs were made for.
	args := append([]string{"verify", filepath.Join(dir, "in"), tree}, append(objs, obj("vfs.bpf.o"))...)
	if code, stdout, _ := runCLI(t, args...); code != 1 || !strings.Contains(stdout, "FAIL debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz") || !strings.Contains(stdout, "vfs.bpf.o") {
		t.Errorf("extra object: exit %d\n%s", code, stdout)
	}
	// A kernel without its minimized BTF.
	os.Remove(filepath.Join(tree, "debian", "12", "x86_64", "6.1.0-99-amd64.btf"))
	args = append([]string{"verify", filepath.Join(dir, "in"), tree}, objs...)
	if code, stdout, _ := runCLI(t, args...); code != 1 || !strings.Contains(stdout, "6.1.0-99-amd64") || !strings.Contains(stdout, "1 not equivalent") {
		t.Errorf("missing file: exit %d\n%s", code, stdout)
	}
	// MINIMIZED a plain file while INPUT is a tree: bad input.
	args = append([]string{"verify", filepath.Join(dir, "in"), testKernel}, objs...)
	if code, _, stderr := runCLI(t, args...); code != 2 {
		t.Errorf("file MINIMIZED: exit %d: %s", code, stderr)
	}
}

// TestLargestFirst: kernels are queued largest file first, ties and
// unreadable files in walk order.
func TestLargestFirst(t *testing.T) {
	dir := t.TempDir()
	var entries []kbtf.Entry
	for i, size := range []int{10, 30, 10, -1, 20} {
		p := filepath.Join(dir, fmt.Sprintf("k%d.btf", i))
		if size >= 0 {
			if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		entries = append(entries, kbtf.Entry{Path: p})
	}
	if got, want := largestFirst(entries), []int{1, 4, 0, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("largestFirst = %v, want %v", got, want)
	}
}
