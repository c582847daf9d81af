package inspect

import (
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
)

// ObjectInfo describes a BPF object.
type ObjectInfo struct {
	Path        string    `json:"path"`
	License     string    `json:"license"`
	Programs    []Program `json:"programs"`
	Relocations []Reloc   `json:"relocations"`
	Maps        []string  `json:"maps"`
}

// Program is a function of an executable section.
type Program struct {
	Section string `json:"section"`
	Name    string `json:"name"`
	Insns   int    `json:"insns"`
}

// Reloc is one CO-RE relocation of an object.
type Reloc struct {
	Section string `json:"section"`
	Program string `json:"program"`
	// Insn is the instruction index within the program.
	Insn int `json:"insn"`
	// Index is libbpf's "relo #N": the record's position in its section.
	Index int       `json:"relo"`
	Kind  core.Kind `json:"kind"`
	// Path is the readable access path ("struct task_struct.pid").
	Path string `json:"path"`
	// Error says why libbpf refuses the record whatever the kernel, if it
	// does (bpfobj.Relocation.Invalid).
	Error string `json:"error,omitempty"`
}

func newReloc(o *bpfobj.Object, i int) Reloc {
	r := &o.Relocations[i]
	rr := Reloc{Section: r.Section, Program: r.Program, Insn: r.Insn(o), Index: r.Index, Kind: r.Kind, Path: r.Path()}
	if r.Invalid != nil {
		rr.Error = r.Invalid.Error()
	}
	return rr
}

// DescribeObject describes o.
func DescribeObject(o *bpfobj.Object) *ObjectInfo {
	info := &ObjectInfo{Path: o.Path, License: o.License, Maps: o.Maps,
		Programs: make([]Program, 0, len(o.Programs)), Relocations: make([]Reloc, 0, len(o.Relocations))}
	if info.Maps == nil {
		info.Maps = []string{}
	}
	for _, p := range o.Programs {
		info.Programs = append(info.Programs, Program{Section: p.Section, Name: p.Name, Insns: p.Insns})
	}
	for i := range o.Relocations {
		info.Relocations = append(info.Relocations, newReloc(o, i))
	}
	return info
}
