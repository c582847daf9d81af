package reach

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/btftool/btftool/internal/bpfprog"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// testKernels are the kernels of testdata, read once.
var testKernels = sync.OnceValues(func() ([]*rawbtf.BTF, error) {
	paths, err := filepath.Glob("../../testdata/kernels/*/*/*/*.btf.tar.xz")
	if err != nil {
		return nil, err
	}
	var out []*rawbtf.BTF
	for _, p := range paths {
		data, _, err := kbtf.ReadFile(p, nil)
		if err != nil {
			return nil, err
		}
		b, err := rawbtf.Parse(data)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
})

// testObject is an object of testdata with its programs.
type testObject struct {
	obj  *bpfobj.Object
	prog *bpfprog.Object
}

func testObjects(tb testing.TB) []testObject {
	tb.Helper()
	paths, err := filepath.Glob("../../testdata/bpf/*.bpf.o")
	if err != nil || len(paths) == 0 {
		tb.Fatalf("testdata objects: %v (%d)", err, len(paths))
	}
	var out []testObject
	for _, p := range paths {
		obj, err := bpfobj.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		prog, err := bpfprog.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, testObject{obj, prog})
	}
	return out
}

// relocate returns libbpf's decisions for obj's relocations on vmlinux.
func relocate(obj *bpfobj.Object, vmlinux *rawbtf.BTF) []core.Result {
	names := map[string]struct{}{}
	for _, r := range obj.Relocations {
		if r.Spec != nil && obj.BTF.Valid(r.TypeID) {
			names[string(rawbtf.EssentialName(obj.BTF.Type(r.TypeID).NameBytes()))] = struct{}{}
		}
	}
	rl := core.NewRelocator(obj.BTF, core.NewTargetFor(vmlinux, names))
	results := make([]core.Result, len(obj.Relocations))
	for j := range obj.Relocations {
		r := &obj.Relocations[j]
		results[j] = rl.Relocate(r.Relo, r.Spec, r.SpecErr)
	}
	return results
}

// shuffled returns results as Decisions whose Distinct is in another
// order than the relocations, so that Of matters.
func shuffled(results []core.Result) core.Decisions {
	d := core.Decisions{Distinct: make([]core.Result, len(results)), Of: make([]int32, len(results))}
	for j := range results {
		k := len(results) - 1 - j
		d.Distinct[k] = results[j]
		d.Of[j] = int32(k)
	}
	return d
}

// kernelCases returns what is known of kernel b in the cases decided:
// nothing, no BTF, its attach targets, and no attach target at all.
func kernelCases(b *rawbtf.BTF, prog *bpfprog.Object) []Kernel {
	return []Kernel{{}, {NoBTF: true}, {Attachable: AttachTargets(b, prog)},
		{Attachable: func(string, string) bool { return false }}}
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestPreparedMatchesReference: over the testdata objects and kernels,
// the verdicts of one Prepared per object (memoized across kernels,
// decided twice and from several goroutines) and fresh ones equal those
// of the implementation before Prepare, byte for byte in JSON.
func TestPreparedMatchesReference(t *testing.T) {
	kernels, err := testKernels()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range testObjects(t) {
		p := Prepare(o.obj, o.prog)
		type decision struct {
			d    core.Decisions
			k    Kernel
			want []byte
		}
		var cases []decision
		for _, b := range kernels {
			results := relocate(o.obj, b)
			for _, k := range kernelCases(b, o.prog) {
				ref, err := refDecide(o.obj, o.prog, results, k)
				if err != nil {
					t.Fatal(err)
				}
				cases = append(cases, decision{shuffled(results), k, mustJSON(t, ref)})
			}
		}
		check := func(what string, c *decision, v *Object) {
			if got := mustJSON(t, v); !bytes.Equal(got, c.want) {
				t.Errorf("%s: %s verdicts differ from the reference:\n got %s\nwant %s", o.obj.Path, what, got, c.want)
			}
		}
		for round := range 2 {
			for i := range cases {
				c := &cases[i]
				v, err := p.Decide(&c.d, c.k)
				if err != nil {
					t.Fatal(err)
				}
				check([]string{"memoized", "memoized again"}[round], c, v)
				check("fresh", c, p.decideFresh(&c.d, c.k))
			}
		}
		var wg sync.WaitGroup
		got := make([]*Object, len(cases))
		for i := range cases {
			wg.Go(func() { got[i], _ = p.Decide(&cases[i].d, cases[i].k) })
		}
		wg.Wait()
		for i := range cases {
			check("concurrent", &cases[i], got[i])
		}
	}
}

// TestIrrelevantValues: changing the relocated values that relevance
// finds cannot decide a branch never changes a fresh verdict, and
// changing the ones it finds can, on guards.bpf.o, whose existence
// checks decide which reads are dead.
func TestIrrelevantValues(t *testing.T) {
	kernels, err := testKernels()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	perturbed, changedByRelevant := 0, 0
	for _, o := range testObjects(t) {
		p := Prepare(o.obj, o.prog)
		relevant := map[int32]bool{}
		for _, l := range p.relevantLocs() {
			relevant[l] = true
		}
		for _, b := range kernels {
			results := relocate(o.obj, b)
			d := core.DecisionsOf(results)
			want := mustJSON(t, p.decideFresh(&d, Kernel{}))
			for range 4 {
				// Each relocation its own decision, so that values can
				// differ between relocations of one decision.
				changed := slices.Clone(results)
				for j := range changed {
					if l := p.locOf[j]; l < 0 || !relevant[l] {
						changed[j].NewVal = rng.Uint64() >> rng.IntN(64)
						perturbed++
					}
				}
				d := core.DecisionsOf(changed)
				if got := mustJSON(t, p.decideFresh(&d, Kernel{})); !bytes.Equal(got, want) {
					t.Errorf("%s: changing irrelevant values changes the verdicts:\n got %s\nwant %s", o.obj.Path, got, want)
				}
			}
			if filepath.Base(o.obj.Path) != "guards.bpf.o" {
				continue
			}
			for _, l := range p.relevantLocs() {
				changed := slices.Clone(results)
				j := p.locs[l].owner
				changed[j].NewVal ^= 1
				d := core.DecisionsOf(changed)
				if got := mustJSON(t, p.decideFresh(&d, Kernel{})); !bytes.Equal(got, want) {
					changedByRelevant++
				}
			}
		}
	}
	if perturbed == 0 {
		t.Error("no value perturbed")
	}
	if changedByRelevant == 0 {
		t.Error("guards.bpf.o: no relevant value changes a verdict")
	}
}

// TestMemoKeyDistinguishes: kernels whose decisions differ in a poison
// flag or a relevant value get their own verdicts from the memo.
func TestMemoKeyDistinguishes(t *testing.T) {
	kernels, err := testKernels()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range testObjects(t) {
		if filepath.Base(o.obj.Path) != "guards.bpf.o" {
			continue
		}
		p := Prepare(o.obj, o.prog)
		results := relocate(o.obj, kernels[0])
		d := core.DecisionsOf(results)
		if _, err := p.Decide(&d, Kernel{}); err != nil {
			t.Fatal(err)
		}
		for l := range p.locs {
			changed := slices.Clone(results)
			j := p.locs[l].owner
			changed[j].Poison = !changed[j].Poison
			d := core.DecisionsOf(changed)
			got, err := p.Decide(&d, Kernel{})
			if err != nil {
				t.Fatal(err)
			}
			ref, err := refDecide(o.obj, o.prog, changed, Kernel{})
			if err != nil {
				t.Fatal(err)
			}
			if g, w := mustJSON(t, got), mustJSON(t, ref); !bytes.Equal(g, w) {
				t.Errorf("poison of location %d flipped: memoized verdicts %s, want %s", l, g, w)
			}
		}
	}
}

func TestDecideLengthMismatch(t *testing.T) {
	o := testObjects(t)[0]
	d := core.DecisionsOf(nil)
	if len(o.obj.Relocations) == 0 {
		t.Skip("no relocation")
	}
	if _, err := Prepare(o.obj, o.prog).Decide(&d, Kernel{}); err == nil {
		t.Error("Decide with no results: no error")
	}
}
