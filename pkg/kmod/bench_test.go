package kmod_test

import (
	"os"
	"testing"

	"github.com/btftool/btftool/pkg/kmod"
)

// BenchmarkExtend looks at every module's type names and merges the
// modules that define the names the module test objects need: the
// committed modules of testdata, or BTFTOOL_BENCH_MODULES (for example
// ../shared/modules/debian/12/x86_64/6.1.0-56-amd64.modules.tar.xz, 4,023
// modules) on the Debian 6.1 kernel. Compare with xz -dc of the archive,
// which reading it costs on top (scripts/bench-modules.sh).
func BenchmarkExtend(b *testing.B) {
	path := os.Getenv("BTFTOOL_BENCH_MODULES")
	if path == "" {
		path = testdata + "6.1.0-56-amd64.modules.tar.xz"
	}
	s, err := kmod.Open([]string{path}, nil)
	if err != nil {
		b.Fatal(err)
	}
	vm := kernel(b, "6.1.0-56-amd64")
	want := names("nf_conn_acct", "nf_conntrack_net", "nf_conntrack_helper", "nf_conn_counter", "nft_nat",
		"rpcrdma_rep", "port", "cmd_ctrl_node", "asus_rfkill", "urb_priv", "btftool_no_such_module_type")
	b.ReportMetric(float64(s.Len()), "modules")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Extend(vm, want); err != nil {
			b.Fatal(err)
		}
	}
}
