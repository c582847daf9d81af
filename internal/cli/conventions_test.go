package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// leafCommands returns every command that runs something, but cobra's own.
func leafCommands() []*cobra.Command {
	io, _, _ := testIO()
	var out []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && !c.HasSubCommands() && c.Name() != "help" && c.Name() != "completion" {
			out = append(out, c)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewCmdRoot(&Factory{IO: io}))
	return out
}

// TestFlagConventions: -q and -o on every command, -v only as --verbose,
// every repeatable flag repeated (never split at commas), and no default
// that depends on the machine (--jobs is 0, one per CPU).
func TestFlagConventions(t *testing.T) {
	for _, c := range leafCommands() {
		for _, name := range []string{"quiet", "output"} {
			if c.Flags().Lookup(name) == nil {
				t.Errorf("%s has no --%s", c.CommandPath(), name)
			}
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			switch {
			case f.Shorthand == "v" && f.Name != "verbose":
				t.Errorf("%s: -v is --%s, not --verbose", c.CommandPath(), f.Name)
			case f.Value.Type() == "stringSlice" || f.Value.Type() == "stringArray":
				t.Errorf("%s: --%s is not declared as an option (options.go)", c.CommandPath(), f.Name)
			case f.Name == "jobs" && f.DefValue != "0":
				t.Errorf("%s: --jobs defaults to %s, not 0 (one per CPU)", c.CommandPath(), f.DefValue)
			}
			if _, ok := f.Value.(optValue); !ok && f.Name != "help" {
				t.Errorf("%s: --%s is not declared as an option (options.go)", c.CommandPath(), f.Name)
			}
		})
	}
	// The root has --version and no -v.
	if code, stdout, _ := runCLI(t, "--version"); code != 0 || !strings.HasPrefix(stdout, "btftool ") {
		t.Errorf("--version: exit %d, %q", code, stdout)
	}
	if code, _, stderr := runCLI(t, "-v"); code != ExitBadInput || !strings.Contains(stderr, "unknown shorthand flag: 'v'") {
		t.Errorf("-v at the root: exit %d, %q", code, stderr)
	}
}

// TestDefaultKernel: a command that needs one kernel and is given none
// reads the running kernel's BTF, and says so on stderr (not with -q).
func TestDefaultKernel(t *testing.T) {
	_, err := os.Stat(runningKernel)
	for _, tc := range []struct {
		args []string
		note string
	}{
		{[]string{"inspect", "btf"}, "btftool: no FILE given: reading the running kernel's BTF, " + runningKernel},
		{[]string{"inspect", "compat", obj("execsnoop.bpf.o")}, "btftool: no --kernels given: reading the running kernel's BTF, " + runningKernel},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if !strings.HasPrefix(stderr, tc.note+"\n") {
			t.Errorf("%v: stderr %q, want the note %q", tc.args, stderr, tc.note)
		}
		switch {
		case err == nil && (code != 0 || stdout == ""):
			t.Errorf("%v: exit %d, stdout %q", tc.args, code, stdout)
		case err != nil && (code != ExitBadInput || !strings.Contains(stderr, "this kernel has no BTF")):
			t.Errorf("%v without %s: exit %d, stderr %q", tc.args, runningKernel, code, stderr)
		}
		if _, _, stderr := runCLI(t, append(tc.args, "-q")...); strings.Contains(stderr, "no ") && strings.Contains(stderr, "given") {
			t.Errorf("%v -q: stderr %q", tc.args, stderr)
		}
	}
}

// runStdin runs btftool with stdin and returns status, stdout and stderr.
func runStdin(tb testing.TB, stdin []byte, args ...string) (int, []byte, string) {
	tb.Helper()
	io, out, errOut := testIO()
	io.In = bytes.NewReader(stdin)
	code := run(&Factory{IO: io}, args)
	return code, out.Bytes(), errOut.String()
}

// TestStdio: "-" is standard input where one kernel is read and standard
// output where one BTF is written; it stands for one input only.
func TestStdio(t *testing.T) {
	kernel, err := os.ReadFile(testKernel) // a .btf.tar.xz: stdin is decoded like a file
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.btf")
	if code, _, stderr := runCLI(t, "gen", "min_core_btf", "-q", testKernel, ref, obj("execsnoop.bpf.o")); code != 0 {
		t.Fatal(stderr)
	}
	want, _ := os.ReadFile(ref)

	// OUTPUT -: the BTF on stdout.
	code, stdout, stderr := runStdin(t, nil, "gen", "min_core_btf", "-q", testKernel, "-", obj("execsnoop.bpf.o"))
	if code != 0 || !bytes.Equal(stdout, want) {
		t.Errorf("OUTPUT -: exit %d, %d bytes on stdout (want %d): %s", code, len(stdout), len(want), stderr)
	}
	// INPUT -: the kernel from stdin.
	out := filepath.Join(dir, "stdin.btf")
	if code, _, stderr := runStdin(t, kernel, "gen", "min_core_btf", "-q", "-", out, obj("execsnoop.bpf.o")); code != 0 {
		t.Errorf("INPUT -: exit %d: %s", code, stderr)
	} else if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
		t.Error("INPUT -: a different output")
	}
	// inspect btf -, diff - K, verify K - OBJ.
	if code, stdout, stderr := runStdin(t, kernel, "inspect", "btf", "-"); code != 0 || !bytes.Contains(stdout, []byte("file:")) {
		t.Errorf("inspect btf -: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runStdin(t, kernel, "diff", "-", testKernel); code != 0 {
		t.Errorf("diff - K: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runStdin(t, want, "verify", testKernel, "-", obj("execsnoop.bpf.o")); code != 0 {
		t.Errorf("verify K -: exit %d: %s", code, stderr)
	}
	if _, err := rawbtf.Parse(want); err != nil {
		t.Fatal(err)
	}
	// Refused: two inputs from stdin, -o json with the BTF on stdout, and
	// standard output for a tree.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"diff", "-", "-"}, "'-' (standard input) given 2 times"},
		{[]string{"gen", "min_core_btf", "-o", "json", testKernel, "-", obj("execsnoop.bpf.o")}, "OUTPUT '-' writes the BTF on standard output, where -o json would write the report"},
		{[]string{"gen", "min_core_btf", "../../testdata/kernels", "-", obj("execsnoop.bpf.o")}, "OUTPUT '-' (standard output) takes one kernel's BTF"},
	} {
		code, _, stderr := runStdin(t, kernel, tc.args...)
		if code != ExitBadInput || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}
