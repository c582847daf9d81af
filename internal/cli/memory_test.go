package cli

import (
	"testing"

	"github.com/btftool/btftool/pkg/batch"
)

func TestMemoryReturner(t *testing.T) {
	calls := 0
	m := &memoryReturner{every: 100, free: func() { calls++ }}
	for _, n := range []int64{40, 50, 20, 0, 99, 5, 300} {
		m.kernelDone(batch.Event{Kernel: &batch.KernelResult{BytesBTF: n}})
	}
	m.kernelDone(batch.Event{}) // no kernel: nothing
	// 40+50+20 = 110: once; 0+99+5 = 104: twice; 300: three times.
	if calls != 3 {
		t.Errorf("%d calls, want 3", calls)
	}
}
