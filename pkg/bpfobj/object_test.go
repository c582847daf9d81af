package bpfobj_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
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

// TestInvalidRecords: records libbpf refuses whatever the kernel are kept
// (for inspection) with Invalid saying why, and Check names the first one
// inside a program: object, program, section and record index.
func TestInvalidRecords(t *testing.T) {
	for _, tc := range []struct {
		file, want string
	}{
		{"object-reloc-unknown-kind.bpf.o", "unknown relocation kind 42"},
		{"object-reloc-type-id-out-of-range.bpf.o", "local type ID 99999 out of range (the object's BTF has 42 types)"},
		{"object-reloc-string-offset-out-of-range.bpf.o", "access string offset 2147483647 beyond the string section"},
		{"object-reloc-access-not-a-path.bpf.o", `is not an access path`},
		{"object-reloc-misaligned-insn.bpf.o", "instruction offset 3 is not a multiple of 8"},
		{"object-reloc-anonymous-type.bpf.o", "byte_off relocation against anonymous local type [7]"},
	} {
		path := filepath.Join("../../testdata/bad", tc.file)
		o, err := bpfobj.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		r := o.Relocations[0]
		if !errors.Is(r.Invalid, bpfobj.ErrInvalidRecord) || !strings.Contains(r.Invalid.Error(), tc.want) {
			t.Errorf("%s: Invalid = %v, want ErrInvalidRecord saying %q", tc.file, r.Invalid, tc.want)
		}
		for _, other := range o.Relocations[1:] {
			if other.Invalid != nil {
				t.Errorf("%s: relo #%d: %v", tc.file, other.Index, other.Invalid)
			}
		}
		err = o.Check()
		prefix := path + ": program trace_execve (section tracepoint/raw_syscalls/sys_enter): CO-RE relocation #0: "
		if !errors.Is(err, bpfobj.ErrInvalidRecord) || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Check() = %v", tc.file, err)
		}
	}
}

// TestInvalidRecordOutsidePrograms: libbpf skips the records of no program
// (a __weak function the linker replaced): Check does too, but for a
// misaligned instruction offset, which libbpf refuses first.
func TestInvalidRecordOutsidePrograms(t *testing.T) {
	data, err := os.ReadFile("../../testdata/bpf/execsnoop.bpf.o")
	if err != nil {
		t.Fatal(err)
	}
	o, err := bpfobj.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	first := o.Relocations[0]
	// The record's bytes: insn_off, type_id, access_str_off, kind.
	rec := binary.LittleEndian.AppendUint32(nil, first.InsnOff)
	rec = binary.LittleEndian.AppendUint32(rec, uint32(first.TypeID))
	at := bytes.Index(data, rec)
	if at < 0 || bytes.Contains(data[at+1:], rec) {
		t.Fatal("cannot find the first record")
	}
	for _, tc := range []struct {
		name    string
		insnOff uint32
		refused bool
		inProg  bool
	}{
		{"outside every program", 1 << 20, false, false},
		{"outside every program, misaligned", 1<<20 + 4, true, false},
		{"in its program", first.InsnOff, true, true},
	} {
		patched := bytes.Clone(data)
		binary.LittleEndian.PutUint32(patched[at:], tc.insnOff)
		binary.LittleEndian.PutUint32(patched[at+12:], 42) // kind
		o, err := bpfobj.Parse(patched)
		if err != nil {
			t.Fatal(err)
		}
		r := o.Relocations[0]
		if r.InProgram() != tc.inProg || r.Invalid == nil {
			t.Errorf("%s: in program %v, Invalid %v", tc.name, r.InProgram(), r.Invalid)
		}
		if err := o.Check(); (err != nil) != tc.refused {
			t.Errorf("%s: Check() = %v, want refused %v", tc.name, err, tc.refused)
		}
	}
}
