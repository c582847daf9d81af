package cli

import (
	"runtime/debug"

	"github.com/btftool/btftool/pkg/batch"
)

// memoryReturner hands free heap memory back to the operating system
// during a batch run, each time the kernels processed since the last time
// add up to every bytes of BTF. A run allocates each kernel's BTF and
// working set, whose sizes vary from kernel to kernel: the free spans
// they leave fragment the heap, and the runtime's background scavenger
// returns them more slowly than a long run makes new ones, so peak RSS
// crept up with the number of kernels (71 objects, 2 jobs: 115-120 MB for
// 30 kernels, 142-152 MB for 320). Returning them regularly keeps the
// peak at that of the largest kernels in flight, for a few percent more
// CPU time (see docs/performance.md).
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
	m.since += ev.Kernel.BytesBTF
	if m.since >= m.every {
		m.since = 0
		if m.free != nil {
			m.free()
		} else {
			debug.FreeOSMemory()
		}
	}
}
