package bundle_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/btftool/btftool/pkg/bundle"
)

// matchBundle holds the cases of the matching rules: the same release on
// several distributions, with the same and with different BTF; SUSE names
// with the build counter; several architectures; a flat entry without
// layout.
var matchBundle = map[string][]byte{
	"ubuntu/20.04/x86_64/5.4.0-91-generic.btf":                 btfOf("focal", 10),
	"ubuntu/18.04/x86_64/5.4.0-91-generic.btf":                 btfOf("bionic", 10), // bionic's HWE kernel: same release, other BTF
	"ubuntu/20.04/arm64/5.4.0-91-generic.btf":                  btfOf("focal-arm", 10),
	"centos/8/x86_64/4.18.0-305.el8.x86_64.btf":                btfOf("el8", 10),
	"rhel/8/x86_64/4.18.0-305.el8.x86_64.btf":                  btfOf("el8", 10), // identical to centos's
	"rhel/8/x86_64/4.18.0-348.el8.x86_64.btf":                  btfOf("el8.5", 10),
	"sles/15.3/x86_64/5.3.18-150300.59.93.1-default.btf":       btfOf("sles", 10),
	"sles/15.3/x86_64/5.3.18-150300.59.90-default.btf":         btfOf("sles-new", 10),
	"sles/15.3/x86_64/5.3.18-150300.59.90.1-default.btf":       btfOf("sles-old", 10),
	"ubuntu/20.04/x86_64/5.4.0-1.2-generic.btf":                btfOf("not-suse", 10),
	"debian/10/i386/4.19.0-18-686.btf":                         btfOf("i386", 10),
	"raspbian/11/armhf/5.10.103-v7l+.btf":                      btfOf("pi", 10),
	"debian/11/x86_64/5.10.0-9-amd64.btf":                      btfOf("bullseye", 10),
	"amzn/2/x86_64/4.14.256-197.484.amzn2.x86_64.btf":          btfOf("amzn", 10),
	"fedora/31/x86_64/5.3.7-301.fc31.x86_64.btf":               btfOf("fc31", 10),
	"ol/7/x86_64/4.14.35-2047.510.5.5.el7uek.x86_64.btf":       btfOf("ol7", 10),
	"opensuse-leap/15.2/x86_64/5.3.18-lp152.106.1-default.btf": btfOf("leap", 10),
}

func osr(id, version string, like ...string) *bundle.OSRelease {
	return &bundle.OSRelease{ID: id, VersionID: version, IDLike: like}
}

func TestMatch(t *testing.T) {
	b, err := bundle.Open(makeBundle(t, "xz", matchBundle), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// A flat bundle (btfgen-style directory): no distribution, version
	// or architecture, only the release.
	flat, err := bundle.Open(makeBundle(t, "zstd", map[string][]byte{"5.4.0-91-generic.btf": btfOf("flat", 1)}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer flat.Close()
	tests := []struct {
		name   string
		b      *bundle.Bundle
		target bundle.Target
		want   string // the entry's path, or the error's sentinel name
		rule   string // a part of Match.Rule
		same   int
	}{
		{"os-release picks the distribution", b, bundle.Target{Release: "5.4.0-91-generic", Machine: "x86_64", OS: osr("ubuntu", "20.04")}, "ubuntu/20.04/x86_64/5.4.0-91-generic.btf", "os-release ubuntu 20.04", 0},
		{"os-release picks the version", b, bundle.Target{Release: "5.4.0-91-generic", Machine: "x86_64", OS: osr("ubuntu", "18.04")}, "ubuntu/18.04/x86_64/5.4.0-91-generic.btf", "os-release ubuntu 18.04", 0},
		{"amd64 spelling", b, bundle.Target{Release: "5.4.0-91-generic", Machine: "amd64", OS: osr("ubuntu", "20.04")}, "ubuntu/20.04/x86_64/5.4.0-91-generic.btf", "machine", 0},
		{"aarch64 finds arm64", b, bundle.Target{Release: "5.4.0-91-generic", Machine: "aarch64", OS: osr("ubuntu", "20.04")}, "ubuntu/20.04/arm64/5.4.0-91-generic.btf", "machine", 0},
		{"i686 finds i386", b, bundle.Target{Release: "4.19.0-18-686", Machine: "i686"}, "debian/10/i386/4.19.0-18-686.btf", "release", 0},
		{"armv7l finds armhf", b, bundle.Target{Release: "5.10.103-v7l+", Machine: "armv7l"}, "raspbian/11/armhf/5.10.103-v7l+.btf", "release", 0},
		{"other machine", b, bundle.Target{Release: "4.19.0-18-686", Machine: "x86_64"}, "ErrNotFound", "", 0},
		{"no os-release, one distribution", b, bundle.Target{Release: "5.10.0-9-amd64", Machine: "x86_64"}, "debian/11/x86_64/5.10.0-9-amd64.btf", "release, machine", 0},
		{"no os-release, ambiguous", b, bundle.Target{Release: "5.4.0-91-generic", Machine: "x86_64"}, "ErrAmbiguous", "", 0},
		{"no os-release, identical candidates", b, bundle.Target{Release: "4.18.0-305.el8.x86_64", Machine: "x86_64"}, "centos/8/x86_64/4.18.0-305.el8.x86_64.btf", "across distributions", 1},
		{"major version", b, bundle.Target{Release: "4.18.0-348.el8.x86_64", Machine: "x86_64", OS: osr("rhel", "8.5")}, "rhel/8/x86_64/4.18.0-348.el8.x86_64.btf", "major version 8", 0},
		{"ID_LIKE", b, bundle.Target{Release: "4.18.0-348.el8.x86_64", Machine: "x86_64", OS: osr("rocky", "8.5", "rhel", "centos", "fedora")}, "rhel/8/x86_64/4.18.0-348.el8.x86_64.btf", "like rhel", 0},
		{"os-release of another distribution", b, bundle.Target{Release: "5.10.0-9-amd64", Machine: "x86_64", OS: osr("ubuntu", "22.04")}, "debian/11/x86_64/5.10.0-9-amd64.btf", "by release alone", 0},
		{"os-release of another distribution, ambiguous", b, bundle.Target{Release: "5.4.0-91-generic", Machine: "x86_64", OS: osr("linuxmint", "20")}, "ErrAmbiguous", "", 0},
		{"os-release of another version", b, bundle.Target{Release: "5.4.0-91-generic", Machine: "x86_64", OS: osr("ubuntu", "22.04")}, "ErrAmbiguous", "", 0},
		{"SUSE build counter", b, bundle.Target{Release: "5.3.18-150300.59.93-default", Machine: "x86_64", OS: osr("sles", "15.3")}, "sles/15.3/x86_64/5.3.18-150300.59.93.1-default.btf", "SUSE", 0},
		{"SUSE exact name first", b, bundle.Target{Release: "5.3.18-150300.59.90-default", Machine: "x86_64", OS: osr("sles", "15.3")}, "sles/15.3/x86_64/5.3.18-150300.59.90-default.btf", "release", 0},
		{"openSUSE build counter", b, bundle.Target{Release: "5.3.18-lp152.106-default", Machine: "x86_64", OS: osr("opensuse-leap", "15.2")}, "opensuse-leap/15.2/x86_64/5.3.18-lp152.106.1-default.btf", "SUSE", 0},
		{"no SUSE rule for a two-digit last component", b, bundle.Target{Release: "5.3.18-150300.59-default", Machine: "x86_64", OS: osr("sles", "15.3")}, "ErrNotFound", "", 0},
		{"no SUSE rule for Ubuntu", b, bundle.Target{Release: "5.4.0-1-generic", Machine: "x86_64"}, "ErrNotFound", "", 0},
		{"no nearest kernel", b, bundle.Target{Release: "5.4.0-92-generic", Machine: "x86_64", OS: osr("ubuntu", "20.04")}, "ErrNotFound", "", 0},
		{"flat entry fits any machine", flat, bundle.Target{Release: "5.4.0-91-generic", Machine: "x86_64", OS: osr("ubuntu", "20.04")}, "5.4.0-91-generic.btf", "by release alone", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.b.Match(tt.target)
			switch tt.want {
			case "ErrNotFound":
				var nm *bundle.NoMatchError
				if !errors.Is(err, bundle.ErrNotFound) || !errors.As(err, &nm) {
					t.Fatalf("got %+v, %v; want ErrNotFound", m, err)
				}
				return
			case "ErrAmbiguous":
				var am *bundle.AmbiguousError
				if !errors.Is(err, bundle.ErrAmbiguous) || !errors.As(err, &am) || len(am.Candidates) < 2 {
					t.Fatalf("got %+v, %v; want ErrAmbiguous", m, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Entry.Path != tt.want || !strings.Contains(m.Rule, tt.rule) || len(m.Same) != tt.same {
				t.Fatalf("got %s (%s, %d same), want %s (%s, %d same)", m.Entry.Path, m.Rule, len(m.Same), tt.want, tt.rule, tt.same)
			}
		})
	}
}

// TestNoMatchNamesTheClosest: the error lists entries of the target's
// architecture with the most similar releases.
func TestNoMatchNamesTheClosest(t *testing.T) {
	b, err := bundle.Open(makeBundle(t, "xz", matchBundle), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = b.Match(bundle.Target{Release: "5.4.0-92-generic", Machine: "aarch64"})
	var nm *bundle.NoMatchError
	if !errors.As(err, &nm) || len(nm.Closest) == 0 || nm.Closest[0].Path != "ubuntu/20.04/arm64/5.4.0-91-generic.btf" {
		t.Fatalf("got %v", err)
	}
	for _, c := range nm.Closest {
		if bundle.CanonicalArch(c.Arch) != "arm64" {
			t.Errorf("closest %s is of another architecture", c.Path)
		}
	}
	if !strings.Contains(err.Error(), "closest: ubuntu/20.04/arm64/5.4.0-91-generic.btf") {
		t.Errorf("message %q", err)
	}
}

func TestCanonicalArch(t *testing.T) {
	for _, group := range [][]string{
		{"x86_64", "amd64", "x86-64"},
		{"arm64", "aarch64"},
		{"x86", "i386", "i686", "386"},
		{"arm", "armv7l", "armhf", "armv6l"},
		{"ppc64le", "ppc64el"},
		{"s390x"},
		{"riscv64"},
	} {
		for _, a := range group {
			if got := bundle.CanonicalArch(a); got != group[0] {
				t.Errorf("CanonicalArch(%s) = %s, want %s", a, got, group[0])
			}
		}
	}
}
