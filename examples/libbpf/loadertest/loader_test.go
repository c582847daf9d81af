// Package loadertest tests the C loader examples/libbpf/loader.c: built with cc and
// libbpf, fed by 'btftool select' with a bundle made from the running
// kernel's BTF, it loads a program relocated against nothing else.
package loadertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/bundle"
)

const object = "../../../testdata/bpf/execsnoop.bpf.o"

func TestLoaderWithSelect(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root: cannot load BPF programs")
	}
	if _, ok := bundle.HostVmlinux(""); !ok {
		t.Skip("the running kernel has no BTF to make a bundle from")
	}
	dir := t.TempDir()
	loader := filepath.Join(dir, "loader")
	if out, err := exec.Command("cc", "-O2", "-o", loader, "../loader.c", "-lbpf").CombinedOutput(); err != nil {
		t.Skipf("cannot build loader.c with libbpf: %v: %s", err, out)
	}
	btftool := filepath.Join(dir, "btftool")
	if out, err := exec.Command("go", "build", "-o", btftool, "../../../cmd/btftool").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}

	// A bundle holding the running kernel, laid out as in btfhub.
	host, err := bundle.HostTarget("")
	if err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(bundle.VmlinuxPath)
	if err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(dir, "tree")
	kdir := filepath.Join(tree, "local", "1", host.Machine)
	if err := os.MkdirAll(kdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(kdir, host.Release+".btf"), full, 0o644); err != nil {
		t.Fatal(err)
	}
	obj, err := bpfobj.Open(object)
	if err != nil {
		t.Fatal(err)
	}
	b := filepath.Join(dir, "min_core_btfs.tar.xz")
	if _, err := batch.Run(context.Background(), btfgen.NewPlan([]*bpfobj.Object{obj}), batch.Options{Input: tree, Output: b, Jobs: 1}); err != nil {
		t.Fatal(err)
	}

	// On the target: select (pretending the kernel has no BTF), load.
	btf := filepath.Join(dir, "vmlinux.btf")
	out, err := exec.Command(btftool, "select", b, btf, "--no-vmlinux").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "selected local/1/"+host.Machine+"/"+host.Release+".btf") {
		t.Fatalf("btftool select: %v: %s", err, out)
	}
	fi, err := os.Stat(btf)
	if err != nil || fi.Size()*100 > int64(len(full)) {
		t.Fatalf("selected BTF: %v, %d bytes of %d", err, fi.Size(), len(full))
	}
	out, err = exec.Command(loader, object, btf).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "loaded "+object+" with BTF from "+btf) {
		t.Fatalf("loader: %v: %s", err, out)
	}
	t.Logf("%s (%d bytes of BTF instead of %d)", strings.TrimSpace(string(out)), fi.Size(), len(full))

	// Control: with BTF lacking the types, libbpf refuses the program,
	// so the load above really used the selected BTF.
	empty := filepath.Join(dir, "empty.btf")
	if err := os.WriteFile(empty, []byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(loader, object, empty).CombinedOutput(); err == nil {
		t.Fatalf("loaded with an empty BTF: %s", out)
	}
}
