package btfgen_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// object builds an in-memory object with the given relocations.
func object(tb testing.TB, local *rawbtf.BTF, relos ...core.Relo) *bpfobj.Object {
	tb.Helper()
	o := &bpfobj.Object{Path: "test.bpf.o", BTF: local}
	for i, r := range relos {
		spec, err := core.ParseLocal(local, r)
		o.Relocations = append(o.Relocations, bpfobj.Relocation{Relo: r, Place: &bpfobj.Place{Section: "prog"}, RecordSpec: &bpfobj.RecordSpec{Spec: spec, SpecErr: err}, Index: i})
	}
	return o
}

func relo(id rawbtf.TypeID, access string, k core.Kind) core.Relo {
	return core.Relo{TypeID: id, Access: access, Kind: k}
}

// decide runs the given relocations (a subset, in order) of o against b.
func decide(o *bpfobj.Object, b *rawbtf.BTF, which []int) []core.Result {
	rl := core.NewRelocator(o.BTF, core.NewTarget(b))
	var out []core.Result
	for _, i := range which {
		r := &o.Relocations[i]
		out = append(out, rl.Relocate(r.Relo, r.Spec, r.SpecErr))
	}
	return out
}

func typeDesc(b *rawbtf.BTF, id rawbtf.TypeID) string {
	t := b.Type(id)
	sz, _ := b.ResolveSize(id)
	return fmt.Sprintf("%s %s %d", t.Kind(), t.Name(), sz)
}

// sameDecisions checks that every subset of relocations made of one
// relocation, every pair, and all of them decide the same on full and min.
func sameDecisions(tb testing.TB, o *bpfobj.Object, full, min *rawbtf.BTF) {
	tb.Helper()
	n := len(o.Relocations)
	subsets := [][]int{}
	all := []int{}
	for i := 0; i < n; i++ {
		all = append(all, i)
		subsets = append(subsets, []int{i})
		for j := 0; j < n; j++ {
			if j != i {
				subsets = append(subsets, []int{i, j})
			}
		}
	}
	subsets = append(subsets, all)
	for _, s := range subsets {
		a, b := decide(o, full, s), decide(o, min, s)
		for k := range a {
			ra, rb := a[k], b[k]
			same := (ra.Err == nil) == (rb.Err == nil) && ra.Poison == rb.Poison && ra.NewSize == rb.NewSize &&
				(len(ra.Matched) > 0) == (len(rb.Matched) > 0)
			if o.Relocations[s[k]].Kind == core.TypeIDTarget {
				same = same && (len(ra.Matched) == 0 || typeDesc(full, rawbtf.TypeID(ra.NewVal)) == typeDesc(min, rawbtf.TypeID(rb.NewVal)))
			} else {
				same = same && ra.NewVal == rb.NewVal
			}
			if !same {
				tb.Errorf("subset %v relo %d (%s): full val=%d poison=%v matched=%v err=%v; min val=%d poison=%v matched=%v err=%v",
					s, s[k], o.Relocations[s[k]].Path(), ra.NewVal, ra.Poison, ra.Matched, ra.Err, rb.NewVal, rb.Poison, rb.Matched, rb.Err)
			}
		}
	}
}

func minimize(tb testing.TB, kernel *rawbtf.BTF, objs ...*bpfobj.Object) (*btfgen.Result, *rawbtf.BTF) {
	tb.Helper()
	res, err := btfgen.NewPlan(objs).Minimize(kernel)
	if err != nil {
		tb.Fatal(err)
	}
	min, err := rawbtf.Parse(res.BTF)
	if err != nil {
		tb.Fatal(err)
	}
	return res, min
}

// kernelTask builds a kernel-like task_struct with many members.
func kernelTask(order binary.ByteOrder) *rawbtf.BTF {
	b := btftest.New()
	b.Order = order
	i := b.Int("int", 4, true)
	ul := b.Int("long unsigned int", 8, false)
	pid := b.Typedef("pid_t", b.Typedef("__kernel_pid_t", i))
	ts := b.Next() + 1
	p := b.Ptr(ts)
	b.Struct("task_struct", 256,
		btftest.M{Name: "state", Type: ul},
		btftest.M{Name: "flags", Type: i, BitOff: 64},
		btftest.M{Name: "pid", Type: pid, BitOff: 96},
		btftest.M{Name: "tgid", Type: pid, BitOff: 128},
		btftest.M{Name: "real_parent", Type: p, BitOff: 192},
		btftest.M{Name: "unused", Type: ul, BitOff: 256},
	)
	b.Enum("pid_type", 4, false, btftest.E{Name: "PIDTYPE_PID"}, btftest.E{Name: "PIDTYPE_TGID", Value: 1}, btftest.E{Name: "PIDTYPE_MAX", Value: 4})
	b.Struct("unrelated", 8, btftest.M{Name: "x", Type: ul})
	return b.BTF()
}

func localTask(order binary.ByteOrder) (*rawbtf.BTF, rawbtf.TypeID, rawbtf.TypeID) {
	return localTaskAfter(order, 0)
}

// localTaskAfter is localTask with padding unused types first, so that
// the same local types get other IDs.
func localTaskAfter(order binary.ByteOrder, padding int) (*rawbtf.BTF, rawbtf.TypeID, rawbtf.TypeID) {
	b := btftest.New()
	b.Order = order
	for range padding {
		b.Int("pad", 1, false)
	}
	i := b.Int("int", 4, true)
	ts := b.Next() + 1
	p := b.Ptr(ts)
	s := b.Struct("task_struct", 24,
		btftest.M{Name: "pid", Type: i},
		btftest.M{Name: "tgid", Type: i, BitOff: 32},
		btftest.M{Name: "real_parent", Type: p, BitOff: 64},
		btftest.M{Name: "missing", Type: i, BitOff: 128},
	)
	e := b.Enum("pid_type", 4, false, btftest.E{Name: "PIDTYPE_TGID", Value: 1}, btftest.E{Name: "PIDTYPE_NONE", Value: 9})
	return b.BTF(), s, e
}

func TestMinimizeKeepsOnlyWhatIsRead(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		kernel := kernelTask(order)
		local, task, pidType := localTask(order)
		o := object(t, local,
			relo(task, "0:2", core.FieldByteOffset),
			relo(task, "0:1", core.FieldByteOffset),
			relo(task, "0:3", core.FieldExists),
			relo(pidType, "0", core.EnumvalValue),
			relo(pidType, "1", core.EnumvalExists),
		)
		res, min := minimize(t, kernel, o)
		if min.ByteOrder() != order {
			t.Errorf("output byte order %v, want %v", min.ByteOrder(), order)
		}
		sameDecisions(t, o, kernel, min)
		// task_struct keeps its size and exactly real_parent and tgid.
		var names []string
		for id := 1; id < min.NumTypes(); id++ {
			ty := min.Type(rawbtf.TypeID(id))
			names = append(names, ty.Kind().String()+":"+ty.Name())
			if ty.Name() == "task_struct" {
				if ty.Size() != 256 || ty.Vlen() != 2 {
					t.Errorf("task_struct size %d vlen %d, want 256 and 2", ty.Size(), ty.Vlen())
				}
				if m := ty.Member(1); min.String(m.NameOff) != "real_parent" || m.BitOffset != 192 {
					t.Errorf("member 1 = %s at %d", min.String(m.NameOff), m.BitOffset)
				}
			}
			if ty.Name() == "pid_type" && ty.Vlen() != 3 {
				t.Errorf("enum pid_type has %d values, want the whole enum", ty.Vlen())
			}
			if ty.Name() == "unrelated" || ty.Name() == "long unsigned int" {
				t.Errorf("kept %s, which no relocation needs", ty.Name())
			}
		}
		// The pointer is kept but its target is not followed: it points to void.
		want := "INT:int TYPEDEF:__kernel_pid_t TYPEDEF:pid_t PTR: STRUCT:task_struct ENUM:pid_type"
		if got := fmt.Sprint(names); got != "["+want+"]" {
			t.Errorf("kept %v, want [%s]", got, want)
		}
		if res.Types != 6 {
			t.Errorf("Types = %d", res.Types)
		}
		u, f := res.Objects[0].Unsatisfied()
		if fmt.Sprint(u) != "[2 4]" || len(f) != 0 { // task_struct.missing, PIDTYPE_NONE
			t.Errorf("unsatisfied %v failed %v, want [2 4] and none", u, f)
		}
	}
}

func TestMinimizeIsDeterministic(t *testing.T) {
	kernel := kernelTask(binary.LittleEndian)
	local, task, pidType := localTask(binary.LittleEndian)
	o := object(t, local, relo(task, "0:2", core.FieldByteOffset), relo(pidType, "0", core.EnumvalValue))
	a, _ := minimize(t, kernel, o)
	b, _ := minimize(t, kernel, o)
	if !bytes.Equal(a.BTF, b.BTF) {
		t.Error("two runs gave different bytes")
	}
}

// TestKeepsEveryBehaviour covers the case bpftool gets wrong: two
// duplicates both match x, only the second has y. Keeping only the first
// match per relocation (bpftool) makes libbpf poison y after x.
func TestKeepsEveryBehaviour(t *testing.T) {
	lb := btftest.New()
	i := lb.Int("int", 4, true)
	ls := lb.Struct("foo", 8, btftest.M{Name: "x", Type: i}, btftest.M{Name: "y", Type: i, BitOff: 32})
	local := lb.BTF()
	b := btftest.New()
	ti := b.Int("int", 4, true)
	b.Struct("foo", 4, btftest.M{Name: "x", Type: ti})
	b.Struct("foo", 8, btftest.M{Name: "x", Type: ti}, btftest.M{Name: "y", Type: ti, BitOff: 32})
	kernel := b.BTF()
	o := object(t, local, relo(ls, "0:0", core.FieldByteOffset), relo(ls, "0:1", core.FieldByteOffset))
	_, min := minimize(t, kernel, o)
	sameDecisions(t, o, kernel, min)
}

// TestIdenticalDuplicatesKeepOne checks that structurally identical
// duplicates (common in pahole-generated BTF) are not all kept.
func TestIdenticalDuplicatesKeepOne(t *testing.T) {
	lb := btftest.New()
	i := lb.Int("int", 4, true)
	ls := lb.Struct("foo", 8, btftest.M{Name: "x", Type: i})
	local := lb.BTF()
	b := btftest.New()
	ti := b.Int("int", 4, true)
	for range 3 {
		b.Struct("foo", 8, btftest.M{Name: "x", Type: ti, BitOff: 32}, btftest.M{Name: "z", Type: ti})
	}
	kernel := b.BTF()
	o := object(t, local, relo(ls, "0:0", core.FieldByteOffset))
	res, min := minimize(t, kernel, o)
	sameDecisions(t, o, kernel, min)
	if res.Types != 2 {
		t.Errorf("kept %d types, want int and one foo", res.Types)
	}
}

// TestFlexibleArrayStaysNonFlexible: trimming the members after a
// zero-length array must not turn it into a flexible array member.
func TestFlexibleArrayStaysNonFlexible(t *testing.T) {
	lb := btftest.New()
	i := lb.Int("int", 4, true)
	ls := lb.Struct("s", 16, btftest.M{Name: "a", Type: lb.Array(i, i, 4)}, btftest.M{Name: "b", Type: i, BitOff: 128})
	local := lb.BTF()
	b := btftest.New()
	ti := b.Int("int", 4, true)
	b.Struct("s", 8, btftest.M{Name: "b", Type: ti}, btftest.M{Name: "a", Type: b.Array(ti, ti, 0), BitOff: 32}, btftest.M{Name: "c", Type: ti, BitOff: 32})
	kernel := b.BTF()
	// b matches and keeps s; a[2] does not match (zero length, not last).
	o := object(t, local, relo(ls, "0:1", core.FieldByteOffset), relo(ls, "0:0:2", core.FieldByteOffset), relo(ls, "0:0:0", core.FieldExists))
	_, min := minimize(t, kernel, o)
	sameDecisions(t, o, kernel, min)
}

// TestNonMatchingTypeCandidateKeepsShape: a typedef kept for a field
// relocation (pointer target not followed, so void) must not start to
// match a type relocation that expects a void pointer.
func TestNonMatchingTypeCandidateKeepsShape(t *testing.T) {
	lb := btftest.New()
	vp := lb.Typedef("handle_t", lb.Ptr(0))
	ls := lb.Struct("s", 8, btftest.M{Name: "h", Type: vp})
	local := lb.BTF()
	b := btftest.New()
	ti := b.Int("int", 4, true)
	th := b.Typedef("handle_t", b.Ptr(ti))
	b.Struct("s", 8, btftest.M{Name: "h", Type: th})
	kernel := b.BTF()
	o := object(t, local,
		relo(ls, "0:0", core.FieldByteOffset),
		relo(vp, "0", core.TypeExists),
		relo(vp, "0", core.TypeMatches),
	)
	_, min := minimize(t, kernel, o)
	sameDecisions(t, o, kernel, min)
}

func TestTypeMatchesKeepsShape(t *testing.T) {
	lb := btftest.New()
	i := lb.Int("int", 4, true)
	inner := lb.Struct("inner", 4, btftest.M{Name: "v", Type: i})
	ls := lb.Struct("outer", 16, btftest.M{Name: "in", Type: inner}, btftest.M{Name: "p", Type: lb.Ptr(inner), BitOff: 64})
	local := lb.BTF()
	b := btftest.New()
	ti := b.Int("int", 4, true)
	tin := b.Struct("inner", 8, btftest.M{Name: "v", Type: ti}, btftest.M{Name: "w", Type: ti, BitOff: 32})
	other := b.Struct("other", 8, btftest.M{Name: "q", Type: ti})
	b.Struct("outer", 24, btftest.M{Name: "in", Type: tin}, btftest.M{Name: "p", Type: b.Ptr(tin), BitOff: 64}, btftest.M{Name: "o", Type: b.Ptr(other), BitOff: 128})
	kernel := b.BTF()
	o := object(t, local, relo(ls, "0", core.TypeMatches))
	_, min := minimize(t, kernel, o)
	sameDecisions(t, o, kernel, min)
	for id := 1; id < min.NumTypes(); id++ {
		if ty := min.Type(rawbtf.TypeID(id)); ty.Name() == "other" && ty.Vlen() != 0 {
			t.Errorf("struct other behind a pointer kept %d members", ty.Vlen())
		}
	}
}

func TestTypeIDTargetAndSize(t *testing.T) {
	lb := btftest.New()
	ls := lb.Struct("task_struct", 8)
	td := lb.Typedef("u64", lb.Int("long long unsigned int", 8, false))
	local := lb.BTF()
	kernel := kernelTask(binary.LittleEndian)
	o := object(t, local,
		relo(ls, "0", core.TypeIDTarget),
		relo(ls, "0", core.TypeSize),
		relo(td, "0", core.TypeExists),
	)
	_, min := minimize(t, kernel, o)
	sameDecisions(t, o, kernel, min)
}

// TestObjectsTogether: several objects share one output, and each still
// decides as with the full BTF.
func TestObjectsTogether(t *testing.T) {
	kernel := kernelTask(binary.LittleEndian)
	local, task, pidType := localTask(binary.LittleEndian)
	o1 := object(t, local, relo(task, "0:0", core.FieldByteOffset))
	o2 := object(t, local, relo(task, "0:2", core.FieldByteOffset), relo(pidType, "0", core.EnumvalValue), relo(task, "0", core.TypeMatches))
	_, min := minimize(t, kernel, o1, o2)
	sameDecisions(t, o1, kernel, min)
	sameDecisions(t, o2, kernel, min)
}

// TestKindsBpftoolAbortsOn: type tags on pointers, forward declarations
// behind pointers and decl tags in the kernel are handled, not fatal.
func TestKindsBpftoolAbortsOn(t *testing.T) {
	lb := btftest.New()
	li := lb.Int("int", 4, true)
	lfoo := lb.Struct("foo", 4, btftest.M{Name: "v", Type: li})
	lp := lb.Typedef("foo_p", lb.Ptr(lfoo))
	lbar := lb.Struct("bar", 8, btftest.M{Name: "f", Type: lb.Ptr(lfoo)})
	local := lb.BTF()

	b := btftest.New()
	i := b.Int("int", 4, true)
	fwd := b.Fwd("foo", false)
	tag := b.Ref(rawbtf.KindTypeTag, "rcu", fwd)
	b.Typedef("foo_p", b.Ptr(tag))
	// bar's member points through a type tag to foo, added right after
	// bar: tag (n), pointer (n+1), bar (n+2), foo (n+3).
	bar := b.Struct("bar", 8, btftest.M{Name: "f", Type: b.Ptr(b.Ref(rawbtf.KindTypeTag, "user", b.Next()+3))})
	b.Struct("foo", 4, btftest.M{Name: "v", Type: i})
	b.Raw("dtag", btftest.Info(rawbtf.KindDeclTag, 0, false), uint32(bar), 0xffffffff)
	b.Func("f", b.FuncProto(i, btftest.P{Name: "x", Type: i}))
	kernel := b.BTF()
	o := object(t, local,
		relo(lp, "0", core.TypeExists),
		relo(lp, "0", core.TypeMatches),
		relo(lbar, "0", core.TypeMatches),
		relo(lbar, "0:0", core.FieldByteOffset),
	)
	_, min := minimize(t, kernel, o)
	sameDecisions(t, o, kernel, min)
}

// TestKeepsLongFor32BitKernels: pointer sizes of a 32-bit kernel resolve
// the same with the minimized BTF.
func TestKeepsLongFor32BitKernels(t *testing.T) {
	lb := btftest.New()
	ls := lb.Struct("s", 16, btftest.M{Name: "p", Type: lb.Ptr(0)})
	local := lb.BTF()
	b := btftest.New()
	b.Int("long int", 4, true)
	b.Struct("s", 8, btftest.M{Name: "p", Type: b.Ptr(0)})
	kernel := b.BTF()
	o := object(t, local, relo(ls, "0:0", core.FieldByteSize))
	res, min := minimize(t, kernel, o)
	sameDecisions(t, o, kernel, min)
	if min.PtrSize() != 4 || res.Objects[0].Decisions.At(0).NewVal != 4 {
		t.Errorf("pointer size %d in minimized BTF, byte_sz %d", min.PtrSize(), res.Objects[0].Decisions.At(0).NewVal)
	}
}

// TestKeepsLongWhenALaterLongDisagrees: the kernel's first "long" is 8
// bytes and unused, a later 4-byte "long int" is kept for a member. Without
// the first one the minimized BTF would size pointers at 4 bytes (found by
// FuzzMinimize in CI).
func TestKeepsLongWhenALaterLongDisagrees(t *testing.T) {
	lb := btftest.New()
	ls := lb.Struct("s", 16, btftest.M{Name: "p", Type: lb.Ptr(0)}, btftest.M{Name: "n", Type: lb.Int("int", 4, true), BitOff: 64})
	local := lb.BTF()
	b := btftest.New()
	b.Int("long", 8, true)
	li := b.Int("long int", 4, true)
	b.Struct("s", 16, btftest.M{Name: "p", Type: b.Ptr(0)}, btftest.M{Name: "n", Type: li, BitOff: 64})
	kernel := b.BTF()
	o := object(t, local, relo(ls, "0:0", core.FieldByteSize), relo(ls, "0:1", core.FieldByteSize))
	res, min := minimize(t, kernel, o)
	sameDecisions(t, o, kernel, min)
	if min.PtrSize() != 8 || res.Objects[0].Decisions.At(0).NewVal != 8 {
		t.Errorf("pointer size %d in minimized BTF, byte_sz %d", min.PtrSize(), res.Objects[0].Decisions.At(0).NewVal)
	}
}

func TestByteOrderMismatch(t *testing.T) {
	local, task, _ := localTask(binary.LittleEndian)
	o := object(t, local, relo(task, "0:0", core.FieldByteOffset))
	_, err := btfgen.NewPlan([]*bpfobj.Object{o}).Minimize(kernelTask(binary.BigEndian))
	if !errors.Is(err, btfgen.ErrByteOrder) {
		t.Errorf("error %v, want ErrByteOrder", err)
	}
}

// TestSharedSpecsKeepTheirOwnLocalValues: objects with the same local
// types at other IDs share their evaluations against the kernel, but each
// relocation's result keeps what comes from its own object (the local type
// ID of TYPE_ID_TARGET, the original field type). Every object's results
// in a plan with others must equal its results in a plan of its own.
func TestSharedSpecsKeepTheirOwnLocalValues(t *testing.T) {
	kernel := kernelTask(binary.LittleEndian)
	mk := func(padding int) *bpfobj.Object {
		local, s, _ := localTaskAfter(binary.LittleEndian, padding)
		return object(t, local,
			relo(s, "0:1", core.FieldByteOffset),
			relo(s, "0:2", core.FieldByteSize),
			relo(s, "0", core.TypeIDTarget),
			relo(s, "0:3", core.FieldExists),
			relo(s, "0", core.TypeSize))
	}
	objs := []*bpfobj.Object{mk(0), mk(3), mk(7)}
	plan := btfgen.NewPlan(objs)
	// Classes are built for a plan's second kernel on.
	first, err := plan.Minimize(kernel)
	if err != nil {
		t.Fatal(err)
	}
	all, err := plan.Minimize(kernel)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.BTF, all.BTF) {
		t.Error("the second kernel's output differs from the first's")
	}
	for i, o := range objs {
		alone, err := btfgen.NewPlan([]*bpfobj.Object{o}).Minimize(kernel)
		if err != nil {
			t.Fatal(err)
		}
		for j := range all.Objects[i].Decisions.Len() {
			got, want := all.Objects[i].Decisions.At(j), alone.Objects[0].Decisions.At(j)
			if got.Outcome != want.Outcome || (got.Err == nil) != (want.Err == nil) ||
				!slices.Equal(got.Matched, want.Matched) || got.Local != want.Local {
				t.Errorf("object %d relo %d: %+v with others, %+v alone", i, j, got, want)
			}
		}
	}
	if all.Objects[1].Decisions.At(2).OrigVal == all.Objects[0].Decisions.At(2).OrigVal {
		t.Error("TYPE_ID_TARGET's original value does not name each object's own type")
	}
}
