package cli

import (
	"sync"

	"github.com/cilium/ebpf/rlimit"
)

var memlockOnce sync.Once

// allowBPFMemory lifts RLIMIT_MEMLOCK, which kernels before 5.11 charge
// BPF memory to, once per process. Commands call it before they offer BTF
// to the kernel or load programs (verify, gen --verify, batch); pkg/verify
// leaves it to its callers, as cilium/ebpf does. Failing to raise the limit
// (not root) is not an error: the checks that need it skip or fail with
// their own message.
func allowBPFMemory() {
	memlockOnce.Do(func() { _ = rlimit.RemoveMemlock() })
}
