package bpfobj_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
)

func TestCorpusHasEveryKind(t *testing.T) {
	paths, _ := filepath.Glob("../../testdata/bpf/*.bpf.o")
	if len(paths) == 0 {
		t.Fatal("no test objects")
	}
	seen := map[core.Kind]int{}
	for _, p := range paths {
		o, err := bpfobj.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if o.License != "GPL" {
			t.Errorf("%s: license %q", p, o.License)
		}
		for _, r := range o.Relocations {
			seen[r.Kind]++
			if r.Spec == nil {
				t.Errorf("%s: %s relo #%d: %v", p, r.Section, r.Index, r.SpecErr)
			}
			if r.Program == "" {
				t.Errorf("%s: %s relo #%d has no program", p, r.Section, r.Index)
			}
		}
	}
	for _, k := range core.Kinds() {
		if seen[k] == 0 {
			t.Errorf("no %s relocation in the corpus", k)
		}
	}
}

func TestExecsnoop(t *testing.T) {
	o, err := bpfobj.Open("../../testdata/bpf/execsnoop.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Programs) == 0 || len(o.Relocations) == 0 {
		t.Fatalf("%d programs, %d relocations", len(o.Programs), len(o.Relocations))
	}
	paths := map[string]bool{}
	for _, r := range o.Relocations {
		paths[r.Path()] = true
		if r.Insn(o) < 0 || r.Insn(o) >= 4096 {
			t.Errorf("instruction index %d", r.Insn(o))
		}
	}
	for _, want := range []string{"struct task_struct.real_parent", "struct task_struct.tgid"} {
		if !paths[want] {
			t.Errorf("no relocation with path %q in %v", want, paths)
		}
	}
}

func TestNoRelocations(t *testing.T) {
	o, err := bpfobj.Open("../../testdata/bpf/plain.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Relocations) != 0 || len(o.Programs) == 0 {
		t.Errorf("%d relocations, %d programs", len(o.Relocations), len(o.Programs))
	}
}

func TestBadObjects(t *testing.T) {
	data, err := os.ReadFile("../../testdata/bpf/execsnoop.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	host, _ := os.ReadFile(self)
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, bpfobj.ErrNotELF},
		{"text", []byte("#!/bin/sh\necho hi\n"), bpfobj.ErrNotELF},
		{"truncated", data[:200], bpfobj.ErrNotELF},
		{"host executable", host, bpfobj.ErrNotBPF},
	} {
		if _, err := bpfobj.Parse(tc.data); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
