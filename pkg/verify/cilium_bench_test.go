package verify_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/verify"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// BenchmarkVersusCilium compares verifying one kernel with the floor of
// its independent engine: cilium/ebpf alone reading the kernel BTF
// (btf.LoadSpecFromReader), reading every object (ebpf.LoadCollectionSpec)
// and relocating every program's CO-RE relocations against the kernel
// (btf.CORERelocate). Both start from the decompressed kernel BTF and
// the object files, and verify also reads the objects with btftool's
// reader. The kernel is $BTFTOOL_BENCH_KERNEL, Debian 6.1 of testdata by
// default; the objects are testdata/bpf's and libbpf-tools' (when
// extracted). docs/performance.md has the figures.
func BenchmarkVersusCilium(b *testing.B) {
	path := os.Getenv("BTFTOOL_BENCH_KERNEL")
	if path == "" {
		path = "../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz"
	}
	full, _, err := kbtf.ReadFile(path, nil)
	if err != nil {
		b.Skipf("kernel BTF: %v", err)
	}
	var files []string
	for _, g := range []string{"../../testdata/bpf/*.bpf.o", "../../testdata/libbpf-tools/*.bpf.o"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	if len(files) == 0 {
		b.Skip("no test objects")
	}
	objs := make([]*bpfobj.Object, len(files))
	for i, f := range files {
		if objs[i], err = bpfobj.Open(f); err != nil {
			b.Fatal(err)
		}
	}
	min, err := minimize(full, objs)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %d bytes of BTF, %d objects", path, len(full), len(files))
	b.Run("cilium", func(b *testing.B) {
		for b.Loop() {
			spec, err := btf.LoadSpecFromReader(bytes.NewReader(full))
			if err != nil {
				b.Fatal(err)
			}
			for _, f := range files {
				cs, err := ebpf.LoadCollectionSpec(f)
				if err != nil {
					continue // verify reports such objects as not checked
				}
				for _, ps := range cs.Programs {
					var relos []*btf.CORERelocation
					for i := range ps.Instructions {
						if r := btf.CORERelocationMetadata(&ps.Instructions[i]); r != nil {
							relos = append(relos, r)
						}
					}
					if len(relos) == 0 {
						continue
					}
					// An error fails one program, as in verify.
					_, _ = btf.CORERelocate(relos, []*btf.Spec{spec}, ps.ByteOrder, cs.Types.TypeID)
				}
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			objs := make([]*bpfobj.Object, len(files))
			for i, f := range files {
				if objs[i], err = bpfobj.Open(f); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := verify.Check(full, min, objs, verify.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
