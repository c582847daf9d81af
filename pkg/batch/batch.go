package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/btftool/btftool/internal/bpfprog"
	"github.com/btftool/btftool/internal/outguard"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/needsbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
	"github.com/btftool/btftool/pkg/reach"
)

// Sentinel errors. Errors returned by this package wrap one of these or the
// context's error.
var (
	// ErrKernelFailed means at least one kernel could not be read,
	// minimized, verified or written. Run returns it after processing every
	// other kernel, or at the first failure with Options.FailFast.
	ErrKernelFailed = errors.New("kernel failed")
	// ErrNoKernels means the input holds no kernel BTF file, or the filters
	// left none.
	ErrNoKernels = errors.New("no kernel BTF files")
	// ErrBadOptions means Options are invalid: a bad glob pattern, a missing
	// input or output.
	ErrBadOptions = errors.New("invalid batch options")
	// ErrOutputIsInput means an output (the output directory or bundle, or
	// a kernel's output file) would be one of the input files; nothing is
	// written.
	ErrOutputIsInput = outguard.ErrOutputIsInput
	// ErrWouldReplace means an output exists and is not what Run writes
	// there (a file where the output directory goes, a file that is not
	// BTF, a file that is not a bundle) and Options.Force is not set;
	// nothing is written.
	ErrWouldReplace = outguard.ErrWouldReplace
	// ErrOutputFormat means the output name promises an archive format Run
	// does not write (x.tar.bz2, x.zip) or a single file (x.btf, x.o).
	ErrOutputFormat = outguard.ErrFormat
	// ErrInternal means a kernel failed on a bug of this module (a
	// recovered panic), not on its input.
	ErrInternal = errors.New("internal error")
)

// Options configures [Run].
type Options struct {
	// Input is a btfhub-style tree (see [kbtf.Walk]) or a single kernel BTF
	// file.
	Input string
	// Output is a directory mirroring Input's layout (RELEASE.btf.tar.xz
	// becomes RELEASE.btf), or, when [IsBundle] reports true for it, a
	// compressed tar bundle.
	Output string
	// Jobs is the number of kernels processed in parallel; zero or negative
	// means runtime.NumCPU().
	Jobs int
	// Arch keeps only kernels of these architectures (the ARCH directory of
	// the btfhub layout; arm64 and aarch64, x86_64 and amd64 are taken as
	// the same). Empty keeps all, including files outside the layout.
	Arch []string
	// Include keeps only kernels whose slash-separated path relative to
	// Input matches one of these patterns; Exclude drops those matching one
	// of these. Patterns use path.Match syntax ("*" does not cross "/") and
	// match the whole relative path or any of its leading directories:
	// "ubuntu/*" selects everything under ubuntu/, "*/*/arm64" every arm64
	// kernel, "**" is not special. Exclude wins over Include.
	Include, Exclude []string
	// Force redoes kernels whose inputs are unchanged since the last run,
	// and lets outputs replace existing files that are not BTF (or, for a
	// bundle, not a bundle). An output is never allowed to be an input.
	Force bool
	// FailFast stops at the first failed kernel: no new kernel is started
	// and, for a bundle, nothing is written.
	FailFast bool
	// Strict refuses, before any work, to write a bundle with entries
	// that no rule of bundle.Match can select (no release in their path):
	// Summary.Unmatchable lists them otherwise.
	Strict bool
	// NoMisses leaves ObjectSummary.Misses empty and does not keep the
	// relocations each kernel misses (ObjectMisses.UnsatisfiedRelocs and
	// FailedRelocs); the counts are kept. Over a large tree with heavy
	// objects those lists grow with every kernel (tens of thousands of
	// relocations unsatisfied per old kernel): a caller that does not
	// print them sets it.
	NoMisses bool
	// Version identifies the generator (btftool's version); outputs made by
	// another version are redone.
	Version string
	// KernelOptions is passed to kbtf.ReadFile and kmod.Open.
	KernelOptions *kbtf.Options
	// Modules is, for a tree Input, a tree mirroring it that holds the
	// kernels' module BTF: the kernel DIR/RELEASE.btf.tar.xz of Input has
	// its modules in Modules/DIR/RELEASE.modules.tar.xz (see
	// kbtf.FindModules), as ../shared/modules mirrors ../shared/kernels.
	// Module archives beside the kernels in Input itself
	// (kbtf.Entry.Modules) are used without it; Modules wins where both
	// have one. For a single kernel file Input, it is that kernel's module
	// BTF, in any form kmod.Open reads. A kernel with modules is minimized
	// with them (btfgen.Plan.MinimizeModules); one without, as before.
	Modules string
	// Progress, when not nil, is called once per kernel as it finishes
	// (processed, skipped or failed), from a single goroutine, in
	// completion order. A slow callback slows the run down, it does not
	// race it.
	Progress func(Event)
	// Verify, when not nil, is called for every minimized kernel with the
	// full and the minimized raw BTF, the kernel's modules (nil when it has
	// none) and the plan's objects; an error fails that kernel and nothing
	// is written for it. It is called concurrently from the workers.
	Verify func(full, min []byte, mods *kmod.Set, objs []*bpfobj.Object) error
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// SkipPaths are the outputs (directories or bundles) of other runs,
	// such as the other jobs of a config file, that the walk of Input
	// leaves out with their manifests. Output and its manifest are always
	// left out, so that a rerun into an output inside the input tree sees
	// the same kernels.
	SkipPaths []string
}

// Status is the outcome for one kernel.
type Status string

// Kernel outcomes.
const (
	StatusDone    Status = "done"    // minimized and written
	StatusSkipped Status = "skipped" // unchanged since the last run
	StatusFailed  Status = "failed"  // see KernelResult.Err
)

// KernelResult is the outcome for one kernel.
type KernelResult struct {
	// Rel is the input path relative to Options.Input, slash-separated;
	// OutRel the output path relative to Options.Output (or in the bundle).
	Rel    string `json:"input"`
	OutRel string `json:"output"`
	// Release, Distro, Version and Arch come from the btfhub layout.
	Release string `json:"release,omitempty"`
	Distro  string `json:"distro,omitempty"`
	Version string `json:"version,omitempty"`
	Arch    string `json:"arch,omitempty"`
	Status  Status `json:"status"`
	// BytesIn is the input file's size; BytesBTF the size of its raw BTF
	// (zero when skipped); BytesOut the size of the minimized BTF.
	BytesIn  int64 `json:"bytes_in"`
	BytesBTF int64 `json:"bytes_btf,omitempty"`
	BytesOut int64 `json:"bytes_out"`
	// Misses lists the plan objects with relocations that match nothing
	// on this kernel or that libbpf fails on, or with programs that fail
	// there, with their counts; nil when skipped or when every relocation
	// is satisfied and every program loads. (Sparse: a run over
	// thousands of kernels keeps one result per kernel.)
	Misses []ObjectMisses `json:"objects,omitempty"`
	// Err is why the kernel failed.
	Err error `json:"-"`
	// Error is Err's text, for JSON.
	Error string `json:"error,omitempty"`
	// Modules is the kernel's module BTF archive, when it has one.
	Modules string `json:"modules,omitempty"`

	sha256  string // of the minimized BTF, when done
	inKey   inputKey
	modules string    // Modules, also when the JSON leaves it out
	modKey  *inputKey // of the module archive
	data    []byte    // minimized BTF, kept for a bundle only
}

// ObjectMisses counts the relocations of one plan object that match
// nothing on a kernel (Unsatisfied) and those libbpf fails on (Failed),
// and the object's programs that fail there (FailingPrograms: pkg/reach,
// a poisoned instruction the verifier reaches with no program variant to
// cover it, or an object libbpf refuses).
type ObjectMisses struct {
	// Object is the object's index in the plan's objects, Path its path.
	Object      int    `json:"-"`
	Path        string `json:"path"`
	Unsatisfied int32  `json:"unsatisfied"`
	Failed      int32  `json:"failed"`
	// UnsatisfiedRelocs and FailedRelocs are the indices in the object's
	// Relocations of those relocations, in order; ObjectSummary.Misses
	// names them.
	UnsatisfiedRelocs, FailedRelocs []int32 `json:"-"`
	FailingPrograms                 int32   `json:"failing_programs,omitempty"`
}

// Event reports progress to Options.Progress.
type Event struct {
	// Kernel is the kernel that just finished.
	Kernel *KernelResult
	// Done counts the kernels finished so far (processed, skipped and
	// failed), Total the kernels selected.
	Done, Total int
	// Failed and Skipped count the kernels failed and skipped so far.
	Failed, Skipped int
	// Elapsed is the time since Run started.
	Elapsed time.Duration
}

// ObjectSummary aggregates one object's relocation outcomes over the
// processed kernels.
type ObjectSummary struct {
	Path        string `json:"path"`
	Relocations int    `json:"relocations"`
	// Unsatisfied and Failed sum the relocations unsatisfied and failing
	// over every processed kernel; Kernels counts the kernels with at least
	// one of either.
	Unsatisfied int `json:"unsatisfied"`
	Failed      int `json:"failed"`
	Kernels     int `json:"kernels_affected"`
	// Misses lists each relocation unsatisfied or failing on some
	// processed kernel, with the kernels (KernelResult.Rel, sorted): one
	// entry per relocation and status, in libbpf's order.
	Misses []RelocMisses `json:"misses,omitempty"`
	// FailingPrograms sums the object's programs that fail, over every
	// processed kernel; KernelsFailing counts the kernels with one.
	FailingPrograms int `json:"failing_programs"`
	KernelsFailing  int `json:"kernels_failing"`
}

// Summary is the outcome of [Run].
type Summary struct {
	Input  string `json:"input"`
	Output string `json:"output"`
	Bundle bool   `json:"bundle"`
	// Total is the number of kernels selected; Filtered those the filters
	// left out.
	Total     int `json:"kernels"`
	Filtered  int `json:"filtered"`
	Processed int `json:"processed"`
	Skipped   int `json:"skipped"`
	Failed    int `json:"failed"`
	// NotRun counts selected kernels left alone after a cancellation or
	// with FailFast.
	NotRun int `json:"not_run"`
	// BytesIn sums the input file sizes of the processed kernels, BytesBTF
	// their raw BTF sizes, BytesOut their minimized sizes (for a bundle,
	// BundleBytes is the size of the bundle written).
	BytesIn     int64           `json:"bytes_in"`
	BytesBTF    int64           `json:"bytes_btf"`
	BytesOut    int64           `json:"bytes_out"`
	BundleBytes int64           `json:"bundle_bytes,omitempty"`
	Objects     []ObjectSummary `json:"objects"`
	// Kernels lists every selected kernel, sorted by Rel.
	Kernels  []*KernelResult `json:"results"`
	Duration time.Duration   `json:"-"`
	Seconds  float64         `json:"seconds"`

	// Unmatchable lists the bundle entries that no rule can select: no
	// kernel release in their path (bundle.Describe).
	Unmatchable []string `json:"unmatchable,omitempty"`
}

// Failures returns the failed kernels, sorted by Rel.
func (s *Summary) Failures() []*KernelResult {
	var out []*KernelResult
	for _, k := range s.Kernels {
		if k.Status == StatusFailed {
			out = append(out, k)
		}
	}
	return out
}

// Select walks opts.Input and returns the kernels the filters keep, sorted
// by relative path, and the number they left out. Outputs of earlier runs
// inside the tree are not kernels: Output, SkipPaths, and any directory
// holding a manifest or bundle with a manifest beside it are left out.
func Select(opts *Options) ([]kbtf.Entry, int, error) {
	f, err := newFilter(opts.Arch, opts.Include, opts.Exclude)
	if err != nil {
		return nil, 0, err
	}
	var skip []string
	for _, p := range append([]string{opts.Output}, opts.SkipPaths...) {
		skip = append(skip, p, manifestPath(p, IsBundle(p)))
	}
	entries, err := kbtf.WalkExcluding(opts.Input, skip)
	if err != nil {
		return nil, 0, err
	}
	entries = dropOutputs(entries)
	kept := entries[:0]
	for _, e := range entries {
		if f.keep(e) {
			kept = append(kept, e)
		}
	}
	return kept, len(entries) - len(kept), nil
}

// dropOutputs drops the entries that are outputs of earlier runs, with
// any output name: files below a directory holding a manifest, and bundles
// with a manifest beside them.
func dropOutputs(entries []kbtf.Entry) []kbtf.Entry {
	output := map[string]bool{} // directory -> holds a manifest
	isOutputDir := func(dir string) bool {
		v, ok := output[dir]
		if !ok {
			_, err := os.Lstat(filepath.Join(dir, ManifestName))
			v = err == nil
			output[dir] = v
		}
		return v
	}
	kept := entries[:0]
	for _, e := range entries {
		drop := false
		if _, err := os.Lstat(manifestPath(e.Path, true)); err == nil && IsBundle(e.Path) {
			drop = true
		}
		// The directories between the root and the file.
		dir := filepath.Dir(e.Path)
		for n := strings.Count(e.Rel, "/"); !drop && n > 0; n-- {
			drop = isOutputDir(dir)
			dir = filepath.Dir(dir)
		}
		if !drop {
			kept = append(kept, e)
		}
	}
	return kept
}

// Run minimizes every kernel of opts.Input selected by the filters for the
// plan's objects and writes the results to opts.Output.
//
// It returns a summary whenever it got as far as selecting kernels, even
// with an error. The error wraps ErrKernelFailed when kernels failed
// (their outputs are missing, the others are written), the context's error
// when it was cancelled (outputs already complete stay, nothing partial
// does; a bundle is not written), ErrNoKernels, ErrBadOptions, or an I/O
// error for the output.
//
// Incremental runs: a kernel is skipped when its input file, the objects
// and opts.Version are unchanged since the output was last written, as
// recorded in a manifest (see ManifestName) beside the outputs.
func Run(ctx context.Context, plan *btfgen.Plan, opts Options) (*Summary, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	if opts.Input == "" || opts.Output == "" {
		return nil, fmt.Errorf("%w: input and output are required", ErrBadOptions)
	}
	if err := checkOutputName(opts.Output); err != nil {
		return nil, err
	}
	entries, filtered, err := Select(&opts)
	if err != nil {
		return nil, err
	}
	bundle := IsBundle(opts.Output)
	if err := checkOutputs(&opts, entries, plan.Objects()); err != nil {
		return nil, err
	}
	sum := &Summary{Input: opts.Input, Output: opts.Output, Bundle: bundle, Total: len(entries), Filtered: filtered}
	if len(entries) == 0 {
		if filtered > 0 {
			return sum, fmt.Errorf("%s: %w: all %d left out by the filters (arch %v, include %v, exclude %v)", opts.Input, ErrNoKernels, filtered, opts.Arch, opts.Include, opts.Exclude)
		}
		return sum, fmt.Errorf("%s: %w", opts.Input, ErrNoKernels)
	}
	if bundle {
		if sum.Unmatchable = unmatchable(entries); opts.Strict && len(sum.Unmatchable) > 0 {
			return sum, fmt.Errorf("%w: %s: no kernel release in the name of %d file(s), no rule could select them from the bundle: %s",
				ErrBadOptions, opts.Input, len(sum.Unmatchable), strings.Join(sum.Unmatchable, ", "))
		}
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	objKey, err := objectsKey(plan.Objects())
	if err != nil {
		return sum, err
	}
	last := readManifest(manifestPath(opts.Output, bundle), opts.Version, objKey)
	var old *manifest // what skipping may rely on
	if !opts.Force {
		old = last
	}
	var prev *previousBundle // the previous bundle, when some of it can be reused
	if bundle && old != nil {
		if b, err := openPrevious(opts.Output); err == nil {
			prev = b
			defer prev.Close()
		} else {
			old = nil
		}
	}
	if !bundle {
		if err := os.MkdirAll(opts.Output, 0o755); err != nil {
			return sum, err
		}
	} else if err := os.MkdirAll(filepath.Dir(opts.Output), 0o755); err != nil {
		return sum, err // fail before the work, not after it
	}

	r := &runner{plan: plan, opts: &opts, bundle: bundle, old: old, prev: prev, progs: make([]*reach.Prepared, len(plan.Objects()))}
	r.attach = make([]bool, len(r.progs))
	for i, o := range plan.Objects() {
		// An object that cannot be read again has no program verdicts.
		if p, err := bpfprog.Open(o.Path); err == nil {
			r.progs[i] = reach.Prepare(o, p)
			for _, p := range needsbtf.Analyze(p) {
				if p.Needs[0].Kind == needsbtf.Attach && p.Needs[0].Target != "" {
					r.attach[i] = true
				}
			}
		}
	}
	if fi, err := os.Stat(opts.Input); err == nil && !fi.IsDir() {
		r.single = true
	}
	results := r.run(ctx, entries, func(ev Event) {
		ev.Elapsed = now().Sub(start)
		if opts.Progress != nil {
			opts.Progress(ev)
		}
	})
	sum.Kernels = results
	summarize(sum, plan, results)

	cancelled := ctx.Err()
	failedFast := opts.FailFast && sum.Failed > 0
	// Record what is complete even when stopping early, so the next run
	// skips it.
	m := newManifest(opts.Version, objKey)
	if last != nil && !bundle {
		m.Kernels = last.Kernels // keep what other filters selected last time
	}
	for _, k := range results {
		switch k.Status {
		case StatusDone, StatusSkipped:
			m.Kernels[k.OutRel] = manifestEntry{Input: k.Rel, inputKey: k.inKey, Modules: k.modKey, OutSize: k.BytesOut, OutSHA256: k.sha256}
		default:
			delete(m.Kernels, k.OutRel)
		}
	}
	var werr error
	if bundle {
		if cancelled == nil && !failedFast {
			n, err := writeBundle(opts.Output, results, opts.Version, plan.Objects())
			if err != nil {
				werr = err
			} else {
				sum.BundleBytes = n
				werr = writeManifest(manifestPath(opts.Output, bundle), m)
			}
		}
	} else if werr = syncDir(opts.Output); werr == nil {
		werr = writeManifest(manifestPath(opts.Output, bundle), m)
	}
	for _, k := range results {
		k.data = nil
	}
	sum.Duration = now().Sub(start)
	sum.Seconds = sum.Duration.Seconds()
	switch {
	case cancelled != nil:
		return sum, cancelled
	case werr != nil:
		return sum, werr
	case sum.Failed > 0:
		return sum, fmt.Errorf("%d of %d kernel(s): %w", sum.Failed, sum.Total, ErrKernelFailed)
	}
	return sum, nil
}

// runner is the state of one Run.
type runner struct {
	plan   *btfgen.Plan
	opts   *Options
	bundle bool
	old    *manifest
	prev   *previousBundle
	single bool // Input is one kernel file
	// progs holds the plan's objects prepared for pkg/reach (nil for
	// one that cannot be read again); attach[i] says whether a program
	// of object i attaches to a named kernel BTF target, which each
	// kernel must have.
	progs  []*reach.Prepared
	attach []bool
}

// run processes entries on a worker pool and returns one result per entry,
// in entry order. Entries not started (cancellation, fail-fast) have a nil
// result and are dropped.
func (r *runner) run(ctx context.Context, entries []kbtf.Entry, progress func(Event)) []*KernelResult {
	results := make([]*KernelResult, len(entries))
	ev := Event{Total: len(entries)}
	Each(ctx, entries, r.opts.Jobs, r.opts.KernelOptions, r.one, func(ctx context.Context, i int, k *KernelResult) bool {
		if k.Status == StatusFailed && ctx.Err() != nil && errors.Is(k.Err, ctx.Err()) {
			return true // interrupted, not failed: not run
		}
		results[i] = k
		ev.Done++
		more := true
		switch k.Status {
		case StatusFailed:
			ev.Failed++
			more = !r.opts.FailFast
		case StatusSkipped:
			ev.Skipped++
		}
		ev.Kernel = k
		progress(ev)
		return more
	})
	kept := results[:0]
	for _, k := range results {
		if k != nil {
			kept = append(kept, k)
		}
	}
	return kept
}

// one processes a kernel. It never panics on bad input: every problem ends
// up in the result, and a panic (a bug) fails the kernel with ErrInternal.
func (r *runner) one(ctx context.Context, kr *kbtf.Reader, e *kbtf.Entry) (result *KernelResult) {
	k := &KernelResult{Rel: e.Rel, OutRel: e.OutRel, Release: e.Release, Distro: e.Distro, Version: e.Version, Arch: e.Arch}
	fail := func(err error) *KernelResult {
		k.Status, k.Err, k.Error, k.data = StatusFailed, err, err.Error(), nil
		return k
	}
	defer func() {
		if p := recover(); p != nil {
			result = fail(fmt.Errorf("%s: %w: panic: %v", e.Path, ErrInternal, p))
		}
	}()
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	fi, err := os.Stat(e.Path)
	if err != nil {
		return fail(err)
	}
	k.BytesIn = fi.Size()
	k.inKey = inputKey{Size: fi.Size(), MtimeNS: fi.ModTime().UnixNano()}
	k.modules = e.Modules
	switch {
	case r.opts.Modules != "" && r.single:
		k.modules = r.opts.Modules
	case r.opts.Modules != "":
		if mp := kbtf.FindModules(r.opts.Modules, e.OutRel); mp != "" {
			k.modules = mp
		}
	}
	if k.modules != "" {
		k.Modules = k.modules
		if k.modKey, err = r.modulesKey(e, k.modules); err != nil {
			return fail(err)
		}
	}
	// The input's digest decides skipping only when the last run made
	// this output from this input; otherwise it is taken from the bytes
	// read below rather than by reading the file twice.
	hashLater := !r.mayHaveDone(e)
	if !hashLater {
		if err := r.fillSHA(e, k); err != nil {
			return fail(err)
		}
		if r.skip(k) {
			k.Status = StatusSkipped
			return k
		}
	}
	data, _, err := kr.ReadFile(e.Path) // valid until kr's next call
	if err != nil {
		return fail(err)
	}
	if hashLater {
		if stored := kr.Stored(); stored != nil {
			k.inKey.SHA256 = sha256Hex(stored)
		} else if err := r.fillSHA(e, k); err != nil {
			return fail(err)
		}
	}
	k.BytesBTF = int64(len(data))
	kernel, err := rawbtf.Parse(data)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", e.Path, err))
	}
	var mods *kmod.Set
	if k.modules != "" {
		if mods, err = kmod.Open([]string{k.modules}, r.opts.KernelOptions); err == nil {
			err = mods.CheckRelease(e.Release)
		}
		if err != nil {
			return fail(fmt.Errorf("%s: %w", k.modules, err))
		}
	}
	var res *btfgen.Result
	if mods != nil {
		res, err = r.plan.MinimizeModules(kernel, mods)
	} else {
		res, err = r.plan.Minimize(kernel)
	}
	if err != nil {
		return fail(fmt.Errorf("%s: %w", e.Path, err))
	}
	if r.opts.Verify != nil {
		if err := r.opts.Verify(data, res.BTF, mods, r.plan.Objects()); err != nil {
			return fail(fmt.Errorf("%s: verify: %w", e.Path, err))
		}
	}
	var kern reach.Kernel
	if mods == nil { // attach targets are looked up in vmlinux only
		kern.Attachable = reach.AttachTargetsOf(kernel, r.progs...)
	}
	mods = nil              // drop the modules' BTF before writing
	data, kernel = nil, nil // drop the full BTF before writing
	for i := range res.Objects {
		u, f := res.Objects[i].Unsatisfied()
		m := ObjectMisses{Object: i, Path: res.Objects[i].Object.Path,
			Unsatisfied: int32(len(u)), Failed: int32(len(f)), UnsatisfiedRelocs: u, FailedRelocs: f}
		if r.opts.NoMisses {
			m.UnsatisfiedRelocs, m.FailedRelocs = nil, nil
		}
		if p := r.progs[i]; p != nil && (len(u)+len(f) > 0 || r.attach[i]) {
			if v, err := p.Decide(&res.Objects[i].Decisions, kern); err == nil {
				for _, pr := range v.Programs {
					if pr.Status == reach.ProgramFails {
						m.FailingPrograms++
					}
				}
			}
		}
		if m.Unsatisfied+m.Failed+m.FailingPrograms > 0 {
			k.Misses = append(k.Misses, m)
		}
	}
	kern = reach.Kernel{} // let the full BTF go
	sha := sha256.Sum256(res.BTF)
	k.sha256 = hex.EncodeToString(sha[:])
	k.BytesOut = int64(len(res.BTF))
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if r.bundle {
		k.data = res.BTF
	} else {
		dst := filepath.Join(r.opts.Output, filepath.FromSlash(e.OutRel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fail(err)
		}
		if err := writeOutput(dst, res.BTF); err != nil {
			return fail(err)
		}
	}
	k.Status = StatusDone
	return k
}

// fillSHA sets k.inKey.SHA256: from the old manifest when size and mtime
// are unchanged, otherwise by hashing the file.
func (r *runner) fillSHA(e *kbtf.Entry, k *KernelResult) error {
	if r.old != nil {
		if o, ok := r.old.Kernels[e.OutRel]; ok && o.Input == e.Rel && o.Size == k.inKey.Size && o.MtimeNS == k.inKey.MtimeNS {
			k.inKey.SHA256 = o.SHA256
			return nil
		}
	}
	sha, err := hashFile(e.Path)
	if err != nil {
		return err
	}
	k.inKey.SHA256 = sha
	return nil
}

// modulesKey identifies the content of the module archive at path for
// kernel e: its digest comes from the last run's manifest when its size
// and mtime are those recorded, else from reading it.
func (r *runner) modulesKey(e *kbtf.Entry, path string) (*inputKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	key := &inputKey{Size: fi.Size(), MtimeNS: fi.ModTime().UnixNano()}
	if r.old != nil {
		if o, ok := r.old.Kernels[e.OutRel]; ok && o.Modules != nil && o.Modules.Size == key.Size && o.Modules.MtimeNS == key.MtimeNS {
			key.SHA256 = o.Modules.SHA256
			return key, nil
		}
	}
	if fi.IsDir() {
		// A directory of module files: its files' names, sizes and
		// modification times stand for its content.
		key.SHA256, err = hashTree(path)
		return key, err
	}
	if key.SHA256, err = hashFile(path); err != nil {
		return nil, err
	}
	return key, nil
}

// hashTree digests the paths, sizes and modification times of the files
// under dir.
func hashTree(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		fi, err := de.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", rel, fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// skip reports whether the kernel's output from the last run can stay, and
// for a bundle loads it.
// mayHaveDone reports whether the last run recorded e's output as made
// from e's input: only then can e be skipped.
func (r *runner) mayHaveDone(e *kbtf.Entry) bool {
	if r.old == nil {
		return false
	}
	o, ok := r.old.Kernels[e.OutRel]
	return ok && o.Input == e.Rel
}

func (r *runner) skip(k *KernelResult) bool {
	if r.old == nil {
		return false
	}
	o, ok := r.old.Kernels[k.OutRel]
	if !ok || o.Input != k.Rel || o.SHA256 != k.inKey.SHA256 || (o.Modules == nil) != (k.modKey == nil) || (o.Modules != nil && o.Modules.SHA256 != k.modKey.SHA256) {
		return false
	}
	if r.bundle {
		data, err := r.prev.ReadFile(k.OutRel)
		if err != nil || int64(len(data)) != o.OutSize || sha256Hex(data) != o.OutSHA256 {
			return false
		}
		k.data = data
	} else {
		fi, err := os.Stat(filepath.Join(r.opts.Output, filepath.FromSlash(k.OutRel)))
		if err != nil || !fi.Mode().IsRegular() || fi.Size() != o.OutSize {
			return false
		}
	}
	k.BytesOut, k.sha256 = o.OutSize, o.OutSHA256
	return true
}

// summarize fills the counters of sum from results.
func summarize(sum *Summary, plan *btfgen.Plan, results []*KernelResult) {
	objs := plan.Objects()
	sum.Objects = make([]ObjectSummary, len(objs))
	for i, o := range objs {
		sum.Objects[i] = ObjectSummary{Path: o.Path, Relocations: len(o.Relocations)}
	}
	for _, k := range results {
		switch k.Status {
		case StatusDone:
			sum.Processed++
			sum.BytesIn += k.BytesIn
			sum.BytesBTF += k.BytesBTF
			sum.BytesOut += k.BytesOut
			for _, m := range k.Misses {
				o := &sum.Objects[m.Object]
				o.Unsatisfied += int(m.Unsatisfied)
				o.Failed += int(m.Failed)
				if m.Unsatisfied+m.Failed > 0 {
					o.Kernels++
				}
				o.FailingPrograms += int(m.FailingPrograms)
				if m.FailingPrograms > 0 {
					o.KernelsFailing++
				}
			}
		case StatusSkipped:
			sum.Skipped++
		case StatusFailed:
			sum.Failed++
		}
	}
	sum.NotRun = sum.Total - len(results)
	summarizeMisses(sum, objs, results)
}

// RelocMisses is a relocation of an object and the kernels on which it
// has Status (unsatisfied or failed).
type RelocMisses struct {
	core.Location
	Status  core.Status `json:"status"`
	Kernels []string    `json:"kernels"`
	// reloc is the index in the object's Relocations.
	reloc int
}

// summarizeMisses fills each ObjectSummary's Misses from results: one
// entry per relocation and status, in relocation order, with the kernels
// in order. Kernels are visited in order of Rel, so that each entry's
// list is built sorted, and entries are found by relocation index (a
// tree of heavy objects has tens of thousands of misses per kernel).
func summarizeMisses(sum *Summary, objs []*bpfobj.Object, results []*KernelResult) {
	done := make([]*KernelResult, 0, len(results))
	for _, k := range results {
		if k.Status == StatusDone && len(k.Misses) > 0 {
			done = append(done, k)
		}
	}
	slices.SortStableFunc(done, func(a, b *KernelResult) int { return strings.Compare(a.Rel, b.Rel) })
	// byReloc[i][j] holds object i's entries for relocation j: unsatisfied
	// and failed.
	byReloc := make([][][2]*RelocMisses, len(objs))
	for _, k := range done {
		for _, m := range k.Misses {
			o := objs[m.Object]
			slots := byReloc[m.Object]
			if slots == nil {
				slots = make([][2]*RelocMisses, len(o.Relocations))
				byReloc[m.Object] = slots
			}
			add := func(relocs []int32, st core.Status, at int) {
				for _, j := range relocs {
					g := slots[j][at]
					if g == nil {
						g = &RelocMisses{Location: o.Location(int(j)), Status: st, reloc: int(j)}
						slots[j][at] = g
					}
					g.Kernels = append(g.Kernels, k.Rel)
				}
			}
			add(m.UnsatisfiedRelocs, core.StatusUnsatisfied, 0)
			add(m.FailedRelocs, core.StatusFailed, 1)
		}
	}
	for i, slots := range byReloc {
		for _, s := range slots {
			for _, g := range s {
				if g != nil {
					sum.Objects[i].Misses = append(sum.Objects[i].Misses, *g)
				}
			}
		}
	}
}

// objectsKey hashes the contents of the objects' files, in plan order:
// the SHA-256 of their SHA-256s, each file streamed (a heavy object is
// megabytes) and the files hashed in parallel.
func objectsKey(objs []*bpfobj.Object) (string, error) {
	sums := make([][sha256.Size]byte, len(objs))
	errs := make([]error, len(objs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, o := range objs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			sums[i], errs[i] = fileSHA256(o.Path)
		})
	}
	wg.Wait()
	h := sha256.New()
	for i := range objs {
		if errs[i] != nil {
			return "", errs[i]
		}
		h.Write(sums[i][:])
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fileSHA256 returns the SHA-256 of the file at path.
func fileSHA256(path string) (sum [sha256.Size]byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	h.Sum(sum[:0])
	return sum, nil
}

// checkOutputName refuses an output name that promises what Run does not
// write: an archive other than a bundle (x.tar.bz2, x.zip), or a single
// BTF file or object (x.btf, x.o).
func checkOutputName(output string) error {
	if IsBundle(output) {
		return nil
	}
	base := filepath.Base(output)
	switch s := outguard.ArchiveSuffix(output); {
	case s != "":
		return outguard.Refuse(ErrOutputFormat, "output %s: a %s name, but a bundle is a .tar.xz, .tar.gz or .tar.zst file and anything else a directory: name the bundle %s.tar.xz, or the directory without %s",
			output, s, strings.TrimSuffix(base, s), s)
	case strings.HasSuffix(base, ".btf"), outguard.IsELFName(base):
		return outguard.Refuse(ErrOutputFormat, "output %s names a file, but the outputs of a tree are a directory or a .tar.xz, .tar.gz or .tar.zst bundle", output)
	}
	return nil
}

// checkOutputs refuses, before any work, outputs that are inputs (the input
// tree, a kernel, an object) and, without Force, existing outputs that are
// not what Run writes.
func checkOutputs(opts *Options, entries []kbtf.Entry, objs []*bpfobj.Object) error {
	var in outguard.Inputs
	in.Add("input", opts.Input)
	for _, o := range objs {
		in.Add("object", o.Path)
	}
	for i := range entries {
		in.Add("kernel", entries[i].Path)
	}
	bundle := IsBundle(opts.Output)
	kind := outguard.Directory
	if bundle {
		kind = outguard.Bundle
	}
	if err := in.Check("output", opts.Output, "write the outputs somewhere else"); err != nil {
		return err
	}
	if err := in.Check("manifest", manifestPath(opts.Output, bundle), ""); err != nil {
		return err
	}
	if kind == outguard.Directory || !opts.Force {
		if err := outguard.CheckReplace("output", opts.Output, kind); err != nil {
			if bundle {
				err = outguard.Refuse(ErrWouldReplace, "%v (force replaces it)", err)
			}
			return err
		}
	}
	if bundle {
		return nil
	}
	for i := range entries {
		dst := filepath.Join(opts.Output, filepath.FromSlash(entries[i].OutRel))
		if err := in.Check("output", dst, "write the outputs somewhere else"); err != nil {
			return err
		}
		if !opts.Force {
			if err := outguard.CheckReplace("output", dst, outguard.RawBTF); err != nil {
				return outguard.Refuse(ErrWouldReplace, "%v (force replaces it)", err)
			}
		}
	}
	return nil
}
