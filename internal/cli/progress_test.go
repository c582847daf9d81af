package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTreeProgress: inspect compat over a tree draws gen's bar on a
// terminal stderr, and nothing with -q or off a terminal.
func TestTreeProgress(t *testing.T) {
	args := []string{"inspect", "compat", obj("taskstate.bpf.o"), "--kernels", testKernelTree, "-j", "1"}
	for _, tc := range []struct {
		name  string
		tty   bool
		extra []string
		bar   bool
	}{
		{"terminal", true, nil, true},
		{"quiet", true, []string{"-q"}, false},
		{"pipe", false, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			io, out, errOut := testIO()
			io.ErrTTY = tc.tty
			code := run(&Factory{IO: io}, append(append([]string(nil), args...), tc.extra...))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if got := strings.Contains(errOut.String(), "kernels"); got != tc.bar {
				t.Errorf("bar shown %v, want %v: %q", got, tc.bar, errOut)
			}
			if strings.Contains(out.String(), "\r") {
				t.Errorf("bar on stdout: %q", out)
			}
		})
	}
	// verify over a tree too.
	out := filepath.Join(t.TempDir(), "min")
	if code, _, stderr := runCLI(t, "gen", "min_core_btf", testKernelTree, out, obj("execsnoop.bpf.o"), "-q"); code != 0 {
		t.Fatalf("gen: exit %d: %s", code, stderr)
	}
	for _, quiet := range []bool{false, true} {
		io, _, errOut := testIO()
		io.ErrTTY = true
		args := []string{"verify", testKernelTree, out, obj("execsnoop.bpf.o")}
		if quiet {
			args = append(args, "-q")
		}
		if code := run(&Factory{IO: io}, args); code != 0 {
			t.Fatalf("verify: exit %d: %s", code, errOut)
		}
		if got := strings.Contains(errOut.String(), "kernels"); got == quiet {
			t.Errorf("verify -q=%v: bar shown %v: %q", quiet, got, errOut)
		}
	}
	if p := newTreeProgress(&IOStreams{ErrTTY: true}, false, 1); p != nil {
		t.Errorf("a bar for one kernel")
	}
	var p *treeProgress
	p.kernelDone(true) // a nil bar does nothing
	p.finish()
}
