package bundle_test

import (
	"testing"

	"github.com/btftool/btftool/pkg/bundle"
)

func TestDescribe(t *testing.T) {
	tests := []struct {
		path                           string
		release, distro, version, arch string
	}{
		{"ubuntu/20.04/x86_64/5.4.0-91-generic.btf", "5.4.0-91-generic", "ubuntu", "20.04", "x86_64"},
		{"5.4.0-91-generic.btf", "5.4.0-91-generic", "", "", ""},
		{"4.18.0-80.el8.x86_64.btf", "4.18.0-80.el8.x86_64", "", "", "x86_64"},
		{"btfs/5.10.0-9-amd64.btf", "5.10.0-9-amd64", "", "", "amd64"},
		{"x86/ubuntu/20.04/x86_64/5.4.0-91-generic.btf", "5.4.0-91-generic", "ubuntu", "20.04", "x86_64"},
		{"arm64/5.4.0-91-generic.btf", "5.4.0-91-generic", "", "", "arm64"},
		{"centos/7/3.10.0-1160.el7.x86_64.btf", "3.10.0-1160.el7.x86_64", "", "", "x86_64"},
		{"debian/10/i386/extra/4.19.0-18-686.btf", "4.19.0-18-686", "debian", "10", "i386"},
		{"boot/vmlinux-5.15.0-1-generic.btf", "5.15.0-1-generic", "", "", ""},
		{"boot/vmlinux.btf", "", "", "", ""},
	}
	for _, tt := range tests {
		e := bundle.Describe(bundle.Entry{Path: tt.path})
		if e.Release != tt.release || e.Distro != tt.distro || e.Version != tt.version || e.Arch != tt.arch {
			t.Errorf("%s: %q %q %q %q, want %q %q %q %q", tt.path, e.Release, e.Distro, e.Version, e.Arch, tt.release, tt.distro, tt.version, tt.arch)
		}
	}
	// Fields already set are kept.
	if e := bundle.Describe(bundle.Entry{Path: "5.4.btf", Release: "r", Arch: "arm64"}); e.Release != "r" || e.Arch != "arm64" {
		t.Errorf("overwrote fields: %+v", e)
	}
}
