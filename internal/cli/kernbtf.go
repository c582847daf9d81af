package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/btftool/btftool/internal/bpfprog"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/needsbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
	"github.com/btftool/btftool/pkg/reach"
)

// objectNeeds is one object's programs that need the kernel's own BTF,
// as the reports of gen and inspect compat list them.
type objectNeeds struct {
	Path     string             `json:"path"`
	Programs []needsbtf.Program `json:"programs"`
	// Summary is the line the text reports print.
	Summary string `json:"summary"`
}

// openPrograms reads the programs of objs (internal/bpfprog); an object
// that cannot be read for them is bad input.
func openPrograms(objs []*bpfobj.Object) ([]*bpfprog.Object, error) {
	progs := make([]*bpfprog.Object, len(objs))
	for i, o := range objs {
		p, err := bpfprog.Open(o.Path)
		if err != nil {
			return nil, inputError(err)
		}
		progs[i] = p
	}
	return progs, nil
}

// kernelBTFNeeds returns the objects of objs (whose programs are progs)
// some program of which needs the kernel's own BTF at load time.
func kernelBTFNeeds(objs []*bpfobj.Object, progs []*bpfprog.Object) []objectNeeds {
	var out []objectNeeds
	for i, o := range objs {
		if n := needsbtf.Analyze(progs[i]); len(n) > 0 {
			out = append(out, objectNeeds{Path: o.Path, Programs: n, Summary: needsbtf.Summary(n)})
		}
	}
	return out
}

// writeNeeds prints one line per object: "btftool: prog.bpf.o: 2
// program(s) need the kernel's own BTF at load time: ...".
func writeNeeds(w io.Writer, prefix string, needs []objectNeeds) {
	for _, n := range needs {
		fmt.Fprintf(w, "%s%s: %s\n", prefix, n.Path, n.Summary)
	}
}

// failingProgram is a program that fails on a kernel.
type failingProgram struct {
	Object  string   `json:"object"`
	Program string   `json:"program"`
	Why     []string `json:"why"`
}

// failingPrograms returns the programs of objs (whose programs are
// progs) that fail on the kernel
// results[i] are objs[i]'s decisions for (pkg/reach: a reachable poisoned
// instruction no program variant covers, an object libbpf refuses, or an
// attach target missing from kernel, when it is given).
func failingPrograms(objs []*bpfobj.Object, progs []*bpfprog.Object, results []*core.Decisions, kernel *rawbtf.BTF) ([]failingProgram, error) {
	var kern reach.Kernel
	if kernel != nil {
		kern.Attachable = reach.AttachTargets(kernel, progs...)
	}
	var out []failingProgram
	for i, o := range objs {
		v, err := reach.Decide(o, progs[i], results[i], kern)
		if err != nil {
			return nil, err
		}
		for _, pr := range v.Programs {
			if pr.Status == reach.ProgramFails {
				out = append(out, failingProgram{Object: o.Path, Program: pr.Name, Why: pr.Why})
			}
		}
	}
	return out, nil
}

// writePrograms prints the program verdicts of an inspect compat object
// that do not load as they are.
func writePrograms(w io.Writer, progs []reach.Program) {
	for _, p := range progs {
		if p.Status == reach.Loads {
			continue
		}
		line := fmt.Sprintf("  program %s (%s): %s", p.Name, p.Section, p.Status)
		if p.Variant != "" {
			line += " (variant " + p.Variant + " loads)"
		}
		if len(p.Why) > 0 {
			line += ": " + strings.Join(p.Why, "; ")
		}
		fmt.Fprintln(w, line)
	}
}
