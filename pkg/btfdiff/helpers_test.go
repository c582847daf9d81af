package btfdiff

import (
	"os"
	"sync"
	"testing"

	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

const (
	debian61  = "../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz"
	debian612 = "../../testdata/kernels/debian/12/x86_64/6.12.117+deb12-amd64.btf.tar.xz"
	kylin419  = "../../../shared/kernels/kylin/V10/aarch64/4.19.90-24.4.v2101.ky10.aarch64.btf.tar.xz"
)

var kernelCache sync.Map // path → func() ([]byte, error)

// kernel returns the raw BTF of a kernel archive, read once per test
// binary; it skips the test when the file is absent.
func kernel(tb testing.TB, path string) []byte {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("%s not available: %v", path, err)
	}
	f, _ := kernelCache.LoadOrStore(path, sync.OnceValues(func() ([]byte, error) {
		data, _, err := kbtf.ReadFile(path, nil)
		return data, err
	}))
	data, err := f.(func() ([]byte, error))()
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func parse(tb testing.TB, data []byte) *rawbtf.BTF {
	tb.Helper()
	b, err := rawbtf.Parse(data)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
