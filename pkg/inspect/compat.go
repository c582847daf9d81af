package inspect

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/btftool/btftool/internal/bpfprog"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/rawbtf"
	"github.com/btftool/btftool/pkg/reach"
)

// Status is the outcome of one relocation on one kernel.
type Status string

// The outcomes of a relocation.
const (
	// OK: a candidate matched; the instruction is patched.
	OK Status = "ok"
	// Guard: nothing matched, and the relocation is harmless on this
	// kernel: an existence check (field_exists, type_exists,
	// type_matches, enumval_exists) that evaluates to 0, or a poisoned
	// instruction the verifier cannot reach once those checks are
	// patched (pkg/reach follows the program's control flow).
	Guard Status = "guard"
	// Alternative: the poisoned instruction is reachable in its program,
	// but a variant of the program in the same object (kprobe beside
	// fentry, raw_tp beside tp_btf) loads: the loader must disable the
	// failing one. For an object pkg/reach cannot read, a heuristic
	// instead: another flavor of the same type (X___a and X___b, or X___a
	// and X) succeeds in the same program.
	Alternative Status = "alternative"
	// WillFail: the poisoned instruction is reachable and no variant
	// covers it: the verifier rejects the program.
	WillFail Status = "will-fail"
	// LoadFails: libbpf refuses the whole object (ambiguous candidates,
	// invalid access string, anonymous root type, uncomputable value).
	LoadFails Status = "load-fails"
)

// Counts counts relocations by status.
type Counts struct {
	Relocations int `json:"relocations"`
	OK          int `json:"ok"`
	Guard       int `json:"guard"`
	Alternative int `json:"alternative"`
	WillFail    int `json:"will_fail"`
	LoadFails   int `json:"load_fails"`
	// FromModules counts the OK relocations whose candidates come from
	// kernel modules (vmlinux has none).
	FromModules int `json:"from_modules,omitempty"`
	// FailingPrograms counts the programs that fail with no variant to
	// cover them: those reaching a poisoned instruction and, with
	// RunOptions.NoKernelBTF, those needing the kernel's own BTF.
	FailingPrograms int `json:"failing_programs,omitempty"`
}

func (c *Counts) add(s Status) {
	c.Relocations++
	switch s {
	case OK:
		c.OK++
	case Guard:
		c.Guard++
	case Alternative:
		c.Alternative++
	case WillFail:
		c.WillFail++
	case LoadFails:
		c.LoadFails++
	}
}

// Add adds the counts of o to c.
func (c *Counts) Add(o Counts) {
	c.Relocations += o.Relocations
	c.OK += o.OK
	c.Guard += o.Guard
	c.Alternative += o.Alternative
	c.WillFail += o.WillFail
	c.LoadFails += o.LoadFails
	c.FromModules += o.FromModules
	c.FailingPrograms += o.FailingPrograms
}

// Failing reports whether a relocation will fail, the load fails or a
// program fails.
func (c Counts) Failing() bool { return c.WillFail+c.LoadFails+c.FailingPrograms > 0 }

// RelocResult is one relocation's outcome on one kernel: libbpf's
// decision (Status, Value, Error), the kernel modules that served it
// (Modules), and how it bears on the kernel's compatibility (Compat).
type RelocResult struct {
	core.Report
	Compat Status `json:"compat"`
}

// ObjectResult is the outcome of one object's relocations on one kernel.
type ObjectResult struct {
	Path string `json:"path"`
	Counts
	// Details lists the relocations that are not OK or that kernel
	// modules serve, in libbpf's order; every relocation when Check was
	// asked for all of them.
	Details []RelocResult `json:"details,omitempty"`
	// Programs gives the programs that do not load as they are (every
	// program when Check was asked for all relocations) their verdict.
	Programs []reach.Program `json:"programs,omitempty"`
}

// NeededNames returns the essential names of the local root types that the
// relocations of objs look up, for core.NewTargetFor.
func NeededNames(objs []*bpfobj.Object) map[string]struct{} {
	names := map[string]struct{}{}
	for _, o := range objs {
		for _, r := range o.Relocations {
			if r.Spec == nil || r.Kind == core.TypeIDLocal || !o.BTF.Valid(r.TypeID) {
				continue
			}
			if n := o.BTF.Type(r.TypeID).NameBytes(); len(n) > 0 {
				names[string(rawbtf.EssentialName(n))] = struct{}{}
			}
		}
	}
	return names
}

// Check decides every relocation of every object against target, one
// core.Relocator per object as libbpf loads each object on its own. With
// all set, Details lists every relocation, otherwise only those not OK.
func Check(target *core.Target, objs []*bpfobj.Object, all bool) []ObjectResult {
	return check(target, nil, objs, programsOf(objs), reach.Kernel{}, all)
}

// CheckModules is Check against a kernel's vmlinux BTF and its modules:
// the local types vmlinux has no candidate for are looked for in the
// modules, as libbpf does on the running kernel, and the results name the
// modules that serve them. Errors are those of kmod.Set.Extend.
func CheckModules(vmlinux *rawbtf.BTF, mods *kmod.Set, objs []*bpfobj.Object, all bool) ([]ObjectResult, error) {
	target := core.NewTargetFor(vmlinux, NeededNames(objs))
	return checkModules(target, mods, objs, programsOf(objs), reach.Kernel{}, all)
}

func checkModules(target *core.Target, mods *kmod.Set, objs []*bpfobj.Object, progs []*reach.Prepared, kern reach.Kernel, all bool) ([]ObjectResult, error) {
	k, target, err := mods.ExtendFor(target, objs)
	if err != nil {
		return nil, err
	}
	return check(target, k, objs, progs, kern, all), nil
}

// programsOf reads the programs of objs and prepares them for pkg/reach,
// once for every kernel; an entry is nil when the object cannot be read
// again (it has no path), and its relocations are then classified by the
// flavor heuristic.
func programsOf(objs []*bpfobj.Object) []*reach.Prepared {
	progs := make([]*reach.Prepared, len(objs))
	for i, o := range objs {
		if o.Path != "" {
			if p, err := bpfprog.Open(o.Path); err == nil {
				progs[i] = reach.Prepare(o, p)
			}
		}
	}
	return progs
}

// check is Check; k, when set, names the modules candidates come from.
// The relocations of an object whose programs are known (progs[i]) are
// classified by pkg/reach (with what kern says of the kernel), the others
// by the flavor heuristic.
func check(target *core.Target, k *kmod.Kernel, objs []*bpfobj.Object, progs []*reach.Prepared, kern reach.Kernel, all bool) []ObjectResult {
	out := make([]ObjectResult, len(objs))
	for i, o := range objs {
		rl := core.NewRelocator(o.BTF, target)
		results := make([]core.Result, len(o.Relocations))
		for j := range o.Relocations {
			r := &o.Relocations[j]
			results[j] = rl.Relocate(r.Relo, r.Spec, r.SpecErr)
		}
		statuses := classify(o, results)
		or := ObjectResult{Path: o.Path}
		if progs[i] != nil {
			d := core.DecisionsOf(results)
			if v, err := progs[i].Decide(&d, kern); err == nil {
				statuses = fromReach(v)
				for _, p := range v.Programs {
					if p.Status == reach.ProgramFails {
						or.FailingPrograms++
					}
					if all || p.Status != reach.Loads {
						or.Programs = append(or.Programs, p)
					}
				}
			}
		}
		for j, st := range statuses {
			or.add(st)
			res := &results[j]
			var mods []string
			if k != nil && st == OK {
				if mods = k.ModulesOf(res.Matched); len(mods) > 0 {
					or.FromModules++
				}
			}
			if st == OK && !all && len(mods) == 0 {
				continue
			}
			rr := RelocResult{Report: o.Report(j, res), Compat: st}
			rr.Modules = mods
			or.Details = append(or.Details, rr)
		}
		out[i] = or
	}
	return out
}

// fromReach maps pkg/reach's verdicts to compat statuses.
func fromReach(v *reach.Object) []Status {
	st := make([]Status, v.NumRelocs())
	for j := range st {
		switch v.RelocStatus(j) {
		case core.StatusOK:
			st[j] = OK
		case core.StatusGuarded:
			st[j] = Guard
		case core.StatusAlternative:
			st[j] = Alternative
		case core.StatusWillFail:
			st[j] = WillFail
		default:
			st[j] = LoadFails
		}
	}
	return st
}

// classify gives each relocation its Status by the flavor heuristic (see
// Alternative), for objects pkg/reach cannot read.
func classify(o *bpfobj.Object, results []core.Result) []Status {
	st := make([]Status, len(results))
	for j := range results {
		r := &results[j]
		switch {
		case r.Err != nil:
			st[j] = LoadFails
		case !r.Unsatisfied():
			st[j] = OK
		case !r.Poison:
			st[j] = Guard
		default:
			st[j] = WillFail
		}
	}
	// A poisoned relocation has an alternative when a satisfied one of the
	// same program and kind class has a root of another name with the same
	// essential name (task_struct___old beside task_struct): the root
	// names of the satisfied ones, by program, class and essential name.
	type place struct {
		section, program string
		class            int
		ess              string
	}
	var roots map[place][]string
	for j := range results {
		if st[j] != WillFail {
			continue
		}
		if roots == nil {
			roots = map[place][]string{}
			for k := range results {
				if st[k] != OK {
					continue
				}
				rk := &o.Relocations[k]
				name := rootName(o, rk)
				at := place{rk.Section, rk.Program, kindClass(rk.Kind), string(rawbtf.EssentialName(name))}
				if names := roots[at]; !slices.Contains(names, string(name)) {
					roots[at] = append(names, string(name))
				}
			}
		}
		rj := &o.Relocations[j]
		name := rootName(o, rj)
		for _, other := range roots[place{rj.Section, rj.Program, kindClass(rj.Kind), string(rawbtf.EssentialName(name))}] {
			if other != string(name) {
				st[j] = Alternative
				break
			}
		}
	}
	return st
}

func rootName(o *bpfobj.Object, r *bpfobj.Relocation) []byte {
	if !o.BTF.Valid(r.TypeID) {
		return nil
	}
	return o.BTF.Type(r.TypeID).NameBytes()
}

func kindClass(k core.Kind) int {
	switch {
	case k.IsField():
		return 0
	case k.IsEnumval():
		return 1
	}
	return 2
}

// Kernel is one kernel BTF to check.
type Kernel struct {
	// Path is the file to read; Name is how reports call it (the path
	// relative to the tree searched, or the path itself).
	Path string `json:"path"`
	Name string `json:"name"`
	// Distro, Version, Arch and Release come from a btfhub layout.
	Distro  string `json:"distro,omitempty"`
	Version string `json:"version,omitempty"`
	Arch    string `json:"arch,omitempty"`
	Release string `json:"release,omitempty"`
	// Modules is where the kernel's module BTF is (see kbtf.ReadModules);
	// empty when the kernel is checked without modules.
	Modules string `json:"modules,omitempty"`
}

// KernelResult is the outcome of all objects on one kernel.
type KernelResult struct {
	Kernel
	// Error is set when the kernel BTF could not be read; then there are
	// no Objects.
	Error string `json:"error,omitempty"`
	Counts
	Objects []ObjectResult `json:"objects,omitempty"`
}

// RunOptions tunes Run.
type RunOptions struct {
	// Jobs is the number of kernels checked at once; 0 means
	// runtime.NumCPU().
	Jobs int
	// Read reads and parses a kernel BTF. It is required.
	Read func(path string) (*rawbtf.BTF, error)
	// ReadModules reads a kernel's module BTF (Kernel.Modules); nil for
	// kmod.Open with the default options.
	ReadModules func(path string) (*kmod.Set, error)
	// All lists every relocation in the Details, not only those not OK.
	All bool
	// NoKernelBTF says the kernels have no BTF of their own (as those
	// btfhub serves): the programs that need it (pkg/needsbtf) fail, or
	// need their variant. Otherwise a kernel checked without modules
	// fails the programs whose attach target (fentry function, tracepoint,
	// LSM hook, iterator) its BTF lacks.
	NoKernelBTF bool
	// Done, if set, is called after each kernel, from any goroutine.
	Done func(KernelResult)
}

// Run checks objs against every kernel, Jobs kernels at a time. Each
// worker holds one kernel BTF in memory at a time, indexed only for the
// names the objects need. Results are in the order of kernels.
func Run(kernels []Kernel, objs []*bpfobj.Object, opts RunOptions) []KernelResult {
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	names := NeededNames(objs)
	progs := programsOf(objs)
	out := make([]KernelResult, len(kernels))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(jobs, max(1, len(kernels))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				kr := KernelResult{Kernel: kernels[i]}
				b, err := opts.Read(kernels[i].Path)
				if err == nil {
					kr.Objects, err = runOne(kernels[i], b, names, objs, progs, opts)
				}
				if err != nil {
					kr.Error = err.Error()
				}
				for _, o := range kr.Objects {
					kr.Add(o.Counts)
				}
				out[i] = kr
				if opts.Done != nil {
					opts.Done(kr)
				}
			}
		}()
	}
	for i := range kernels {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// runOne checks objs against one kernel, with its modules when it has.
func runOne(k Kernel, b *rawbtf.BTF, names map[string]struct{}, objs []*bpfobj.Object, progs []*reach.Prepared, opts RunOptions) ([]ObjectResult, error) {
	target := core.NewTargetFor(b, names)
	if k.Modules == "" {
		kern := reach.Kernel{NoBTF: opts.NoKernelBTF}
		if !kern.NoBTF {
			kern.Attachable = reach.AttachTargetsOf(b, progs...)
		}
		return check(target, nil, objs, progs, kern, opts.All), nil
	}
	read := opts.ReadModules
	if read == nil {
		read = func(path string) (*kmod.Set, error) { return kmod.Open([]string{path}, nil) }
	}
	mods, err := read(k.Modules)
	if err != nil {
		return nil, err
	}
	if err := mods.CheckRelease(k.Release); err != nil {
		return nil, fmt.Errorf("%s: %w", k.Modules, err)
	}
	return checkModules(target, mods, objs, progs, reach.Kernel{NoBTF: opts.NoKernelBTF}, opts.All)
}
