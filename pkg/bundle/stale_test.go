package bundle_test

import (
	"testing"

	"github.com/btftool/btftool/pkg/bundle"
)

func TestCheckObject(t *testing.T) {
	idx := &bundle.Index{Format: 2, Objects: []bundle.Object{
		{Name: "execsnoop.bpf.o", SHA256: sha256Hex([]byte("v1"))},
		{Name: "a/dup.bpf.o", SHA256: sha256Hex([]byte("a"))},
		{Name: "b/dup.bpf.o", SHA256: sha256Hex([]byte("b"))},
	}}
	tests := []struct {
		name, data string
		state      bundle.ObjectState
		recorded   string
	}{
		{"execsnoop.bpf.o", "v1", bundle.ObjectUnchanged, "execsnoop.bpf.o"},
		{"../../build/execsnoop.bpf.o", "v1", bundle.ObjectUnchanged, "execsnoop.bpf.o"},
		{"build/execsnoop.bpf.o", "v2", bundle.ObjectChanged, "execsnoop.bpf.o"},
		{"renamed.bpf.o", "v1", bundle.ObjectUnchanged, "execsnoop.bpf.o"},
		{"other.bpf.o", "x", bundle.ObjectNotInBundle, ""},
		{"a/dup.bpf.o", "c", bundle.ObjectChanged, "a/dup.bpf.o"},
		{"b/dup.bpf.o", "b", bundle.ObjectUnchanged, "b/dup.bpf.o"},
		{"c/dup.bpf.o", "c", bundle.ObjectNotInBundle, ""}, // two candidates by base name: none chosen
	}
	for _, tt := range tests {
		c := idx.CheckObject(tt.name, []byte(tt.data))
		if c.State != tt.state || c.Recorded != tt.recorded || c.Stale() != (tt.state != bundle.ObjectUnchanged) {
			t.Errorf("%s: %+v, want %s from %q", tt.name, c, tt.state, tt.recorded)
		}
	}
	// A format 1 bundle records no objects: everything is unknown.
	if c := (&bundle.Index{Format: 1}).CheckObject("x.o", nil); c.State != bundle.ObjectNotInBundle {
		t.Errorf("format 1: %+v", c)
	}
}
