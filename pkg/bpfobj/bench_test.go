package bpfobj_test
import ("os";"testing";"github.com/btftool/btftool/pkg/bpfobj")
func BenchmarkParse(b *testing.B) {
	data, _ := os.ReadFile("../../testdata/bpf/features.bpf.o")
	b.ReportAllocs()
	for b.Loop() { if _, err := bpfobj.Parse(data); err != nil { b.Fatal(err) } }
}
