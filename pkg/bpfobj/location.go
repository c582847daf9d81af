package bpfobj

import "github.com/btftool/btftool/pkg/core"

// Location returns where relocation i of o is and what it accesses, for
// core.NewReport.
func (o *Object) Location(i int) core.Location {
	r := &o.Relocations[i]
	return core.Location{Section: r.Section, Program: r.Program, Insn: r.Insn(o), Index: r.Index, Kind: r.Kind, Path: o.specPath(r)}
}

// Report describes the decision res for relocation i of o.
func (o *Object) Report(i int, res *core.Result) core.Report {
	return core.NewReport(o.Location(i), res)
}
