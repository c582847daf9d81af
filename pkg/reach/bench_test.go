package reach

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/btftool/btftool/internal/bpfprog"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
)

// heavyObjects returns the heavy objects of testdata/heavy (built by its
// script, not in git): heavy.bpf.o and many/*.bpf.o; it skips b when
// they are absent.
func heavyObjects(b *testing.B) []testObject {
	b.Helper()
	paths, _ := filepath.Glob("../../testdata/heavy/many/*.bpf.o")
	paths = append([]string{"../../testdata/heavy/heavy.bpf.o"}, paths...)
	if _, err := os.Stat(paths[0]); err != nil {
		b.Skip("no heavy objects in testdata/heavy: ", err)
	}
	var out []testObject
	for _, p := range paths {
		obj, err := bpfobj.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		prog, err := bpfprog.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, testObject{obj, prog})
	}
	return out
}

// benchHeavy runs f on heavy.bpf.o alone and on the 30 many objects.
func benchHeavy(b *testing.B, f func(b *testing.B, objs []testObject)) {
	objs := heavyObjects(b)
	b.Run("heavy", func(b *testing.B) { f(b, objs[:1]) })
	if len(objs) > 1 {
		b.Run("many", func(b *testing.B) { f(b, objs[1:]) })
	}
}

// BenchmarkPrepare: the kernel-independent work on heavy objects, with
// the relevance analysis the first Decide does.
func BenchmarkPrepare(b *testing.B) {
	benchHeavy(b, func(b *testing.B, objs []testObject) {
		b.ReportAllocs()
		for b.Loop() {
			for _, o := range objs {
				Prepare(o.obj, o.prog).relevantLocs() // all of it, as the first Decide
			}
		}
	})
}

// heavyDecisions returns the decisions of objs on the Debian 6.1 kernel
// of testdata.
func heavyDecisions(b *testing.B, objs []testObject) []core.Decisions {
	k, err := loadDebian61()
	if err != nil {
		b.Fatal(err)
	}
	out := make([]core.Decisions, len(objs))
	for i, o := range objs {
		out[i] = core.DecisionsOf(relocate(o.obj, k))
	}
	return out
}

// prepareAll prepares each of objs.
func prepareAll(objs []testObject) []*Prepared {
	preps := make([]*Prepared, len(objs))
	for i, o := range objs {
		preps[i] = Prepare(o.obj, o.prog)
	}
	return preps
}

// BenchmarkDecide: the per-kernel work on heavy objects, for a kernel
// whose verdicts are not remembered.
func BenchmarkDecide(b *testing.B) {
	benchHeavy(b, func(b *testing.B, objs []testObject) {
		ds, preps := heavyDecisions(b, objs), prepareAll(objs)
		b.ReportAllocs()
		for b.Loop() {
			for i, p := range preps {
				p.decideFresh(&ds[i], Kernel{})
			}
		}
	})
}

// BenchmarkDecideMemo: the per-kernel work on heavy objects for a kernel
// whose verdicts are remembered (the key is computed, the walks are not
// run).
func BenchmarkDecideMemo(b *testing.B) {
	benchHeavy(b, func(b *testing.B, objs []testObject) {
		ds, preps := heavyDecisions(b, objs), prepareAll(objs)
		for i, p := range preps { // remembered
			if _, err := p.Decide(&ds[i], Kernel{}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			for i, p := range preps {
				if _, err := p.Decide(&ds[i], Kernel{}); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
