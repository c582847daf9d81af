package cli

import (
	"errors"
	"fmt"
	"sync"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/verify"
)

// errNotEquivalent is returned by the --verify hook when a generated BTF
// does not decide every relocation as the full BTF does.
var errNotEquivalent = errors.New("minimized BTF not equivalent")

// newVerifyHook returns the function gen --verify and batch jobs with
// verify: true call for every generated BTF before it is written. The
// objects are read by cilium/ebpf once per run, the full BTF once per
// kernel. An error names the first broken relocation.
func newVerifyHook() func(full, min []byte, mods *kmod.Set, objs []*bpfobj.Object) error {
	var (
		once sync.Once
		plan *verify.Plan
	)
	return func(full, min []byte, mods *kmod.Set, objs []*bpfobj.Object) error {
		once.Do(func() {
			allowBPFMemory()
			plan = verify.NewPlan(objs)
		})
		var k *verify.Kernel
		var err error
		if mods != nil {
			k, err = verify.NewKernelModules(full, mods)
		} else {
			k, err = verify.NewKernel(full)
		}
		if err != nil {
			return err
		}
		rep, err := plan.Check(k, min, verify.Options{})
		if err != nil {
			return err
		}
		if rep.Equivalent() {
			return nil
		}
		return fmt.Errorf("%w: %s", errNotEquivalent, firstProblem(rep))
	}
}

// firstProblem describes the first mismatch or failed check of a report.
func firstProblem(rep *verify.Report) string {
	for _, r := range rep.Relocations {
		if r.Status == verify.StatusMismatch {
			return fmt.Sprintf("%d mismatches, first: %s %s insn %d: %s %s: full %s, minimized %s",
				rep.Count(verify.StatusMismatch), r.Object, r.Program, r.Insn, r.Kind, r.Path, r.Full, r.Min)
		}
	}
	for _, w := range rep.WellFormed {
		if w.Status == "failed" {
			return fmt.Sprintf("not well-formed (%s): %s", w.Name, w.Detail)
		}
	}
	return "verification failed"
}
