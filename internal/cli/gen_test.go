package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/btftool/btftool/internal/testfs"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/kbtf"
)

const (
	testKernel = "../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz"
	testObjs   = "../../testdata/bpf"
)

// testIO returns fake streams.
func testIO() (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}, out, errOut
}

// runCLI runs btftool with args and returns status, stdout and stderr.
func runCLI(tb testing.TB, args ...string) (int, string, string) {
	tb.Helper()
	io, out, errOut := testIO()
	code := run(&Factory{IO: io}, args)
	return code, out.String(), errOut.String()
}

// parseOptions builds a command with a run function that captures its
// options, runs it on args and returns the options and the error.
func parseOptions[T any](tb testing.TB, newCmd func(*Factory, func(*T) error) *cobra.Command, args []string) (*T, error) {
	tb.Helper()
	io, _, _ := testIO()
	var got *T
	cmd := newCmd(&Factory{IO: io}, func(o *T) error { got = o; return nil })
	cmd.SetFlagErrorFunc(flagError)
	cmd.SetArgs(args)
	cmd.SetOut(io.Out)
	cmd.SetErr(io.ErrOut)
	return got, cmd.Execute()
}

func obj(name string) string { return filepath.Join(testObjs, name) }

var rawKernel = sync.OnceValues(func() ([]byte, error) {
	data, _, err := kbtf.ReadFile(testKernel, nil)
	return data, err
})

// rawKernelFile writes the decompressed test kernel to dir.
func rawKernelFile(tb testing.TB, dir string) string {
	tb.Helper()
	data, err := rawKernel()
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, "vmlinux.btf")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestMinCoreBTFFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr bool
		check   func(*MinCoreBTFOptions) bool
	}{
		{[]string{"in", "out", "a.o"}, false, func(o *MinCoreBTFOptions) bool {
			return o.Input == "in" && o.Output == "out" && len(o.Objects) == 1 && o.Format == "text"
		}},
		{[]string{"in", "out", "a.o", "b.o", "-o", "json", "--verbose", "--fail-on-poison"}, false, func(o *MinCoreBTFOptions) bool {
			return len(o.Objects) == 2 && o.Format == "json" && o.Verbose && o.FailOnPoison
		}},
		{[]string{"in", "out"}, true, nil},
		{[]string{"in", "out", "a.o", "-o", "yaml"}, true, nil},
	} {
		got, err := parseOptions(t, NewCmdMinCoreBTF, tc.args)
		if (err != nil) != tc.wantErr {
			t.Errorf("%v: error %v, want error %v", tc.args, err, tc.wantErr)
			continue
		}
		if tc.check != nil && (got == nil || !tc.check(got)) {
			t.Errorf("%v: options %+v", tc.args, got)
		}
	}
}

func TestMinCoreBTF(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "min.btf")
	code, stdout, stderr := runCLI(t, "gen", "min_core_btf", testKernel, out, obj("execsnoop.bpf.o"), obj("taskstate.bpf.o"), obj("plain.bpf.o"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout not empty: %q", stdout)
	}
	if !strings.Contains(stderr, "plain.bpf.o: no CO-RE relocations, contributes nothing") {
		t.Errorf("stderr does not say plain.bpf.o contributes nothing: %q", stderr)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Size() < 100 || fi.Size() > 4096 {
		t.Fatalf("output: %v, %v", fi, err)
	}

	// JSON report on stdout; unsatisfied relocations listed.
	code, stdout, _ = runCLI(t, "gen", "min_core_btf", "-o", "json", testKernel, out, obj("features.bpf.o"))
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var rep genReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, stdout)
	}
	if rep.Relocations == 0 || rep.Unsatisfied == 0 || len(rep.Objects) != 1 || len(rep.Objects[0].Details) != rep.Unsatisfied {
		t.Errorf("report %+v", rep)
	}
	for _, d := range rep.Objects[0].Details {
		if d.Path == "" || d.Program == "" || d.Status != core.StatusUnsatisfied {
			t.Errorf("detail %+v", d)
		}
	}

	// --fail-on-poison turns a program that fails (a poisoned read it
	// reaches) into status 1, and the output is still written.
	os.Remove(out)
	code, _, stderr = runCLI(t, "gen", "min_core_btf", "--fail-on-poison", testKernel, out, obj("guards.bpf.o"))
	if code != 1 || !strings.Contains(stderr, "guards.bpf.o: program unguarded fails on 6.1.0-56-amd64.btf.tar.xz: reaches poisoned relo #0") {
		t.Errorf("--fail-on-poison: exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stderr, "program guarded ") || strings.Contains(stderr, "program fsync_fentry ") {
		t.Errorf("--fail-on-poison: a guarded or covered program reported failing: %q", stderr)
	}
	// Unsatisfied probes and dead flavors are no failure.
	for _, o := range []string{"features.bpf.o", "taskstate.bpf.o"} {
		code, _, stderr = runCLI(t, "gen", "min_core_btf", "--fail-on-poison", "--force", testKernel, out, obj(o))
		if code != 0 || !strings.Contains(stderr, "unsatisfied") {
			t.Errorf("%s --fail-on-poison: exit %d, stderr %q", o, code, stderr)
		}
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
}

// TestMinCoreBTFInputForms checks that raw, ELF-less raw big-endian and
// compressed inputs give the same output, and that output keeps the input's
// byte order.
func TestMinCoreBTFInputForms(t *testing.T) {
	dir := t.TempDir()
	raw := rawKernelFile(t, dir)
	a, b := filepath.Join(dir, "a.btf"), filepath.Join(dir, "b.btf")
	for _, in := range []struct{ input, out string }{{raw, a}, {testKernel, b}} {
		if code, _, stderr := runCLI(t, "gen", "min_core_btf", "-q", in.input, in.out, obj("execsnoop.bpf.o")); code != 0 {
			t.Fatalf("%s: exit %d: %s", in.input, code, stderr)
		}
	}
	x, _ := os.ReadFile(a)
	y, _ := os.ReadFile(b)
	if !bytes.Equal(x, y) {
		t.Error("raw and .tar.xz inputs give different outputs")
	}
}

// TestMinCoreBTFBadInput: every bad input exits 2 with one line naming the
// file, and creates no output file.
func TestMinCoreBTFBadInput(t *testing.T) {
	dir := t.TempDir()
	raw := rawKernelFile(t, dir)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kdata, _ := rawKernel()
	truncated := write("truncated.btf", kdata[:len(kdata)/2])
	notBTF := write("notbtf.bin", []byte("hello, world, this is not BTF"))
	empty := write("empty.btf", nil)
	objData, _ := os.ReadFile(obj("execsnoop.bpf.o"))
	truncObj := write("trunc.bpf.o", objData[:len(objData)/3])
	noBTF := write("nobtf.o", mustELFWithoutBTF(t, dir))
	good := obj("execsnoop.bpf.o")
	roDir := filepath.Join(dir, "ro")
	os.Mkdir(roDir, 0o555)

	for _, tc := range []struct {
		name, input, output, object, mention string
	}{
		{"missing input", filepath.Join(dir, "nope.btf"), "out.btf", good, "nope.btf"},
		{"input not BTF", notBTF, "out.btf", good, "notbtf.bin"},
		{"empty input", empty, "out.btf", good, "empty.btf"},
		{"truncated input", truncated, "out.btf", good, "truncated.btf"},
		{"input is a directory", dir, "out.btf", good, dir},
		{"missing object", raw, "out.btf", filepath.Join(dir, "nope.o"), "nope.o"},
		{"object not ELF", raw, "out.btf", notBTF, "notbtf.bin"},
		{"truncated object", raw, "out.btf", truncObj, "trunc.bpf.o"},
		{"object without BTF", raw, "out.btf", noBTF, "nobtf.o"},
		{"object is a directory", raw, "out.btf", dir, dir},
		{"output directory missing", raw, filepath.Join("nodir", "out.btf"), good, "out.btf"},
		{"output is a directory", raw, dir, good, dir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.output
			if !filepath.IsAbs(out) {
				out = filepath.Join(dir, out)
			}
			code, stdout, stderr := runCLI(t, "gen", "min_core_btf", tc.input, out, tc.object)
			if code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.mention) {
				t.Errorf("stderr %q: want one line naming %s", stderr, tc.mention)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if fi, err := os.Stat(out); err == nil && !fi.IsDir() {
				t.Errorf("output %s was created", out)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
		})
	}
	if os.Geteuid() != 0 {
		code, _, _ := runCLI(t, "gen", "min_core_btf", raw, filepath.Join(roDir, "out.btf"), good)
		if code != 2 {
			t.Errorf("unwritable output directory: exit %d", code)
		}
	}
}

// TestMinCoreBTFKeepsExistingOutputOnFailure: a failed regeneration leaves
// an earlier good output untouched.
func TestMinCoreBTFKeepsExistingOutputOnFailure(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "min.btf")
	if code, _, stderr := runCLI(t, "gen", "min_core_btf", "-q", testKernel, out, obj("execsnoop.bpf.o")); code != 0 {
		t.Fatal(stderr)
	}
	before, _ := os.ReadFile(out)
	if code, _, _ := runCLI(t, "gen", "min_core_btf", filepath.Join(dir, "missing"), out, obj("execsnoop.bpf.o")); code != 2 {
		t.Fatalf("exit %d", code)
	}
	after, _ := os.ReadFile(out)
	if !bytes.Equal(before, after) {
		t.Error("existing output changed by a failed run")
	}
}

// mustELFWithoutBTF returns a BPF ELF object with its .BTF section renamed.
func mustELFWithoutBTF(tb testing.TB, dir string) []byte {
	tb.Helper()
	data, err := os.ReadFile(obj("plain.bpf.o"))
	if err != nil {
		tb.Fatal(err)
	}
	// Rename ".BTF" and ".BTF.ext" in the section name table (where they
	// may be suffixes of ".rel.BTF"): same length, so offsets stay valid.
	out := bytes.ReplaceAll(data, []byte(".BTF"), []byte(".XTF"))
	if bytes.Equal(out, data) {
		tb.Fatal("no .BTF section name found")
	}
	return out
}

// TestMinCoreBTFVerify: --verify passes on a correct output and, through
// the hook, catches a minimized BTF made for fewer objects.
func TestMinCoreBTFVerify(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "min.btf")
	if code, _, stderr := runCLI(t, "gen", "min_core_btf", "-q", "--verify", testKernel, out, obj("execsnoop.bpf.o"), obj("taskstate.bpf.o")); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	full, err := rawKernel()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := loadObjects([]string{obj("execsnoop.bpf.o"), obj("taskstate.bpf.o")})
	if err != nil {
		t.Fatal(err)
	}
	partial, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	hook := newVerifyHook()
	if err := hook(full, partial, nil, objs); err != nil {
		t.Errorf("equivalent output rejected: %v", err)
	}
	// An output made for execsnoop alone does not serve taskstate.
	only := filepath.Join(dir, "only.btf")
	if code, _, stderr := runCLI(t, "gen", "min_core_btf", "-q", testKernel, only, obj("execsnoop.bpf.o")); code != 0 {
		t.Fatal(stderr)
	}
	small, _ := os.ReadFile(only)
	if err := newVerifyHook()(full, small, nil, objs); !errors.Is(err, errNotEquivalent) || !strings.Contains(err.Error(), "taskstate") {
		t.Errorf("hook on an incomplete BTF: %v", err)
	}
}

func TestOneLineMessage(t *testing.T) {
	for in, want := range map[string]string{
		"a: b\n  line 1: c":       "a: b line 1: c",
		"bad key \x02\x1b[31mred": `bad key \x02\x1b[31mred`,
		"  trimmed  \n":           "trimmed",
	} {
		if got := oneLineMessage(in); got != want {
			t.Errorf("oneLineMessage(%q) = %q, want %q", in, got, want)
		}
	}
}

// copyFile copies src to dst and returns dst.
func copyFile(tb testing.TB, src, dst string) string {
	tb.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dst
}

// TestMinCoreBTFNothingLost: the slips of issue 13 (OUTPUT forgotten,
// OUTPUT naming INPUT or an OBJECT however it is spelt, an OUTPUT name
// promising another format) exit 2 with one line saying what to do, before
// any work, and leave every file byte for byte as it was. Replacing BTF
// (a rerun) and, with --force, another file is allowed.
func TestMinCoreBTFNothingLost(t *testing.T) {
	dir := t.TempDir()
	rawKernelFile(t, dir) // vmlinux.btf
	copyFile(t, testKernel, filepath.Join(dir, "k.btf.tar.xz"))
	copyFile(t, testKernel, filepath.Join(dir, "k2.btf.tar.xz"))
	copyFile(t, obj("execsnoop.bpf.o"), filepath.Join(dir, "prog1.bpf.o"))
	copyFile(t, obj("taskstate.bpf.o"), filepath.Join(dir, "prog2.bpf.o"))
	if err := os.Symlink("vmlinux.btf", filepath.Join(dir, "link.btf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "prog2.bpf.o"), filepath.Join(dir, "hard.btf")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("keep me\n"), 0o644)
	t.Chdir(dir)
	for _, tc := range []struct {
		name string
		args []string
		want string // a fragment of the one-line error
	}{
		{"OUTPUT forgotten", []string{"vmlinux.btf", "prog1.bpf.o", "prog2.bpf.o"},
			"OUTPUT prog1.bpf.o exists and is an ELF file, not BTF: was OUTPUT left out"},
		{"OUTPUT is INPUT", []string{"vmlinux.btf", "vmlinux.btf", "prog1.bpf.o"},
			"OUTPUT vmlinux.btf is also INPUT: write the minimized BTF to a new file, for example vmlinux.min.btf"},
		{"OUTPUT is ./INPUT", []string{"vmlinux.btf", "./vmlinux.btf", "prog1.bpf.o"}, "is the same file as INPUT vmlinux.btf"},
		{"OUTPUT is INPUT by its absolute path", []string{"vmlinux.btf", filepath.Join(dir, "vmlinux.btf"), "prog1.bpf.o"}, "is the same file as INPUT vmlinux.btf"},
		{"OUTPUT is a symbolic link to INPUT", []string{"vmlinux.btf", "link.btf", "prog1.bpf.o"}, "OUTPUT link.btf is the same file as INPUT vmlinux.btf"},
		{"OUTPUT is an OBJECT", []string{"vmlinux.btf", "prog2.bpf.o", "prog1.bpf.o", "prog2.bpf.o"}, "OUTPUT prog2.bpf.o is also OBJECT"},
		{"OUTPUT is a hard link to an OBJECT", []string{"vmlinux.btf", "hard.btf", "prog2.bpf.o"}, "OUTPUT hard.btf is the same file as OBJECT prog2.bpf.o"},
		{"archive OUTPUT is the INPUT archive", []string{"k.btf.tar.xz", "k.btf.tar.xz", "prog1.bpf.o"}, "OUTPUT k.btf.tar.xz is also INPUT: write the minimized BTF to a new file, for example k.min.btf"},
		{"archive OUTPUT replacing a kernel archive", []string{"k.btf.tar.xz", "k2.btf.tar.xz", "prog1.bpf.o"}, "OUTPUT k2.btf.tar.xz exists and is xz-compressed data, not BTF"},
		{"bundle OUTPUT for one kernel", []string{"vmlinux.btf", "x.tar.gz", "prog1.bpf.o"}, "OUTPUT x.tar.gz names a bundle, which is written from a directory INPUT; the minimized BTF of one kernel is raw BTF: name it x.btf"},
		{"compressed OUTPUT for one kernel", []string{"vmlinux.btf", "x.btf.xz", "prog1.bpf.o"}, "OUTPUT x.btf.xz: a .xz name, but the minimized BTF of one kernel is raw BTF: name it x.btf"},
		{"object OUTPUT name", []string{"vmlinux.btf", "new.bpf.o", "prog1.bpf.o"}, "OUTPUT new.bpf.o: the name of an object (.o), but the minimized BTF is raw BTF: name it new.btf"},
		{"OUTPUT is a text file", []string{"vmlinux.btf", "notes.txt", "prog1.bpf.o"}, "OUTPUT notes.txt exists and is a file of another kind, not BTF: name a new file, or give --force to replace it"},
		{"--force does not make an input an output", []string{"--force", "vmlinux.btf", "vmlinux.btf", "prog1.bpf.o"}, "is also INPUT"},
		{"--force does not change a promised format", []string{"--force", "vmlinux.btf", "k2.btf.tar.xz", "prog1.bpf.o"}, "OUTPUT k2.btf.tar.xz names a bundle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := testfs.ReadTree(t, dir, nil)
			code, stdout, stderr := runCLI(t, append([]string{"gen", "min_core_btf"}, tc.args...)...)
			if code != ExitBadInput || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line saying %q", code, stdout, stderr, tc.want)
			}
			if changed := testfs.Changed(before, testfs.ReadTree(t, dir, nil)); len(changed) > 0 {
				t.Errorf("files changed: %v", changed)
			}
		})
	}

	// A rerun replaces its BTF output; --force replaces another file.
	for _, args := range [][]string{
		{"vmlinux.btf", "min.btf", "prog1.bpf.o"},
		{"vmlinux.btf", "min.btf", "prog1.bpf.o"},
		{"--force", "vmlinux.btf", "notes.txt", "prog1.bpf.o"},
	} {
		before := testfs.ReadTree(t, dir, nil)
		if code, _, stderr := runCLI(t, append([]string{"gen", "min_core_btf", "-q"}, args...)...); code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		if changed := testfs.Changed(before, testfs.ReadTree(t, dir, nil)); len(changed) > 1 || (len(changed) == 1 && changed[0] != args[len(args)-2]) {
			t.Errorf("%v: files changed: %v", args, changed)
		}
	}
}

func TestKernelList(t *testing.T) {
	ks := []string{"centos/7/x86_64/a.btf", "centos/7/x86_64/b.btf", "debian/12/arm64/c.btf", "top.btf"}
	for _, tc := range []struct {
		kernels   []string
		processed int
		want      string
	}{
		{ks, 4, "every kernel (4)"},
		{ks, 9, "4 of 9 kernel(s): centos/7/x86_64: a.btf, b.btf; debian/12/arm64: c.btf; top.btf"},
		{ks[:1], 2, "1 of 2 kernel(s): centos/7/x86_64: a.btf"},
	} {
		if got := kernelList(tc.kernels, tc.processed); got != tc.want {
			t.Errorf("kernelList(%q, %d) = %q, want %q", tc.kernels, tc.processed, got, tc.want)
		}
	}
	var many []string
	for i := range maxListedKernels + 3 {
		many = append(many, fmt.Sprintf("d/k%02d", i))
	}
	if got := kernelList(many, 20); !strings.HasSuffix(got, "k07 and 3 more") {
		t.Errorf("long list: %q", got)
	}
}

// TestGenDirVerbose: over a tree, --verbose names each unsatisfied
// relocation once with the kernels it misses on, and -o json carries the
// same per relocation and, per kernel, the counts of each object.
func TestGenDirVerbose(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := runCLI(t, "gen", "min_core_btf", testKernelTree, out, obj("netdrop.bpf.o"), "--verbose")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{
		"  unsatisfied on every kernel (3):\n    tracepoint/skb/kfree_skb kfree_skb insn ",
		"  unsatisfied on 1 of 3 kernel(s): debian/12/x86_64: 6.12.117+deb12-amd64.btf.tar.xz:\n",
	} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	code, _, stderr = runCLI(t, "gen", "min_core_btf", testKernelTree, out, obj("netdrop.bpf.o"), "--force")
	if code != 0 || strings.Contains(stderr, "unsatisfied on") || !strings.Contains(stderr, "(--verbose lists them)") {
		t.Errorf("without --verbose: exit %d:\n%s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "gen", "min_core_btf", testKernelTree, out, obj("netdrop.bpf.o"), "-o", "json", "--force")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Objects []struct {
			Path   string
			Misses []struct {
				Kind    string
				Status  string
				Kernels []string
			}
		}
		Results []struct {
			Input   string
			Objects []struct {
				Path        string
				Unsatisfied int
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Objects) != 1 || len(rep.Objects[0].Misses) == 0 || len(rep.Results) != 3 {
		t.Fatalf("report %+v", rep)
	}
	for _, m := range rep.Objects[0].Misses {
		if m.Kind == "" || m.Status != "unsatisfied" || len(m.Kernels) == 0 {
			t.Errorf("miss %+v", m)
		}
	}
	for _, k := range rep.Results {
		if len(k.Objects) != 1 || k.Objects[0].Path != obj("netdrop.bpf.o") || k.Objects[0].Unsatisfied == 0 {
			t.Errorf("%s: objects %+v", k.Input, k.Objects)
		}
	}
}

// Over a tree, --fail-on-poison fails on programs that fail on some
// kernel, not on unsatisfied guards, and the summary names the programs
// that need the kernel's own BTF.
func TestMinCoreBTFTreeFailOnPoison(t *testing.T) {
	if testing.Short() {
		t.Skip("minimizes three kernels twice")
	}
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := runCLI(t, "gen", "min_core_btf", "--fail-on-poison", "-j", "1", testKernelTree, out, obj("taskstate.bpf.o"))
	if code != 0 || !strings.Contains(stderr, "taskstate.bpf.o: 1 program(s) need the kernel's own BTF at load time: handle_switch_btf (tp_btf)\n") {
		t.Errorf("taskstate.bpf.o: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "gen", "min_core_btf", "--fail-on-poison", "--force", "-j", "1", testKernelTree, out, obj("guards.bpf.o"))
	if code != 1 || !strings.Contains(stderr, "guards.bpf.o: programs fail (a poisoned instruction they reach, or an attach target the kernel lacks, with no variant to cover them) on 3 kernel(s)") {
		t.Errorf("guards.bpf.o: exit %d, stderr %q", code, stderr)
	}
}

// The JSON report names the failing programs and those that need the
// kernel's own BTF.
func TestMinCoreBTFJSONLoadVerdicts(t *testing.T) {
	out := filepath.Join(t.TempDir(), "min.btf")
	code, stdout, stderr := runCLI(t, "gen", "min_core_btf", "-o", "json", testKernel, out, obj("guards.bpf.o"), obj("execsnoop.bpf.o"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep genReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, stdout)
	}
	if f := rep.FailingPrograms; len(f) != 1 || filepath.Base(f[0].Object) != "guards.bpf.o" || f[0].Program != "unguarded" || len(f[0].Why) != 1 {
		t.Errorf("failing_programs %+v, want guards.bpf.o unguarded", f)
	}
	if n := rep.NeedsKernelBTF; len(n) != 1 || len(n[0].Programs) != 1 || n[0].Programs[0].Name != "fsync_fentry" {
		t.Errorf("needs_kernel_btf %+v, want guards.bpf.o fsync_fentry", n)
	}
}
