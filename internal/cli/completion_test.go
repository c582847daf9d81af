package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// complete runs cobra's hidden __complete command with args, as the shell
// scripts do, and returns the completions and the directive.
func complete(t *testing.T, args ...string) ([]string, cobra.ShellCompDirective) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}}
	if got := run(f, append([]string{cobra.ShellCompRequestCmd}, args...)); got != ExitOK {
		t.Fatalf("__complete %q: exit status %d: %s", args, got, errOut.String())
	}
	// The last line is ":DIRECTIVE", the others completions.
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	last := lines[len(lines)-1]
	d, err := strconv.Atoi(strings.TrimPrefix(last, ":"))
	if !strings.HasPrefix(last, ":") || err != nil {
		t.Fatalf("__complete %q: no directive in %q", args, out.String())
	}
	return lines[:len(lines)-1], cobra.ShellCompDirective(d)
}

func TestCompletion(t *testing.T) {
	const (
		files   = cobra.ShellCompDirectiveDefault
		ext     = cobra.ShellCompDirectiveFilterFileExt
		dirs    = cobra.ShellCompDirectiveFilterDirs
		noFiles = cobra.ShellCompDirectiveNoFileComp
	)
	tests := []struct {
		args      []string
		want      []string
		directive cobra.ShellCompDirective
	}{
		// gen min_core_btf INPUT OUTPUT OBJECT...
		{[]string{"gen", "min_core_btf", ""}, nil, files},
		{[]string{"gen", "min_core_btf", "k.btf", ""}, nil, files},
		{[]string{"gen", "min_core_btf", "k.btf", "out.btf", ""}, []string{"o"}, ext},
		{[]string{"gen", "min_core_btf", "k.btf", "out.btf", "a.o", "b"}, []string{"o"}, ext},
		{[]string{"gen", "min_core_btf", "-o", ""}, []string{"text", "json"}, noFiles},
		{[]string{"gen", "min_core_btf", "--output", "j"}, []string{"text", "json"}, noFiles},
		{[]string{"gen", "min_core_btf", "--arch", ""}, []string{"x86_64", "arm64", "s390x", "ppc64le", "riscv64", "loongarch64"}, noFiles},
		{[]string{"gen", "min_core_btf", "--jobs", ""}, nil, noFiles},
		// verify INPUT MINIMIZED OBJECT...
		{[]string{"verify", ""}, nil, files},
		{[]string{"verify", "k.btf.tar.xz", ""}, []string{"btf"}, ext},
		{[]string{"verify", "k.btf.tar.xz", "min.btf", ""}, []string{"o"}, ext},
		{[]string{"verify", "-o", ""}, []string{"text", "json"}, noFiles},
		// diff OLD NEW [OBJECT...]
		{[]string{"diff", ""}, nil, files},
		{[]string{"diff", "old.btf", ""}, nil, files},
		{[]string{"diff", "old.btf", "new.btf", ""}, []string{"o"}, ext},
		{[]string{"diff", "--only-used-by", ""}, []string{"o"}, ext},
		{[]string{"diff", "--type", ""}, nil, noFiles},
		// inspect
		{[]string{"inspect", "btf", ""}, nil, files},
		{[]string{"inspect", "btf", "k.btf", ""}, nil, noFiles},
		{[]string{"inspect", "btf", "--format", ""}, []string{"raw", "c"}, noFiles},
		{[]string{"inspect", "object", ""}, []string{"o"}, ext},
		{[]string{"inspect", "object", "a.o", ""}, []string{"o"}, ext},
		{[]string{"inspect", "compat", ""}, []string{"o"}, ext},
		{[]string{"inspect", "compat", "--kernels", ""}, nil, files},
		{[]string{"inspect", "compat", "--fail-on", ""}, []string{"never", "unsatisfied", "load"}, noFiles},
		// batch and version
		{[]string{"batch", "--config", ""}, []string{"yaml", "yml", "toml", "json"}, ext},
		{[]string{"batch", "-o", ""}, []string{"text", "json"}, noFiles},
		{[]string{"version", ""}, nil, noFiles},
		{[]string{"version", "-o", ""}, []string{"text", "json"}, noFiles},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			got, d := complete(t, tc.args...)
			if d != tc.directive || !slices.Equal(got, tc.want) {
				t.Errorf("got %q, directive %d; want %q, directive %d", got, d, tc.want, tc.directive)
			}
		})
	}
}

// batch completes the job names of its config file, not those already given.
func TestCompletionBatchJobs(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "btftool.yaml")
	data := "jobs:\n" +
		"  - {name: agent, objects: [a.o], input: k, output: out}\n" +
		"  - {name: tools, objects: [a.o], input: k, output: out2}\n"
	if err := os.WriteFile(cfg, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"batch", "--config", cfg, ""}, []string{"agent", "tools"}},
		{[]string{"batch", "--config", cfg, "t"}, []string{"tools"}},
		{[]string{"batch", "--config", cfg, "agent", ""}, []string{"tools"}},
		{[]string{"batch", "--config", filepath.Join(t.TempDir(), "none.yaml"), ""}, nil},
	} {
		got, d := complete(t, tc.args...)
		if d != cobra.ShellCompDirectiveNoFileComp || !slices.Equal(got, tc.want) {
			t.Errorf("%q: got %q, directive %d; want %q, no files", tc.args, got, d, tc.want)
		}
	}
	t.Setenv("BTFTOOL_CONFIG", cfg)
	if got, _ := complete(t, "batch", "a"); !slices.Equal(got, []string{"agent"}) {
		t.Errorf("with BTFTOOL_CONFIG: got %q, want [agent]", got)
	}
}

// Every subcommand has argument completion unless it takes none or cobra
// provides it, so a command added later is not silently left to complete
// file names everywhere.
func TestCompletionCoversCommands(t *testing.T) {
	root := NewCmdRoot(&Factory{IO: &IOStreams{}})
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && c != root && c.ValidArgsFunction == nil && !c.HasSubCommands() {
			t.Errorf("%s: no argument completion (add it to completionTables)", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
