package cli

import (
	"github.com/btftool/btftool/pkg/btfgen"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestGenStreamed: gen with objects minimized one at a time
// (btfgen.MinimizeEach) writes the BTF, the report and the exit status of
// gen with the objects held, for -o json, --verbose and plain text, and
// on bad input fails as it does.
func TestGenStreamed(t *testing.T) {
	objs, _ := filepath.Glob(filepath.Join(testObjs, "*.bpf.o"))
	if len(objs) < 2 {
		t.Fatal("no test objects")
	}
	seconds := regexp.MustCompile(`"seconds": [0-9.e-]+|in [0-9.]+ ?m?s`)
	out := filepath.Join(t.TempDir(), "out.btf")
	gen := func(limit int, args ...string) (int, string, string, []byte) {
		t.Helper()
		defer func(old int) { streamRelocations = old }(streamRelocations)
		streamRelocations = limit
		os.Remove(out)
		code, stdout, stderr := runCLI(t, append(append([]string{"gen", "min_core_btf"}, args...), append([]string{testKernel, out}, objs...)...)...)
		data, _ := os.ReadFile(out)
		return code, seconds.ReplaceAllString(stdout, ""), seconds.ReplaceAllString(stderr, ""), data
	}
	for _, args := range [][]string{{"-o", "json"}, {"-o", "json", "--verbose"}, {"--verbose"}, nil} {
		hc, hout, herr, hbtf := gen(1<<30, args...)
		sc, sout, serr, sbtf := gen(0, args...)
		if hc != 0 || len(hbtf) == 0 || len(hout)+len(herr) == 0 && args != nil {
			t.Fatalf("%v: held: status %d, %d bytes; %s", args, hc, len(hbtf), herr)
		}
		if sc != hc || sout != hout || serr != herr || string(sbtf) != string(hbtf) {
			t.Errorf("%v: streamed: status %d, %d bytes of BTF, %d of stdout, %d of stderr; held: %d, %d, %d, %d", args, sc, len(sbtf), len(sout), len(serr), hc, len(hbtf), len(hout), len(herr))
		}
	}
	// Bad objects: the same error, streamed or not; a refused object
	// (libbpf refuses a record) is reported after one that is no object.
	notObj := filepath.Join(t.TempDir(), "not.o")
	if err := os.WriteFile(notObj, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	refused := "../../testdata/bad/object-reloc-unknown-kind.bpf.o"
	for _, set := range [][]string{{objs[0], refused, notObj}, {objs[0], refused}, {refused, objs[0]}} {
		var got []string
		for _, limit := range []int{0, 1 << 30} {
			func() {
				defer func(old int) { streamRelocations = old }(streamRelocations)
				streamRelocations = limit
				code, _, stderr := runCLI(t, append([]string{"gen", "min_core_btf", testKernel, filepath.Join(t.TempDir(), "o.btf")}, set...)...)
				if code != ExitBadInput {
					t.Errorf("%v, limit %d: status %d, want %d", set, limit, code, ExitBadInput)
				}
				got = append(got, stderr)
			}()
		}
		if got[0] != got[1] {
			t.Errorf("%v: streamed %q, held %q", set, got[0], got[1])
		}
		want := refused
		if len(set) == 3 {
			want = notObj
		}
		if !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(got[1]) {
			t.Errorf("%v: %q does not name %s", set, got[1], want)
		}
	}
}

// TestReadObjectsOrStream: objects are streamed once their relocations
// pass the limit, when streaming is allowed and there are several; the
// names cover every object's local types, and Open reads them again.
func TestReadObjectsOrStream(t *testing.T) {
	objs, _ := filepath.Glob(filepath.Join(testObjs, "*.bpf.o"))
	held, err := loadObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		paths  []string
		stream bool
		limit  int
		want   bool
	}{
		{objs, true, 0, true},
		{objs, true, 1 << 30, false},
		{objs, false, 0, false},
		{objs[:1], true, 0, false},
		{append(objs[:1:1], objs[0]), true, 0, false}, // one object twice
	} {
		calls := 0
		got, stream, err := readObjectsOrStream(c.paths, c.stream, c.limit, func() { calls++ })
		if err != nil {
			t.Fatal(err)
		}
		if streamed := stream.N > 0; streamed != c.want || calls != map[bool]int{true: 1}[c.want] || (got == nil) != c.want {
			t.Errorf("%d paths, stream %v, limit %d: streamed %v (%d calls, %d objects held), want %v", len(c.paths), c.stream, c.limit, streamed, calls, len(got), c.want)
			continue
		}
		if !c.want {
			continue
		}
		for i := range stream.N {
			o, err := stream.Open(i)
			if err != nil || o.Path != held[i].Path || len(o.Relocations) != len(held[i].Relocations) {
				t.Errorf("Open(%d): %v, %v; want %s", i, o, err, held[i].Path)
			}
		}
		want := map[string]struct{}{}
		for _, o := range held {
			btfgen.ObjectNames(want, o)
		}
		if len(stream.Names) != len(want) || len(want) == 0 {
			t.Errorf("%d names, want %d", len(stream.Names), len(want))
		}
	}
}
