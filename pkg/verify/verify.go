package verify

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// Errors returned by NewKernel, NewPlan and Check, wrapped with details.
var (
	// ErrTruncated means a BTF blob is shorter than its header says.
	ErrTruncated = errors.New("truncated BTF")
	// ErrFullBTF means the full kernel BTF cannot be read by rawbtf or
	// cilium/ebpf, so nothing can be compared against it.
	ErrFullBTF = errors.New("full BTF unusable")
)

// Options tunes Check.
type Options struct {
	// Load also loads every program into the running kernel, relocated
	// against each BTF, and requires the same outcome. It needs CAP_BPF
	// (root); without it the load check is skipped with a note. On kernels
	// before 5.11 the caller must first lift RLIMIT_MEMLOCK (for example
	// with github.com/cilium/ebpf/rlimit.RemoveMemlock); package verify
	// does not change process limits.
	Load bool
	// NoKernelBTF skips offering the minimized BTF to the running kernel's
	// BTF loader.
	NoKernelBTF bool
}

// Status is the verdict on one relocation.
type Status string

// The statuses of a relocation.
const (
	// StatusOK means the minimized BTF reproduces the full BTF's outcome
	// and both engines agree on the full BTF.
	StatusOK Status = "ok"
	// StatusMismatch means the minimized BTF gives another outcome than
	// the full BTF: the minimized BTF is incomplete or wrong.
	StatusMismatch Status = "MISMATCH"
	// StatusEngineDisagreement means the minimized BTF reproduces the full
	// BTF's outcome but cilium/ebpf and btftool's libbpf engine decide
	// differently on the full BTF.
	StatusEngineDisagreement Status = "engine-disagreement"
	// StatusSkipped means the relocation could not be compared (see the
	// report's notes).
	StatusSkipped Status = "skipped"
)

// Outcome is what one engine did to one relocated instruction.
type Outcome struct {
	// Poison means the instruction was replaced by an invalid one.
	Poison bool `json:"poison,omitempty"`
	// Value is the relocated offset or immediate; nil when poisoned or on
	// error.
	Value *uint64 `json:"value,omitempty"`
	// Type describes the target type of a target_type_id relocation
	// ("struct task_struct size 9792").
	Type string `json:"type,omitempty"`
	// Insn is the relocated instruction as cilium/ebpf prints it; empty for
	// btftool's engine.
	Insn string `json:"insn,omitempty"`
	// Err is set when the engine refused the program (cilium/ebpf), the
	// object (libbpf) or the fixup.
	Err string `json:"error,omitempty"`
}

// String formats the outcome briefly: "poison", "1234", "error: ...".
func (o Outcome) String() string {
	switch {
	case o.Err != "":
		return "error: " + o.Err
	case o.Poison:
		return "poison"
	case o.Type != "":
		return fmt.Sprintf("%d (%s)", *o.Value, o.Type)
	case o.Value != nil:
		return fmt.Sprint(*o.Value)
	}
	return "none"
}

// RelocReport is the verdict on one relocation of one program.
type RelocReport struct {
	// Object is the object's path.
	Object string `json:"object"`
	// Program is the program (entry function) being relocated, Section its
	// ELF section.
	Program string `json:"program"`
	Section string `json:"section"`
	// Function is the function holding the instruction: Program itself,
	// or a subprogram linked into it.
	Function string `json:"function"`
	// Insn is the instruction index within Function.
	Insn int       `json:"insn"`
	Kind core.Kind `json:"kind"`
	// Path is the readable access path ("struct task_struct.real_parent").
	Path string `json:"path"`
	// Full and Min are cilium/ebpf's outcomes with the full and the
	// minimized BTF; Libbpf is btftool's libbpf engine with the full BTF
	// (nil when the relocation could not be matched to a .BTF.ext record).
	Full   Outcome  `json:"full"`
	Min    Outcome  `json:"minimized"`
	Libbpf *Outcome `json:"libbpf,omitempty"`
	Status Status   `json:"status"`
	// Why explains a status other than ok.
	Why string `json:"why,omitempty"`
}

// WellFormedCheck is one well-formedness check of the minimized BTF.
type WellFormedCheck struct {
	// Name is "rawbtf", "cilium/ebpf" or "kernel".
	Name string `json:"name"`
	// Status is "ok", "failed" or "skipped".
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// LoadReport is the outcome of loading one program into the running
// kernel with each BTF (Options.Load).
type LoadReport struct {
	Object  string `json:"object"`
	Program string `json:"program"`
	// Full and Min are "loaded" or a rejection class: "not-supported",
	// "verifier", "co-re", "permission" or "other".
	Full      string `json:"full"`
	Min       string `json:"minimized"`
	FullError string `json:"full_error,omitempty"`
	MinError  string `json:"minimized_error,omitempty"`
	Same      bool   `json:"same"`
}

// Report is the result of Check.
type Report struct {
	// Objects is the number of objects checked.
	Objects int `json:"objects"`
	// Relocations holds one entry per relocated instruction per program,
	// in object, program and instruction order.
	Relocations []RelocReport `json:"relocations"`
	// WellFormed holds the well-formedness checks of the minimized BTF.
	WellFormed []WellFormedCheck `json:"well_formed"`
	// Loads holds the load checks, with Options.Load.
	Loads []LoadReport `json:"loads,omitempty"`
	// Notes lists what could not be checked and why.
	Notes []string `json:"notes,omitempty"`
}

// Count returns the number of relocations with status s.
func (r *Report) Count(s Status) int {
	n := 0
	for i := range r.Relocations {
		if r.Relocations[i].Status == s {
			n++
		}
	}
	return n
}

// IsWellFormed reports whether no well-formedness check failed.
func (r *Report) IsWellFormed() bool {
	for _, c := range r.WellFormed {
		if c.Status == "failed" {
			return false
		}
	}
	return true
}

// LoadMismatches returns the number of programs that fared differently
// with the two BTFs.
func (r *Report) LoadMismatches() int {
	n := 0
	for _, l := range r.Loads {
		if !l.Same {
			n++
		}
	}
	return n
}

// Equivalent reports whether the minimized BTF is well-formed and every
// relocation (and, with Options.Load, every program load) has the same
// outcome with it as with the full BTF. Engine disagreements and skipped
// relocations do not count against it.
func (r *Report) Equivalent() bool {
	return r.IsWellFormed() && r.Count(StatusMismatch) == 0 && r.LoadMismatches() == 0
}

// Kernel is a full kernel BTF prepared once for any number of checks. It
// is not safe for concurrent use.
type Kernel struct {
	raw []byte
	btf *rawbtf.BTF
	// cilium/ebpf's spec is read in the background: specDone is closed
	// once spec or specErr is set.
	specDone chan struct{}
	spec     *btf.Spec
	specErr  error
	// target is btftool's candidate index for the plan last checked.
	targetPlan *Plan
	target     *core.Target
	// mods are the kernel's modules (NewKernelModules); for the plan last
	// checked, vmTarget indexes vmlinux alone (which relocations the
	// modules serve), ext is vmlinux with the modules needed, and
	// modSpec, cilium/ebpf's view of their types, split BTF on spec.
	mods     *kmod.Set
	vmTarget *core.Target
	ext      *kmod.Kernel
	extErr   error
	modSpec  *btf.Spec
}

// NewKernel parses a full kernel BTF (raw, either byte order) with rawbtf
// and starts reading it with cilium/ebpf in the background, so that the
// caller can go on while cilium/ebpf decodes. An error from rawbtf wraps
// ErrFullBTF; one from cilium/ebpf is returned by Check, also wrapping
// ErrFullBTF. The Kernel aliases raw.
//
// cilium/ebpf v0.22 knows neither the layout section nor 24-bit vlens: it
// is given the full BTF re-encoded in the classic format when needed (see
// ciliumView). A full BTF it cannot be given at all is an error wrapping
// ErrFullBTF.
func NewKernel(raw []byte) (*Kernel, error) {
	k := &Kernel{raw: raw, specDone: make(chan struct{})}
	load := func(data []byte) {
		defer close(k.specDone)
		k.spec, k.specErr = btf.LoadSpecFromReader(bytes.NewReader(data))
		if k.specErr != nil {
			k.specErr = fmt.Errorf("%w: cilium/ebpf: %w", ErrFullBTF, k.specErr)
		}
	}
	// Only a BTF with a layout section can have types of unknown kinds:
	// any other cilium/ebpf reads as it is, while rawbtf parses it.
	layout := hasLayoutSection(raw)
	if !layout {
		go load(raw)
	}
	b, err := rawbtf.Parse(raw)
	if err == nil {
		err = checkVlens(b)
	}
	if err != nil {
		if !layout {
			<-k.specDone
		}
		return nil, fmt.Errorf("%w: %w", ErrFullBTF, err)
	}
	k.btf = b
	if layout {
		view, err := ciliumView(b, raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFullBTF, err)
		}
		go load(view)
	}
	return k, nil
}

// Close waits until nothing the Kernel started in the background reads
// its raw BTF any more. After Close the Kernel must not be used, and the
// caller may reuse the memory of the raw BTF it gave NewKernel (a
// kbtf.Reader's buffer, say).
func (k *Kernel) Close() { <-k.specDone }

// NewKernelModules is NewKernel for a kernel whose modules' BTF is known:
// the relocations of local types vmlinux has no candidate for are decided
// against the modules' types, as libbpf does on the running kernel (see
// pkg/kmod), by both engines. cilium/ebpf relocates the others against
// vmlinux alone and these against the modules' types alone (split BTF on
// vmlinux), so that it follows libbpf's rule: left to itself, with
// several targets, cilium/ebpf takes the candidates of all of them at once,
// vmlinux's and every module's. Modules that do not fit the kernel fail
// Plan.Check with an error wrapping kmod.ErrWrongKernel.
func NewKernelModules(raw []byte, mods *kmod.Set) (*Kernel, error) {
	k, err := NewKernel(raw)
	if err != nil {
		return nil, err
	}
	k.mods = mods
	return k, nil
}

// hasLayoutSection reports whether the header of raw BTF locates a layout
// section (kernel 7.1's format).
func hasLayoutSection(raw []byte) bool {
	if len(raw) < 32 {
		return false
	}
	var order binary.ByteOrder = binary.LittleEndian
	if binary.BigEndian.Uint16(raw) == rawbtf.Magic {
		order = binary.BigEndian
	}
	return order.Uint32(raw[4:]) >= 32 && order.Uint32(raw[28:]) != 0
}

// errWide means a type has more entries than cilium/ebpf reads.
var errWide = errors.New("cilium/ebpf v0.22 reads at most 65535 members, enumerators, parameters or variables per type")

// checkVlens fails for a type of a known kind with more entries than
// cilium/ebpf v0.22 reads: it decodes 16 bits of vlen, and would misread
// the type and all after it without an error.
func checkVlens(b *rawbtf.BTF) error {
	for id := 1; id < b.NumTypes(); id++ {
		t := b.Type(rawbtf.TypeID(id))
		if t.Vlen() > rawbtf.MaxClassicVlen && t.Kind().Known() {
			return fmt.Errorf("%w: type [%d] %s '%s' has %d", errWide, id, t.Kind().C(), rawbtf.PrintableName(t.NameBytes()), t.Vlen())
		}
	}
	return nil
}

// ciliumView returns the full BTF b (parsed from raw) as cilium/ebpf v0.22
// can read it. It fails on types of kinds 20 to 31 and misreads those of
// kinds from 32 (it decodes 5 bits of kind), and it ignores the layout
// section: when b has types of kinds rawbtf does not know, it is given b
// re-encoded in the classic format with each of them replaced by a
// placeholder (rawbtf.Encoder.Copy), which no CO-RE relation matches, as
// none matches the type it stands for. IDs stay as they are, so both
// engines name the same types.
func ciliumView(b *rawbtf.BTF, raw []byte) ([]byte, error) {
	unknown := false
	for id := 1; id < b.NumTypes() && !unknown; id++ {
		unknown = !b.Type(rawbtf.TypeID(id)).Kind().Known()
	}
	if !unknown {
		return raw, nil
	}
	enc := rawbtf.NewEncoder(b.ByteOrder())
	for id := 1; id < b.NumTypes(); id++ {
		if _, err := enc.Copy(b.Type(rawbtf.TypeID(id)), rawbtf.Edit{}); err != nil {
			return nil, err
		}
	}
	return enc.Bytes()
}

// ciliumSpec waits for cilium/ebpf's spec of the kernel.
func (k *Kernel) ciliumSpec() (*btf.Spec, error) {
	<-k.specDone
	return k.spec, k.specErr
}

// Plan is a set of objects prepared once, with both btftool's and
// cilium/ebpf's readers, for checks against any number of kernels.
type Plan struct {
	objs  []*planObject
	names map[string]struct{}
}

type planObject struct {
	obj *bpfobj.Object
	// spec is cilium/ebpf's view; nil when it cannot read the object, and
	// then err says why.
	spec *ebpf.CollectionSpec
	err  error
	once sync.Once
	// progs are spec's programs in section and name order; sites and relos
	// are their CO-RE relocated instructions and relocations.
	progs []*ebpf.ProgramSpec
	sites [][]site
	relos [][]*btf.CORERelocation
	// byOff maps section and instruction offset to a relocation index.
	byOff map[secOff]int
}

type secOff struct {
	section string
	off     uint32
}

// targetFor returns btftool's candidate index of k for p's names, with
// the modules p needs when k has modules.
func (k *Kernel) targetFor(p *Plan) *core.Target {
	if k.targetPlan == p {
		return k.target
	}
	k.targetPlan, k.target = p, core.NewTargetFor(k.btf, p.names)
	k.vmTarget, k.ext, k.extErr, k.modSpec = nil, nil, nil, nil
	if k.mods == nil {
		return k.target
	}
	k.vmTarget = k.target
	objs := make([]*bpfobj.Object, len(p.objs))
	for i, po := range p.objs {
		objs[i] = po.obj
	}
	var target *core.Target
	k.ext, target, k.extErr = k.mods.ExtendFor(k.vmTarget, objs)
	if k.extErr == nil {
		k.target = target
	}
	return k.target
}

// servedByModules reports whether libbpf looks for the candidates of
// relocation idx of o in the kernel's modules: the kernel has modules and
// vmlinux has no candidate for its local type.
func (k *Kernel) servedByModules(o *bpfobj.Object, idx int) bool {
	if k.vmTarget == nil || k.ext == nil || k.ext.BTF == k.btf {
		return false
	}
	r := &o.Relocations[idx]
	return r.Kind != core.TypeIDLocal && o.BTF.Valid(r.TypeID) && len(k.vmTarget.Candidates(o.BTF.Type(r.TypeID))) == 0
}

// NewPlan prepares objects. Each object with CO-RE relocations is read
// again from its Path by cilium/ebpf (in parallel); an object cilium/ebpf
// cannot read is not an error, its relocations are reported as not
// checked.
func NewPlan(objs []*bpfobj.Object) *Plan {
	return NewPlanWith(objs, PlanOptions{})
}

// PlanOptions tunes NewPlanWith.
type PlanOptions struct {
	// Workers is how many objects cilium/ebpf reads at once; zero means
	// GOMAXPROCS. A caller that keeps a core busy meanwhile, decompressing
	// a kernel BTF say, finishes sooner with one fewer.
	Workers int
}

// NewPlanWith is NewPlan with options.
func NewPlanWith(objs []*bpfobj.Object, opts PlanOptions) *Plan {
	p := &Plan{names: map[string]struct{}{}, objs: make([]*planObject, len(objs))}
	for i, o := range objs {
		po := &planObject{obj: o, byOff: make(map[secOff]int, len(o.Relocations))}
		for j, r := range o.Relocations {
			po.byOff[secOff{r.Section, r.InsnOff}] = j
			if r.Kind != core.TypeIDLocal && o.BTF.Valid(r.TypeID) {
				if name := o.BTF.Type(r.TypeID).NameBytes(); len(name) > 0 {
					p.names[string(rawbtf.EssentialName(name))] = struct{}{}
				}
			}
		}
		p.objs[i] = po
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	next := make(chan *planObject)
	for range min(workers, len(objs)) {
		wg.Go(func() {
			for po := range next {
				po.read()
			}
		})
	}
	for _, po := range p.objs {
		if len(po.obj.Relocations) > 0 {
			next <- po
		}
	}
	close(next)
	wg.Wait()
	return p
}

// read loads cilium/ebpf's view of the object, once. NewPlan reads the
// objects with CO-RE relocations; a load check reads the others.
func (po *planObject) read() { po.once.Do(po.load) }

func (po *planObject) load() {
	if po.obj.Path == "" {
		po.err = errors.New("object has no path to read it from")
		return
	}
	po.spec, po.err = ebpf.LoadCollectionSpec(po.obj.Path)
	if po.spec == nil {
		return
	}
	for _, ps := range po.spec.Programs {
		po.progs = append(po.progs, ps)
	}
	sort.Slice(po.progs, func(i, j int) bool {
		a, b := po.progs[i], po.progs[j]
		if a.SectionName != b.SectionName {
			return a.SectionName < b.SectionName
		}
		return a.Name < b.Name
	})
	po.sites = make([][]site, len(po.progs))
	po.relos = make([][]*btf.CORERelocation, len(po.progs))
	for i, ps := range po.progs {
		po.sites[i] = sites(ps)
		for _, s := range po.sites[i] {
			po.relos[i] = append(po.relos[i], s.relo)
		}
	}
}

// Check verifies the minimized BTF min against the full kernel BTF full
// for objs. It is NewKernel, NewPlan and Plan.Check in one call.
func Check(full, min []byte, objs []*bpfobj.Object, opts Options) (*Report, error) {
	plan := make(chan *Plan, 1)
	go func() { plan <- NewPlan(objs) }()
	k, err := NewKernel(full)
	p := <-plan
	if err != nil {
		return nil, err
	}
	return p.Check(k, min, opts)
}

// Check verifies the minimized BTF min against k. An error means min could
// not be examined at all: it is not BTF (wrapping rawbtf.ErrNotBTF) or is
// truncated (wrapping ErrTruncated), or cilium/ebpf cannot read k
// (wrapping ErrFullBTF). Any other problem with min is in the report.
//
// cilium/ebpf's relocation against the full BTF, which decodes every
// candidate type and all it refers to, runs concurrently with the rest.
func (p *Plan) Check(k *Kernel, min []byte, opts Options) (*Report, error) {
	if err := checkLength(min); err != nil {
		return nil, err
	}
	bo := k.btf.ByteOrder()
	type fullResult struct {
		spec  *btf.Spec
		fixes ciliumFixups
		err   error
	}
	k.targetFor(p) // the modules p needs, before the engines run
	if k.extErr != nil {
		return nil, k.extErr
	}
	fullc := make(chan fullResult, 1)
	go func() {
		spec, err := k.ciliumSpec()
		if err != nil {
			fullc <- fullResult{err: err}
			return
		}
		if k.ext == nil || k.ext.BTF == k.btf {
			fullc <- fullResult{spec: spec, fixes: p.ciliumRelocate(spec, nil, bo)}
			return
		}
		if k.modSpec == nil {
			k.modSpec, err = btf.LoadSplitSpecFromReader(bytes.NewReader(k.ext.BTF.Bytes()), spec)
			if err != nil {
				fullc <- fullResult{err: fmt.Errorf("%w: cilium/ebpf: module BTF: %w", ErrFullBTF, err)}
				return
			}
		}
		fullc <- fullResult{spec: spec, fixes: p.ciliumRelocateModules(k, spec, k.modSpec, bo)}
	}()
	rep := &Report{Objects: len(p.objs)}
	minSpec := rep.checkWellFormed(k, min, opts)
	libbpf := p.libbpfRelocate(k)
	minFixes := p.ciliumRelocate(minSpec, errMinUnreadable, bo)
	full := <-fullc
	if full.err != nil {
		return nil, full.err
	}
	// With modules, type IDs of the full side are those of the modules'
	// split BTF, which holds vmlinux's too.
	fullTypes := full.spec
	if k.modSpec != nil {
		fullTypes = k.modSpec
	}
	p.compare(rep, k, fullTypes, minSpec, full.fixes, minFixes, libbpf)
	if opts.Load {
		loadSpec := full.spec
		if k.modSpec != nil {
			// cilium/ebpf's loader takes one spec: vmlinux and the
			// modules' types, shadowed ones hidden, in which it finds the
			// candidates libbpf finds on the running kernel.
			flat, err := k.ext.Flatten(true)
			if err == nil {
				loadSpec, err = btf.LoadSpecFromReader(bytes.NewReader(flat))
			}
			if err != nil {
				return nil, fmt.Errorf("%w: kernel with modules as one BTF: %w", ErrFullBTF, err)
			}
		}
		p.load(rep, loadSpec, minSpec)
	}
	return rep, nil
}

// errMinUnreadable fails cilium/ebpf's relocations against a minimized
// BTF it cannot read.
var errMinUnreadable = errors.New("minimized BTF unreadable by cilium/ebpf")

// checkLength tells data that is not BTF or ends before its header says
// apart from data that is merely malformed.
func checkLength(data []byte) error {
	_, err := rawbtf.Parse(data)
	if err == nil || errors.Is(err, rawbtf.ErrNotBTF) {
		return err
	}
	if len(data) < 24 {
		return fmt.Errorf("%w: %d bytes, shorter than the header", ErrTruncated, len(data))
	}
	var order binary.ByteOrder = binary.LittleEndian
	if binary.BigEndian.Uint16(data) == rawbtf.Magic {
		order = binary.BigEndian
	}
	hdr := uint64(order.Uint32(data[4:]))
	end := hdr + max(uint64(order.Uint32(data[8:]))+uint64(order.Uint32(data[12:])),
		uint64(order.Uint32(data[16:]))+uint64(order.Uint32(data[20:])))
	if hdr >= 24 && end > uint64(len(data)) && end-uint64(len(data)) < 1<<30 {
		return fmt.Errorf("%w: header describes %d bytes, file has %d", ErrTruncated, end, len(data))
	}
	return nil
}
