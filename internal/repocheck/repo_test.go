package repocheck

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the repository root, from this package's directory.
const root = "../.."

// repoFiles returns the repository's files, slash-separated and relative
// to root: those git tracks plus new ones it does not ignore, or, outside a
// git checkout (a source archive), every file but .git, bin and dist.
func repoFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err == nil {
		for _, f := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
			// A tracked file deleted in the working tree is not there to check.
			if fi, err := os.Lstat(filepath.Join(root, f)); err == nil && fi.Mode().IsRegular() {
				files = append(files, f)
			}
		}
		return files
	}
	t.Logf("git ls-files: %v: walking the tree instead", err)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir() && (rel == ".git" || rel == "bin" || rel == "dist"):
			return filepath.SkipDir
		case d.Type().IsRegular():
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// apache20SHA256 is the SHA-256 of the Apache License 2.0 text as
// published at https://www.apache.org/licenses/LICENSE-2.0.txt.
const apache20SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"

// TestLicense: LICENSE is the unmodified Apache License 2.0, which is how
// pkg.go.dev and license scanners recognise it.
func TestLicense(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != apache20SHA256 {
		t.Errorf("LICENSE: SHA-256 %s, want %s (the Apache License 2.0 text, unmodified)", got, apache20SHA256)
	}
}

var (
	// spdxLine is an SPDX header line, in C, shell or Go comment syntax.
	spdxLine = regexp.MustCompile(`^(?://|/\*|#)\s*SPDX-License-Identifier:\s*(.+?)\s*(?:\*/)?$`)
	// licenseSection is a BPF program's license section, which the
	// kernel reads to allow GPL-only helpers.
	licenseSection = regexp.MustCompile(`SEC\(\s*"license"\s*\)\s*=\s*"([^"]*)"`)
	// spdxIDs are the license identifiers a header here may name.
	spdxIDs = map[string]bool{
		"Apache-2.0": true, "GPL-2.0": true, "GPL-2.0-only": true, "GPL-2.0-or-later": true,
		"LGPL-2.1": true, "LGPL-2.1-only": true, "LGPL-2.1-or-later": true,
		"BSD-2-Clause": true, "BSD-3-Clause": true, "MIT": true, "MPL-2.0": true,
	}
	// gplSections are the license strings the kernel takes as GPL
	// compatible (license_is_gpl_compatible), with the licenses other than
	// the GPL that the file's SPDX expression must then also name.
	gplSections = map[string][]string{
		"GPL":                       nil,
		"GPL v2":                    nil,
		"GPL and additional rights": nil,
		"Dual BSD/GPL":              {"BSD-"},
		"Dual MIT/GPL":              {"MIT"},
		"Dual MPL/GPL":              {"MPL-"},
	}
)

// spdxHeader returns the SPDX expression in the first two lines of data
// (the first, or the second after a #! line), or "".
func spdxHeader(data []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for i := 0; i < 2 && sc.Scan(); i++ {
		if m := spdxLine.FindStringSubmatch(sc.Text()); m != nil {
			return m[1]
		}
	}
	return ""
}

// checkSPDX returns what is wrong with the SPDX expression of a file whose
// BPF license section (if any) is section, or "".
func checkSPDX(expr, section string, hasSection bool) string {
	if expr == "" {
		if hasSection {
			return `has a license section "` + section + `" but no SPDX-License-Identifier header in its first line`
		}
		return ""
	}
	for _, id := range strings.FieldsFunc(expr, func(r rune) bool { return r == '(' || r == ')' || r == ' ' }) {
		if id != "OR" && id != "AND" && !spdxIDs[id] {
			return "SPDX-License-Identifier " + expr + ": unknown license " + id
		}
	}
	if !hasSection {
		return ""
	}
	others, gpl := gplSections[section]
	if !gpl {
		return ""
	}
	if !strings.Contains(expr, "GPL-2.0") {
		return `license section "` + section + `" is GPL but the SPDX header says ` + expr
	}
	for _, o := range others {
		if !strings.Contains(expr, o) {
			return `license section "` + section + `" but the SPDX header ` + expr + " does not name " + strings.TrimSuffix(o, "-")
		}
	}
	return ""
}

func TestCheckSPDX(t *testing.T) {
	tests := []struct {
		expr, section string
		hasSection    bool
		wantErr       bool
	}{
		{"", "", false, false},
		{"GPL-2.0", "GPL", true, false},
		{"GPL-2.0-only", "GPL v2", true, false},
		{"(GPL-2.0-only OR BSD-2-Clause)", "Dual BSD/GPL", true, false},
		{"GPL-2.0 OR MIT", "Dual MIT/GPL", true, false},
		{"Apache-2.0", "", false, false},
		{"", "GPL", true, true},
		{"Apache-2.0", "GPL", true, true},
		{"GPL-2.0", "Dual BSD/GPL", true, true},
		{"GPL2", "", false, true},
		{"MIT", "Proprietary", true, false},
	}
	for _, tt := range tests {
		if got := checkSPDX(tt.expr, tt.section, tt.hasSection); (got != "") != tt.wantErr {
			t.Errorf("checkSPDX(%q, %q, %v) = %q, want error %v", tt.expr, tt.section, tt.hasSection, got, tt.wantErr)
		}
	}
}

// TestSPDXHeaders: the repository is Apache-2.0 (LICENSE) except files
// whose SPDX header names another license. A C file with a BPF license
// section must have one that agrees with the section (a program the
// kernel treats as GPL is GPL-2.0), and every SPDX header must name known
// licenses.
func TestSPDXHeaders(t *testing.T) {
	checked := 0
	for _, f := range repoFiles(t) {
		switch path.Ext(f) {
		case ".c", ".h", ".go", ".sh", ".py", ".S":
		default:
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		var section string
		m := licenseSection.FindSubmatch(data)
		if m != nil {
			section = string(m[1])
			checked++
		}
		if msg := checkSPDX(spdxHeader(data), section, m != nil); msg != "" {
			t.Errorf("%s: %s", f, msg)
		}
	}
	if checked == 0 {
		t.Error("no BPF program with a license section found: is the file list right?")
	}
}

var (
	// absPath is an absolute path in text: a slash after the start of a
	// line, a blank, a quote, a backquote, "(" or "=", then a directory.
	absPath = regexp.MustCompile("(?:^|[\\s`\"'(=])(/[a-z][a-z0-9_.-]*)/")
	// systemDirs are the top-level directories of every Linux system
	// (and /host, where containers mount the host's): paths under them
	// are fine in docs, any other is a path of some machine.
	systemDirs = map[string]bool{
		"/sys": true, "/usr": true, "/etc": true, "/proc": true, "/boot": true, "/lib": true,
		"/var": true, "/dev": true, "/bin": true, "/sbin": true, "/opt": true, "/run": true,
		"/tmp": true, "/host": true,
	}
)

// machinePaths returns the absolute paths outside systemDirs in line.
func machinePaths(line string) []string {
	var bad []string
	for _, m := range absPath.FindAllStringSubmatch(line, -1) {
		if !systemDirs[m[1]] {
			bad = append(bad, m[1]+"/")
		}
	}
	return bad
}

func TestMachinePaths(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"reads /sys/kernel/btf/vmlinux by default", nil},
		{"`/usr/include/bpf/libbpf.h` and (/tmp/x/y)", nil},
		{"the 8 kernels in `/work/shared/kernels`", []string{"/work/"}},
		{"/home/me/btfhub/ and GOPATH=/root/go/bin", []string{"/home/", "/root/"}},
		{"see https://go.dev/dl/ and ../shared/kernels/", nil},
		{"x86_64/6.1.0-56-amd64.btf.tar.xz", nil},
	}
	for _, tt := range tests {
		got := machinePaths(tt.line)
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("machinePaths(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

// TestDocsNameNoMachinePaths: documentation (every markdown file and man
// page) names no absolute path of the machine it was written on; what
// lives beside the repository is ../shared, what a user has is a
// placeholder.
func TestDocsNameNoMachinePaths(t *testing.T) {
	checked := 0
	for _, f := range repoFiles(t) {
		if path.Ext(f) != ".md" && !strings.HasPrefix(f, "docs/man/") {
			continue
		}
		checked++
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if bad := machinePaths(line); bad != nil {
				t.Errorf("%s:%d: names %s, a path of a build machine", f, i+1, strings.Join(bad, " "))
			}
		}
	}
	if checked == 0 {
		t.Error("no docs found")
	}
}

// TestGoDirective: go.mod's go line is a release's first version (1.N or
// 1.N.0), not a patch release: every module that imports pkg/ must use at
// least that toolchain.
func TestGoDirective(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	if !regexp.MustCompile(`^1\.\d+(\.0)?$`).Match(m[1]) {
		t.Errorf("go.mod: go %s pins a patch release, which every importer must then build with; name the lowest 1.N.0 the code and its dependencies need", m[1])
	}
}
