package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/btftool/btftool/internal/outguard"
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
	return newGroup("gen", "Generate minimized BTF", NewCmdMinCoreBTF(f, nil))
}

// MinCoreBTFOptions are the options of "gen min_core_btf".
type MinCoreBTFOptions struct {
	IO *IOStreams
	// ConfigFile is the config file the options were read from, if any.
	ConfigFile   string
	Input        string
	Output       string
	Objects      []string
	Format       outputFormat
	Verbose      bool
	Quiet        bool
	FailOnPoison bool
	// Verify proves each output with pkg/verify before it is written.
	Verify bool
	// Modules is the kernel's module BTF (one kernel), or a tree of
	// module archives mirroring a directory INPUT.
	Modules []string
	Now     func() time.Time

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

// NewCmdMinCoreBTF returns "gen min_core_btf". runF replaces the run
// function in tests.
func NewCmdMinCoreBTF(f *Factory, runF func(*MinCoreBTFOptions) error) *cobra.Command {
	opts := &MinCoreBTFOptions{IO: f.IO, Now: time.Now, Format: "text"}
	var set *optionSet
	cmd := &cobra.Command{
		Use:   "min_core_btf INPUT OUTPUT OBJECT [OBJECT...]",
		Short: "Minimize a kernel BTF for the CO-RE relocations of BPF objects",
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
			if _, err := set.load(false); err != nil {
				return err
			}
			if usesBtfgenFlags(cmd) {
				if err := resolveBtfgenFlags(opts); err != nil {
					return err
				}
			} else {
				opts.Input, opts.Output, opts.Objects = args[0], args[1], args[2:]
			}
			for _, name := range []string{"jobs", "arch", "include", "exclude", "fail-fast", "strict"} {
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
	set = newOptionSet(cmd, "gen", "min_core_btf")
	set.String(&opts.ConfigFile, optConfig)
	enumVar(set, &opts.Format, optOutput)
	set.Bool(&opts.Verbose, flagDef{Name: "verbose", Short: "v", Usage: "list every unsatisfied relocation"})
	set.Bool(&opts.Quiet, optQuiet)
	set.Bool(&opts.FailOnPoison, flagDef{Name: "fail-on-poison", Usage: "exit with status 1 when a program would fail on INPUT: it reaches a poisoned instruction no variant covers, or libbpf refuses a relocation (guarded reads and flavors do not count)"})
	set.Bool(&opts.Verify, flagDef{Name: "verify", Usage: "prove each output equivalent with cilium/ebpf (as btftool verify) before writing it; exit 1 if not"})
	set.Strings(&opts.Modules, optModulesGen)
	set.Bool(&opts.Force, flagDef{Name: "force", Usage: "replace an existing OUTPUT that is not BTF (not a bundle, for a bundle); directory INPUT: also redo kernels whose inputs are unchanged since the last run"})
	set.Int(&opts.Jobs, dirOnly(optJobs))
	set.Strings(&opts.Arch, dirOnly(optArch))
	set.Strings(&opts.Include, dirOnly(optInclude))
	set.Strings(&opts.Exclude, dirOnly(optExclude))
	set.Bool(&opts.FailFast, dirOnly(optFailFast))
	set.Bool(&opts.Strict, flagDef{Name: "strict", Usage: "bundle OUTPUT: refuse kernels whose file name gives no release, which nothing could select"})
	set.String(&opts.InputDir, flagDef{Name: "inputdir", ValueName: "DIR", FlagOnly: true, NoEnv: true, Usage: "kinvolk/btfgen form: directory of kernel BTFs, instead of INPUT (see docs/migrating.md)"})
	set.String(&opts.OutputDir, flagDef{Name: "outputdir", ValueName: "DIR", FlagOnly: true, NoEnv: true, Usage: "kinvolk/btfgen form: output directory, one NAME.btf per kernel, instead of OUTPUT"})
	set.Append(&opts.BtfgenObjects, flagDef{Name: "object", ValueName: "OBJECT", FlagOnly: true, NoEnv: true, Usage: "kinvolk/btfgen form: a BPF object, instead of OBJECT (repeatable)"})
	set.Append(&opts.BtfgenObjects, flagDef{Name: "obj", ValueName: "OBJECT", FlagOnly: true, NoEnv: true, Usage: "kinvolk/btfgen form: same as --object"})
	cmd.Long = minCoreBTFHelp + set.help() + "\n\n" + exitStatusHelp("", "relocations unsatisfied with --fail-on-poison; an output not equivalent\n       with --verify; a kernel of a directory INPUT failed (the others are\n       written)")
	return cmd
}

// dirOnly is d for directory mode only.
func dirOnly(d flagDef) flagDef {
	d.Usage = "directory INPUT: " + d.Usage
	return d
}

// minCoreBTFHelp is the help of "gen min_core_btf", before its settings
// and exit status.
const minCoreBTFHelp = `Write to OUTPUT the smallest BTF, cut from the kernel BTF INPUT, with which
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
--verbose lists each unsatisfied relocation once, under the kernels it
is unsatisfied on.

kinvolk/btfgen form: --inputdir DIR --outputdir DIR --object OBJECT
(repeatable, also --obj; "--flag=value" works too) is accepted as is, in
place of the arguments, and means INPUT_DIR OUTPUT_DIR OBJECT...: every
kernel BTF in DIR, one NAME.btf per input NAME.btf in the output directory
(btfgen's file names; subdirectories and compressed inputs are mirrored as
in directory mode). Arguments cannot be mixed with these flags. btfgen's
short forms -i and -o are not taken (-o is the output format). See
docs/migrating.md.

Nothing an input is lost: an OUTPUT (or a kernel's output in a tree) that
is INPUT, an OBJECT or a kernel of the tree, however it is named (a
symbolic link, a hard link, ./x), is refused, and so is an existing OUTPUT
that is not BTF (for a bundle: not a bundle), unless --force. An output
directory or bundle inside the INPUT tree is not read as kernels. An
OUTPUT name that promises another format is refused: a .tar.gz (or other
archive) name for one kernel, a .tar.bz2 or .btf name for a tree. A
bundle's missing parent directories are created. An OBJECT with a CO-RE
relocation record libbpf refuses whatever the kernel (an unknown kind, an
access string that is not an access path, a type ID or string offset out
of range) is bad input.

`

// loadObjects reads and parses BPF objects for a command that relocates
// them: an object without CO-RE relocations is fine; one that is not a BPF
// object with BTF, or that has a CO-RE record libbpf refuses whatever the
// kernel, is bad input.
func loadObjects(paths []string) ([]*bpfobj.Object, error) {
	objs, err := readObjects(paths)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if err := o.Check(); err != nil {
			return nil, inputError(err)
		}
	}
	return objs, nil
}

// readObjects reads and parses BPF objects, keeping records libbpf would
// refuse (for inspection). One that is not a BPF object with BTF is bad
// input.
func readObjects(paths []string) ([]*bpfobj.Object, error) {
	objs := make([]*bpfobj.Object, 0, len(paths))
	for _, p := range uniquePaths(paths) {
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
	if err := oneStdin(append([]string{opts.Input}, opts.Objects...)...); err != nil {
		return err
	}
	if fi, err := os.Stat(opts.Input); err == nil && fi.IsDir() {
		if opts.Output == stdio {
			return usageErrorf("OUTPUT '-' (standard output) takes one kernel's BTF: a directory INPUT writes a directory or a .tar.xz, .tar.gz or .tar.zst bundle")
		}
		if strings.HasSuffix(opts.Output, ".btf") {
			// Most likely a single-file run given a directory by mistake.
			return inputError(fmt.Errorf("%s: is a directory, and OUTPUT %s names a BTF file: a directory INPUT writes a directory or a .tar.xz, .tar.gz or .tar.zst bundle", opts.Input, opts.Output))
		}
		return runMinCoreBTFDir(opts)
	}
	if len(opts.dirFlags) > 0 {
		return usageErrorf("%s: only when INPUT is a directory", strings.Join(opts.dirFlags, ", "))
	}
	if opts.Output == stdio && opts.Format == "json" {
		return usageErrorf("OUTPUT '-' writes the BTF on standard output, where -o json would write the report: give OUTPUT a file name")
	}
	if err := checkSingleOutput(opts); err != nil {
		return inputError(err)
	}
	start := opts.Now()
	restoreGC := relaxGC(relaxedHeap)
	defer func() { restoreGC() }()
	// The kernel BTF is read (decompressed, mostly) while the objects are.
	type kernelData struct {
		data   []byte
		kernel *rawbtf.BTF
		src    kbtf.Source
		err    error
	}
	kc := make(chan kernelData, 1)
	go func() {
		data, kernel, src, err := readKernelData(opts.IO, opts.Input)
		kc <- kernelData{data, kernel, src, err}
	}()
	// Objects of many relocations for one kernel, without modules or
	// --verify, are minimized one at a time (btfgen.MinimizeEach): holding
	// them all is then most of the run's memory. The heap is the kernel
	// and one object, collected as it goes.
	canStream := len(opts.Modules) == 0 && !opts.Verify
	objs, stream, err := readObjectsOrStream(opts.Objects, canStream, streamRelocations, func() {
		restoreGC()
		if os.Getenv("GOGC") == "" {
			// As for trees: a heap of mostly kernel bytes, cheap to
			// collect often.
			old := debug.SetGCPercent(50)
			restoreGC = func() { debug.SetGCPercent(old) }
		}
	})
	if err != nil {
		return err
	}
	streamed := stream.N > 0
	mods, err := openModules(opts.Modules, opts.Input)
	if err != nil {
		return err
	}
	kd := <-kc
	if kd.err != nil {
		return kd.err
	}
	data, kernel, src := kd.data, kd.kernel, kd.src
	// Only -o json and --verbose print each relocation.
	details := opts.Verbose || opts.Format == "json"
	rep := &genReport{Input: opts.Input, Output: opts.Output, Format: src.Format, InputBytes: kernel.Size()}
	attachIn := kernel // attach targets are looked up in vmlinux only
	if mods != nil {
		attachIn = nil
	}
	var res *btfgen.Result
	switch {
	case streamed:
		res, err = btfgen.MinimizeEach(kernel, stream, func(or btfgen.ObjectResult) error {
			rep.addObject(&or, nil, details, opts.Verbose)
			return rep.addObjectVerdicts(&or, attachIn)
		})
	case mods != nil:
		res, err = btfgen.NewPlan(objs).MinimizeModules(kernel, mods)
	default:
		res, err = btfgen.NewPlan(objs).Minimize(kernel)
	}
	switch {
	case errors.As(err, new(*InputError)), errors.As(err, new(*InternalError)):
		return err // from reading an object again or its verdicts
	case errors.Is(err, btfgen.ErrSelfCheck):
		return &InternalError{Err: fmt.Errorf("%s: %w", opts.Input, err), Inputs: append(append([]string{opts.Input}, opts.Modules...), opts.Objects...)}
	case err != nil && mods != nil:
		return inputError(fmt.Errorf("%s with --modules: %w", opts.Input, err))
	case err != nil:
		return inputError(fmt.Errorf("%s: %w", opts.Input, err))
	}
	if !streamed {
		collectBetweenPhases()
	}
	if opts.Verify {
		// Verify before writing: a BTF that fails is never written.
		if err := newVerifyHook()(data, res.BTF, mods, objs); err != nil {
			return &NegativeError{Err: fmt.Errorf("%s: --verify: %w; %s not written", opts.Input, err, opts.Output)}
		}
	}
	if err := writeOutput(opts.IO, opts.Output, res.BTF); err != nil {
		return err
	}
	rep.addResult(kernel, res)
	if !streamed {
		if res.Kernel != nil {
			rep.FromModules, rep.Modules = modulesUsed(res)
		}
		for i := range res.Objects {
			rep.addObject(&res.Objects[i], res.Kernel, details, opts.Verbose)
		}
		// One object at a time, so that only one object's programs are held.
		for i := range res.Objects {
			if err := rep.addObjectVerdicts(&res.Objects[i], attachIn); err != nil {
				return err
			}
		}
	}
	rep.Seconds = opts.Now().Sub(start).Seconds()
	if err := printReport(opts.IO.Out, opts.Format, rep, func() {
		if !opts.Quiet {
			rep.writeText(opts.IO.ErrOut, opts.Verbose)
		}
	}); err != nil {
		return err
	}
	if opts.FailOnPoison && rep.Failed+len(rep.FailingPrograms) > 0 {
		return &SilentError{Code: ExitNegative}
	}
	return nil
}

// uniquePaths returns paths without repeats, in order.
func uniquePaths(paths []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range paths {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// streamRelocations is the number of relocations of a one-kernel run's
// objects above which they are minimized one at a time: below, the
// objects are small beside the kernel, and reading them again costs more
// than holding them.
var streamRelocations = 20000

// readObjectsOrStream checks and reads the objects at paths as
// loadObjects does, one after another. While their relocations add up to
// at most limit, or when stream is false, it returns them. Otherwise, and
// when there are several, it calls streaming, drops them, and returns
// them for btfgen.MinimizeEach (Objects.N > 0) with the names of their
// local types; reading one again fails as reading it the first time
// would.
func readObjectsOrStream(paths []string, stream bool, limit int, streaming func()) ([]*bpfobj.Object, btfgen.Objects, error) {
	paths = uniquePaths(paths)
	var objs []*bpfobj.Object
	names := map[string]struct{}{}
	relocs, streamed := 0, false
	// As loadObjects: an object that cannot be read is reported before
	// one libbpf refuses.
	var refused error
	for _, p := range paths {
		got, err := readObjects([]string{p})
		if err != nil {
			return nil, btfgen.Objects{}, err
		}
		o := got[0]
		if err := o.Check(); err != nil && refused == nil {
			refused = inputError(err)
		}
		relocs += len(o.Relocations)
		if stream && !streamed && len(paths) > 1 && relocs > limit {
			streamed = true
			for _, k := range objs {
				btfgen.ObjectNames(names, k)
			}
			objs = nil
			streaming()
		}
		if streamed {
			btfgen.ObjectNames(names, o)
		} else {
			objs = append(objs, o)
		}
	}
	if refused != nil {
		return nil, btfgen.Objects{}, refused
	}
	if !streamed {
		return objs, btfgen.Objects{}, nil
	}
	return nil, btfgen.Objects{Names: names, N: len(paths), Open: func(i int) (*bpfobj.Object, error) {
		got, err := loadObjects(paths[i : i+1])
		if err != nil {
			return nil, err
		}
		return got[0], nil
	}}, nil
}

// checkSingleOutput refuses, before any work, an OUTPUT of one kernel that
// is one of the inputs, that exists and is not BTF (unless --force), or
// whose name promises another format than raw BTF.
func checkSingleOutput(opts *MinCoreBTFOptions) error {
	out := opts.Output
	if out == stdio {
		return nil
	}
	var in outguard.Inputs
	in.Add("INPUT", opts.Input)
	for _, o := range opts.Objects {
		in.Add("OBJECT", o)
	}
	if err := in.Check("OUTPUT", out, fmt.Sprintf("write the minimized BTF to a new file, for example %s", btfName(out, ".min.btf"))); err != nil {
		return err
	}
	if !opts.Force {
		if err := outguard.CheckReplace("OUTPUT", out, outguard.RawBTF); err != nil {
			hint := "name a new file, or give --force to replace it"
			if outguard.Describe(out) == "an ELF file" {
				hint = "was OUTPUT left out (btftool gen min_core_btf INPUT OUTPUT OBJECT...)? Name a new file, or give --force to replace it"
			}
			return outguard.Refuse(outguard.ErrWouldReplace, "%v: %s", err, hint)
		}
	}
	switch s := outguard.ArchiveSuffix(out); {
	case batch.IsBundle(out):
		return outguard.Refuse(outguard.ErrFormat, "OUTPUT %s names a bundle, which is written from a directory INPUT; the minimized BTF of one kernel is raw BTF: name it %s", out, btfName(out, ".btf"))
	case s != "":
		return outguard.Refuse(outguard.ErrFormat, "OUTPUT %s: a %s name, but the minimized BTF of one kernel is raw BTF: name it %s", out, s, btfName(out, ".btf"))
	case outguard.IsELFName(out):
		return outguard.Refuse(outguard.ErrFormat, "OUTPUT %s: the name of an object (.o), but the minimized BTF is raw BTF: name it %s", out, btfName(out, ".btf"))
	}
	return nil
}

// btfName suggests a BTF file name for path: its name without archive,
// object and .btf endings, with suffix.
func btfName(path, suffix string) string {
	dir, base := filepath.Split(path)
	for {
		s := outguard.ArchiveSuffix(base)
		switch {
		case s != "":
			base = strings.TrimSuffix(base, s)
			continue
		case strings.HasSuffix(base, ".bpf.o"):
			base = strings.TrimSuffix(base, ".bpf.o")
		case outguard.IsELFName(base):
			base = strings.TrimSuffix(base, ".o")
		}
		break
	}
	base = strings.TrimSuffix(base, ".btf")
	if base == "" {
		base = "min"
	}
	return dir + base + suffix
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
	modules, err := checkModulesTree(opts.Modules)
	if err != nil {
		return err
	}
	_, err = runBatchEngine(&batchRunOptions{
		IO: opts.IO, Objects: opts.Objects, Format: opts.Format, Quiet: opts.Quiet, Verbose: opts.Verbose, Hint: hintVerbose(opts.Verbose),
		FailOnPoison: opts.FailOnPoison, Context: opts.Context, Now: opts.Now,
		Batch: batch.Options{
			Input: opts.Input, Output: opts.Output, Jobs: opts.Jobs,
			Arch: opts.Arch, Include: opts.Include, Exclude: opts.Exclude,
			Force: opts.Force, FailFast: opts.FailFast, Strict: opts.Strict, Modules: modules,
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
	// Modules counts the relocations kernel modules serve (vmlinux has no
	// candidate for them) and names the modules whose types the output
	// holds, with --modules.
	FromModules int      `json:"from_modules,omitempty"`
	Modules     []string `json:"modules,omitempty"`
	// FailingPrograms names the programs that fail on the kernel
	// (pkg/reach: a poisoned instruction the verifier reaches, with no
	// program variant to cover it, or an object libbpf refuses).
	FailingPrograms []failingProgram `json:"failing_programs,omitempty"`
	// NeedsKernelBTF lists the objects with programs that need the
	// kernel's own BTF at load time, which no minimized BTF serves.
	NeedsKernelBTF []objectNeeds `json:"needs_kernel_btf,omitempty"`
}

// addObjectVerdicts adds the load verdicts of one object (or) to
// FailingPrograms and NeedsKernelBTF; kernel, when set, is the BTF attach
// targets are looked up in.
func (rep *genReport) addObjectVerdicts(or *btfgen.ObjectResult, kernel *rawbtf.BTF) error {
	objs := []*bpfobj.Object{or.Object}
	progs, err := openPrograms(objs)
	if err != nil {
		return err
	}
	failing, err := failingPrograms(objs, progs, []*core.Decisions{&or.Decisions}, kernel)
	if err != nil {
		return err
	}
	rep.FailingPrograms = append(rep.FailingPrograms, failing...)
	rep.NeedsKernelBTF = append(rep.NeedsKernelBTF, kernelBTFNeeds(objs, progs)...)
	return nil
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
	Details     []core.Report `json:"details,omitempty"`
}

// addObject adds the report of one object's decisions: with details,
// the Details of every relocation that is not satisfied, that a module
// (of k, when set) serves, or (all) every one; without, the counts only.
func (rep *genReport) addObject(or *btfgen.ObjectResult, k *kmod.Kernel, details, all bool) {
	o := or.Object
	orp := objectReport{Path: o.Path, Relocations: len(o.Relocations)}
	status := make([]core.Status, len(or.Decisions.Distinct))
	for k := range or.Decisions.Distinct {
		status[k] = core.StatusOf(&or.Decisions.Distinct[k])
	}
	for i, d := range or.Decisions.Of {
		r := &or.Decisions.Distinct[d]
		st := status[d]
		switch st {
		case core.StatusFailed:
			orp.Failed++
		case core.StatusUnsatisfied:
			orp.Unsatisfied++
		}
		var mods []string
		if details && k != nil {
			mods = k.ModulesOf(r.Matched)
		}
		if details && (st != core.StatusOK || all || len(mods) > 0) {
			rd := o.Report(i, r)
			rd.Modules = mods
			orp.Details = append(orp.Details, rd)
		}
	}
	rep.Relocations += orp.Relocations
	rep.Unsatisfied += orp.Unsatisfied
	rep.Failed += orp.Failed
	rep.Objects = append(rep.Objects, orp)
}

// addResult adds what res says of the output: its size and types, and
// the kernel types of unknown kinds it stands placeholders for.
func (rep *genReport) addResult(kernel *rawbtf.BTF, res *btfgen.Result) {
	rep.OutputBytes, rep.Types = len(res.BTF), res.Types
	for _, id := range res.Unknown {
		t := kernel.Type(id)
		rep.Unknown = append(rep.Unknown, unknownKindReport{ID: id, Kind: int(t.Kind()), Name: t.Name(), Bytes: len(t.Raw())})
	}
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
	if verbose && rep.FromModules > 0 {
		fmt.Fprintf(w, "btftool: %s: %d relocation(s) served by the types of %d module(s): %s\n", kname, rep.FromModules, len(rep.Modules), strings.Join(rep.Modules, ", "))
	}
	writeNeeds(w, "btftool: ", rep.NeedsKernelBTF)
	for _, p := range rep.FailingPrograms {
		fmt.Fprintf(w, "btftool: %s: program %s fails on %s: %s\n", p.Object, p.Program, kname, strings.Join(p.Why, "; "))
	}
	for _, o := range rep.Objects {
		name := o.Path
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
			if d.Status == core.StatusOK {
				continue
			}
			line := fmt.Sprintf("  %s: %s", locationText(d.Location), d.Status)
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
