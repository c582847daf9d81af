package cli

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

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

// gcPercent reads the GC percent without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// memoryLimit reads the memory limit without changing it.
func memoryLimit() int64 { return debug.SetMemoryLimit(-1) }

func TestRelaxGC(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT set: relaxGC leaves the collector alone")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	restore := relaxGC(64 << 20)
	if got := gcPercent(); got != -1 {
		t.Errorf("GC percent %d while relaxed, want -1 (off)", got)
	}
	if got := memoryLimit(); got != 64<<20 {
		t.Errorf("memory limit %d while relaxed, want %d", got, 64<<20)
	}
	// Allocating past the limit collects, and the first collection brings
	// the usual pacing back.
	var keep [][]byte
	for i := range 200 {
		keep = append(keep, make([]byte, 1<<20))
		if i%20 == 0 {
			keep = nil
		}
	}
	runtime.KeepAlive(keep)
	deadline := time.Now().Add(5 * time.Second)
	for gcPercent() == -1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // the finalizer runs on its own goroutine
	}
	if got := gcPercent(); got != 100 {
		t.Errorf("GC percent %d after the first collection, want 100 back", got)
	}
	if got := memoryLimit(); got != math.MaxInt64 {
		t.Errorf("memory limit %d after the first collection, want none", got)
	}
	restore() // a second restore changes nothing
	if got := gcPercent(); got != 100 {
		t.Errorf("GC percent %d after restore, want 100", got)
	}
}

func TestRelaxGCRestore(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT set: relaxGC leaves the collector alone")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	relaxGC(1 << 40)()
	if got := gcPercent(); got != 100 {
		t.Errorf("GC percent %d after restore, want 100", got)
	}
	if got := memoryLimit(); got != math.MaxInt64 {
		t.Errorf("memory limit %d after restore, want none", got)
	}
}

func TestCollectIfLarge(t *testing.T) {
	for _, c := range []struct {
		heap uint64
		want int
	}{{0, 0}, {phaseHeap - 1, 0}, {phaseHeap, 0}, {phaseHeap + 1, 1}, {4 * phaseHeap, 1}} {
		calls := 0
		collectIfLarge(func() uint64 { return c.heap }, func() { calls++ })
		if calls != c.want {
			t.Errorf("heap %d: %d collections, want %d", c.heap, calls, c.want)
		}
	}
}
