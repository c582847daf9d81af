package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata/run.json is go test -json of three packages: tj/a with a
// passing, a failing (through a subtest) and a skipped test, tj/b that
// does not build, tj/c with two passing tests.
const runOutput = `# tj/b [tj/b.test]
b/b_test.go:5:28: undefined: undefined
--- FAIL: TestBad (0.00s)
    a_test.go:7: shown
    --- FAIL: TestBad/sub (0.00s)
        a_test.go:8: sub failed
FAIL
FAIL	tj/a	0.007s
FAIL	tj/b [build failed]
ok  	tj/c	0.032s
slowest tests (of 5 top-level tests, 1 skipped; 0.0 s in all):
    0.0 s  tj/c TestSlow
    0.0 s  tj/a TestOK
`

func TestRun(t *testing.T) {
	run1, err := os.ReadFile("testdata/run.json")
	if err != nil {
		t.Fatal(err)
	}
	// Only tj/c, which passes.
	var passing []string
	for _, l := range strings.SplitAfter(string(run1), "\n") {
		if strings.Contains(l, `"Package":"tj/c"`) {
			passing = append(passing, l)
		}
	}
	tests := []struct {
		name       string
		args       []string
		in         string
		wantStatus int
		wantOut    string
		wantErr    string
	}{
		{"failures", []string{"-slowest", "2"}, string(run1), 1, runOutput, ""},
		{"passing", []string{"-slowest", "0"}, "go: downloading example.com/m v1.0.0\n" + strings.Join(passing, ""), 0,
			"go: downloading example.com/m v1.0.0\nok  \ttj/c\t0.032s\n", ""},
		{"no results", nil, "go: updates to go.mod needed; to update it:\n\tgo mod tidy\n", 1,
			"go: updates to go.mod needed; to update it:\n\tgo mod tidy\n", "testreport: no package result in the input: did go test run?\n"},
		{"bad flag", []string{"-slowest", "x"}, "", 2, "", "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if got := run(tt.args, strings.NewReader(tt.in), &out, &errOut); got != tt.wantStatus {
				t.Errorf("exit status %d, want %d (stderr %q)", got, tt.wantStatus, errOut.String())
			}
			if out.String() != tt.wantOut {
				t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), tt.wantOut)
			}
			if !strings.Contains(errOut.String(), tt.wantErr) || (tt.wantErr == "") != (errOut.Len() == 0) {
				t.Errorf("stderr %q, want %q", errOut.String(), tt.wantErr)
			}
		})
	}
}

// TestSaveAndSummary: -save keeps the input, and the saved runs give the
// slowest tests of all of them, with the status of their packages.
func TestSaveAndSummary(t *testing.T) {
	run1, err := os.ReadFile("testdata/run.json")
	if err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(t.TempDir(), "saved.json")
	var out, errOut bytes.Buffer
	if got := run([]string{"-save", saved, "-slowest", "0"}, bytes.NewReader(run1), &out, &errOut); got != 1 {
		t.Fatalf("exit status %d, want 1", got)
	}
	if got, err := os.ReadFile(saved); err != nil || !bytes.Equal(got, run1) {
		t.Fatalf("saved input differs (%v)", err)
	}
	out.Reset()
	if got := run([]string{"-slowest", "1", saved, saved}, nil, &out, &errOut); got != 1 {
		t.Errorf("summary exit status %d, want 1: tj/a failed", got)
	}
	want := "slowest tests (of 10 top-level tests, 2 skipped; 0.1 s in all):\n    0.0 s  tj/c TestSlow\n"
	if out.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", out.String(), want)
	}
}
