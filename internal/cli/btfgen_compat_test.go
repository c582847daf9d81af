package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/btftool/btftool/internal/testfs"
)

// TestBtfgenFlags checks that kinvolk/btfgen's command line maps onto
// INPUT OUTPUT OBJECT..., and that it cannot be mixed with arguments.
func TestBtfgenFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
		in, out string
		objs    []string
	}{
		{args: []string{"--inputdir", "in", "--outputdir", "out", "--object", "a.o"}, in: "in", out: "out", objs: []string{"a.o"}},
		{args: []string{"--inputdir=in", "--outputdir=out", "--obj=a.o", "--object=b.o", "--obj", "c.o"}, in: "in", out: "out", objs: []string{"a.o", "b.o", "c.o"}},
		{args: []string{"--object", "b.o", "--outputdir", "out", "--inputdir", "in", "--obj", "a.o", "--jobs", "1"}, in: "in", out: "out", objs: []string{"b.o", "a.o"}},
		{args: []string{"--inputdir", "in", "--outputdir", "out", "--object", "a.o", "x.o"}, wantErr: "not both"},
		{args: []string{"in", "out", "a.o", "--object", "b.o"}, wantErr: "not both"},
		{args: []string{"--inputdir", "in", "--object", "a.o"}, wantErr: "--outputdir missing"},
		{args: []string{"--outputdir", "out"}, wantErr: "--inputdir, --object missing"},
		{args: []string{"--inputdir", "in", "--outputdir", "out.tar.gz", "--object", "a.o"}, wantErr: "names a directory"},
	} {
		got, err := parseOptions(t, NewCmdMinCoreBTF, tc.args)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.wantErr)
			} else if exitCode(err) != ExitBadInput {
				t.Errorf("%v: exit status %d, want %d", tc.args, exitCode(err), ExitBadInput)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if got.Input != tc.in || got.Output != tc.out || !slices.Equal(got.Objects, tc.objs) || !got.btfgen {
			t.Errorf("%v: got INPUT %q OUTPUT %q OBJECTS %q btfgen %v, want %q %q %q true", tc.args, got.Input, got.Output, got.Objects, got.btfgen, tc.in, tc.out, tc.objs)
		}
	}
}

// TestBtfgenFlagsInHelp checks that the btfgen flags are documented, not
// hidden.
func TestBtfgenFlagsInHelp(t *testing.T) {
	code, stdout, _ := runCLI(t, "gen", "min_core_btf", "--help")
	if code != 0 {
		t.Fatalf("--help: exit status %d", code)
	}
	for _, want := range []string{"--inputdir DIR", "--outputdir DIR", "--object OBJECT", "--obj OBJECT", "kinvolk/btfgen form"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--help does not mention %q", want)
		}
	}
}

// TestBtfgenSameAsDirectoryMode runs a btfgen command line and the
// directory mode on the test kernels: the outputs must be byte-identical.
func TestBtfgenSameAsDirectoryMode(t *testing.T) {
	kernels := "../../testdata/kernels"
	a, b := obj("execsnoop.bpf.o"), obj("vfs.bpf.o")
	dir := t.TempDir()
	btfgenOut, dirOut := filepath.Join(dir, "btfgen"), filepath.Join(dir, "dirmode")

	code, stdout, stderr := runCLI(t, "gen", "min_core_btf", "--inputdir", kernels, "--outputdir", btfgenOut, "--obj", a, "--obj", b)
	if code != 0 {
		t.Fatalf("btfgen form: exit status %d: %s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("btfgen form wrote on stdout: %q", stdout)
	}
	if code, _, stderr := runCLI(t, "gen", "min_core_btf", kernels, dirOut, a, b); code != 0 {
		t.Fatalf("directory mode: exit status %d: %s", code, stderr)
	}
	got, want := testfs.ReadTree(t, btfgenOut, notManifest), testfs.ReadTree(t, dirOut, notManifest)
	if len(want) != 3 {
		t.Fatalf("directory mode wrote %d files, want 3 (one per test kernel)", len(want))
	}
	for rel, w := range want {
		if g, ok := got[rel]; !ok {
			t.Errorf("btfgen form did not write %s", rel)
		} else if !bytes.Equal(g, w) {
			t.Errorf("%s: btfgen form and directory mode differ (%d and %d bytes)", rel, len(g), len(w))
		}
	}
	for rel := range got {
		if _, ok := want[rel]; !ok {
			t.Errorf("btfgen form wrote %s, directory mode did not", rel)
		}
	}
}

// TestBtfgenFlatDirectory is btfgen's own layout: raw NAME.btf files in one
// directory give OUTPUTDIR/NAME.btf.
func TestBtfgenFlatDirectory(t *testing.T) {
	raw, err := rawKernel()
	if err != nil {
		t.Fatal(err)
	}
	in, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	for _, name := range []string{"5.10.0-1-amd64.btf", "6.1.0-56-amd64.btf"} {
		if err := os.WriteFile(filepath.Join(in, name), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(in, "README"), []byte("not a kernel\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "gen", "min_core_btf", "--inputdir", in, "--outputdir", out, "--object", obj("execsnoop.bpf.o"))
	if code != 0 || stdout != "" {
		t.Fatalf("exit status %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	files := testfs.ReadTree(t, out, notManifest)
	var names []string
	for rel := range files {
		names = append(names, rel)
	}
	slices.Sort(names)
	if want := []string{"5.10.0-1-amd64.btf", "6.1.0-56-amd64.btf"}; !slices.Equal(names, want) {
		t.Errorf("outputs %q, want %q", names, want)
	}
}

// TestBtfgenInputdirNotDirectory: btfgen fails on anything but a
// directory, and so does the btfgen form (it does not fall back to
// single-file mode).
func TestBtfgenInputdirNotDirectory(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	for _, in := range []string{testKernel, "../../testdata/kernels/missing"} {
		code, stdout, stderr := runCLI(t, "gen", "min_core_btf", "--inputdir", in, "--outputdir", out, "--object", obj("execsnoop.bpf.o"))
		if code != ExitBadInput || stdout != "" || !strings.Contains(stderr, "--inputdir") {
			t.Errorf("--inputdir %s: exit status %d, stdout %q, stderr %q; want %d and an error naming --inputdir", in, code, stdout, stderr, ExitBadInput)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("--inputdir %s: output directory created", in)
		}
	}
}

// TestBpftoolContract runs bpftool and btftool with the same
// "gen min_core_btf INPUT OUTPUT OBJECT..." command lines: on success both
// print nothing on stdout, and every input bpftool rejects btftool
// rejects too, with a non-zero status and no output file.
func TestBpftoolContract(t *testing.T) {
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		t.Skip("bpftool not installed")
	}
	dir := t.TempDir()
	kernel := rawKernelFile(t, dir) // bpftool reads raw or ELF BTF only
	good := obj("execsnoop.bpf.o")
	notBTF := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notBTF, []byte("not BTF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	isDir := filepath.Join(dir, "existing-dir")
	if err := os.Mkdir(isDir, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := "../../testdata/bad/"

	// A relative OUTPUT is taken in a fresh directory per tool.
	for _, tc := range []struct {
		name   string
		input  string
		output string
		objs   []string
	}{
		{"missing input", filepath.Join(dir, "missing.btf"), "out.btf", []string{good}},
		{"non-BTF input", notBTF, "out.btf", []string{good}},
		{"wrong-magic input", bad + "kernel-wrong-magic.btf", "out.btf", []string{good}},
		{"input is ELF without .BTF", bad + "kernel-elf-without-btf.o", "out.btf", []string{good}},
		{"missing object", kernel, "out.btf", []string{filepath.Join(dir, "missing.bpf.o")}},
		{"object without BTF", kernel, "out.btf", []string{bad + "object-no-btf.bpf.o"}},
		{"object not ELF", kernel, "out.btf", []string{bad + "object-not-elf.bpf.o"}},
		{"one bad object of two", kernel, "out.btf", []string{good, bad + "object-no-btf.bpf.o"}},
		{"output directory missing", kernel, "no/such/dir/out.btf", []string{good}},
		{"output under a regular file", kernel, filepath.Join(notBTF, "out.btf"), []string{good}},
		{"output is a directory", kernel, isDir, []string{good}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, tool := range []string{"bpftool", "btftool"} {
				runDir := t.TempDir()
				out := tc.output
				if !filepath.IsAbs(out) {
					out = filepath.Join(runDir, out)
				}
				args := append([]string{"gen", "min_core_btf", tc.input, out}, tc.objs...)
				var code int
				var stdout, stderr string
				if tool == "bpftool" {
					cmd := exec.Command(bpftool, args...)
					var o, e bytes.Buffer
					cmd.Stdout, cmd.Stderr = &o, &e
					err := cmd.Run()
					if _, ok := err.(*exec.ExitError); err != nil && !ok {
						t.Fatal(err)
					}
					code, stdout, stderr = cmd.ProcessState.ExitCode(), o.String(), e.String()
				} else {
					code, stdout, stderr = runCLI(t, args...)
				}
				if code == 0 {
					t.Errorf("%s accepts it (stderr %q)", tool, stderr)
				}
				if tool == "btftool" {
					if code != ExitBadInput {
						t.Errorf("btftool: exit status %d, want %d", code, ExitBadInput)
					}
					if stdout != "" {
						t.Errorf("btftool: stdout %q, want nothing", stdout)
					}
					if fi, err := os.Stat(out); err == nil && !fi.IsDir() {
						t.Errorf("btftool left %s behind", out)
					}
				}
			}
		})
	}

	t.Run("success", func(t *testing.T) {
		objs, _ := filepath.Glob(filepath.Join(testObjs, "*.bpf.o"))
		objs = slices.DeleteFunc(objs, func(p string) bool { return strings.HasSuffix(p, "btfdump.bpf.o") })
		for _, tool := range []string{"bpftool", "btftool"} {
			out := filepath.Join(t.TempDir(), "min.btf")
			args := append([]string{"gen", "min_core_btf", kernel, out}, objs...)
			var code int
			var stdout string
			if tool == "bpftool" {
				cmd := exec.Command(bpftool, args...)
				var o bytes.Buffer
				cmd.Stdout = &o
				cmd.Run()
				code, stdout = cmd.ProcessState.ExitCode(), o.String()
			} else {
				code, stdout, _ = runCLI(t, args...)
			}
			if code != 0 || stdout != "" {
				t.Errorf("%s: exit status %d, stdout %q; want 0 and nothing", tool, code, stdout)
			}
			if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
				t.Errorf("%s wrote no output: %v", tool, err)
			}
		}
	})
}

// notManifest leaves btftool's manifest out of an output tree.
func notManifest(rel string) bool { return path.Base(rel) != ".btftool-manifest.json" }
