package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// newFormatKernels holds the test kernel in the 2026 format: a 32-byte
// header and a layout section, with location information (types of
// kinds btftool does not know, one of 70,000 entries) after its types;
// wide also has a struct of 70,000 members.
var newFormatKernels = sync.OnceValues(func() (struct{ locations, wide []byte }, error) {
	var k struct{ locations, wide []byte }
	data, err := rawKernel()
	if err != nil {
		return k, err
	}
	full, err := rawbtf.Parse(data)
	if err != nil {
		return k, err
	}
	k.locations = btftest.NewFormatOf(full, 70000, 0)
	k.wide = btftest.NewFormatOf(full, 70000, 70000)
	return k, nil
})

// newFormatFiles writes the classic test kernel and both new-format ones
// to dir.
func newFormatFiles(tb testing.TB, dir string) (classic, locations, wide string) {
	tb.Helper()
	k, err := newFormatKernels()
	if err != nil {
		tb.Fatal(err)
	}
	classic = rawKernelFile(tb, dir)
	locations, wide = filepath.Join(dir, "locations.btf"), filepath.Join(dir, "wide.btf")
	for p, data := range map[string][]byte{locations: k.locations, wide: k.wide} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return classic, locations, wide
}

func testObjectPaths(tb testing.TB) []string {
	tb.Helper()
	objs, err := filepath.Glob(filepath.Join(testObjs, "*.bpf.o"))
	if err != nil || len(objs) == 0 {
		tb.Fatalf("no test objects: %v", err)
	}
	return objs
}

// gen minimizes a new-format kernel to the classic format, to exactly
// what it makes of the classic kernel.
func TestGenNewFormat(t *testing.T) {
	dir := t.TempDir()
	classic, locations, wide := newFormatFiles(t, dir)
	objs := testObjectPaths(t)
	gen := func(in string) []byte {
		t.Helper()
		out := filepath.Join(dir, filepath.Base(in)+".min")
		if code, _, stderr := runCLI(t, append([]string{"gen", "min_core_btf", in, out}, objs...)...); code != 0 {
			t.Fatalf("gen %s: exit %d: %s", in, code, stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	want := gen(classic)
	for _, in := range []string{locations, wide} {
		got := gen(in)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: minimized BTF differs from the classic kernel's", filepath.Base(in))
		}
		min, err := rawbtf.Parse(got)
		if err != nil || min.HeaderLen() != 24 || min.HasLayout() {
			t.Errorf("%s: output is not in the classic format: %v", filepath.Base(in), err)
		}
	}
}

func TestInspectNewFormat(t *testing.T) {
	dir := t.TempDir()
	_, locations, wide := newFormatFiles(t, dir)
	code, out, stderr := runCLI(t, "inspect", "btf", locations)
	if code != 0 {
		t.Fatalf("inspect btf: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"32 bytes, layout section of 23 kinds", "UNKNOWN_KIND(22)", "3 types, skipped by the layout section"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect btf: no %q in\n%s", want, out)
		}
	}
	code, out, stderr = runCLI(t, "inspect", "btf", locations, "--type", "inline.text")
	if want := "UNKNOWN_KIND(22) 'inline.text' vlen=70000 bytes=840012\n"; code != 0 || !strings.HasSuffix(out, want) {
		t.Errorf("inspect btf --type inline.text: exit %d, %q, want ...%q: %s", code, out, want, stderr)
	}
	code, out, stderr = runCLI(t, "inspect", "btf", locations, "--type", "inline.text", "-o", "json")
	if !strings.Contains(out, `"kind":"UNKNOWN_KIND(22)"`) || !strings.Contains(out, `"kind_number":22,"bytes":840012`) {
		t.Errorf("inspect btf -o json: exit %d, %s %s", code, out, stderr)
	}
	code, out, stderr = runCLI(t, "inspect", "btf", wide, "--type", "btftool_wide")
	if code != 0 || !strings.Contains(out, "STRUCT 'btftool_wide' size=280000 vlen=70000\n") || strings.Count(out, "\n\t'm' ") != 70000 {
		t.Errorf("inspect btf --type btftool_wide: exit %d, %d members: %s", code, strings.Count(out, "\n\t'm' "), stderr)
	}
}

// diff compares a new-format kernel with the classic one: the location
// types cannot matter to CO-RE and are not compared; the wide struct is
// new.
func TestDiffNewFormat(t *testing.T) {
	dir := t.TempDir()
	classic, locations, wide := newFormatFiles(t, dir)
	if code, out, stderr := runCLI(t, "diff", classic, locations); code != 0 {
		t.Errorf("diff classic locations: exit %d, want 0 (no differences): %s%s", code, out, stderr)
	}
	code, out, stderr := runCLI(t, "diff", classic, wide)
	if code != ExitNegative || !strings.Contains(out, "btftool_wide") {
		t.Errorf("diff classic wide: exit %d, want %d naming btftool_wide: %s%s", code, ExitNegative, out, stderr)
	}
	args := append([]string{"diff", classic, wide}, testObjectPaths(t)...) // objects after OLD and NEW: --only-used-by
	if code, out, stderr := runCLI(t, args...); code != 0 {
		t.Errorf("diff --only-used-by: exit %d: %s%s", code, out, stderr)
	}
}

// verify checks a minimized BTF against a new-format kernel, and refuses,
// naming the type, one that cilium/ebpf v0.22 cannot read.
func TestVerifyNewFormat(t *testing.T) {
	dir := t.TempDir()
	_, locations, wide := newFormatFiles(t, dir)
	objs := testObjectPaths(t)
	min := filepath.Join(dir, "min.btf")
	if code, _, stderr := runCLI(t, append([]string{"gen", "min_core_btf", locations, min}, objs...)...); code != 0 {
		t.Fatalf("gen: exit %d: %s", code, stderr)
	}
	if code, out, stderr := runCLI(t, append([]string{"verify", locations, min}, objs...)...); code != 0 {
		t.Errorf("verify locations: exit %d: %s%s", code, out, stderr)
	}
	code, out, stderr := runCLI(t, append([]string{"verify", wide, min}, objs...)...)
	if code != ExitBadInput || !strings.Contains(stderr, "type [") || !strings.Contains(stderr, "struct 'btftool_wide' has 70000") {
		t.Errorf("verify wide: exit %d, want %d naming btftool_wide: %s%s", code, ExitBadInput, out, stderr)
	}
}
