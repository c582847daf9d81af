package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
)

const (
	object  = "../../testdata/bpf/execsnoop.bpf.o"
	program = "trace_execve"
)

// withoutVmlinux makes kernelTypes behave as on a kernel without its own
// BTF for the rest of the test.
func withoutVmlinux(tb testing.TB) {
	tb.Helper()
	old := vmlinuxPath
	vmlinuxPath = filepath.Join(tb.TempDir(), "no-vmlinux")
	tb.Cleanup(func() { vmlinuxPath = old })
}

// needBPF skips the test unless it can load BPF programs relocated against
// the running kernel's BTF.
func needBPF(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("not root: cannot load BPF programs")
	}
	if _, err := os.Stat(vmlinuxPath); err != nil {
		tb.Skipf("running kernel has no BTF: %v", err)
	}
}

// bundleFor minimizes the kernel BTF files of tree for object into a
// bundle and returns it, as 'btftool gen min_core_btf TREE BUNDLE OBJECT'.
func bundleFor(tb testing.TB, tree string) []byte {
	tb.Helper()
	obj, err := bpfobj.Open(object)
	if err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(tb.TempDir(), "min_core_btfs.tar.zst")
	if _, err := batch.Run(context.Background(), btfgen.NewPlan([]*bpfobj.Object{obj}),
		batch.Options{Input: tree, Output: out, Jobs: 1}); err != nil {
		tb.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// loadAndCheck loads object relocated against the types kernelTypes picks
// for the running kernel from bundle, and requires them to come from want.
func loadAndCheck(t *testing.T, bundle []byte, want string) {
	t.Helper()
	release, machine, err := uname()
	if err != nil {
		t.Fatal(err)
	}
	kt, source, err := kernelTypes(bundle, release, machine)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(source, want) {
		t.Fatalf("types from %q, want %q", source, want)
	}
	coll, err := load(object, kt)
	if errors.Is(err, os.ErrPermission) {
		t.Skipf("BPF not permitted here: %v", err)
	}
	if err != nil {
		t.Fatalf("load with types from %s: %v", source, err)
	}
	defer coll.Close()
	prog := coll.Programs[program]
	if prog == nil || prog.FD() < 0 {
		t.Fatalf("%s not loaded (programs: %v)", program, coll.Programs)
	}
	t.Logf("loaded %s (%s) on %s %s with types from %s", program, prog, release, machine, source)
}

// The running kernel has BTF: it is used as is.
func TestLoadWithRunningKernelBTF(t *testing.T) {
	needBPF(t)
	loadAndCheck(t, nil, vmlinuxPath)
}

// The running kernel's BTF is hidden: the program loads with nothing but
// the minimized BTF that a bundle holds for this kernel's release. The
// bundle is made here from the running kernel's own BTF, laid out as in
// btfhub (DISTRO/VERSION/ARCH/RELEASE.btf), since testdata has no 6.18.
func TestLoadWithBundle(t *testing.T) {
	needBPF(t)
	release, machine, err := uname()
	if err != nil {
		t.Fatal(err)
	}
	tree := t.TempDir()
	dir := filepath.Join(tree, "local", "1", machine)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(vmlinuxPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, release+".btf"), full, 0o644); err != nil {
		t.Fatal(err)
	}
	bundle := bundleFor(t, tree)

	b, err := batch.ReadBundle(bytes.NewReader(bundle))
	if err != nil {
		t.Fatal(err)
	}
	small, entry, err := b.Lookup(release, machine)
	if err != nil {
		t.Fatal(err)
	}
	if len(small)*100 > len(full) {
		t.Fatalf("%s: %d bytes, not minimized (the full BTF has %d)", entry.Path, len(small), len(full))
	}
	t.Logf("%s: %d bytes of BTF instead of %d", entry.Path, len(small), len(full))

	withoutVmlinux(t)
	loadAndCheck(t, bundle, "bundle:local/1/"+machine+"/"+release+".btf")
}

// A kernel without BTF and missing from the bundle gives an error that
// says so and wraps batch.ErrNotFound.
func TestUnknownKernel(t *testing.T) {
	withoutVmlinux(t)
	_, _, err := kernelTypes(minCoreBTFs, "3.10.0-1160.el7.x86_64", "x86_64")
	if !errors.Is(err, batch.ErrNotFound) {
		t.Fatalf("got %v, want an error wrapping batch.ErrNotFound", err)
	}
	for _, want := range []string{"3.10.0-1160.el7.x86_64", "no entry", "kernel not in bundle"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// The embedded bundle is what go generate makes from testdata: bundles are
// byte-for-byte reproducible, so any difference means it is stale.
func TestEmbeddedBundleUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("short: minimizes three kernels")
	}
	if got := bundleFor(t, "../../testdata/kernels"); !bytes.Equal(got, minCoreBTFs) {
		t.Fatalf("btf/min_core_btfs.tar.zst is stale (%d bytes, regenerated %d): run go generate ./examples/loader",
			len(minCoreBTFs), len(got))
	}
	b, err := batch.ReadBundle(bytes.NewReader(minCoreBTFs))
	if err != nil {
		t.Fatal(err)
	}
	raw, entry, err := b.Lookup("6.1.0-56-amd64", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", entry.Path, err)
	}
	if _, err := spec.AnyTypeByName("task_struct"); err != nil {
		t.Fatalf("%s: %v", entry.Path, err)
	}
}

// Control: with types lacking task_struct the relocations are poisoned and
// the kernel rejects the program, so the loads above really relocated
// against the types given, not the running kernel's behind them.
func TestLoadFailsWithoutTheTypes(t *testing.T) {
	needBPF(t)
	b, err := btf.NewBuilder([]btf.Type{&btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	kt, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	coll, err := load(object, kt)
	if err == nil {
		coll.Close()
		t.Fatal("loaded with types that lack every relocation's target")
	}
	t.Logf("rejected as expected: %.200s", err)
}
