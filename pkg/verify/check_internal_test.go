package verify

import (
	"errors"
	"fmt"
	"testing"

	"github.com/btftool/btftool/pkg/kbtf"
)

// TestCheckReportsCiliumKernelError covers a full BTF that rawbtf reads
// and cilium/ebpf does not: cilium/ebpf reads it in the background, and
// Check returns its error, not a report.
func TestCheckReportsCiliumKernelError(t *testing.T) {
	raw, _, err := kbtf.ReadFile("../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz", nil)
	if err != nil {
		t.Skipf("test kernel missing: %v", err)
	}
	k, err := NewKernel(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.ciliumSpec(); err != nil {
		t.Fatal(err)
	}
	// As if cilium/ebpf had refused it.
	k.spec, k.specErr = nil, fmt.Errorf("%w: cilium/ebpf: refused", ErrFullBTF)
	rep, err := NewPlan(nil).Check(k, raw, Options{NoKernelBTF: true})
	if !errors.Is(err, ErrFullBTF) || rep != nil {
		t.Fatalf("Check = %v, %v; want no report and ErrFullBTF", rep, err)
	}
}
