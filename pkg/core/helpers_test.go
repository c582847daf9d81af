package core_test

import (
	"errors"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// relocate runs relos in order against target, as libbpf does for one object.
func relocate(tb testing.TB, local, target *rawbtf.BTF, relos ...core.Relo) []core.Result {
	tb.Helper()
	rl := core.NewRelocator(local, core.NewTarget(target))
	out := make([]core.Result, len(relos))
	for i, r := range relos {
		spec, err := core.ParseLocal(local, r)
		out[i] = rl.Relocate(r, spec, err)
	}
	return out
}

func relo(id rawbtf.TypeID, access string, k core.Kind) core.Relo {
	return core.Relo{TypeID: id, Access: access, Kind: k}
}

// want describes an expected decision.
type want struct {
	val     uint64
	poison  bool
	matched bool
	err     error
}

func check(tb testing.TB, name string, got core.Result, w want) {
	tb.Helper()
	if w.err != nil || got.Err != nil {
		if !errors.Is(got.Err, w.err) {
			tb.Errorf("%s: error %v, want %v", name, got.Err, w.err)
		}
		return
	}
	if got.NewVal != w.val || got.Poison != w.poison || (len(got.Matched) > 0) != w.matched {
		tb.Errorf("%s: got val=%d poison=%v matched=%d, want val=%d poison=%v matched=%v",
			name, got.NewVal, got.Poison, len(got.Matched), w.val, w.poison, w.matched)
	}
}

// localTask is the object's view: struct task_struct { int pid; int tgid;
// struct task_struct *real_parent; char comm[16]; long state; }.
func localTask() (*rawbtf.BTF, rawbtf.TypeID) {
	b := btftest.New()
	i := b.Int("int", 4, true)
	c := b.Int("char", 1, true)
	l := b.Int("long", 8, true)
	ts := b.Next()
	p := b.Ptr(ts + 2)
	arr := b.Array(c, i, 16)
	s := b.Struct("task_struct", 48,
		btftest.M{Name: "pid", Type: i, BitOff: 0},
		btftest.M{Name: "tgid", Type: i, BitOff: 32},
		btftest.M{Name: "real_parent", Type: p, BitOff: 64},
		btftest.M{Name: "comm", Type: arr, BitOff: 128},
		btftest.M{Name: "state", Type: l, BitOff: 256},
	)
	_ = ts
	return b.BTF(), s
}
