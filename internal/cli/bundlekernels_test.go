package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// A bundle is a set of kernels: inspect btf lists them, inspect compat
// checks each, and the commands that read one kernel refuse it.
func TestBundleIsKernels(t *testing.T) {
	b := filepath.Join(t.TempDir(), "b.tar.xz")
	obj := "../../testdata/bpf/execsnoop.bpf.o"
	if code, _, stderr := runCLI(t, "gen", "min_core_btf", "-q", "../../testdata/kernels", b, obj); code != 0 {
		t.Fatalf("gen: %s", stderr)
	}
	code, stdout, _ := runCLI(t, "inspect", "btf", b)
	if code != 0 || !strings.Contains(stdout, "bundle (format 2, xz, indexed) of 3 kernels") || !strings.Contains(stdout, "debian/12/arm64/6.1.0-50-arm64.btf") {
		t.Errorf("inspect btf: %d %s", code, stdout)
	}
	code, stdout, _ = runCLI(t, "inspect", "btf", b, "-o", "json")
	var l BundleListing
	if err := json.Unmarshal([]byte(stdout), &l); code != 0 || err != nil || len(l.Kernels) != 3 || len(l.Objects) != 1 {
		t.Errorf("inspect btf -o json: %d %v %+v", code, err, l)
	}
	code, stdout, _ = runCLI(t, "inspect", "compat", obj, "--kernels", b)
	if code != 0 || strings.Count(stdout, "debian/12/") != 3 || !strings.Contains(stdout, "0 of 3 kernel(s)") {
		t.Errorf("inspect compat: %d %s", code, stdout)
	}
	k := "../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz"
	for _, args := range [][]string{
		{"diff", b, b},
		{"diff", k, b},
		{"inspect", "btf", b, "--types"},
		{"verify", k, b, obj},
		{"gen", "min_core_btf", b, filepath.Join(t.TempDir(), "o.btf"), obj},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != ExitBadInput || !strings.Contains(stderr, "a bundle of 3 kernels, not one kernel's BTF") {
			t.Errorf("%v: %d %q", args, code, stderr)
		}
	}
}
