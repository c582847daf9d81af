package cli

import (
	"os"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/btftool/btftool/pkg/batch"
)

// memoryReturner hands free heap memory back to the operating system
// during a batch run, each time the kernels processed since the last time
// add up to every bytes of BTF. A run allocates each kernel's BTF and
// working set, whose sizes vary from kernel to kernel: the free spans
// they leave fragment the heap, and the runtime's background scavenger
// returns them more slowly than a long run makes new ones, so peak RSS
// crept up with the number of kernels. Returning them regularly keeps the
// peak at that of the largest kernels in flight, for a few percent more
// CPU time (figures in docs/performance.md).
type memoryReturner struct {
	every, since int64
	free         func() // debug.FreeOSMemory when nil
}

// kernelDone is called by the batch progress callback (one goroutine at
// a time).
func (m *memoryReturner) kernelDone(ev batch.Event) {
	if ev.Kernel == nil {
		return
	}
	m.done(ev.Kernel.BytesBTF)
}

// done counts a kernel of btf bytes of BTF processed, returning memory
// when they add up to every.
func (m *memoryReturner) done(btf int64) {
	m.since += btf
	if m.since >= m.every {
		m.since = 0
		if m.free != nil {
			m.free()
		} else {
			debug.FreeOSMemory()
		}
	}
}

// relaxedHeap is how large the heap of a one-kernel command may grow
// before its first garbage collection.
const relaxedHeap = 256 << 20

// relaxGC switches the garbage collector off for a command that reads one
// kernel (or two) and exits, until the heap reaches limit: such a run
// allocates a few tens of MB and then ends, so collecting on the way only
// costs time (gen -7%, verify -8% on Debian 6.1, 50 objects). At the
// first collection, which a heap of limit bytes triggers, the usual pacing
// comes back, so that a large input is not collected over and over near
// the limit. An explicit GOGC or GOMEMLIMIT wins. restore undoes it.
func relaxGC(limit int64) (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	relaxed.Lock()
	defer relaxed.Unlock()
	if relaxed.on {
		return func() {} // commands run in tests may overlap
	}
	relaxed.on = true
	pct := debug.SetGCPercent(-1)
	lim := debug.SetMemoryLimit(limit)
	var once sync.Once
	back := func() {
		once.Do(func() {
			relaxed.Lock()
			defer relaxed.Unlock()
			relaxed.on = false
			debug.SetGCPercent(pct)
			debug.SetMemoryLimit(lim)
		})
	}
	// A finalizer runs after the collection that finds its object
	// unreachable: the first one.
	sentinel := new([16]byte)
	runtime.SetFinalizer(sentinel, func(*[16]byte) { back() })
	return back
}

// relaxed records whether relaxGC is in effect.
var relaxed struct {
	sync.Mutex
	on bool
}

// phaseHeap is the heap size above which collectBetweenPhases collects.
const phaseHeap = 32 << 20

// collectBetweenPhases collects garbage once a one-kernel run's
// minimization is done, when its heap is large: the minimization's working
// memory (candidate evaluations, decisions on the minimized BTF) is then
// garbage, and the reports and load verdicts that follow reuse it instead
// of growing the heap further while the collector is off (relaxGC). A
// small run is left alone: collecting costs more than it saves.
func collectBetweenPhases() {
	collectIfLarge(func() uint64 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}, runtime.GC)
}

// collectIfLarge calls gc when heap() is over phaseHeap.
func collectIfLarge(heap func() uint64, gc func()) {
	if heap() > phaseHeap {
		gc()
	}
}
