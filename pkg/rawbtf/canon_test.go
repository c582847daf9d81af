package rawbtf_test

import (
	"bytes"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
)

// taskGraph builds struct task { int pid; struct task *parent; long
// arr[4]; } with some unrelated types first, so IDs differ between calls.
func taskGraph(padding int, parentName string, pidOff uint32) (*btftest.Builder, btftest.ID) {
	b := btftest.New()
	for range padding {
		b.Int("unrelated", 2, false)
	}
	i := b.Int("int", 4, true)
	l := b.Int("long", 8, true)
	arr := b.Array(l, i, 4)
	// the pointer refers to the struct added right after it
	p := b.Ptr(b.Next() + 1)
	task := b.Struct("task", 48,
		btftest.M{Name: "pid", Type: i, BitOff: pidOff},
		btftest.M{Name: parentName, Type: p, BitOff: 64},
		btftest.M{Name: "arr", Type: arr, BitOff: 128})
	return b, task
}

func TestCanonicalForm(t *testing.T) {
	b1, t1 := taskGraph(0, "parent", 0)
	b2, t2 := taskGraph(5, "parent", 0)
	f1, f2 := b1.BTF().CanonicalForm(t1), b2.BTF().CanonicalForm(t2)
	if !bytes.Equal(f1, f2) {
		t.Error("isomorphic graphs at other IDs have different forms")
	}
	b3, t3 := taskGraph(0, "real_parent", 0)
	if bytes.Equal(f1, b3.BTF().CanonicalForm(t3)) {
		t.Error("a renamed member keeps the form")
	}
	b4, t4 := taskGraph(0, "parent", 32)
	if bytes.Equal(f1, b4.BTF().CanonicalForm(t4)) {
		t.Error("a moved member keeps the form")
	}
	// A difference deep in the graph: the array's element type.
	b5 := btftest.New()
	i := b5.Int("int", 4, true)
	l := b5.Int("long", 4, true)
	arr := b5.Array(l, i, 4)
	p := b5.Ptr(b5.Next() + 1)
	t5 := b5.Struct("task", 48,
		btftest.M{Name: "pid", Type: i},
		btftest.M{Name: "parent", Type: p, BitOff: 64},
		btftest.M{Name: "arr", Type: arr, BitOff: 128})
	if bytes.Equal(f1, b5.BTF().CanonicalForm(t5)) {
		t.Error("another element size keeps the form")
	}
	// Same root, but the pointer goes to a different struct also named
	// task (a duplicate): not isomorphic to the self-referencing one.
	b6 := btftest.New()
	i = b6.Int("int", 4, true)
	l = b6.Int("long", 8, true)
	arr = b6.Array(l, i, 4)
	other := b6.Struct("task", 48)
	t6 := b6.Struct("task", 48,
		btftest.M{Name: "pid", Type: i},
		btftest.M{Name: "parent", Type: b6.Ptr(other), BitOff: 64},
		btftest.M{Name: "arr", Type: arr, BitOff: 128})
	if bytes.Equal(f1, b6.BTF().CanonicalForm(t6)) {
		t.Error("a pointer to another struct keeps the form")
	}
}
