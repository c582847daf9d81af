package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	yaml "go.yaml.in/yaml/v3"

	"github.com/btftool/btftool/internal/outguard"
	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/needsbtf"
)

// BatchOptions are the options of "batch", resolved from flags,
// environment and config file.
type BatchOptions struct {
	IO *IOStreams
	// ConfigFile is the config file the jobs come from.
	ConfigFile string
	// Jobs are the jobs to run, in config order.
	Jobs   []BatchJob
	Format outputFormat
	Quiet  bool
	// Context, when not nil, replaces context.Background() as the parent
	// of the run's context (which SIGINT and SIGTERM cancel).
	Context context.Context
	Now     func() time.Time
	// override holds batch's flags that override every job's setting
	// when given (as a flag or in the environment).
	override BatchJob
}

// BatchJob is one resolved job of a config file.
type BatchJob struct {
	Name string
	// Objects are glob patterns of BPF objects.
	Objects []string
	Input   string
	Output  string
	Arch    []string
	Include []string
	Exclude []string
	// Workers is the number of kernels processed in parallel (0: one per
	// CPU).
	Workers  int
	Force    bool
	FailFast bool
	// Verify proves every output with pkg/verify before it is written.
	Verify bool
	// Modules is the kernels' module BTF: for a tree input, a tree
	// mirroring it; for one kernel file, its modules (batch.Options).
	Modules string
	// lines maps the job's keys to their lines in the config file, for
	// errors found later.
	lines map[string]int
}

// The keys of a batch job, and batch's flags overriding them.
var (
	jobName    = flagDef{Name: "name", Usage: "the job's name, unique in the file"}
	jobObjects = flagDef{Name: "objects", Path: true, Usage: "the BPF objects: globs, or one"}
	jobInput   = flagDef{Name: "input", Path: true, Usage: "a btfhub-style tree or one kernel BTF file"}
	jobOutput  = flagDef{Name: "output", Path: true, Usage: "a directory, or a .tar.xz, .tar.gz or .tar.zst bundle"}
	jobForce   = flagDef{Name: "force", Usage: "redo kernels whose inputs are unchanged since the last run, and replace outputs that are not BTF"}
	jobVerify  = flagDef{Name: "verify", Usage: "prove every output equivalent with cilium/ebpf before writing it"}
	jobModules = flagDef{Name: "modules", Path: true, Usage: "the kernels' module BTF: for a tree input, a tree mirroring it (DIR/RELEASE.modules.tar.xz; archives beside the kernels are used without it); for one kernel file, its modules (see docs/modules.md)"}
)

// jobOptions binds the keys of a job to j: the same declarations as gen's
// flags where the meaning is the same.
func jobOptions(j *BatchJob) *optionSet {
	s := &optionSet{}
	s.String(&j.Name, jobName)
	s.Strings(&j.Objects, jobObjects)
	s.String(&j.Input, jobInput)
	s.String(&j.Output, jobOutput)
	s.Strings(&j.Arch, optArch)
	s.Strings(&j.Include, optInclude)
	s.Strings(&j.Exclude, optExclude)
	s.Int(&j.Workers, optJobs)
	s.Bool(&j.Force, jobForce)
	s.Bool(&j.FailFast, optFailFast)
	s.Bool(&j.Verify, jobVerify)
	s.String(&j.Modules, jobModules)
	return s
}

// overrides is d as a batch flag overriding every job's setting: a flag or
// environment variable only, the file having the job's own keys.
func overrides(d flagDef) flagDef {
	d.Usage += ", for every job (overriding the file)"
	d.FlagOnly = true
	return d
}

// jobOverrides are the job keys batch's flags override.
var jobOverrides = []string{optJobs.Name, jobForce.Name, optFailFast.Name, jobVerify.Name}

// readJobs returns the jobs of the config file, with relative paths taken
// from its directory. Unknown keys, missing required keys, duplicate names
// and values of the wrong type are errors naming the file, the line, the
// job and the key.
func (f *configFile) readJobs() ([]BatchJob, error) {
	k, n := mappingValue(f.root, "jobs")
	if n == nil {
		return nil, f.errorf(0, "jobs", "missing: no jobs")
	}
	if n = deref(n); n.Kind != yaml.SequenceNode {
		return nil, f.errorf(k.Line, "jobs", "not a list of jobs")
	}
	if len(n.Content) == 0 {
		return nil, f.errorf(k.Line, "jobs", "empty: no jobs")
	}
	seen := map[string]bool{}
	var jobs []BatchJob
	for i, item := range n.Content {
		item = deref(item)
		label := fmt.Sprintf("jobs[%d]", i)
		if item.Kind != yaml.MappingNode {
			return nil, f.errorf(item.Line, label, "not a mapping of job settings")
		}
		if _, v := mappingValue(item, jobName.Name); v != nil && v.Kind == yaml.ScalarNode && v.Value != "" {
			label = "job " + v.Value
		}
		j := BatchJob{lines: map[string]int{"": item.Line}}
		set := jobOptions(&j)
		if err := f.checkKeys(item, label+": ", set.fileKeys()); err != nil {
			return nil, err
		}
		for i := 0; i+1 < len(item.Content); i += 2 {
			key, val := item.Content[i], item.Content[i+1]
			if err := set.lookup(key.Value).value.setNode(val, f.dir()); err != nil {
				return nil, f.errorf(key.Line, label+": "+key.Value, "%v", err)
			}
			j.lines[key.Value] = key.Line
		}
		for _, req := range []struct {
			key string
			ok  bool
		}{{jobName.Name, j.Name != ""}, {jobObjects.Name, len(j.Objects) > 0}, {jobInput.Name, j.Input != ""}, {jobOutput.Name, j.Output != ""}} {
			if !req.ok {
				return nil, f.errorf(item.Line, label, "missing required key %s", req.key)
			}
		}
		if seen[j.Name] {
			return nil, f.errorf(j.lines[jobName.Name], label+": name", "duplicate job name %q", j.Name)
		}
		seen[j.Name] = true
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// NewCmdBatch returns "batch". runF replaces the run function in tests.
func NewCmdBatch(f *Factory, runF func(*BatchOptions) error) *cobra.Command {
	opts := &BatchOptions{IO: f.IO, Now: time.Now, Format: "text"}
	var set *optionSet
	cmd := &cobra.Command{
		Use:   "batch [JOB...]",
		Short: "Run the minimization jobs of a config file",
		Example: `  btftool batch
  btftool batch --config configs/libbpf-tools-btfgen.yaml --jobs 8
  BTFTOOL_FORCE=1 btftool batch libbpf-tools -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := set.load(true)
			if err != nil {
				return err
			}
			if opts.Jobs, err = file.readJobs(); err != nil {
				return err
			}
			for _, name := range jobOverrides {
				if !set.fromFlagOrEnv(name) {
					continue
				}
				for i := range opts.Jobs {
					j := &opts.Jobs[i]
					switch name {
					case optJobs.Name:
						j.Workers = opts.override.Workers
					case jobForce.Name:
						j.Force = opts.override.Force
					case optFailFast.Name:
						j.FailFast = opts.override.FailFast
					case jobVerify.Name:
						j.Verify = opts.override.Verify
					}
				}
			}
			opts.ConfigFile = file.path
			if opts.Jobs, err = selectJobs(opts.Jobs, args, file.path); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runBatch(opts)
		},
	}
	set = newOptionSet(cmd, "batch")
	set.String(&opts.ConfigFile, optConfig)
	set.Int(&opts.override.Workers, overrides(optJobs))
	set.Bool(&opts.override.Force, overrides(jobForce))
	set.Bool(&opts.override.FailFast, overrides(optFailFast))
	set.Bool(&opts.override.Verify, overrides(jobVerify))
	set.Bool(&opts.Quiet, flagDef{Name: optQuiet.Name, Short: optQuiet.Short, Usage: "no progress or summary on stderr, only errors"})
	enumVar(set, &opts.Format, optOutput)
	cmd.Long = batchHelp + set.help() + "\n\n" + exitStatusHelp("", "a kernel failed: its output is missing, the others are written")
	return cmd
}

// batchHelp is the help of "batch", before its settings and exit status.
const batchHelp = `Run the jobs of a config file: each minimizes every kernel BTF of a
btfhub-style tree (or one file) for a set of BPF objects, into a mirrored
directory or one compressed tar bundle (.tar.xz, .tar.gz, .tar.zst), like
'btftool gen min_core_btf INPUT_DIR OUTPUT OBJECT...'. With JOB names only
those jobs run.

The config file is --config FILE, else ./btftool.yaml, else
$XDG_CONFIG_HOME/btftool/config.yaml (~/.config when XDG_CONFIG_HOME is
unset); YAML, TOML or JSON by its extension:

  jobs:
    - name: libbpf-tools          # required, unique
      objects: [build/*.bpf.o]    # required, globs
      input: btfhub-archive       # required: tree or file
      output: min_core_btfs.tar.gz # required: directory or bundle
      arch: [x86_64, arm64]       # optional filters, as gen's flags
      include: ["ubuntu/*"]
      exclude: ["*/*/*/4.*"]
      jobs: 4                     # kernels in parallel (default: CPUs)
      force: false                # redo unchanged kernels
      fail-fast: false            # stop at the first failed kernel
      verify: false               # prove each output with cilium/ebpf before writing it

Relative paths are taken from the config file's directory. Unknown keys
and values of the wrong type are errors.

Flags override every job's setting, the environment (BTFTOOL_ and the flag
name in capitals, "-" as "_": BTFTOOL_JOBS, BTFTOOL_FAIL_FAST,
BTFTOOL_CONFIG...) overrides the file: flag > environment > file.

Outputs are never inputs: a job whose output would replace an input (a
kernel, an object, another job's input tree) or a file that is not what
it writes (not BTF, not a bundle; unless force) is refused before any
work, and every job's output is left out of every job's input tree.

`

// selectJobs returns the jobs named in args, in config order, or all of
// them when args is empty.
func selectJobs(jobs []BatchJob, args []string, file string) ([]BatchJob, error) {
	if len(args) == 0 {
		return jobs, nil
	}
	var sel []BatchJob
	for _, j := range jobs {
		if slices.Contains(args, j.Name) {
			sel = append(sel, j)
		}
	}
	for _, a := range args {
		if !slices.ContainsFunc(jobs, func(j BatchJob) bool { return j.Name == a }) {
			var names []string
			for _, j := range jobs {
				names = append(names, j.Name)
			}
			return nil, usageErrorf("no job %q in %s (jobs: %s)", a, file, strings.Join(names, ", "))
		}
	}
	return sel, nil
}

// runBatch runs the jobs one after the other.
func runBatch(opts *BatchOptions) error {
	if err := checkJobOutputs(opts.Jobs); err != nil {
		return err
	}
	// Inputs and objects are checked for every job before any work.
	objects := make([][]string, len(opts.Jobs))
	for i, j := range opts.Jobs {
		if _, err := os.Stat(j.Input); err != nil {
			return jobError(opts.ConfigFile, j, jobInput.Name, err)
		}
		var err error
		if objects[i], err = expandObjects(j.Objects); err != nil {
			return jobError(opts.ConfigFile, j, jobObjects.Name, err)
		}
		if j.Modules != "" {
			if _, err := os.Stat(j.Modules); err != nil {
				return jobError(opts.ConfigFile, j, jobModules.Name, err)
			}
		}
	}
	var sums []*batch.Summary
	var errs []error
	for i, j := range opts.Jobs {
		// Every other job's output is left out of this job's walk, so that
		// nested trees see the same kernels whatever ran before.
		var others []string
		for k, o := range opts.Jobs {
			if k != i {
				others = append(others, o.Output)
			}
		}
		sum, err := runBatchEngine(&batchRunOptions{
			IO: opts.IO, Label: "job " + j.Name, Objects: objects[i], Format: opts.Format, Quiet: opts.Quiet,
			Context: opts.Context, Now: opts.Now,
			Batch: batch.Options{
				Input: j.Input, Output: j.Output, Jobs: j.Workers, Arch: j.Arch, Include: j.Include, Exclude: j.Exclude,
				Force: j.Force, FailFast: j.FailFast, Verify: verifyHookIf(j.Verify), SkipPaths: others,
				Modules: j.Modules,
			},
			jsonLater: true,
		})
		if sum != nil {
			sums = append(sums, sum)
		}
		if err != nil {
			err = fmt.Errorf("job %s: %w", j.Name, err)
			errs = append(errs, err)
			if isInterrupt(err) || j.FailFast {
				break
			}
		}
	}
	if opts.Format == "json" {
		rep := batchReport{Config: opts.ConfigFile, Jobs: []jobSummary{}}
		for i, s := range sums {
			rep.Jobs = append(rep.Jobs, jobSummary{opts.Jobs[i].Name, s})
		}
		if err := writeJSON(opts.IO.Out, rep); err != nil {
			return err
		}
	}
	return worstError(errs)
}

// checkJobOutputs refuses jobs whose outputs collide: two jobs writing the
// same output, or a job reading another's output as its input (the
// other's output directory, or a tree inside it).
func checkJobOutputs(jobs []BatchJob) error {
	for i, a := range jobs {
		for k, b := range jobs {
			if k == i {
				continue
			}
			if k > i && outguard.Resolve(a.Output) == outguard.Resolve(b.Output) {
				return inputError(fmt.Errorf("jobs %s and %s both write %s: give each job its own output", a.Name, b.Name, a.Output))
			}
			if outguard.Within(b.Input, a.Output) {
				return inputError(fmt.Errorf("job %s reads job %s's output: its input %s is in %s; give it the kernels themselves", b.Name, a.Name, b.Input, a.Output))
			}
		}
	}
	return nil
}

// jobError is an input error about a job's key, naming the config file,
// the key's line and the job.
func jobError(file string, j BatchJob, key string, err error) error {
	loc := file
	if line, ok := j.lines[key]; ok {
		loc = fmt.Sprintf("%s:%d", file, line)
	}
	return inputError(fmt.Errorf("%s: job %s: %s: %w", loc, j.Name, key, err))
}

// expandObjects expands object globs; a pattern matching nothing is an
// error.
func expandObjects(patterns []string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", p, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no such file", p)
		}
		out = append(out, m...)
	}
	return out, nil
}

// worstError returns the error with the highest exit status.
func worstError(errs []error) error {
	var worst error
	for _, err := range errs {
		if worst == nil || exitCode(err) > exitCode(worst) {
			worst = err
		}
	}
	return worst
}

// batchRunOptions configure one run of the batch engine, for "batch" and
// for "gen min_core_btf" on a directory.
type batchRunOptions struct {
	IO *IOStreams
	// Label prefixes the summary lines ("job NAME"); may be empty.
	Label   string
	Objects []string
	Batch   batch.Options
	Format  outputFormat
	Quiet   bool
	// Verbose lists the relocations each object misses and the kernels
	// it misses them on; Hint, when not, says how to ask for them.
	Verbose      bool
	Hint         string
	FailOnPoison bool
	Context      context.Context
	Now          func() time.Time
	// jsonLater leaves printing the JSON summary to the caller.
	jsonLater bool
}

// runBatchEngine loads the objects once, runs the batch engine with
// progress on stderr and prints the summary. SIGINT and SIGTERM cancel it.
func runBatchEngine(o *batchRunOptions) (*batch.Summary, error) {
	// The heap of a batch run is mostly kernel BTF bytes in flight, which
	// hold no pointers and are cheap to collect: a tighter GC target cuts
	// peak memory at no measurable CPU cost (figures in
	// docs/performance.md). An explicit GOGC wins.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(50))
	}
	objs, err := loadObjects(o.Objects)
	if err != nil {
		return nil, err
	}
	parent := o.Context
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := o.Batch
	opts.Version = Version
	// Which relocations miss on which kernels is printed by --verbose and
	// -o json only; without, it is not kept (it grows with the kernels).
	opts.NoMisses = opts.NoMisses || (!o.Verbose && o.Format != "json")
	opts.Now = o.Now
	var p *progress
	if !o.Quiet {
		p = newProgress(o.IO, o.Now)
	}
	mem := &memoryReturner{every: 24 << 20}
	opts.Progress = func(ev batch.Event) {
		mem.kernelDone(ev)
		if p != nil {
			p.event(ev)
		}
	}
	sum, err := batch.Run(ctx, btfgen.NewPlan(objs), opts)
	if p != nil {
		p.finish()
	}
	if sum != nil && !(o.Format == "json" && o.jsonLater) {
		if jerr := printReport(o.IO.Out, o.Format, sum, func() { writeBatchSummary(o.IO.ErrOut, o.Label, sum, o.Quiet, o.Verbose, o.Hint) }); jerr != nil {
			return sum, jerr
		}
	}
	switch {
	case err == nil:
	case isInterrupt(err):
		return sum, fmt.Errorf("interrupted: outputs already complete are kept, nothing partial is left (%w)", err)
	case errors.Is(err, batch.ErrKernelFailed):
		for _, k := range sum.Failures() {
			if errors.Is(k.Err, btfgen.ErrSelfCheck) || errors.Is(k.Err, batch.ErrInternal) {
				// btftool's own failure, not the kernel's: a bug to report.
				return sum, &InternalError{Err: k.Err, Inputs: append([]string{filepath.Join(o.Batch.Input, filepath.FromSlash(k.Rel))}, o.Objects...)}
			}
		}
		return sum, &NegativeError{Err: err}
	case errors.Is(err, batch.ErrBadOptions):
		return sum, &UsageError{Err: err}
	default:
		return sum, inputError(err)
	}
	if o.FailOnPoison && sum != nil {
		for _, ob := range sum.Objects {
			if ob.Failed+ob.FailingPrograms > 0 {
				return sum, &NegativeError{Err: errors.New("programs fail on some kernels (--fail-on-poison)")}
			}
		}
	}
	return sum, nil
}

// batchReport is the JSON of "batch": the config file and each job's
// summary.
type batchReport struct {
	Config string       `json:"config"`
	Jobs   []jobSummary `json:"jobs"`
}

// jobSummary is one job of a batchReport.
type jobSummary struct {
	Name string `json:"name"`
	*batch.Summary
}

// writeBatchSummary prints the final summary: counts, bytes, time, failed
// kernels and unsatisfied relocations per object (with verbose, which
// relocations on which kernels; otherwise hint follows the counts). With
// quiet only the failed kernels are listed.
func writeBatchSummary(w io.Writer, label string, s *batch.Summary, quiet, verbose bool, hint string) {
	prefix := "btftool: "
	if label != "" {
		prefix += label + ": "
	}
	for _, k := range s.Failures() {
		fmt.Fprintf(w, "%sFAILED %s: %s\n", prefix, k.Rel, k.Error)
	}
	if quiet {
		return
	}
	line := fmt.Sprintf("%s%d kernel(s): %d processed, %d skipped, %d failed", prefix, s.Total, s.Processed, s.Skipped, s.Failed)
	if s.NotRun > 0 {
		line += fmt.Sprintf(", %d not run", s.NotRun)
	}
	if s.Filtered > 0 {
		line += fmt.Sprintf(" (%d filtered out)", s.Filtered)
	}
	fmt.Fprintf(w, "%s in %.1fs\n", line, s.Seconds)
	out := fmt.Sprintf("%s of minimized BTF", formatBytes(s.BytesOut))
	if s.Bundle && s.BundleBytes > 0 {
		out += fmt.Sprintf(", bundle %s %s", s.Output, formatBytes(s.BundleBytes))
	}
	fmt.Fprintf(w, "%sread %s (%s of BTF), wrote %s\n", prefix, formatBytes(s.BytesIn), formatBytes(s.BytesBTF), out)
	if n := len(s.Unmatchable); n > 0 {
		fmt.Fprintf(w, "%swarning: %d bundle entr%s without a kernel release in the file name, which nothing can select (--strict refuses): %s\n",
			prefix, n, map[bool]string{true: "y", false: "ies"}[n == 1], strings.Join(s.Unmatchable[:min(n, 5)], ", "))
	}
	for _, ob := range s.Objects {
		// The objects were read before the run: an error here cannot be
		// new, and the summary goes on without the line.
		name := ob.Path
		if progs, err := needsbtf.AnalyzeFile(ob.Path); err == nil && len(progs) > 0 {
			fmt.Fprintf(w, "%s%s: %s\n", prefix, name, needsbtf.Summary(progs))
		}
		switch {
		case ob.Unsatisfied+ob.Failed == 0:
		case ob.Failed > 0:
			fmt.Fprintf(w, "%s%s: %d relocation(s) unsatisfied and %d failing (libbpf refuses the object) over %d kernel(s)%s\n", prefix, name, ob.Unsatisfied, ob.Failed, ob.Kernels, hint)
		default:
			fmt.Fprintf(w, "%s%s: %d relocation(s) unsatisfied over %d kernel(s)%s\n", prefix, name, ob.Unsatisfied, ob.Kernels, hint)
		}
		if verbose && ob.Unsatisfied+ob.Failed > 0 {
			writeMisses(w, ob.Misses, s.Processed)
		}
		if ob.FailingPrograms > 0 {
			fmt.Fprintf(w, "%s%s: programs fail (a poisoned instruction they reach, or an attach target the kernel lacks, with no variant to cover them) on %d kernel(s)\n", prefix, name, ob.KernelsFailing)
		}
	}
}

// writeMisses lists an object's missed relocations grouped by the kernels
// they miss on: one heading per status and set of kernels, then the
// relocations, in libbpf's order of the first of each group.
func writeMisses(w io.Writer, misses []batch.RelocMisses, processed int) {
	type group struct {
		status  core.Status
		kernels []string
		relocs  []core.Location
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, m := range misses {
		key := m.Status.String() + "\x00" + strings.Join(m.Kernels, "\x00")
		g := byKey[key]
		if g == nil {
			g = &group{status: m.Status, kernels: m.Kernels}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.relocs = append(g.relocs, m.Location)
	}
	for _, g := range groups {
		fmt.Fprintf(w, "  %s on %s:\n", g.status, kernelList(g.kernels, processed))
		for _, l := range g.relocs {
			fmt.Fprintf(w, "    %s\n", locationText(l))
		}
	}
}

// maxListedKernels is how many kernels a group of writeMisses names.
const maxListedKernels = 8

// kernelList names kernels (slash-separated paths relative to the tree)
// by directory: "every kernel (3)", or "2 of 3 kernels: debian/12/x86_64:
// a.btf, b.btf", naming maxListedKernels at most.
func kernelList(kernels []string, processed int) string {
	if len(kernels) == processed {
		return fmt.Sprintf("every kernel (%d)", processed)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d kernel(s): ", len(kernels), processed)
	dir := "\x00"
	for i, k := range kernels {
		if i == maxListedKernels {
			fmt.Fprintf(&b, " and %d more", len(kernels)-i)
			break
		}
		d, base := path.Split(k)
		switch {
		case d != dir && i > 0:
			b.WriteString("; ")
		case i > 0:
			b.WriteString(", ")
		}
		if d != dir {
			dir = d
			if d != "" {
				b.WriteString(strings.TrimSuffix(d, "/") + ": ")
			}
		}
		b.WriteString(base)
	}
	return b.String()
}

// formatBytes renders n with a binary unit.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// progress reports batch progress on stderr: a progress bar on a terminal,
// otherwise a line every 2 s or every 10%.
type progress struct {
	w        io.Writer
	now      func() time.Time
	tty      bool
	bar      *progressbar.ProgressBar
	start    time.Time
	last     time.Time
	lastTick int // tenths of the total reported so far
}

func newProgress(io *IOStreams, now func() time.Time) *progress {
	if now == nil {
		now = time.Now
	}
	p := &progress{w: io.ErrOut, now: now, start: now()}
	p.last = p.start
	p.tty = io.ErrTTY
	return p
}

// event is batch.Options.Progress.
func (p *progress) event(ev batch.Event) {
	if p.tty {
		if p.bar == nil {
			p.bar = newKernelBar(p.w, ev.Total)
		}
		if ev.Failed > 0 {
			p.bar.Describe(fmt.Sprintf("kernels (%d failed)", ev.Failed))
		}
		p.bar.Set(ev.Done)
		return
	}
	now := p.now()
	tick := ev.Done * 10 / max(ev.Total, 1)
	if now.Sub(p.last) < 2*time.Second && tick == p.lastTick && ev.Done != ev.Total {
		return
	}
	p.last, p.lastTick = now, tick
	elapsed := now.Sub(p.start)
	line := fmt.Sprintf("btftool: %d/%d kernels (%d%%)", ev.Done, ev.Total, ev.Done*100/max(ev.Total, 1))
	if ev.Failed > 0 {
		line += fmt.Sprintf(", %d failed", ev.Failed)
	}
	if elapsed > 0 {
		rate := float64(ev.Done) / elapsed.Seconds()
		line += fmt.Sprintf(", %.1f kernels/s", rate)
		if rate > 0 && ev.Done < ev.Total {
			eta := time.Duration(float64(ev.Total-ev.Done) / rate * float64(time.Second))
			line += fmt.Sprintf(", ETA %s", eta.Round(time.Second))
		}
	}
	fmt.Fprintln(p.w, line)
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar.Clear()
	}
}
