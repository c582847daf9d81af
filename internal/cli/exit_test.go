package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/btfgen"
)

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"negative", &NegativeError{Err: errors.New("not equivalent")}, ExitNegative},
		{"usage", usageErrorf("bad flag"), ExitBadInput},
		{"input", inputError(errors.New("k.btf: truncated")), ExitBadInput},
		{"wrapped input", fmt.Errorf("job a: %w", inputError(errors.New("x"))), ExitBadInput},
		{"internal", &InternalError{Err: errors.New("x")}, ExitInternal},
		{"self-check", fmt.Errorf("k.btf: %w", btfgen.ErrSelfCheck), ExitInternal},
		{"self-check as bad input", inputError(fmt.Errorf("k.btf: %w", btfgen.ErrSelfCheck)), ExitInternal},
		{"batch panic", fmt.Errorf("k: %w", batch.ErrInternal), ExitInternal},
		{"interrupted", fmt.Errorf("interrupted (%w)", context.Canceled), ExitInterrupted},
		{"unknown", errors.New("something nobody expected"), ExitInternal},
		{"silent", &SilentError{Code: ExitNegative}, ExitNegative},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("%s: exitCode(%v) = %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
}

// fakeRoot is a root command whose "fail" subcommand ends with err, or
// panics when err is nil.
func fakeRoot(err error) *cobra.Command {
	root := &cobra.Command{Use: "btftool", SilenceUsage: true, SilenceErrors: true, Args: noArgs, RunE: func(c *cobra.Command, _ []string) error { return c.Help() }}
	format := outputFormat("text")
	fail := &cobra.Command{Use: "fail", Args: noArgs, RunE: func(*cobra.Command, []string) error {
		if err == nil {
			panic("boom")
		}
		return err
	}}
	enumVar(newOptionSet(fail), &format, optOutput)
	root.AddCommand(fail)
	return root
}

func TestExecuteReportsErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		args   []string
		code   int
		stderr []string // fragments, in order, each on its own line
	}{
		{"bad input", inputError(errors.New("k.btf: truncated")), nil, ExitBadInput,
			[]string{"btftool: k.btf: truncated"}},
		{"usage", usageErrorf("needs INPUT"), nil, ExitBadInput,
			[]string{"btftool: needs INPUT", "Run 'btftool fail --help' for usage."}},
		{"internal with inputs", &InternalError{Err: fmt.Errorf("k.btf: %w", btfgen.ErrSelfCheck), Inputs: []string{"k.btf", "a.bpf.o"}}, nil, ExitInternal,
			[]string{"btftool: internal error: k.btf: minimized BTF does not reproduce", "please report it at " + bugReportURL + " with the output of 'btftool version' and these files, which reproduce it: k.btf, a.bpf.o"}},
		{"unknown error", errors.New("surprise"), []string{"x.btf"}, ExitInternal,
			[]string{"btftool: internal error: surprise", "the command line: btftool fail x.btf"}},
		{"panic", nil, nil, ExitInternal,
			[]string{"btftool: internal error: panic: boom", "please report it", "goroutine "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			io, out, errOut := testIO()
			args := append([]string{"fail"}, tc.args...)
			root := fakeRoot(tc.err)
			if tc.args != nil {
				root.Commands()[0].Args = cobra.ArbitraryArgs
			}
			code := execute(&Factory{IO: io}, root, args)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if out.Len() > 0 {
				t.Errorf("stdout %q", out)
			}
			lines := strings.Split(errOut.String(), "\n")
			for i, want := range tc.stderr {
				if i >= len(lines) || !strings.Contains(lines[i], want) {
					t.Errorf("stderr line %d: want %q in\n%s", i, want, errOut)
				}
			}
		})
	}
	// JSON mode: one object with the status and, for a bug, the report.
	io, _, errOut := testIO()
	code := execute(&Factory{IO: io}, fakeRoot(errors.New("surprise")), []string{"fail", "-o", "json"})
	var rep struct {
		Error      string `json:"error"`
		ExitStatus int    `json:"exit_status"`
		BugReport  string `json:"bug_report"`
	}
	if err := json.Unmarshal(errOut.Bytes(), &rep); err != nil || code != ExitInternal || rep.ExitStatus != ExitInternal || !strings.Contains(rep.BugReport, bugReportURL) {
		t.Errorf("json: exit %d, %+v, %v (%s)", code, rep, err, errOut)
	}
}

// TestUnknownCommand: an unknown subcommand is a usage error, with
// suggestions, wherever it is given.
func TestUnknownCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"gne"}, `unknown command "gne" for "btftool" (did you mean gen?)`},
		{[]string{"gen", "min_core"}, `unknown command "min_core" for "btftool gen" (did you mean min_core_btf?)`},
		{[]string{"inspect", "objects"}, `unknown command "objects" for "btftool inspect"`},
		{[]string{"version", "x"}, `unknown command "x" for "btftool version"`},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != ExitBadInput || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "--help' for usage") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestEveryCommandDocumentsExitStatus: every command's help ends with the
// exit status table, whose statuses are the constants.
func TestEveryCommandDocumentsExitStatus(t *testing.T) {
	io, _, _ := testIO()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c.Parent() != nil {
			return
		}
		if c.Name() != "completion" && (c.Parent() == nil || c.Parent().Name() != "completion") {
			for _, code := range []int{ExitOK, ExitBadInput, ExitInternal, ExitInterrupted} {
				if !strings.Contains(c.Long, "Exit status:") || !strings.Contains(c.Long, fmt.Sprintf("\n  %-3d  ", code)) {
					t.Errorf("%s: help has no exit status %d", c.CommandPath(), code)
				}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := NewCmdRoot(&Factory{IO: io})
	root.InitDefaultCompletionCmd()
	walk(root)
	if !strings.Contains(root.Long, fmt.Sprintf("\n  %-3d  a negative answer", ExitNegative)) {
		t.Errorf("root help does not explain status 1:\n%s", root.Long)
	}
}
