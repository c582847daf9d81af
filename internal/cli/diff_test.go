package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
)

func TestDiffFlags(t *testing.T) {
	base := DiffOptions{Old: "old", New: "new", Format: "text", Color: "auto"}
	with := func(f func(*DiffOptions)) *DiffOptions { o := base; f(&o); return &o }
	for _, tc := range []struct {
		args    []string
		wantErr string
		want    *DiffOptions
	}{
		{args: []string{"old", "new"}, want: &base},
		{args: []string{"old", "new", "--type", "task_*", "-t", "sock", "-o", "json"}, want: with(func(o *DiffOptions) {
			o.Types, o.Format = []string{"task_*", "sock"}, "json"
		})},
		// Objects after OLD and NEW, as the help says, and after
		// --only-used-by (a shell glob's expansion).
		{args: []string{"old", "new", "a.o"}, want: with(func(o *DiffOptions) { o.OnlyUsedBy = []string{"a.o"} })},
		{args: []string{"old", "new", "--only-used-by", "a.o", "b.o", "c.o"}, want: with(func(o *DiffOptions) {
			o.OnlyUsedBy = []string{"a.o", "b.o", "c.o"}
		})},
		// Repeatable flags are repeated, never split at commas.
		{args: []string{"old", "new", "--only-used-by", "a,b.o", "--only-used-by", "c.o"}, want: with(func(o *DiffOptions) {
			o.OnlyUsedBy = []string{"a,b.o", "c.o"}
		})},
		{args: []string{"old", "new", "--color", "never", "-q"}, want: with(func(o *DiffOptions) { o.Color, o.Quiet = "never", true })},
		{args: []string{"old"}, wantErr: "diff needs OLD and NEW, got 1 argument(s)"},
		{args: []string{"old", "new", "-o", "yaml"}, wantErr: `invalid argument "yaml" for "-o, --output" flag: invalid value "yaml": want text or json`},
		{args: []string{"old", "new", "--color", "sometimes"}, wantErr: `want auto, always or never`},
		{args: []string{"old", "new", "--type", "["}, wantErr: `invalid pattern "[": syntax error in pattern`},
	} {
		got, err := parseOptions(t, NewCmdDiff, tc.args)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || exitCode(err) != ExitBadInput {
				t.Errorf("%v: error %v, want a usage error saying %q", tc.args, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%v: %v", tc.args, err)
		default:
			if d := optionsDiff(got, tc.want); d != "" {
				t.Errorf("%v: %s", tc.args, d)
			}
		}
	}
}

// diffPair writes two synthetic BTFs: NEW adds a member to s, retypes one
// and adds struct fresh.
func diffPair(tb testing.TB) (oldPath, newPath string) {
	tb.Helper()
	dir := tb.TempDir()
	for i, name := range []string{"old.btf", "new.btf"} {
		bb := btftest.New()
		in := bb.Int("int", 4, true)
		l := bb.Int("long int", 8, true)
		if i == 0 {
			bb.Struct("s", 16, btftest.M{Name: "a", Type: in}, btftest.M{Name: "b", Type: in, BitOff: 32})
		} else {
			bb.Struct("s", 16, btftest.M{Name: "a", Type: in}, btftest.M{Name: "b", Type: l, BitOff: 64}, btftest.M{Name: "c", Type: in, BitOff: 32})
			bb.Struct("fresh", 4, btftest.M{Name: "x", Type: in})
		}
		bb.Struct("same", 4, btftest.M{Name: "x", Type: in})
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bb.Bytes(), 0o644); err != nil {
			tb.Fatal(err)
		}
		if i == 0 {
			oldPath = p
		} else {
			newPath = p
		}
	}
	return oldPath, newPath
}

func TestDiffText(t *testing.T) {
	oldPath, newPath := diffPair(t)
	code, out, errOut := runCLI(t, "diff", oldPath, newPath)
	wantLines := []string{
		"+ struct fresh",
		"~ struct s",
		"    + member c: int at 4",
		"    ~ member b (retyped, moved): int at 4 → long int at 8",
		"1 type changed, 1 added, 0 removed",
	}
	if code != ExitNegative || errOut != "" {
		t.Errorf("status %d, stderr %q", code, errOut)
	}
	if got := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); !slices.Equal(got, wantLines) {
		t.Errorf("got:\n%s\nwant:\n%s", out, strings.Join(wantLines, "\n"))
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour when not a terminal")
	}

	// No differences: status 0 and the summary only.
	code, out, _ = runCLI(t, "diff", newPath, newPath)
	if code != ExitOK || out != "0 types changed, 0 added, 0 removed\n" {
		t.Errorf("same file: status %d, output %q", code, out)
	}
	// --type restricts.
	code, out, _ = runCLI(t, "diff", oldPath, newPath, "--type", "fre*")
	if code != ExitNegative || !strings.HasPrefix(out, "+ struct fresh\n0 types changed, 1 added") {
		t.Errorf("--type: status %d, output %q", code, out)
	}
}

// TestDiffColor: --color always and never win; auto colours a terminal
// unless NO_COLOR is set.
func TestDiffColor(t *testing.T) {
	oldPath, newPath := diffPair(t)
	for _, tc := range []struct {
		color        string
		tty, noColor bool
		want         bool
	}{
		{"auto", true, false, true},
		{"auto", false, false, false},
		{"auto", true, true, false},
		{"always", false, true, true},
		{"never", true, false, false},
	} {
		io, out, _ := testIO()
		io.OutTTY, io.NoColor = tc.tty, tc.noColor
		err := runDiff(&DiffOptions{IO: io, Old: oldPath, New: newPath, Format: "text", Color: tc.color})
		if exitCode(err) != ExitNegative {
			t.Errorf("status %d", exitCode(err))
		}
		got := strings.Contains(out.String(), "\x1b[32m") && strings.Contains(out.String(), "\x1b[33m")
		if got != tc.want || (!tc.want && strings.Contains(out.String(), "\x1b[")) {
			t.Errorf("--color %s, terminal %v, NO_COLOR %v: coloured %v, want %v", tc.color, tc.tty, tc.noColor, got, tc.want)
		}
	}
}

func TestDiffJSON(t *testing.T) {
	oldPath, newPath := diffPair(t)
	code, out, _ := runCLI(t, "diff", oldPath, newPath, "-o", "json")
	if code != ExitNegative {
		t.Errorf("status %d", code)
	}
	var rep struct {
		Old     string `json:"old"`
		Changed int    `json:"changed"`
		Added   int    `json:"added"`
		Types   []struct {
			Kind, Name, Op string
			Changes        []struct{ Op, What, Path, Detail, Old, New string }
		} `json:"types"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.Old != oldPath || rep.Changed != 1 || rep.Added != 1 || len(rep.Types) != 2 {
		t.Fatalf("report %+v", rep)
	}
	s := rep.Types[1]
	if s.Name != "s" || s.Op != "~" || len(s.Changes) != 2 || s.Changes[1].Detail != "retyped, moved" || s.Changes[1].New != "long int at 8" {
		t.Errorf("struct s: %+v", s)
	}
}

func TestDiffBadInput(t *testing.T) {
	oldPath, _ := diffPair(t)
	for _, args := range [][]string{
		{"diff", oldPath, "/nonexistent.btf"},
		{"diff", oldPath, testObjs},
		{"diff", oldPath, oldPath, "--only-used-by", "/nonexistent.o"},
		{"diff", oldPath, oldPath, "--type", "[x"},
		{"diff", oldPath},
	} {
		if code, _, errOut := runCLI(t, args...); code != ExitBadInput || errOut == "" {
			t.Errorf("%v: status %d, stderr %q", args, code, errOut)
		}
	}
}

func TestDiffOnlyUsedBy(t *testing.T) {
	k612 := "../../testdata/kernels/debian/12/x86_64/6.12.117+deb12-amd64.btf.tar.xz"
	code, out, errOut := runCLI(t, "diff", testKernel, k612, "--only-used-by", obj("taskstate.bpf.o"), obj("execsnoop.bpf.o"), "-o", "json")
	if code != ExitNegative && code != ExitOK {
		t.Fatalf("status %d: %s", code, errOut)
	}
	var rep struct {
		Types []struct {
			Kind, Name  string
			Relocations []int
		}
		Relocations []struct {
			Object  string
			Verdict string
			Types   []struct{ Kind, Name string }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Relocations) == 0 {
		t.Fatal("no relocations")
	}
	for _, ty := range rep.Types {
		for _, i := range ty.Relocations {
			found := false
			for _, k := range rep.Relocations[i].Types {
				found = found || (k.Kind == ty.Kind && k.Name == ty.Name)
			}
			if !found {
				t.Errorf("%s %s lists relocation %d, which does not touch it", ty.Kind, ty.Name, i)
			}
		}
	}
	// The text form ends with both summary lines.
	_, out, _ = runCLI(t, "diff", testKernel, k612, "--only-used-by", obj("taskstate.bpf.o"))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[len(lines)-1], "17 relocations: ") {
		t.Errorf("text output ends %q", lines[len(lines)-2:])
	}
}
