package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// jsonError checks that stderr is one JSON error object with status code
// and that stdout is empty.
func jsonError(tb testing.TB, args []string, code int, stdout, stderr string, want int) {
	tb.Helper()
	var rep struct {
		Error      *string `json:"error"`
		ExitStatus *int    `json:"exit_status"`
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if err := json.Unmarshal([]byte(stderr), &rep); err != nil || len(lines) != 1 || rep.Error == nil || rep.ExitStatus == nil {
		tb.Errorf("%q: stderr is not one JSON error (%v):\n%s", args, err, stderr)
		return
	}
	if code != want || *rep.ExitStatus != code {
		tb.Errorf("%q: exit %d, exit_status %d, want %d", args, code, *rep.ExitStatus, want)
	}
	if stdout != "" {
		tb.Errorf("%q: stdout %q", args, stdout)
	}
}

// TestJSONErrors: in JSON mode every failure, usage errors included, is one
// JSON object on stderr, whenever the error comes.
func TestJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"inspect", "object", "-o", "json"}, ExitBadInput},
		{[]string{"inspect", "object", "--bogus", "-o", "json", "x.o"}, ExitBadInput},
		{[]string{"inspect", "object", "--bogus", "--output=json", "x.o"}, ExitBadInput},
		{[]string{"inspect", "object", "-ojson", "--bogus", "x.o"}, ExitBadInput},
		{[]string{"inspect", "object", "-o", "json", "testdata/no-such.o"}, ExitBadInput},
		{[]string{"inspect", "btf", "-o", "json", "a", "b"}, ExitBadInput},
		{[]string{"inspect", "btf", "--format", "c", "-o", "json", "x"}, ExitBadInput},
		{[]string{"inspect", "compat", "x.o", "-o", "json", "--fail-on", "bogus"}, ExitBadInput},
		{[]string{"inspect", "-o", "json"}, ExitBadInput},
		{[]string{"inspect", "objects", "-o", "json"}, ExitBadInput},
		{[]string{"no-such-command", "-o", "json"}, ExitBadInput},
		{[]string{"gen", "min_core_btf", "-o", "json", "a"}, ExitBadInput},
		{[]string{"gen", "min_core_btf", "testdata/no-such.btf", "out.btf", "x.o", "-o", "json"}, ExitBadInput},
		{[]string{"diff", "-o", "json"}, ExitBadInput},
		{[]string{"verify", "-o", "json"}, ExitBadInput},
		{[]string{"select", "-o", "json"}, ExitBadInput},
		{[]string{"version", "-o", "json", "x"}, ExitBadInput},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		jsonError(t, tc.args, code, stdout, stderr, tc.code)
	}
	// Not asked for JSON, or asked for text after json: text errors.
	for _, args := range [][]string{
		{"inspect", "object"},
		{"inspect", "object", "-o", "json", "-o", "text"},
		{"inspect", "object", "--", "-o", "json"},
	} {
		if _, _, stderr := runCLI(t, args...); !strings.HasPrefix(stderr, "btftool: ") {
			t.Errorf("%q: stderr %q, want text", args, stderr)
		}
	}
}

// TestJSONErrorsEveryCommand: every command that takes -o json reports a
// flag it does not know as JSON, the flag given before or after -o.
func TestJSONErrorsEveryCommand(t *testing.T) {
	io, _, _ := testIO()
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.Flags().Lookup(optOutput.Name) != nil {
			paths = append(paths, path)
		}
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(NewCmdRoot(&Factory{IO: io}), nil)
	if len(paths) < 8 {
		t.Fatalf("only %d commands take -o: %q", len(paths), paths)
	}
	for _, p := range paths {
		for _, tail := range [][]string{{"-o", "json", "--no-such-flag"}, {"--no-such-flag", "-o", "json"}} {
			args := append(append([]string(nil), p...), tail...)
			code, stdout, stderr := runCLI(t, args...)
			jsonError(t, args, code, stdout, stderr, ExitBadInput)
		}
	}
}

// TestJSONErrorsFromEnvironment: BTFTOOL_OUTPUT=json makes errors JSON,
// even those found before the settings are read; -o text beats it.
func TestJSONErrorsFromEnvironment(t *testing.T) {
	t.Setenv("BTFTOOL_OUTPUT", "json")
	args := []string{"inspect", "object"}
	code, stdout, stderr := runCLI(t, args...)
	jsonError(t, args, code, stdout, stderr, ExitBadInput)
	for _, args := range [][]string{{"inspect", "object", "-o", "text"}, {"inspect", "object", "--bogus", "-o", "text"}} {
		if _, _, stderr := runCLI(t, args...); !strings.HasPrefix(stderr, "btftool: ") {
			t.Errorf("%q with BTFTOOL_OUTPUT=json: stderr %q", args, stderr)
		}
	}
}

func TestArgsOutput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"-o", "json"}, true},
		{[]string{"-ojson"}, true},
		{[]string{"-o=json"}, true},
		{[]string{"--output", "json"}, true},
		{[]string{"--output=json"}, true},
		{[]string{"-o", "text"}, false},
		{[]string{"-o", "json", "--output=text"}, false},
		{[]string{"-o"}, false},
		{[]string{"--", "-o", "json"}, false},
		{[]string{"--outputx=json"}, false},
	} {
		if v, _ := argsOutput(tc.args); (v == "json") != tc.want {
			t.Errorf("%q: %q, want json %v", tc.args, v, tc.want)
		}
	}
}

// TestObjectsNamedByPath: reports name objects by the path given, so two
// objects of one name in different directories can be told apart.
func TestObjectsNamedByPath(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(obj("taskstate.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, d := range []string{"a", "b"} {
		p := filepath.Join(dir, d, "p.bpf.o")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	for _, args := range [][]string{
		append([]string{"gen", "min_core_btf", testKernel, filepath.Join(dir, "min.btf"), "--verbose"}, paths...),
		append([]string{"inspect", "compat", "--kernels", testKernel, "--verbose"}, paths...),
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, stderr)
		}
		for _, p := range paths {
			if !strings.Contains(stdout+stderr, p+":") {
				t.Errorf("%s: output does not name %s:\n%s%s", args[0], p, stdout, stderr)
			}
		}
	}
}
