package verify_test

import (
	"os"
	"testing"

	"github.com/cilium/ebpf/rlimit"
)

// TestMain lifts RLIMIT_MEMLOCK, as package verify's callers must, for the
// tests that offer BTF to the kernel or load programs.
func TestMain(m *testing.M) {
	_ = rlimit.RemoveMemlock()
	os.Exit(m.Run())
}
