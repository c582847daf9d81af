package bpfprog

import (
	"os"
	"testing"
)

// FuzzParse: Parse returns an object or an error, never panics, and the
// call targets and reachable sets of what it returns stay in range.
//
// An execution takes ~25 µs, but the seeds are whole objects (7-18 KB)
// and nearly every early mutation of an ELF file finds new coverage: the
// fuzzer then minimizes each new input byte by byte for up to
// -fuzzminimizetime (60 s by default), which is where the time goes
// (0/sec progress lines; 120-1,900 execs/s with 2 s). With
// -fuzzminimizetime 200x, what make fuzz passes, it runs ~20,000-50,000
// execs/s and finds ~10x as many new inputs in the same time.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"kernbtf", "vfs", "plain"} {
		data, err := os.ReadFile("../../testdata/bpf/" + name + ".bpf.o")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := Parse(data)
		if err != nil {
			return
		}
		for _, fn := range o.Funcs {
			for i := range fn.Len() {
				if g, at, ok := o.Target(fn, i); ok && (at < 0 || at >= g.Len()) {
					t.Fatalf("%s insn %d: target %s insn %d out of range", fn.Name, i, g.Name, at)
				}
			}
		}
		for _, p := range o.Programs() {
			_ = o.Reachable(p)
		}
	})
}
