package core_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// moduleKernel is a vmlinux with struct task_struct, a forward-declared
// struct nf_conn and an enum nf_nat_manip_type without values (as
// Debian's vmlinux has them), extended with two modules' types: both
// define struct nf_conn (differently), one its own task_struct and the
// enum with values, the other a union nf_conn.
func moduleKernel(tb testing.TB) (vm, k *rawbtf.BTF, ids map[string]rawbtf.TypeID) {
	tb.Helper()
	ids = map[string]rawbtf.TypeID{}
	vb := btftest.New()
	i := vb.Int("int", 4, true)
	ids["vm task_struct"] = vb.Struct("task_struct", 8, btftest.M{Name: "pid", Type: i})
	ids["vm fwd nf_conn"] = vb.Fwd("nf_conn", false)
	ids["vm enum"] = vb.Enum("nf_nat_manip_type", 4, false)
	vm = vb.BTF()

	mb := btftest.NewSplit(vm)
	ids["a nf_conn"] = mb.Struct("nf_conn", 8, btftest.M{Name: "status", Type: i})
	ids["a task_struct"] = mb.Struct("task_struct", 16, btftest.M{Name: "pid", Type: i, BitOff: 64})
	ids["a enum"] = mb.Enum("nf_nat_manip_type", 4, false, btftest.E{Name: "NF_NAT_MANIP_SRC"}, btftest.E{Name: "NF_NAT_MANIP_DST", Value: 1})
	ids["b nf_conn"] = mb.Struct("nf_conn___b", 16, btftest.M{Name: "status", Type: i, BitOff: 32})
	ids["b union nf_conn"] = mb.Union("nf_conn", 4, btftest.M{Name: "status", Type: i})
	k = mb.BTF()
	return vm, k, ids
}

// TestCandidatesFromModules checks libbpf's bpf_core_find_cands rule on a
// kernel with modules: vmlinux's candidates when it has any of a
// compatible kind, else those of every module.
func TestCandidatesFromModules(t *testing.T) {
	vm, k, ids := moduleKernel(t)
	lb := btftest.New()
	li := lb.Int("int", 4, true)
	local := map[string]rawbtf.TypeID{
		"struct task_struct":      lb.Struct("task_struct", 4, btftest.M{Name: "pid", Type: li}),
		"struct nf_conn":          lb.Struct("nf_conn", 4, btftest.M{Name: "status", Type: li}),
		"struct nf_conn___flavor": lb.Struct("nf_conn___flavor", 4, btftest.M{Name: "status", Type: li}),
		"union nf_conn":           lb.Union("nf_conn", 4, btftest.M{Name: "status", Type: li}),
		"enum nf_nat_manip_type":  lb.Enum("nf_nat_manip_type", 4, false, btftest.E{Name: "NF_NAT_MANIP_DST", Value: 1}),
		"struct nowhere":          lb.Struct("nowhere", 4, btftest.M{Name: "x", Type: li}),
	}
	lbtf := lb.BTF()
	tests := []struct {
		local string
		want  []string
	}{
		// vmlinux has one: the module's own task_struct is not searched.
		{"struct task_struct", []string{"vm task_struct"}},
		// vmlinux has only a FWD (another kind): both modules' structs,
		// the flavored one too, whatever the local flavor.
		{"struct nf_conn", []string{"a nf_conn", "b nf_conn"}},
		{"struct nf_conn___flavor", []string{"a nf_conn", "b nf_conn"}},
		{"union nf_conn", []string{"b union nf_conn"}},
		// vmlinux's enum has no values, it still wins.
		{"enum nf_nat_manip_type", []string{"vm enum"}},
		{"struct nowhere", nil},
	}
	names := map[string]struct{}{}
	for _, n := range []string{"task_struct", "nf_conn", "nf_nat_manip_type", "nowhere"} {
		names[n] = struct{}{}
	}
	targets := map[string]*core.Target{
		"NewTarget":             core.NewTarget(k),
		"NewTargetFor":          core.NewTargetFor(k, names),
		"WithModules":           core.NewTargetFor(vm, names).WithModules(k),
		"WithModules, no index": core.NewTargetFor(vm, map[string]struct{}{}).WithModules(k),
	}
	for tname, target := range targets {
		for _, tc := range tests {
			got := target.Candidates(lbtf.Type(local[tc.local]))
			var want []rawbtf.TypeID
			for _, w := range tc.want {
				want = append(want, ids[w])
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: %s: candidates %v, want %v %v", tname, tc.local, got, want, tc.want)
			}
			for _, c := range got {
				if target.FromModules(c) != (c >= rawbtf.TypeID(vm.NumTypes())) {
					t.Errorf("%s: FromModules(%d) = %v", tname, c, target.FromModules(c))
				}
			}
		}
	}
	// Relocating against the module candidates: both nf_conn match with
	// different offsets, an ambiguity libbpf fails on; the enum value is
	// not found in vmlinux's empty enum.
	rl := core.NewRelocator(lbtf, core.NewTarget(k))
	relo := core.Relo{TypeID: local["struct nf_conn"], Access: "0:0", Kind: core.FieldByteOffset}
	spec, err := core.ParseLocal(lbtf, relo)
	if err != nil {
		t.Fatal(err)
	}
	if res := rl.Relocate(relo, spec, nil); res.Err == nil {
		t.Errorf("nf_conn.status on two modules: %+v, want an ambiguity", res.Outcome)
	}
	relo = core.Relo{TypeID: local["enum nf_nat_manip_type"], Access: "0", Kind: core.EnumvalExists}
	spec, _ = core.ParseLocal(lbtf, relo)
	if res := rl.Relocate(relo, spec, nil); !res.Unsatisfied() {
		t.Errorf("enumval_exists NF_NAT_MANIP_DST: %+v, want unsatisfied (vmlinux's enum wins)", res)
	}
}

// TestNewTargetForFindsWhatNewTargetFinds: the index of the names asked
// for holds exactly the candidates of the full index, flavors and
// one-letter names included, on pahole-like duplicates too.
func TestNewTargetForFindsWhatNewTargetFinds(t *testing.T) {
	b := btftest.New()
	i := b.Int("int", 4, true)
	for range 3 {
		b.Struct("task_struct", 4, btftest.M{Name: "pid", Type: i})
	}
	b.Struct("task_struct___old", 4, btftest.M{Name: "pid", Type: i})
	b.Struct("a", 4, btftest.M{Name: "x", Type: i})
	b.Struct("a___flavor", 4, btftest.M{Name: "x", Type: i})
	b.Struct("ab___c", 4, btftest.M{Name: "x", Type: i})
	b.Struct("ab", 4, btftest.M{Name: "x", Type: i})
	b.Struct("task", 4, btftest.M{Name: "x", Type: i})
	b.Typedef("_", i)
	b.Typedef("__u32", i)
	kernel := b.BTF()
	full := core.NewTarget(kernel)
	names := map[string]struct{}{"task_struct": {}, "a": {}, "ab": {}, "_": {}, "__u32": {}, "missing": {}, "": {}}
	part := core.NewTargetFor(kernel, names)
	lb := btftest.New()
	li := lb.Int("int", 4, true)
	var locals []rawbtf.TypeID
	for n := range names {
		if n != "" {
			locals = append(locals, lb.Struct(n, 4, btftest.M{Name: "x", Type: li}), lb.Typedef(n, li))
		}
	}
	local := lb.BTF()
	total := 0
	for _, id := range locals {
		lt := local.Type(id)
		got, want := part.Candidates(lt), full.Candidates(lt)
		if !slices.Equal(got, want) {
			t.Errorf("%s %s: candidates %v, want %v", lt.Kind(), lt.Name(), got, want)
		}
		total += len(want)
	}
	if total != 10 { // 4 task_struct, a and a___flavor, ab and ab___c, _ and __u32
		t.Errorf("%d candidates in all, want 10", total)
	}
}
