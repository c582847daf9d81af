package batch_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btftool/btftool/pkg/batch"
)

func TestFilters(t *testing.T) {
	in := rawTree(t)
	const (
		arm   = "debian/12/arm64/6.1.0-50-arm64.btf"
		x61   = "debian/12/x86_64/6.1.0-56-amd64.btf"
		x612  = "debian/12/x86_64/6.12.117+deb12-amd64.btf"
		noArm = x61 + " " + x612
	)
	for _, tc := range []struct {
		name                   string
		arch, include, exclude []string
		want                   string
		err                    error
	}{
		{name: "none", want: arm + " " + noArm},
		{name: "arch", arch: []string{"arm64"}, want: arm},
		{name: "arch alias", arch: []string{"aarch64"}, want: arm},
		{name: "arch amd64", arch: []string{"amd64"}, want: noArm},
		{name: "two arches", arch: []string{"arm64", "x86_64"}, want: arm + " " + noArm},
		{name: "include file glob", include: []string{"debian/12/x86_64/6.1.*"}, want: x61},
		{name: "include directory", include: []string{"debian/12/x86_64"}, want: noArm},
		{name: "include directory glob", include: []string{"*/*/arm64"}, want: arm},
		{name: "star does not cross slash", include: []string{"*6.1.0*"}, err: batch.ErrNoKernels},
		{name: "exclude", exclude: []string{"*/*/arm64"}, want: noArm},
		{name: "exclude wins", include: []string{"debian"}, exclude: []string{"debian/12/x86_64/6.12*"}, want: arm + " " + x61},
		{name: "arch and include", arch: []string{"x86_64"}, include: []string{"*/*/*/6.12*"}, want: x612},
		{name: "bad pattern", include: []string{"["}, err: batch.ErrBadOptions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			sum, err := run(t, batch.Options{Input: in, Output: out, Arch: tc.arch, Include: tc.include, Exclude: tc.exclude})
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range sum.Kernels {
				got = append(got, k.OutRel)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("kernels %v, want %s", got, tc.want)
			}
			if sum.Filtered != 3-len(got) {
				t.Errorf("Filtered %d, want %d", sum.Filtered, 3-len(got))
			}
		})
	}
}
