package btfgen_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// shadowKernel is a vmlinux with struct xdr_stream and typedef mac_t, and
// a module (rpcrdma) that defines both again, differently, and uses them
// in its own struct rpcrdma_rep, as Debian's rpcrdma does with its own
// copy of xdr_stream.
func shadowKernel(tb testing.TB) (*rawbtf.BTF, *kmod.Set) {
	tb.Helper()
	vb := btftest.New()
	i := vb.Int("int", 4, true)
	v := vb.Ptr(0)
	xs := vb.Struct("xdr_stream", 64, btftest.M{Name: "p", Type: v}, btftest.M{Name: "nwords", Type: i, BitOff: 448})
	vb.Typedef("mac_t", xs)
	vb.Enum("manip", 4, false)
	vm := vb.BTF()

	mb := btftest.NewSplit(vm)
	mxs := mb.Struct("xdr_stream", 72, btftest.M{Name: "p", Type: v}, btftest.M{Name: "nwords", Type: i, BitOff: 512})
	mmac := mb.Typedef("mac_t", mxs)
	menum := mb.Enum("manip", 4, false, btftest.E{Name: "MANIP_SRC"}, btftest.E{Name: "MANIP_DST", Value: 1})
	mb.Struct("rpcrdma_rep", 160,
		btftest.M{Name: "rr_xid", Type: i},
		btftest.M{Name: "rr_stream", Type: mxs, BitOff: 64},
		btftest.M{Name: "rr_mac", Type: mmac, BitOff: 640},
		btftest.M{Name: "rr_manip", Type: menum, BitOff: 1216})
	set, err := kmod.New([]kbtf.ModuleFile{{Name: "rpcrdma", Path: "rpcrdma.btf", BTF: mb.Bytes()}})
	if err != nil {
		tb.Fatal(err)
	}
	return vm, set
}

type shadowLocal struct {
	btf                           *rawbtf.BTF
	rep, xs, mac, manip, repMatch rawbtf.TypeID
}

func localShadow() shadowLocal {
	lb := btftest.New()
	li := lb.Int("int", 4, true)
	lv := lb.Ptr(0)
	var l shadowLocal
	l.xs = lb.Struct("xdr_stream", 16, btftest.M{Name: "p", Type: lv}, btftest.M{Name: "nwords", Type: li, BitOff: 64})
	l.mac = lb.Typedef("mac_t", l.xs)
	l.manip = lb.Enum("manip", 4, false, btftest.E{Name: "MANIP_DST", Value: 1})
	l.rep = lb.Struct("rpcrdma_rep", 40,
		btftest.M{Name: "rr_stream", Type: l.xs},
		btftest.M{Name: "rr_mac", Type: l.mac, BitOff: 128},
		btftest.M{Name: "rr_manip", Type: l.manip, BitOff: 256})
	l.repMatch = lb.Struct("rpcrdma_rep___m", 24, btftest.M{Name: "rr_stream", Type: l.xs})
	l.btf = lb.BTF()
	return l
}

// TestShadowedModuleTypes: reads through the module's own xdr_stream,
// mac_t and enum manip must find the module's layout, while relocations
// rooted at those names must see vmlinux's only, as libbpf decides on the
// running kernel. In one BTF the module's copies would be candidates for
// the latter: they are kept anonymous (the typedef elided), and every
// decision stays libbpf's.
func TestShadowedModuleTypes(t *testing.T) {
	vm, set := shadowKernel(t)
	l := localShadow()
	o := object(t, l.btf,
		relo(l.rep, "0:0:1", core.FieldByteOffset), // rpcrdma_rep.rr_stream.nwords: the module's, 8+64
		relo(l.rep, "0:1:1", core.FieldByteOffset), // rr_mac.nwords through the module's mac_t
		relo(l.rep, "0:2", core.FieldByteOffset),   // rr_manip, an enum the module defines again
		relo(l.xs, "0:1", core.FieldByteOffset),    // xdr_stream.nwords: vmlinux's, 56
		relo(l.mac, "0", core.TypeSize),            // typedef mac_t: vmlinux's, 64
		relo(l.manip, "0", core.EnumvalExists),     // vmlinux's enum has no value: 0
	)
	res, err := btfgen.NewPlan([]*bpfobj.Object{o}).MinimizeModules(vm, set)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		val       uint64
		fromMod   bool
		unsatisfy bool
	}{{72, true, false}, {144, true, false}, {152, true, false}, {56, false, false}, {64, false, false}, {0, false, true}}
	for i, w := range want {
		r := res.Objects[0].Decisions.At(i)
		if r.Err != nil || r.NewVal != w.val || r.Unsatisfied() != w.unsatisfy {
			t.Errorf("relo %d (%s): value %d unsatisfied %v err %v; want %d, %v", i, o.Relocations[i].Path(), r.NewVal, r.Unsatisfied(), r.Err, w.val, w.unsatisfy)
		}
		if len(r.Matched) > 0 && (res.Kernel.ModuleOf(r.Matched[0]) != nil) != w.fromMod {
			t.Errorf("relo %d: from a module %v, want %v", i, !w.fromMod, w.fromMod)
		}
	}
	min, err := rawbtf.Parse(res.BTF)
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]int{}
	anon := 0
	for id := 1; id < min.NumTypes(); id++ {
		ty := min.Type(rawbtf.TypeID(id))
		if ty.Name() == "" && (ty.Kind().IsComposite() || ty.Kind().IsEnum()) {
			anon++
		}
		named[ty.Kind().String()+" "+ty.Name()]++
	}
	// vmlinux's xdr_stream and mac_t; the module's xdr_stream and enum
	// anonymous, its mac_t elided; vmlinux's enum matches nothing.
	if named["STRUCT xdr_stream"] != 1 || named["TYPEDEF mac_t"] != 1 || named["ENUM manip"] != 0 || anon != 2 {
		t.Errorf("kept %v (%d anonymous), want one xdr_stream and mac_t and two anonymous", named, anon)
	}
	// libbpf with the minimized BTF as btf_custom_path decides the same.
	sameDecisions(t, o, k(t, vm, set, o), min)
}

// k returns the kernel (vmlinux with the modules the object needs) that
// libbpf searches on the running kernel, as a split BTF. Deciding on it
// with core's rule is libbpf's decision there.
func k(tb testing.TB, vm *rawbtf.BTF, set *kmod.Set, objs ...*bpfobj.Object) *rawbtf.BTF {
	tb.Helper()
	kk, _, err := set.ExtendFor(core.NewTarget(vm), objs)
	if err != nil {
		tb.Fatal(err)
	}
	return kk.BTF
}

// TestShadowedTypeMatchesIsUnrepresentable: a type_matches relocation
// served by the module compares the names of the types it reaches, so
// the module's xdr_stream cannot lose its name, which a relocation rooted
// at xdr_stream, served by vmlinux, would then match in one BTF. No BTF
// file can make libbpf decide both as on the running kernel.
func TestShadowedTypeMatchesIsUnrepresentable(t *testing.T) {
	vm, set := shadowKernel(t)
	l := localShadow()
	o := object(t, l.btf,
		relo(l.repMatch, "0", core.TypeMatches), // the module's rpcrdma_rep, named xdr_stream inside
		relo(l.xs, "0:1", core.FieldByteOffset), // vmlinux's xdr_stream
	)
	_, err := btfgen.NewPlan([]*bpfobj.Object{o}).MinimizeModules(vm, set)
	if !errors.Is(err, btfgen.ErrUnrepresentable) || !strings.Contains(err.Error(), "struct xdr_stream") || !strings.Contains(err.Error(), "type_matches struct rpcrdma_rep___m") {
		t.Errorf("error %v, want ErrUnrepresentable naming the type and the relocation", err)
	}
}

// TestModulesNotNeeded: with no relocation vmlinux cannot serve, the
// modules change nothing.
func TestModulesNotNeeded(t *testing.T) {
	vm, set := shadowKernel(t)
	l := localShadow()
	o := object(t, l.btf, relo(l.xs, "0:1", core.FieldByteOffset))
	plan := btfgen.NewPlan([]*bpfobj.Object{o})
	with, err := plan.MinimizeModules(vm, set)
	if err != nil {
		t.Fatal(err)
	}
	without, err := plan.Minimize(vm)
	if err != nil {
		t.Fatal(err)
	}
	if string(with.BTF) != string(without.BTF) || len(with.Kernel.Modules) != 0 {
		t.Errorf("with modules: %d bytes, %d modules; without: %d bytes", len(with.BTF), len(with.Kernel.Modules), len(without.BTF))
	}
}
