package rawbtf

import "testing"

func TestStringIs(t *testing.T) {
	b := &BTF{strings: []byte("\x00task_struct\x00task\x00tas")}
	for _, c := range []struct {
		off  uint32
		name string
		want bool
	}{
		{0, "", true}, {1, "task_struct", true}, {1, "task", false}, {13, "task", true},
		{13, "task_struct", false}, {13, "tas", false}, {18, "tas", true}, {18, "tasks", false},
		{100, "", true}, {100, "x", false}, {0, "x", false},
	} {
		if got := b.StringIs(c.off, []byte(c.name)); got != c.want {
			t.Errorf("StringIs(%d, %q) = %v", c.off, c.name, got)
		}
		if got, want := b.StringIs(c.off, []byte(c.name)), string(b.StringBytes(c.off)) == c.name; got != want {
			t.Errorf("StringIs(%d, %q) = %v, StringBytes says %v", c.off, c.name, got, want)
		}
	}
	if !b.StringEmpty(0) || b.StringEmpty(1) || !b.StringEmpty(12) || !b.StringEmpty(100) {
		t.Error("StringEmpty")
	}
}
