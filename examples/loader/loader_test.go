package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/bundle"
	"github.com/btftool/btftool/pkg/bundle/kerneltypes"
)

const (
	object  = "../../testdata/bpf/execsnoop.bpf.o"
	program = "trace_execve"
)

// needBPF skips the test unless it can load BPF programs relocated against
// the running kernel's BTF.
func needBPF(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("not root: cannot load BPF programs")
	}
	if _, ok := bundle.HostVmlinux(""); !ok {
		tb.Skipf("running kernel has no %s", bundle.VmlinuxPath)
	}
}

// bundleFor minimizes the kernel BTF files of tree for object into a
// bundle and returns it, as 'btftool gen min_core_btf TREE BUNDLE OBJECT'
// run by go generate does.
func bundleFor(tb testing.TB, tree string) []byte {
	tb.Helper()
	return bundleOf(tb, tree, object)
}

// bundleOf is bundleFor for the object at path.
func bundleOf(tb testing.TB, tree, path string) []byte {
	tb.Helper()
	obj, err := bpfobj.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(tb.TempDir(), "min_core_btfs.tar.zst")
	if _, err := batch.Run(context.Background(), btfgen.NewPlan([]*bpfobj.Object{obj}),
		batch.Options{Input: tree, Output: out, Jobs: 1, Version: "dev"}); err != nil {
		tb.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// hostBundle returns a bundle made from the running kernel's own BTF, laid
// out as in btfhub (DISTRO/VERSION/ARCH/RELEASE.btf), since testdata has no
// BTF of the kernel CI runs on.
func hostBundle(t *testing.T) (data []byte, entry string) {
	t.Helper()
	return hostBundleOf(t, object)
}

// hostBundleOf is hostBundle for the object at path.
func hostBundleOf(t *testing.T, path string) (data []byte, entry string) {
	t.Helper()
	target, err := bundle.HostTarget("")
	if err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(bundle.VmlinuxPath)
	if err != nil {
		t.Fatal(err)
	}
	entry = "local/1/" + target.Machine + "/" + target.Release + ".btf"
	tree := t.TempDir()
	if err := os.MkdirAll(filepath.Dir(filepath.Join(tree, entry)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, entry), full, 0o644); err != nil {
		t.Fatal(err)
	}
	data = bundleOf(t, tree, path)
	b, err := bundle.Open(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := b.Entries(); len(e) != 1 || e[0].Size*100 > int64(len(full)) {
		t.Fatalf("bundle %+v: not one minimized entry (the full BTF has %d bytes)", e, len(full))
	}
	return data, entry
}

// loadAndCheck loads object relocated against the types kernelTypes picks
// from embedded, and requires them to come from want.
func loadAndCheck(t *testing.T, embedded []byte, opts *kerneltypes.Options, want string) {
	t.Helper()
	kt, source, err := kernelTypes(embedded, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(source.String(), want) {
		t.Fatalf("types from %q, want %q", source, want)
	}
	coll, _, err := load(object, kt, false)
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
	t.Logf("loaded %s (%s) with types from %s", program, prog, source)
}

// The running kernel has BTF: it is used as is.
func TestLoadWithRunningKernelBTF(t *testing.T) {
	needBPF(t)
	loadAndCheck(t, minCoreBTFs, nil, bundle.VmlinuxPath)
}

// The program loads with nothing but the minimized BTF that a bundle holds
// for this kernel: UseBundle (the -bundle flag) pretends the kernel has no
// BTF of its own.
func TestLoadWithBundle(t *testing.T) {
	needBPF(t)
	data, entry := hostBundle(t)
	loadAndCheck(t, data, &kerneltypes.Options{UseBundle: true}, "bundle entry "+entry)
}

// The command itself, built with the host's bundle embedded, loads the
// program with -bundle.
func TestCommandWithBundle(t *testing.T) {
	needBPF(t)
	if os.Getenv("LOADER_TEST_MAIN") == "" {
		// Run main in a child process, which embeds the host's bundle.
		data, entry := hostBundle(t)
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "bundle"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run=^TestCommandWithBundle$")
		cmd.Env = append(os.Environ(), "LOADER_TEST_MAIN="+filepath.Join(dir, "bundle"))
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "loaded "+program+" with BTF from bundle entry "+entry) {
			t.Fatalf("loader -bundle: %v\n%s", err, out)
		}
		return
	}
	minCoreBTFs, _ = os.ReadFile(os.Getenv("LOADER_TEST_MAIN"))
	os.Args = []string{"loader", "-bundle", object}
	main()
}

// A kernel missing from the bundle gives an error that says so and wraps
// bundle.ErrNotFound.
func TestUnknownKernel(t *testing.T) {
	_, _, err := kernelTypes(minCoreBTFs, &kerneltypes.Options{UseBundle: true, Target: &bundle.Target{Release: "3.10.0-1160.el7.x86_64", Machine: "x86_64"}})
	if !errors.Is(err, bundle.ErrNotFound) {
		t.Fatalf("got %v, want an error wrapping bundle.ErrNotFound", err)
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
	_, src, err := kernelTypes(minCoreBTFs, &kerneltypes.Options{UseBundle: true, Target: &bundle.Target{Release: "6.1.0-56-amd64", Machine: "amd64"}})
	if err != nil {
		t.Fatal(err)
	}
	if src.Match.Entry.Path != "debian/12/x86_64/6.1.0-56-amd64.btf" {
		t.Fatalf("matched %s", src)
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
	coll, _, err := load(object, kt, false)
	if err == nil {
		coll.Close()
		t.Fatal("loaded with types that lack every relocation's target")
	}
	t.Logf("rejected as expected: %.200s", err)
}

// taskstate.bpf.o has a raw_tp program and a tp_btf twin, which needs the
// kernel's own BTF to attach.
const twins = "../../testdata/bpf/taskstate.bpf.o"

// With the types from the bundle, the programs that need the kernel's own
// BTF are left out and the others load.
func TestBundleSkipsKernelBTFPrograms(t *testing.T) {
	needBPF(t)
	data, _ := hostBundleOf(t, twins)
	kt, _, err := kernelTypes(data, &kerneltypes.Options{UseBundle: true})
	if err != nil {
		t.Fatal(err)
	}
	coll, skipped, err := load(twins, kt, true)
	if errors.Is(err, os.ErrPermission) {
		t.Skipf("BPF not permitted here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	if len(skipped) != 1 || skipped[0].String() != "handle_switch_btf (tp_btf)" {
		t.Errorf("skipped %v, want handle_switch_btf (tp_btf)", skipped)
	}
	if coll.Programs["handle_switch"] == nil || coll.Programs["handle_switch_btf"] != nil {
		t.Errorf("loaded %v, want handle_switch only", coll.Programs)
	}
}

// An object with a typed __ksym or a kfunc call is refused with types from
// the bundle, naming what needs the kernel's BTF.
func TestBundleRefusesKsyms(t *testing.T) {
	_, _, err := load("../../testdata/bpf/kernbtf.bpf.o", nil, true)
	if err == nil {
		t.Fatal("kernbtf.bpf.o loaded with types from a bundle")
	}
	if want := "kernbtf.bpf.o: program fsync_kfunc (kfunc bpf_rcu_read_lock, kfunc bpf_rcu_read_unlock) needs the kernel's own BTF"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want %q", err, want)
	}
}

// On a kernel whose own BTF is hidden (a mount namespace with an empty
// /sys/kernel/btf), the loader takes the types from the bundle and skips
// the tp_btf program, which loads nothing but fails as the report
// predicts when kept (-keep-btf-programs).
func TestHiddenKernelBTF(t *testing.T) {
	if path := os.Getenv("LOADER_TEST_HIDDEN"); path != "" {
		minCoreBTFs, _ = os.ReadFile(path)
		os.Args = append([]string{"loader"}, strings.Fields(os.Getenv("LOADER_TEST_ARGS"))...)
		main()
		return
	}
	needBPF(t)
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare to hide the kernel's BTF")
	}
	data, entry := hostBundleOf(t, twins)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bundle"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	run := func(args string) (string, error) {
		cmd := exec.Command(unshare, "-m", "--", "sh", "-c",
			`mount -t tmpfs none /sys/kernel/btf && exec "$0" -test.run='^TestHiddenKernelBTF$'`, exe)
		cmd.Env = append(os.Environ(), "LOADER_TEST_HIDDEN="+filepath.Join(dir, "bundle"), "LOADER_TEST_ARGS="+args)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run(twins)
	if strings.Contains(out, "mount:") || strings.Contains(out, "unshare:") {
		t.Skipf("cannot hide the kernel's BTF here: %s", out)
	}
	if err != nil || !strings.Contains(out, "skipped handle_switch_btf (tp_btf): needs the kernel's own BTF") ||
		!strings.Contains(out, "loaded handle_switch with BTF from bundle entry "+entry) {
		t.Fatalf("loader without kernel BTF: %v\n%s", err, out)
	}
	out, err = run("-keep-btf-programs " + twins)
	if err == nil || !strings.Contains(out, "program handle_switch_btf") || strings.Contains(out, "loaded handle_switch") {
		t.Fatalf("loader -keep-btf-programs without kernel BTF: %v, want handle_switch_btf to fail\n%s", err, out)
	}
	t.Logf("with -keep-btf-programs: %s", strings.TrimSpace(out))
}
