package btfdiff

import (
	"path/filepath"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
)

func TestKernelSelf(t *testing.T) {
	for _, p := range []string{debian61, debian612} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			b := parse(t, kernel(t, p))
			if r := Diff(b, b, nil); len(r.Types) > 0 {
				t.Errorf("diff with itself: %d types differ, first %v", len(r.Types), render(r)[:1])
			}
			if r := Diff(b, swapped(t, b), nil); len(r.Types) > 0 {
				t.Errorf("diff with byte-swapped copy: %d types differ, first %v", len(r.Types), render(r)[:1])
			}
		})
	}
}

// findChange reports whether the report changes key with a change matching
// op, what and path.
func findChange(r *Report, key Key, op Op, what, path string) bool {
	for _, td := range r.Types {
		if td.Key != key {
			continue
		}
		for _, c := range td.Changes {
			if c.Op == op && c.What == what && c.Path == path {
				return true
			}
		}
	}
	return false
}

func TestKylinToDebian(t *testing.T) {
	o, n := parse(t, kernel(t, kylin419)), parse(t, kernel(t, debian61))
	r := Diff(o, n, nil)
	ts := Key{Kind: "struct", Name: "task_struct"}
	if !findChange(r, ts, Removed, "member", "state") {
		t.Error("task_struct.state not reported removed")
	}
	if !findChange(r, ts, Added, "member", "__state") {
		t.Error("task_struct.__state not reported added")
	}
	if !findChange(Diff(n, o, nil), ts, Added, "member", "state") {
		t.Error("reversed: task_struct.state not reported added")
	}
}

func TestDebianVersions(t *testing.T) {
	o, n := parse(t, kernel(t, debian61)), parse(t, kernel(t, debian612))
	r := Diff(o, n, nil)
	if r.Changed == 0 || r.Added == 0 || r.Removed == 0 {
		t.Errorf("6.1 → 6.12: %d changed, %d added, %d removed", r.Changed, r.Added, r.Removed)
	}
	for _, td := range r.Types {
		if td.Op == Changed && len(td.Changes) == 0 {
			t.Errorf("%s changed without changes", td.Key)
		}
	}
}

func loadTestObjects(tb testing.TB) []*bpfobj.Object {
	tb.Helper()
	paths, err := filepath.Glob("../../testdata/bpf/*.bpf.o")
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no test objects: %v", err)
	}
	var objs []*bpfobj.Object
	for _, p := range paths {
		o, err := bpfobj.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		objs = append(objs, o)
	}
	return objs
}

// TestUsedByAgreesWithCore checks UsedBy's decisions on NEW against a
// direct relocation of every object with pkg/core.
func TestUsedByAgreesWithCore(t *testing.T) {
	objs := loadTestObjects(t)
	for _, tc := range []struct{ old, new string }{{debian61, debian612}, {kylin419, debian61}, {debian61, kylin419}} {
		t.Run(filepath.Base(tc.old)+"→"+filepath.Base(tc.new), func(t *testing.T) {
			o, n := parse(t, kernel(t, tc.old)), parse(t, kernel(t, tc.new))
			u := UsedBy(objs, o, n)
			target := core.NewTarget(n)
			k := 0
			verdicts := map[Verdict]int{}
			for _, obj := range objs {
				rl := core.NewRelocator(obj.BTF, target)
				for i := range obj.Relocations {
					rel := &obj.Relocations[i]
					res := rl.Relocate(rel.Relo, rel.Spec, rel.SpecErr)
					want := core.NewDecision(rel.Kind, &res)
					got := u.Relocations[k]
					if got.Object != obj.Path || got.Index != rel.Index || got.Section != rel.Section {
						t.Fatalf("relocation %d: got %s %s #%d, want %s %s #%d", k, got.Object, got.Section, got.Index, obj.Path, rel.Section, rel.Index)
					}
					if got.New.Status != want.Status || got.New.Target != want.Target || (got.New.Value == nil) != (want.Value == nil) ||
						(want.Value != nil && *got.New.Value != *want.Value) {
						t.Errorf("%s %s: NEW decision %+v, pkg/core says %+v", obj.Path, rel.Path(), got.New, want)
					}
					verdicts[got.Verdict]++
					k++
				}
			}
			if k != len(u.Relocations) {
				t.Errorf("%d relocations reported, objects have %d", len(u.Relocations), k)
			}
			t.Logf("verdicts: %v", verdicts)
			// Every type a changed relocation touches is in the scope, and
			// the diff lists the relocations touching each reported type.
			r := Diff(o, n, &Options{Usage: u})
			for _, td := range r.Types {
				if !u.Scope.Has(td.Key) {
					t.Errorf("%s reported outside the scope", td.Key)
				}
				if len(td.Relocations) == 0 {
					t.Errorf("%s reported without relocations", td.Key)
				}
			}
		})
	}
}

func TestTaskstateRelocations(t *testing.T) {
	o, n := parse(t, kernel(t, kylin419)), parse(t, kernel(t, debian61))
	obj, err := bpfobj.Open("../../testdata/bpf/taskstate.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	u := UsedBy([]*bpfobj.Object{obj}, o, n)
	want := map[string]Verdict{
		"struct task_struct.__state":     VerdictFixed,
		"struct task_struct___old.state": VerdictBroken,
		"struct task_struct.pid":         VerdictChanged,
	}
	for _, r := range u.Relocations {
		if v, ok := want[r.Path]; ok && r.Verdict != v {
			t.Errorf("%s %s: %s, want %s", r.Kind, r.Path, r.Verdict, v)
		}
	}
	r := Diff(o, n, &Options{Usage: u})
	ts := Key{Kind: "struct", Name: "task_struct"}
	if !findChange(r, ts, Removed, "member", "state") || !findChange(r, ts, Added, "member", "__state") {
		t.Errorf("task_struct state/__state not reported: %v", render(r))
	}
}

// BenchmarkDiff compares Debian 6.1 and 6.12 (about 100k types each),
// parsing included, decompression not.
func BenchmarkDiff(b *testing.B) {
	od, nd := kernel(b, debian61), kernel(b, debian612)
	b.ReportAllocs()
	for b.Loop() {
		Diff(parse(b, od), parse(b, nd), nil)
	}
}
