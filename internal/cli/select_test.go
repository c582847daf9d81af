package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/bundle"
)

// selectBundle writes a bundle of fake BTFs (bundles do not parse them):
// the running kernel's release under ubuntu/20.04 and debian/12 with
// different BTF, and other kernels, and returns its path and the running
// machine's target.
func selectBundle(t *testing.T) (string, bundle.Target) {
	t.Helper()
	host, err := bundle.HostTarget("")
	if err != nil {
		t.Skip(err)
	}
	files := map[string]string{
		"ubuntu/20.04/" + host.Machine + "/" + host.Release + ".btf": "ubuntu",
		"debian/12/" + host.Machine + "/" + host.Release + ".btf":    "debian",
		"sles/15.3/x86_64/5.3.18-150300.59.93.1-default.btf":         "sles",
		"rhel/8/x86_64/4.18.0-348.el8.x86_64.btf":                    "rhel8",
		"ubuntu/20.04/arm64/5.4.0-91-generic.btf":                    "focal-arm",
		"centos/7/x86_64/3.10.0-1160.el7.x86_64.btf":                 "el7",
		"centos/7/x86_64/3.10.0-1062.el7.x86_64.btf":                 "el7.7",
		"amzn/2/x86_64/4.14.256-197.484.amzn2.x86_64.btf":            "amzn",
		"flat/" + strings.Repeat("x", 120) + "/4.19.0-18-amd64.btf":  "long path",
	}
	var fs []batch.BundleFile
	for p, data := range files {
		fs = append(fs, batch.BundleFile{Entry: bundle.Describe(bundle.Entry{Path: p}), Data: []byte(data)})
	}
	data, err := batch.EncodeBundle(fs, batch.BundleInfo{Compression: "xz"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "b.tar.xz")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, host
}

// hostRoot returns a directory standing for a host root with the given
// os-release in etc/ (none when "").
func hostRoot(t *testing.T, osRelease string) string {
	t.Helper()
	root := t.TempDir()
	if osRelease != "" {
		if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "etc/os-release"), []byte(osRelease), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestSelect(t *testing.T) {
	b, _ := selectBundle(t)
	focal := filepath.Join(t.TempDir(), "focal")
	os.WriteFile(focal, []byte("ID=ubuntu\nVERSION_ID=\"20.04\"\n"), 0o644)
	rhel := filepath.Join(t.TempDir(), "rhel")
	os.WriteFile(rhel, []byte("ID=\"rhel\"\nVERSION_ID=\"8.5\"\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		out  string // the BTF written, for status 0
		msg  string // a part of stderr
	}{
		{"running machine, os-release", []string{"--no-vmlinux", "--root", hostRoot(t, "ID=ubuntu\nVERSION_ID=20.04\n")}, 0, "ubuntu", "os-release ubuntu 20.04"},
		{"running machine, os-release in usr/lib", []string{"--no-vmlinux", "--root", func() string {
			r := t.TempDir()
			os.MkdirAll(filepath.Join(r, "usr/lib"), 0o755)
			os.WriteFile(filepath.Join(r, "usr/lib/os-release"), []byte("ID=debian\nVERSION_ID=\"12\"\n"), 0o644)
			return r
		}()}, 0, "debian", "os-release debian 12"},
		{"running machine, no os-release: ambiguous", []string{"--no-vmlinux", "--root", hostRoot(t, "")}, 1, "", "several kernels match"},
		{"release and os-release given", []string{"--release", "5.4.0-91-generic", "--machine", "aarch64", "--os-release", focal}, 0, "focal-arm", "os-release ubuntu 20.04"},
		{"no os-release, one distribution", []string{"--release", "4.14.256-197.484.amzn2.x86_64", "--machine", "amd64"}, 0, "amzn", "release, machine"},
		{"major version", []string{"--release", "4.18.0-348.el8.x86_64", "--machine", "x86_64", "--os-release", rhel}, 0, "rhel8", "major version 8"},
		{"SUSE build counter", []string{"--release", "5.3.18-150300.59.93-default", "--machine", "x86_64"}, 0, "sles", "SUSE"},
		{"arch from the release of a long path", []string{"--release", "4.19.0-18-amd64", "--machine", "x86_64"}, 0, "long path", "release"},
		{"nothing matches: the closest are named", []string{"--release", "3.10.0-1160.45.1.el7.x86_64", "--machine", "x86_64"}, 1, "", "closest: centos/7/x86_64/3.10.0-1160.el7.x86_64.btf"},
		{"another machine", []string{"--release", "5.4.0-91-generic", "--machine", "x86_64", "--os-release", focal}, 1, "", "kernel not in bundle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "vmlinux.btf")
			code, stdout, stderr := runCLI(t, append([]string{"select", b, out}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) || stdout != "" {
				t.Fatalf("status %d, stdout %q, stderr %q; want %d and %q", code, stdout, stderr, tt.code, tt.msg)
			}
			got, err := os.ReadFile(out)
			if tt.code != 0 {
				if err == nil {
					t.Fatal("wrote a file although nothing was selected")
				}
				return
			}
			if string(got) != tt.out {
				t.Fatalf("wrote %q, want %q", got, tt.out)
			}
		})
	}
}

func TestSelectOutputs(t *testing.T) {
	b, _ := selectBundle(t)
	args := []string{"--release", "4.18.0-348.el8.x86_64", "--machine", "x86_64"}
	// stdout
	code, stdout, stderr := runCLI(t, append([]string{"select", b}, args...)...)
	if code != 0 || stdout != "rhel8" || !strings.Contains(stderr, "selected rhel/8/x86_64/4.18.0-348.el8.x86_64.btf") {
		t.Errorf("stdout: %d %q %q", code, stdout, stderr)
	}
	// JSON, to a file
	out := filepath.Join(t.TempDir(), "o.btf")
	code, stdout, _ = runCLI(t, append([]string{"select", b, out, "-o", "json"}, args...)...)
	var rep SelectReport
	if err := json.Unmarshal([]byte(stdout), &rep); code != 0 || err != nil || rep.Source != "bundle" || rep.Entry == nil ||
		rep.Entry.Path != "rhel/8/x86_64/4.18.0-348.el8.x86_64.btf" || rep.Output != out || rep.Bytes != 5 {
		t.Errorf("json: %d %v %+v", code, err, rep)
	}
	// JSON of a failure names the candidates.
	code, stdout, _ = runCLI(t, "select", b, "--dry-run", "-o", "json", "--release", "3.10.0-1160.45.1.el7.x86_64", "--machine", "x86_64")
	rep = SelectReport{}
	if err := json.Unmarshal([]byte(stdout), &rep); code != 1 || err != nil || len(rep.Closest) == 0 || rep.Error == "" {
		t.Errorf("json failure: %d %v %+v", code, err, rep)
	}
	// The kernel's own BTF, when it has one.
	if _, ok := bundle.HostVmlinux(""); ok {
		code, stdout, stderr = runCLI(t, "select", b, "--dry-run", "-o", "json")
		if err := json.Unmarshal([]byte(stdout), &rep); code != 0 || err != nil || rep.Source != "vmlinux" {
			t.Errorf("vmlinux: %d %v %+v %s", code, err, rep, stderr)
		}
	}
	// Usage and bad input.
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"select"}, "needs BUNDLE"},
		{[]string{"select", b, "-o", "json"}, "give OUTPUT"},
		{[]string{"select", b, out, "--dry-run"}, "writes nothing"},
		{[]string{"select", b, b, "--release", "4.18.0-348.el8.x86_64", "--machine", "x86_64"}, "is the bundle itself"},
		{[]string{"select", filepath.Join(t.TempDir(), "missing.tar.xz"), "--no-vmlinux"}, "no such file"},
		{[]string{"select", "../../testdata/bpf/execsnoop.bpf.o", "--no-vmlinux"}, "not a valid bundle"},
		{[]string{"select", b, filepath.Join(t.TempDir(), "no/such/dir/o.btf"), "--release", "4.18.0-348.el8.x86_64", "--machine", "x86_64"}, "does not exist"},
		{[]string{"select", b, "--os-release", "../../testdata/bpf/execsnoop.bpf.c", "--dry-run"}, "execsnoop.bpf.c"},
	} {
		code, _, stderr := runCLI(t, tt.args...)
		if code != ExitBadInput || !strings.Contains(stderr, tt.msg) {
			t.Errorf("%v: status %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.msg)
		}
	}
	if data, err := os.ReadFile(b); err != nil || len(data) < 100 {
		t.Errorf("the bundle was damaged: %v", err)
	}
}
