package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/btftool/btftool/internal/atomicfile"
	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// NewCmdGen returns the "gen" command group.
func NewCmdGen(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Generate minimized BTF",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf("gen needs a subcommand: min_core_btf")
		},
	}
	cmd.AddCommand(NewCmdMinCoreBTF(f, nil))
	return cmd
}

// MinCoreBTFOptions are the options of "gen min_core_btf".
type MinCoreBTFOptions struct {
	IO           *IOStreams
	Input        string
	Output       string
	Objects      []string
	Format       outputFormat
	Verbose      bool
	Quiet        bool
	FailOnPoison bool
	// Verify proves each output with pkg/verify before it is written.
	Verify bool
	Now    func() time.Time

	// Directory and bundle mode (INPUT is a directory): see batch.Options.
	Jobs             int
	Arch             []string
	Include, Exclude []string
	Force, FailFast  bool
	// Strict refuses bundle entries no rule can select.
	Strict bool
	// Context, when not nil, is the parent of a directory run's context.
	Context context.Context
	// dirFlags lists the directory-mode flags given, to reject them for a
	// single INPUT file.
	dirFlags []string

	// kinvolk/btfgen's interface: --inputdir, --outputdir and --object (or
	// --obj) stand for INPUT_DIR OUTPUT_DIR OBJECT... and exclude them.
	InputDir, OutputDir string
	BtfgenObjects       []string
	// btfgen is set when the btfgen flags were used: INPUT must then be a
	// directory and OUTPUT a directory, never a file or a bundle.
	btfgen bool
}

// btfgenFlags are kinvolk/btfgen's flags, accepted as they are.
var btfgenFlags = []string{"inputdir", "outputdir", "object", "obj"}

// usesBtfgenFlags reports whether any of btfgenFlags was given.
func usesBtfgenFlags(cmd *cobra.Command) bool {
	for _, name := range btfgenFlags {
		if cmd.Flags().Changed(name) {
			return true
		}
	}
	return false
}

// resolveBtfgenFlags maps btfgen's --inputdir, --outputdir and --object
// onto INPUT, OUTPUT and OBJECT.
func resolveBtfgenFlags(opts *MinCoreBTFOptions) error {
	var missing []string
	if opts.InputDir == "" {
		missing = append(missing, "--inputdir")
	}
	if opts.OutputDir == "" {
		missing = append(missing, "--outputdir")
	}
	if len(opts.BtfgenObjects) == 0 {
		missing = append(missing, "--object")
	}
	if len(missing) > 0 {
		return usageErrorf("btfgen form needs --inputdir, --outputdir and at least one --object: %s missing", strings.Join(missing, ", "))
	}
	if batch.IsBundle(opts.OutputDir) {
		return usageErrorf("--outputdir %s: names a directory; for a bundle write 'btftool gen min_core_btf %s %s OBJECT...'", opts.OutputDir, opts.InputDir, opts.OutputDir)
	}
	opts.Input, opts.Output, opts.Objects = opts.InputDir, opts.OutputDir, opts.BtfgenObjects
	opts.btfgen = true
	return nil
}

// appendValue is a repeatable string flag appending to a slice that other
// flags share, so that "--object a --obj b" keeps both, in order.
type appendValue struct{ p *[]string }

func (a appendValue) String() string {
	if a.p == nil {
		return ""
	}
	return strings.Join(*a.p, ",")
}
func (a appendValue) Set(s string) error { *a.p = append(*a.p, s); return nil }
func (a appendValue) Type() string       { return "OBJECT" }

// NewCmdMinCoreBTF returns "gen min_core_btf". runF replaces the run
// function in tests.
func NewCmdMinCoreBTF(f *Factory, runF func(*MinCoreBTFOptions) error) *cobra.Command {
	opts := &MinCoreBTFOptions{IO: f.IO, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "min_core_btf INPUT OUTPUT OBJECT [OBJECT...]",
		Short: "Minimize a kernel BTF for the CO-RE relocations of BPF objects",
		Long: `Write to OUTPUT the smallest BTF, cut from the kernel BTF INPUT, with which
libbpf makes the same CO-RE relocation decision as with INPUT for every
relocation of every OBJECT. The arguments are those of
'bpftool gen min_core_btf'.

INPUT is a raw BTF file (either byte order), an ELF file with a .BTF
section (vmlinux), or either of them compressed (.xz, .gz, .zst) or in a
tar archive (btfhub's .btf.tar.xz). OUTPUT is raw BTF in INPUT's byte
order, written atomically.

Relocations that match nothing in INPUT are reported on stderr, one line
per object (every relocation with --verbose); libbpf will poison them when
loading the object on this kernel. Nothing is printed on stdout unless
-o json is given.

Directory mode: when INPUT is a directory (a btfhub-archive tree), every
kernel BTF file under it is minimized and OUTPUT mirrors the tree:
ubuntu/20.04/x86_64/5.4.0-91-generic.btf.tar.xz gives
OUTPUT/ubuntu/20.04/x86_64/5.4.0-91-generic.btf. The objects are parsed
once and --jobs kernels are processed in parallel, in bounded memory.
An OUTPUT ending in .tar.xz, .tar.gz or .tar.zst is instead one
compressed tar bundle of all outputs with an index.json (path, release,
distro, version, arch, size, sha256 of each), byte-for-byte reproducible.
--arch, --include and --exclude select kernels; patterns use Go's
path.Match syntax ("*" does not cross "/", "**" is not special) on the
slash-separated path relative to INPUT and also match its leading
directories ("ubuntu/*" selects everything under ubuntu/). A kernel whose
input, objects and btftool version are unchanged since the last run (as
recorded in OUTPUT/.btftool-manifest.json, or OUTPUT.btftool-manifest.json
beside a bundle) is skipped unless --force. A bad kernel is reported and
the others are still written (exit status 1); --fail-fast stops at the
first. Progress goes to stderr, -o json prints the summary on stdout.

kinvolk/btfgen form: --inputdir DIR --outputdir DIR --object OBJECT
(repeatable, also --obj; "--flag=value" works too) is accepted as is, in
place of the arguments, and means INPUT_DIR OUTPUT_DIR OBJECT...: every
kernel BTF in DIR, one NAME.btf per input NAME.btf in the output directory
(btfgen's file names; subdirectories and compressed inputs are mirrored as
in directory mode). Arguments cannot be mixed with these flags. btfgen's
short forms -i and -o are not taken (-o is the output format). See
docs/migrating.md.`,
		Example: `  btftool gen min_core_btf 5.4.0-91-generic.btf.tar.xz 5.4.0-91-generic.btf *.bpf.o
  btftool gen min_core_btf btfhub-archive min_core_btfs.tar.gz *.bpf.o --arch x86_64
  btftool gen min_core_btf /sys/kernel/btf/vmlinux min.btf prog.bpf.o -o json
  btftool gen min_core_btf --inputdir btfs --outputdir min-btfs --object a.bpf.o --obj b.bpf.o`,
		Args: func(cmd *cobra.Command, args []string) error {
			if usesBtfgenFlags(cmd) {
				if len(args) > 0 {
					return usageErrorf("--inputdir, --outputdir and --object replace INPUT, OUTPUT and OBJECT: give the flags or the arguments, not both (got %d argument(s))", len(args))
				}
				return nil
			}
			if len(args) < 3 {
				return usageErrorf("min_core_btf needs INPUT, OUTPUT and at least one OBJECT, got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if usesBtfgenFlags(cmd) {
				if err := resolveBtfgenFlags(opts); err != nil {
					return err
				}
			} else {
				opts.Input, opts.Output, opts.Objects = args[0], args[1], args[2:]
			}
			for _, name := range []string{"jobs", "arch", "include", "exclude", "force", "fail-fast", "strict"} {
				if cmd.Flags().Changed(name) {
					opts.dirFlags = append(opts.dirFlags, "--"+name)
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return runMinCoreBTF(opts)
		},
	}
	addOutputFlag(cmd, &opts.Format)
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "list every unsatisfied relocation")
	cmd.Flags().BoolVarP(&opts.Quiet, "quiet", "q", false, "print nothing on stderr but errors")
	cmd.Flags().BoolVar(&opts.FailOnPoison, "fail-on-poison", false, "exit with status 1 when a relocation is unsatisfied on INPUT")
	cmd.Flags().BoolVar(&opts.Verify, "verify", false, "prove each output equivalent with cilium/ebpf (as btftool verify) before writing it; exit 1 if not")
	cmd.Flags().IntVarP(&opts.Jobs, "jobs", "j", runtime.NumCPU(), "directory INPUT: kernels processed in parallel")
	cmd.Flags().StringSliceVar(&opts.Arch, "arch", nil, "directory INPUT: only kernels of this architecture (repeatable; arm64=aarch64, x86_64=amd64)")
	cmd.Flags().StringArrayVar(&opts.Include, "include", nil, "directory INPUT: only kernels whose relative path, or a leading directory of it, matches this glob (repeatable)")
	cmd.Flags().StringArrayVar(&opts.Exclude, "exclude", nil, "directory INPUT: skip kernels whose relative path, or a leading directory of it, matches this glob (repeatable)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "directory INPUT: redo kernels whose inputs are unchanged since the last run")
	cmd.Flags().BoolVar(&opts.FailFast, "fail-fast", false, "directory INPUT: stop at the first kernel that fails")
	cmd.Flags().BoolVar(&opts.Strict, "strict", false, "bundle OUTPUT: refuse kernels whose file name gives no release, which nothing could select")
	cmd.Flags().StringVar(&opts.InputDir, "inputdir", "", "kinvolk/btfgen form: directory `DIR` of kernel BTFs, instead of INPUT (see docs/migrating.md)")
	cmd.Flags().StringVar(&opts.OutputDir, "outputdir", "", "kinvolk/btfgen form: output directory `DIR`, one NAME.btf per kernel, instead of OUTPUT")
	cmd.Flags().Var(appendValue{&opts.BtfgenObjects}, "object", "kinvolk/btfgen form: a BPF object, instead of OBJECT (repeatable)")
	cmd.Flags().Var(appendValue{&opts.BtfgenObjects}, "obj", "kinvolk/btfgen form: same as --object")
	return cmd
}

// loadObjects reads and parses BPF objects. An object without CO-RE
// relocations is fine; one that is not a BPF object with BTF is an error.
func loadObjects(paths []string) ([]*bpfobj.Object, error) {
	objs := make([]*bpfobj.Object, 0, len(paths))
	seen := map[string]bool{}
	for _, p := range paths {
		if seen[p] {
			continue
		}
		seen[p] = true
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return nil, inputError(fmt.Errorf("%s: is a directory, not a BPF object", p))
		}
		o, err := bpfobj.Open(p)
		if err != nil {
			return nil, inputError(err)
		}
		objs = append(objs, o)
	}
	return objs, nil
}

// readKernel reads a kernel BTF from any supported container.
func readKernel(path string) (*rawbtf.BTF, kbtf.Source, error) {
	_, b, src, err := readKernelData(path)
	return b, src, err
}

// readKernelData is readKernel that also returns the raw bytes.
func readKernelData(path string) ([]byte, *rawbtf.BTF, kbtf.Source, error) {
	if err := refuseBundle(path); err != nil {
		return nil, nil, kbtf.Source{}, err
	}
	data, src, err := kbtf.ReadFile(path, nil)
	if err != nil {
		return nil, nil, src, inputError(err)
	}
	b, err := rawbtf.Parse(data)
	if err != nil {
		return nil, nil, src, inputError(fmt.Errorf("%s: %w", path, err))
	}
	return data, b, src, nil
}

func runMinCoreBTF(opts *MinCoreBTFOptions) error {
	if opts.btfgen {
		// btfgen fails on anything but a directory: do not fall back to
		// single-file mode.
		fi, err := os.Stat(opts.Input)
		if err != nil {
			return inputError(fmt.Errorf("--inputdir: %w", err))
		}
		if !fi.IsDir() {
			return inputError(fmt.Errorf("--inputdir %s: not a directory", opts.Input))
		}
	}
	if fi, err := os.Stat(opts.Input); err == nil && fi.IsDir() {
		if strings.HasSuffix(opts.Output, ".btf") {
			// Most likely a single-file run given a directory by mistake.
			return inputError(fmt.Errorf("%s: is a directory, and OUTPUT %s names a BTF file: a directory INPUT writes a directory or a .tar.xz, .tar.gz or .tar.zst bundle", opts.Input, opts.Output))
		}
		return runMinCoreBTFDir(opts)
	}
	if len(opts.dirFlags) > 0 {
		return usageErrorf("%s: only when INPUT is a directory", strings.Join(opts.dirFlags, ", "))
	}
	start := opts.Now()
	defer relaxGC(relaxedHeap)()
	// The kernel BTF is read (decompressed, mostly) while the objects are.
	type kernelData struct {
		data   []byte
		kernel *rawbtf.BTF
		src    kbtf.Source
		err    error
	}
	kc := make(chan kernelData, 1)
	go func() {
		data, kernel, src, err := readKernelData(opts.Input)
		kc <- kernelData{data, kernel, src, err}
	}()
	objs, err := loadObjects(opts.Objects)
	if err != nil {
		return err
	}
	kd := <-kc
	if kd.err != nil {
		return kd.err
	}
	data, kernel, src := kd.data, kd.kernel, kd.src
	res, err := btfgen.NewPlan(objs).Minimize(kernel)
	if err != nil {
		return fmt.Errorf("%s: %w", opts.Input, err)
	}
	if opts.Verify {
		// Verify before writing: a BTF that fails is never written.
		if err := newVerifyHook()(data, res.BTF, nil, objs); err != nil {
			return &FailedError{Err: fmt.Errorf("%s: --verify: %w; %s not written", opts.Input, err, opts.Output)}
		}
	}
	if err := atomicfile.WriteFile(opts.Output, res.BTF, 0o644); err != nil {
		return inputError(err)
	}
	rep := newGenReport(opts.Input, opts.Output, src, kernel, res, opts.Verbose)
	rep.Seconds = opts.Now().Sub(start).Seconds()
	if opts.Format == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if !opts.Quiet {
		rep.writeText(opts.IO.ErrOut, opts.Verbose)
	}
	if opts.FailOnPoison && rep.Unsatisfied+rep.Failed > 0 {
		return &SilentError{Code: ExitFailed}
	}
	return nil
}

// verifyHookIf returns the --verify hook when on is set, else nil.
func verifyHookIf(on bool) func(full, min []byte, mods *kmod.Set, objs []*bpfobj.Object) error {
	if !on {
		return nil
	}
	return newVerifyHook()
}

// runMinCoreBTFDir is min_core_btf's directory and bundle mode.
func runMinCoreBTFDir(opts *MinCoreBTFOptions) error {
	_, err := runBatchEngine(&batchRunOptions{
		IO: opts.IO, Objects: opts.Objects, Format: opts.Format, Quiet: opts.Quiet,
		FailOnPoison: opts.FailOnPoison, Context: opts.Context, Now: opts.Now,
		Batch: batch.Options{
			Input: opts.Input, Output: opts.Output, Jobs: opts.Jobs,
			Arch: opts.Arch, Include: opts.Include, Exclude: opts.Exclude,
			Force: opts.Force, FailFast: opts.FailFast, Strict: opts.Strict,
			Verify: verifyHookIf(opts.Verify),
		},
	})
	return err
}

// genReport is the JSON (and text) report of one gen run.
type genReport struct {
	Input       string         `json:"input"`
	Output      string         `json:"output"`
	Format      string         `json:"input_format,omitempty"`
	InputBytes  int            `json:"input_bytes"`
	OutputBytes int            `json:"output_bytes"`
	Types       int            `json:"types"`
	Relocations int            `json:"relocations"`
	Unsatisfied int            `json:"unsatisfied"`
	Failed      int            `json:"failed"`
	Seconds     float64        `json:"seconds"`
	Objects     []objectReport `json:"objects"`
	// Unknown lists the kernel types of kinds btftool does not know that
	// kept types refer to: the output has placeholders in their place.
	Unknown []unknownKindReport `json:"unknown_kinds,omitempty"`
}

// unknownKindReport is a kernel type of a kind btftool does not know.
type unknownKindReport struct {
	ID    rawbtf.TypeID `json:"id"`
	Kind  int           `json:"kind"`
	Name  string        `json:"name,omitempty"`
	Bytes int           `json:"bytes"`
}

type objectReport struct {
	Path        string        `json:"path"`
	Relocations int           `json:"relocations"`
	Unsatisfied int           `json:"unsatisfied"`
	Failed      int           `json:"failed"`
	Details     []relocReport `json:"details,omitempty"`
}

// relocReport describes one relocation's decision.
type relocReport struct {
	Section string    `json:"section"`
	Program string    `json:"program"`
	Insn    int       `json:"insn"`
	Index   int       `json:"relo"`
	Kind    core.Kind `json:"kind"`
	Path    string    `json:"path"`
	Status  string    `json:"status"`
	Value   *uint64   `json:"value,omitempty"`
	Error   string    `json:"error,omitempty"`
}

// statusOf classifies a decision: "ok", "unsatisfied" (nothing matched:
// poisoned, or 0 for existence checks) or "failed" (libbpf refuses the
// object).
func statusOf(r *core.Result) string {
	switch {
	case r.Err != nil:
		return "failed"
	case r.Unsatisfied():
		return "unsatisfied"
	}
	return "ok"
}

func newRelocReport(o *bpfobj.Object, i int, r *core.Result) relocReport {
	rel := &o.Relocations[i]
	rr := relocReport{
		Section: rel.Section, Program: rel.Program, Insn: rel.Insn(o), Index: rel.Index,
		Kind: rel.Kind, Path: rel.Path(), Status: statusOf(r),
	}
	if r.Err != nil {
		rr.Error = r.Err.Error()
	} else if !r.Poison && rel.Kind != core.TypeIDTarget {
		v := r.NewVal
		rr.Value = &v
	}
	return rr
}

func newGenReport(in, out string, src kbtf.Source, kernel *rawbtf.BTF, res *btfgen.Result, all bool) *genReport {
	rep := &genReport{Input: in, Output: out, Format: src.Format, InputBytes: kernel.Size(), OutputBytes: len(res.BTF), Types: res.Types}
	for _, or := range res.Objects {
		o := or.Object
		orp := objectReport{Path: o.Path, Relocations: len(o.Relocations)}
		for i := range or.Results {
			r := &or.Results[i]
			st := statusOf(r)
			switch st {
			case "failed":
				orp.Failed++
			case "unsatisfied":
				orp.Unsatisfied++
			}
			if st != "ok" || all {
				orp.Details = append(orp.Details, newRelocReport(o, i, r))
			}
		}
		rep.Relocations += orp.Relocations
		rep.Unsatisfied += orp.Unsatisfied
		rep.Failed += orp.Failed
		rep.Objects = append(rep.Objects, orp)
	}
	for _, id := range res.Unknown {
		t := kernel.Type(id)
		rep.Unknown = append(rep.Unknown, unknownKindReport{ID: id, Kind: int(t.Kind()), Name: t.Name(), Bytes: len(t.Raw())})
	}
	return rep
}

// writeText prints one line per object that needs attention, and one
// per kernel type of unknown kind that the output stands a placeholder
// for.
func (rep *genReport) writeText(w io.Writer, verbose bool) {
	kname := filepath.Base(rep.Input)
	for _, u := range rep.Unknown {
		fmt.Fprintf(w, "btftool: %s: type [%d] '%s' of unknown kind %d (%d bytes) is referred to by kept types: %s has a placeholder in its place, which no relocation matches\n",
			kname, u.ID, u.Name, u.Kind, u.Bytes, filepath.Base(rep.Output))
	}
	for _, o := range rep.Objects {
		name := filepath.Base(o.Path)
		switch {
		case o.Relocations == 0:
			fmt.Fprintf(w, "btftool: %s: no CO-RE relocations, contributes nothing\n", name)
		case o.Failed > 0:
			fmt.Fprintf(w, "btftool: %s: libbpf will refuse to load it on %s: %d relocation(s) fail, %d of %d unsatisfied\n", name, kname, o.Failed, o.Unsatisfied, o.Relocations)
		case o.Unsatisfied > 0:
			fmt.Fprintf(w, "btftool: %s: %d of %d relocations unsatisfied on %s%s\n", name, o.Unsatisfied, o.Relocations, kname, hintVerbose(verbose))
		}
		if !verbose {
			continue
		}
		for _, d := range o.Details {
			if d.Status == "ok" {
				continue
			}
			line := fmt.Sprintf("  %s %s insn %d: %s %s: %s", d.Section, d.Program, d.Insn, d.Kind, d.Path, d.Status)
			if d.Error != "" {
				line += ": " + d.Error
			}
			fmt.Fprintln(w, line)
		}
	}
}

func hintVerbose(verbose bool) string {
	if verbose {
		return ""
	}
	return " (--verbose lists them)"
}

var _ = errors.New
