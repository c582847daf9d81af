package inspect

import (
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/needsbtf"
)

// ObjectInfo describes a BPF object.
type ObjectInfo struct {
	Path        string    `json:"path"`
	License     string    `json:"license"`
	Programs    []Program `json:"programs"`
	Relocations []Reloc   `json:"relocations"`
	Maps        []string  `json:"maps"`
	// NeedsKernelBTF lists the programs that need the kernel's own BTF at
	// load time (set by callers that read the object for it with
	// needsbtf.AnalyzeFile).
	NeedsKernelBTF []needsbtf.Program `json:"needs_kernel_btf,omitempty"`
}

// Program is a function of an executable section.
type Program struct {
	Section string `json:"section"`
	Name    string `json:"name"`
	Insns   int    `json:"insns"`
}

// Reloc is one CO-RE relocation record of an object.
type Reloc struct {
	core.Location
	// Error says why libbpf refuses the record whatever the kernel, if it
	// does (bpfobj.Relocation.Invalid).
	Error string `json:"error,omitempty"`
}

func newReloc(o *bpfobj.Object, i int) Reloc {
	rr := Reloc{Location: o.Location(i)}
	if err := o.Relocations[i].Invalid; err != nil {
		rr.Error = err.Error()
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
