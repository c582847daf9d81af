package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btftool/btftool/pkg/bundle"
)

// TestVerifyBundle builds a bundle with gen, then changes one of its
// objects: verify BUNDLE OBJECT... names it and exits 1.
func TestVerifyBundle(t *testing.T) {
	dir := t.TempDir()
	objA, objB := filepath.Join(dir, "execsnoop.bpf.o"), filepath.Join(dir, "vfs.bpf.o")
	for src, dst := range map[string]string{"../../testdata/bpf/execsnoop.bpf.o": objA, "../../testdata/bpf/vfs.bpf.o": objB} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := filepath.Join(dir, "b.tar.zst")
	if code, _, stderr := runCLI(t, "gen", "min_core_btf", "-q", "../../testdata/kernels/debian/12/x86_64", b, objA, objB); code != 0 {
		t.Fatalf("gen: %d %s", code, stderr)
	}
	if code, stdout, stderr := runCLI(t, "verify", b, objA, objB); code != 0 || stdout != "" || !strings.Contains(stderr, "2 of 2 object(s) unchanged") {
		t.Fatalf("unchanged: %d %q %q", code, stdout, stderr)
	}
	// The object changes after the bundle was built.
	f, err := os.OpenFile(objB, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("new"))
	f.Close()
	code, stdout, stderr := runCLI(t, "verify", b, objA, objB, "../../testdata/bpf/plain.bpf.o")
	if code != ExitNegative || !strings.Contains(stdout, "vfs.bpf.o: changed since the bundle was built") ||
		!strings.Contains(stdout, "plain.bpf.o: not in the bundle") || strings.Contains(stdout, "execsnoop") {
		t.Fatalf("changed: %d %q %q", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "verify", b, objB, "-o", "json")
	var rep BundleCheck
	if err := json.Unmarshal([]byte(stdout), &rep); code != ExitNegative || err != nil || rep.Stale != 1 || len(rep.Objects) != 1 ||
		rep.Objects[0].State != bundle.ObjectChanged || rep.Objects[0].Recorded != "vfs.bpf.o" || !strings.HasPrefix(rep.Generator, "btftool ") {
		t.Fatalf("json: %d %v %+v", code, err, rep)
	}
	// INPUT MINIMIZED OBJECT keeps its meaning: a kernel is not a bundle.
	if code, _, stderr := runCLI(t, "verify", "../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz", objA); code != ExitBadInput || !strings.Contains(stderr, "needs INPUT, MINIMIZED") {
		t.Fatalf("two arguments, no bundle: %d %q", code, stderr)
	}
}
