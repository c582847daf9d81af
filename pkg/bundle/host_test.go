package bundle_test

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/btftool/btftool/pkg/bundle"
)

func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		name, data string
		want       *bundle.OSRelease
	}{
		{"debian", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n", &bundle.OSRelease{ID: "debian", VersionID: "12"}},
		{"rocky", "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"8.5\"\n", &bundle.OSRelease{ID: "rocky", VersionID: "8.5", IDLike: []string{"rhel", "centos", "fedora"}}},
		{"single quotes, comments", "# comment\n\nID='sles'\nVERSION_ID='15.3'\n", &bundle.OSRelease{ID: "sles", VersionID: "15.3"}},
		{"rolling release", "ID=arch\nBUILD_ID=rolling\n", &bundle.OSRelease{ID: "arch"}},
		{"escapes", "ID=\"a\\\"b\"\n", &bundle.OSRelease{ID: "a\"b"}},
		{"no ID", "VERSION_ID=1\n", nil},
		{"not KEY=VALUE", "ID=debian\ngarbage\n", nil},
		{"unterminated", "ID=\"debian\n", nil},
		{"path in ID", "ID=../../etc\n", nil},
	}
	for _, tt := range tests {
		got, err := bundle.ParseOSRelease([]byte(tt.data))
		if tt.want == nil {
			if err == nil {
				t.Errorf("%s: got %+v, want an error", tt.name, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestReadOSRelease(t *testing.T) {
	write := func(root, p, data string) {
		t.Helper()
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	both, lib, none, bad := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	write(both, "etc/os-release", "ID=ubuntu\nVERSION_ID=\"20.04\"\n")
	write(both, "usr/lib/os-release", "ID=other\n")
	write(lib, "usr/lib/os-release", "ID=centos\nVERSION_ID=\"8\"\n")
	write(bad, "etc/os-release", "ID=\"x\n")
	for root, want := range map[string]*bundle.OSRelease{
		both: {ID: "ubuntu", VersionID: "20.04"},
		lib:  {ID: "centos", VersionID: "8"},
		none: nil,
	} {
		got, err := bundle.ReadOSRelease(root)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, %v; want %+v", root, got, err, want)
		}
	}
	if _, err := bundle.ReadOSRelease(bad); err == nil {
		t.Error("malformed os-release: no error")
	}
	if runtime.GOOS != "linux" {
		return
	}
	// A container's view: the host's root mounted elsewhere.
	target, err := bundle.HostTarget(lib)
	if err != nil || target.Release == "" || target.Machine == "" || !reflect.DeepEqual(target.OS, &bundle.OSRelease{ID: "centos", VersionID: "8"}) {
		t.Errorf("HostTarget(%s): %+v, %v", lib, target, err)
	}
	if _, ok := bundle.HostVmlinux(none); ok {
		t.Error("HostVmlinux found a vmlinux in an empty root")
	}
}
