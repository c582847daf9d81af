package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/kbtf"
)

const testKernel = "../../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz"

// TestGenerate checks that a seed gives one source, with every kind of
// access, and, where clang-19 and bpftool are installed, that it compiles
// into an object of about the relocations asked for.
func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "heavy.bpf.c")
	if err := run(testKernel, src, 600, 80, 40, 7); err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(dir, "again.bpf.c")
	if err := run(testKernel, again, 600, 80, 40, 7); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(src)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("the same seed gave two sources")
	}
	for _, want := range []string{"BPF_CORE_READ(", "BPF_CORE_READ_BITFIELD_PROBED(", "bpf_core_field_exists(",
		"bpf_core_enum_value(", "bpf_core_type_exists(", "bpf_core_type_matches(", "SEC(\"kprobe/"} {
		if !bytes.Contains(a, []byte(want)) {
			t.Errorf("no %s in the source", want)
		}
	}
	for _, tool := range []string{"clang-19", "bpftool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: not compiling", tool)
		}
	}
	if _, err := os.Stat("/usr/include/bpf/bpf_core_read.h"); err != nil {
		t.Skip("libbpf headers not installed: not compiling")
	}
	data, _, err := kbtf.ReadFile(testKernel, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := filepath.Join(dir, "kernel.btf")
	if err := os.WriteFile(raw, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := exec.Command("bpftool", "btf", "dump", "file", raw, "format", "c").Output()
	if err != nil {
		t.Fatalf("bpftool btf dump: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vmlinux.h"), h, 0o644); err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(dir, "heavy.bpf.o")
	out, err := exec.Command("clang-19", "-target", "bpf", "-g", "-O2", "-D__TARGET_ARCH_x86", "-I"+dir,
		"-c", src, "-o", obj).CombinedOutput()
	if err != nil {
		t.Fatalf("clang-19: %v\n%s", err, out)
	}
	o, err := bpfobj.Open(obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Check(); err != nil {
		t.Error(err)
	}
	kinds := map[string]bool{}
	for _, r := range o.Relocations {
		kinds[r.Kind.String()] = true
	}
	if n := len(o.Relocations); n < 400 || n > 700 {
		t.Errorf("%d relocations, want about 600", n)
	}
	var missing []string
	for _, k := range []string{"byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64",
		"target_type_id", "type_exists", "type_size", "enumval_exists", "enumval_value", "type_matches"} {
		if !kinds[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Errorf("no relocation of kinds %s", strings.Join(missing, ", "))
	}
}
