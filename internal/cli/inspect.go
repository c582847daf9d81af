package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/btftool/btftool/pkg/btfdump"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/inspect"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/needsbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// NewCmdInspect returns the "inspect" command group.
func NewCmdInspect(f *Factory) *cobra.Command {
	return newGroup("inspect", "Describe BTFs and BPF objects, and check objects against kernels",
		NewCmdInspectBTF(f, nil), NewCmdInspectObject(f, nil), NewCmdInspectCompat(f, nil))
}

// inspectDumpFormat is the value of "inspect btf --format".
type inspectDumpFormat string

// InspectBTFOptions are the options of "inspect btf".
type InspectBTFOptions struct {
	IO *IOStreams
	// ConfigFile is the config file the options were read from, if any.
	ConfigFile string
	// Input is the BTF file, in any form kbtf reads ("-": standard input).
	Input string
	// DefaultInput is set when no FILE was given and Input is the running
	// kernel's BTF.
	DefaultInput bool
	// Types lists types instead of summarizing.
	Types bool
	// Names selects types by name (path.Match patterns) and what they
	// reference.
	Names []string
	// DumpFormat is "raw" (bpftool's listing) or "c" (a C header).
	DumpFormat inspectDumpFormat
	Format     outputFormat
	Quiet      bool
}

// NewCmdInspectBTF returns "inspect btf". runF replaces the run function in
// tests.
func NewCmdInspectBTF(f *Factory, runF func(*InspectBTFOptions) error) *cobra.Command {
	opts := &InspectBTFOptions{IO: f.IO, DumpFormat: "raw", Format: "text"}
	var set *optionSet
	cmd := &cobra.Command{
		Use:   "btf [FILE]",
		Short: "Summarize a BTF, list its types or print them as a C header",
		Example: `  btftool inspect btf 5.4.0-91-generic.btf.tar.xz
  btftool inspect btf /sys/kernel/btf/vmlinux --types
  btftool inspect btf vmlinux.btf --type 'task_struct' --type 'sk_*'
  btftool inspect btf vmlinux.btf --format c > vmlinux.h`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf("inspect btf takes one FILE, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := set.load(false); err != nil {
				return err
			}
			opts.Input, opts.DefaultInput = runningKernel, true
			if len(args) == 1 {
				opts.Input, opts.DefaultInput = args[0], false
			}
			if opts.DumpFormat == "c" && opts.Format == "json" {
				return usageErrorf("--format c and -o json do not go together")
			}
			if runF != nil {
				return runF(opts)
			}
			return runInspectBTF(opts)
		},
	}
	set = newOptionSet(cmd, "inspect", "btf")
	set.String(&opts.ConfigFile, optConfig)
	enumVar(set, &opts.Format, optOutput)
	set.Bool(&opts.Quiet, optQuiet)
	set.Bool(&opts.Types, flagDef{Name: "types", Usage: "list every type, as 'bpftool btf dump file' does"})
	set.Strings(&opts.Names, flagDef{Name: "type", ValueName: "NAME", Check: checkGlob, Usage: "list the types named NAME (a glob) and those they refer to (repeatable)"})
	enumVar(set, &opts.DumpFormat, flagDef{Name: "format", Usage: "type listing format: raw (bpftool's) or c (a header)", Allowed: []string{"raw", "c"}})
	cmd.Long = inspectBTFHelp + set.help() + "\n\n" + exitStatusHelp("", "")
	return cmd
}

// inspectBTFHelp is the help of "inspect btf", before its settings and
// exit status.
const inspectBTFHelp = `Summarize the BTF in FILE: byte order, size, types by kind, string table
size, the largest structs and unions, and whether it looks like a full
kernel BTF or a minimized one.

FILE is raw BTF (either byte order), an ELF file with a .BTF section
(vmlinux or a BPF object), or either of them compressed (.xz, .gz, .zst)
or in a tar archive (btfhub's .btf.tar.xz).

--types lists every type in the format of 'bpftool btf dump file FILE';
--type NAME (repeatable, a glob) lists only the types so named and every
type they refer to. --format c prints a C header instead, like
'bpftool btf dump file FILE format c' (only the selected types and what
they need with --type).`

func runInspectBTF(opts *InspectBTFOptions) error {
	if bu, ok := openBundle(opts.Input); ok {
		defer bu.Close()
		if opts.Types || len(opts.Names) > 0 || opts.DumpFormat == "c" {
			return refuseBundle(opts.Input)
		}
		return inspectBundle(opts, bu)
	}
	if opts.DefaultInput {
		noteDefaultKernel(opts.IO, opts.Quiet, "FILE")
	}
	b, src, err := readKernel(opts.IO, opts.Input)
	if err != nil {
		return err
	}
	var ids []rawbtf.TypeID
	var roots []rawbtf.TypeID
	if len(opts.Names) > 0 {
		roots, err = btfdump.Match(b, opts.Names)
		if err != nil {
			if errors.Is(err, btfdump.ErrNoMatch) {
				return inputError(fmt.Errorf("%s: %w", opts.Input, err))
			}
			return usageErrorf("%v", err)
		}
		ids = btfdump.Closure(b, roots)
	}
	out := opts.IO.Out
	switch {
	case opts.DumpFormat == "c":
		err := btfdump.WriteC(out, b, &btfdump.COptions{Roots: roots})
		if errors.Is(err, btfdump.ErrTypeLoop) {
			if !opts.Quiet {
				fmt.Fprintf(opts.IO.ErrOut, "btftool: %s: warning: %v\n", opts.Input, err)
			}
			return nil
		}
		return outputError(err)
	case (opts.Types || ids != nil) && opts.Format == "json":
		return outputError(writeTypesJSON(out, b, ids))
	case opts.Types || ids != nil:
		return outputError(btfdump.WriteRaw(out, b, ids))
	}
	s := inspect.Summarize(b)
	return printReport(out, opts.Format, btfSummaryJSON{opts.Input, src.Format, s}, func() {
		writeSummaryText(out, opts.Input, src.Format, s)
	})
}

// btfSummaryJSON is the JSON of "inspect btf" without --types.
type btfSummaryJSON struct {
	Path   string `json:"path"`
	Format string `json:"input_format"`
	*inspect.Summary
}

// typesJSON is the JSON of a type listing ("inspect btf --types -o
// json"), the shape of 'bpftool -j btf dump file': writeTypesJSON streams
// it, this type documents it.
type typesJSON struct {
	Types []btfdump.Type `json:"types"`
}

// writeTypesJSON streams a typesJSON object, one type per line.
func writeTypesJSON(w io.Writer, b *rawbtf.BTF, ids []rawbtf.TypeID) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	bw.WriteString("{\"types\":[\n")
	first := true
	emit := func(id rawbtf.TypeID) error {
		if !first {
			bw.WriteString(",")
		}
		first = false
		return enc.Encode(btfdump.Describe(b, id))
	}
	if ids == nil {
		for id := 1; id < b.NumTypes(); id++ {
			if err := emit(rawbtf.TypeID(id)); err != nil {
				return err
			}
		}
	} else {
		for _, id := range ids {
			if err := emit(id); err != nil {
				return err
			}
		}
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

func writeSummaryText(w io.Writer, path, format string, s *inspect.Summary) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "file:\t%s (%s)\n", path, format)
	fmt.Fprintf(tw, "shape:\t%s (%s)\n", s.Shape, s.Reason)
	fmt.Fprintf(tw, "byte order:\t%s\n", s.ByteOrder)
	fmt.Fprintf(tw, "size:\t%d bytes\n", s.Size)
	if s.HeaderLen != 24 || s.LayoutKinds > 0 {
		fmt.Fprintf(tw, "header:\t%d bytes, layout section of %d kinds\n", s.HeaderLen, s.LayoutKinds)
	}
	fmt.Fprintf(tw, "strings:\t%d bytes\n", s.StringsSize)
	fmt.Fprintf(tw, "types:\t%d\n", s.Types)
	for _, k := range s.Kinds {
		fmt.Fprintf(tw, "  %s\t%d\n", k.Kind, k.Count)
	}
	fmt.Fprintf(tw, "sparse structs:\t%d\n", s.Sparse)
	if s.UnknownKinds > 0 {
		fmt.Fprintf(tw, "unknown kinds:\t%d types, skipped by the layout section\n", s.UnknownKinds)
	}
	tw.Flush()
	if len(s.Largest) > 0 {
		fmt.Fprintln(w, "largest types:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, t := range s.Largest {
			name := t.Name
			if name == "" {
				name = "(anon)"
			}
			fmt.Fprintf(tw, "  [%d]\t%s %s\t%d\n", t.ID, t.Kind, name, t.Size)
		}
		tw.Flush()
	}
}

// InspectObjectOptions are the options of "inspect object".
type InspectObjectOptions struct {
	IO *IOStreams
	// ConfigFile is the config file the options were read from, if any.
	ConfigFile string
	Objects    []string
	Format     outputFormat
	Quiet      bool
}

// NewCmdInspectObject returns "inspect object". runF replaces the run
// function in tests.
func NewCmdInspectObject(f *Factory, runF func(*InspectObjectOptions) error) *cobra.Command {
	opts := &InspectObjectOptions{IO: f.IO, Format: "text"}
	var set *optionSet
	cmd := &cobra.Command{
		Use:   "object OBJECT [OBJECT...]",
		Short: "List the programs, CO-RE relocations and maps of BPF objects",
		Example: `  btftool inspect object prog.bpf.o
  btftool inspect object *.bpf.o -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("inspect object needs at least one OBJECT")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := set.load(false); err != nil {
				return err
			}
			opts.Objects = args
			if runF != nil {
				return runF(opts)
			}
			return runInspectObject(opts)
		},
	}
	set = newOptionSet(cmd, "inspect", "object")
	set.String(&opts.ConfigFile, optConfig)
	enumVar(set, &opts.Format, optOutput)
	set.Bool(&opts.Quiet, optQuiet)
	cmd.Long = inspectObjectHelp + set.help() + "\n\n" + exitStatusHelp("", "")
	return cmd
}

// inspectObjectHelp is the help of "inspect object", before its settings
// and exit status.
const inspectObjectHelp = `List for each BPF object its programs (section, name, instruction count),
every CO-RE relocation (program, instruction, kind and readable access
path, in libbpf's order), its maps and its license. A record libbpf
refuses whatever the kernel is listed with what is wrong with it. The
programs that need the kernel's own BTF at load time (fentry, fexit,
fmod_ret, tp_btf, lsm, iter and struct_ops attach targets, typed __ksym
variables, kfunc calls) are named with the reason: no shipped BTF serves
them, they fail on a kernel without /sys/kernel/btf/vmlinux.`

// objectsJSON is the JSON of "inspect object".
type objectsJSON struct {
	Objects []*inspect.ObjectInfo `json:"objects"`
}

func runInspectObject(opts *InspectObjectOptions) error {
	objs, err := readObjects(opts.Objects)
	if err != nil {
		return err
	}
	infos := make([]*inspect.ObjectInfo, len(objs))
	for i, o := range objs {
		infos[i] = inspect.DescribeObject(o)
		if infos[i].NeedsKernelBTF, err = needsbtf.AnalyzeFile(o.Path); err != nil {
			return inputError(err)
		}
	}
	return printReport(opts.IO.Out, opts.Format, objectsJSON{Objects: infos}, func() { writeObjectsText(opts.IO.Out, infos) })
}

// writeObjectsText prints "inspect object"'s listing of each object,
// buffered: one line per relocation, tens of thousands for a large object.
func writeObjectsText(out io.Writer, infos []*inspect.ObjectInfo) {
	w := bufio.NewWriter(out)
	defer w.Flush()
	for i, info := range infos {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s\n", info.Path)
		fmt.Fprintf(w, "license: %s\n", inspectOrNone(info.License))
		fmt.Fprintf(w, "maps: %s\n", inspectOrNone(strings.Join(info.Maps, ", ")))
		fmt.Fprintf(w, "programs: %d\n", len(info.Programs))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  SECTION\tNAME\tINSNS")
		for _, p := range info.Programs {
			fmt.Fprintf(tw, "  %s\t%s\t%d\n", p.Section, p.Name, p.Insns)
		}
		tw.Flush()
		if len(info.NeedsKernelBTF) > 0 {
			fmt.Fprintln(w, needsbtf.Summary(info.NeedsKernelBTF))
		}
		fmt.Fprintf(w, "CO-RE relocations: %d\n", len(info.Relocations))
		if len(info.Relocations) == 0 {
			continue
		}
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  PROGRAM\tINSN\tRELO\tKIND\tPATH")
		var line []byte
		for _, r := range info.Relocations {
			// As fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%s\n", ...), without
			// its cost on every line.
			line = append(append(line[:0], "  "...), inspectOrNone(r.Program)...)
			line = strconv.AppendInt(append(line, '\t'), int64(r.Insn), 10)
			line = strconv.AppendInt(append(line, '\t'), int64(r.Index), 10)
			line = append(append(append(line, '\t'), r.Kind.String()...), '\t')
			line = append(line, r.Path...)
			if r.Error != "" {
				line = append(append(append(line, " ("...), r.Error...), ')')
			}
			tw.Write(append(line, '\n'))
		}
		tw.Flush()
	}
}

func inspectOrNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// inspectFailOn is the value of "inspect compat --fail-on".
type inspectFailOn string

// InspectCompatOptions are the options of "inspect compat".
type InspectCompatOptions struct {
	IO *IOStreams
	// ConfigFile is the config file the options were read from, if any.
	ConfigFile string
	Objects    []string
	// Kernels is a kernel BTF file or a directory tree of them; the
	// running kernel's BTF when not given (DefaultKernels).
	Kernels        string
	DefaultKernels bool
	Jobs           int
	Verbose        bool
	Quiet          bool
	FailOn         inspectFailOn
	Format         outputFormat
	// NoKernelBTF says the kernels have no BTF of their own.
	NoKernelBTF bool
	// Modules is the module BTF of the one kernel, or for a tree of
	// kernels a tree of module archives mirroring it.
	Modules []string
}

// NewCmdInspectCompat returns "inspect compat". runF replaces the run
// function in tests.
func NewCmdInspectCompat(f *Factory, runF func(*InspectCompatOptions) error) *cobra.Command {
	opts := &InspectCompatOptions{IO: f.IO, FailOn: "never", Format: "text"}
	var set *optionSet
	cmd := &cobra.Command{
		Use:   "compat OBJECT [OBJECT...] [--kernels PATH]",
		Short: "Check which CO-RE relocations of BPF objects each kernel satisfies",
		Example: `  btftool inspect compat prog.bpf.o --kernels btfhub-archive/
  btftool inspect compat *.bpf.o --kernels 5.4.0-91-generic.btf.tar.xz --verbose
  btftool inspect compat prog.bpf.o --kernels archive/ --fail-on unsatisfied -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("inspect compat needs at least one OBJECT")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := set.load(false); err != nil {
				return err
			}
			opts.Objects = args
			if opts.Kernels == "" {
				opts.Kernels, opts.DefaultKernels = runningKernel, true
			}
			if runF != nil {
				return runF(opts)
			}
			return runInspectCompat(opts)
		},
	}
	set = newOptionSet(cmd, "inspect", "compat")
	set.String(&opts.ConfigFile, optConfig)
	enumVar(set, &opts.Format, optOutput)
	set.String(&opts.Kernels, flagDef{Name: "kernels", Short: "k", ValueName: "PATH", Path: true, Usage: "kernel BTF file or directory tree (btfhub layout); default: the running kernel's, " + runningKernel})
	set.Int(&opts.Jobs, optJobs)
	set.Strings(&opts.Modules, flagDef{Name: "modules", ValueName: "PATH", Usage: optModules.Usage + "; with a directory --kernels, one tree mirroring it with each kernel's as DIR/RELEASE.modules.tar.xz (archives beside the kernels are used without it)"})
	set.Bool(&opts.Verbose, flagDef{Name: "verbose", Short: "v", Usage: "list every relocation that is not ok"})
	set.Bool(&opts.Quiet, optQuiet)
	set.Bool(&opts.NoKernelBTF, flagDef{Name: "no-kernel-btf", Usage: "the kernels have no BTF of their own (as btfhub's): programs that need it (fentry, tp_btf, lsm, iter, struct_ops, typed ksyms, kfuncs) fail"})
	enumVar(set, &opts.FailOn, flagDef{Name: "fail-on", Usage: "exit 1 on: never, unsatisfied (will-fail or load-fails) or load (load-fails)", Allowed: []string{"never", "unsatisfied", "load"}})
	cmd.Long = inspectCompatHelp + set.help() + "\n\n" + exitStatusHelp("", "a kernel has failing relocations, as --fail-on asks")
	return cmd
}

// inspectCompatHelp is the help of "inspect compat", before its settings
// and exit status.
const inspectCompatHelp = `Decide every CO-RE relocation of every OBJECT against every kernel BTF
under PATH (a BTF file in any form, or a directory tree such as btfhub's,
compressed files read in place) exactly as libbpf does when loading the
object, and classify each:

  ok           a candidate matched; the instruction is patched
  guard        nothing matched, but harmlessly: an existence check
               (field_exists, type_exists, type_matches, enumval_exists)
               that evaluates to 0, or a poisoned instruction the verifier
               cannot reach once those checks are patched (the program's
               control flow is followed with the relocated values)
  alternative  the poisoned instruction is reachable, but a variant of its
               program in the object (kprobe beside fentry, raw_tp beside
               tp_btf) loads: the loader must disable the failing one
  will-fail    the poisoned instruction is reachable and nothing covers it:
               the verifier rejects the program
  load-fails   libbpf refuses the object (ambiguous match, invalid access)

One line is printed per kernel (per distribution/version/architecture
when there are more than 20 kernels); --verbose lists the relocations that
are not ok and the programs that do not load as they are (fails, or
needs-variant-disabled). The objects whose programs need the kernel's own
BTF at load time (fentry, tp_btf, lsm, iter, struct_ops, typed __ksym,
kfuncs), which no shipped BTF serves, are named after the table. With
--fail-on unsatisfied the exit status is 1 when any kernel
has a will-fail or load-fails relocation (--fail-on load: load-fails only).
An OBJECT with a CO-RE record libbpf refuses on every kernel is bad input.

With kernel modules (--modules, or the RELEASE.modules.tar.xz archives
beside the kernels of a tree), the relocations only a module satisfies are
listed after the table with the module (and the kernels, over a tree).
Over a tree, a progress bar is drawn on stderr when it is a terminal.`

// compatReport is the JSON output of "inspect compat".
type compatReport struct {
	Kernels []inspect.KernelResult `json:"kernels"`
	Total   inspect.Counts         `json:"total"`
	// Failing is the number of kernels with will-fail or load-fails
	// relocations.
	Failing int `json:"failing_kernels"`
	// NeedsKernelBTF lists the objects with programs that need the
	// kernel's own BTF at load time, whatever BTF is shipped.
	NeedsKernelBTF []objectNeeds `json:"needs_kernel_btf,omitempty"`
}

// inspectKernels returns the kernels at path: the file itself, or the kernel
// BTF files of a tree.
func inspectKernels(path string) ([]inspect.Kernel, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if path == runningKernel {
			err = fmt.Errorf("%w (this kernel has no BTF, CONFIG_DEBUG_INFO_BTF: give --kernels)", err)
		}
		return nil, inputError(err)
	}
	if !fi.IsDir() {
		return []inspect.Kernel{{Path: path, Name: filepath.Base(path)}}, nil
	}
	entries, err := kbtf.Walk(path)
	if err != nil {
		return nil, inputError(err)
	}
	if len(entries) == 0 {
		return nil, inputError(fmt.Errorf("%s: no kernel BTF files found", path))
	}
	ks := make([]inspect.Kernel, len(entries))
	for i, e := range entries {
		ks[i] = inspect.Kernel{Path: e.Path, Name: e.Rel, Distro: e.Distro, Version: e.Version, Arch: e.Arch, Release: e.Release}
	}
	return ks, nil
}

func runInspectCompat(opts *InspectCompatOptions) error {
	objs, err := loadObjects(opts.Objects)
	if err != nil {
		return err
	}
	if opts.DefaultKernels {
		noteDefaultKernel(opts.IO, opts.Quiet, "--kernels")
	}
	var fromBundle func(string) (*rawbtf.BTF, bool, error)
	var kernels []inspect.Kernel
	if bu, ok := openBundle(opts.Kernels); ok {
		defer bu.Close()
		kernels, fromBundle = bundleKernels(opts.Kernels, bu)
	} else if kernels, err = inspectKernels(opts.Kernels); err != nil {
		return err
	}
	readModules, err := compatModules(opts, kernels)
	if err != nil {
		return err
	}
	bar := newTreeProgress(opts.IO, opts.Quiet, len(kernels))
	results := inspect.Run(kernels, objs, inspect.RunOptions{
		Jobs: opts.Jobs,
		Read: func(p string) (*rawbtf.BTF, error) {
			if fromBundle != nil {
				if b, ok, err := fromBundle(p); ok {
					return b, err
				}
			}
			b, _, err := readKernel(opts.IO, p)
			return b, err
		},
		ReadModules: readModules,
		NoKernelBTF: opts.NoKernelBTF,
		All:         opts.Verbose && opts.Format == "json",
		Done:        func(kr inspect.KernelResult) { bar.kernelDone(kr.Error != "" || kr.Failing()) },
	})
	bar.finish()
	rep := compatReport{Kernels: results}
	progs, err := openPrograms(objs)
	if err != nil {
		return err
	}
	rep.NeedsKernelBTF = kernelBTFNeeds(objs, progs)
	var bad []string
	for _, kr := range results {
		rep.Total.Add(kr.Counts)
		if kr.Failing() {
			rep.Failing++
		}
		if kr.Error != "" {
			bad = append(bad, kr.Error)
		}
	}
	if err := printReport(opts.IO.Out, opts.Format, rep, func() { writeCompatText(opts.IO.Out, &rep, opts.Verbose) }); err != nil {
		return err
	}
	if len(bad) > 0 {
		msg := bad[0]
		if len(bad) > 1 {
			msg = fmt.Sprintf("%s (and %d more kernel(s) unreadable)", msg, len(bad)-1)
		}
		return inputError(errors.New(msg))
	}
	for _, kr := range results {
		if (opts.FailOn == "unsatisfied" && kr.Failing()) || (opts.FailOn == "load" && kr.LoadFails > 0) {
			return &SilentError{Code: ExitNegative}
		}
	}
	return nil
}

func compatCountsText(c inspect.Counts) string {
	s := fmt.Sprintf("%d relocations: %d ok, %d guard, %d alternative, %d will fail, %d load fails",
		c.Relocations, c.OK, c.Guard, c.Alternative, c.WillFail, c.LoadFails)
	if c.FromModules > 0 {
		s += fmt.Sprintf(" (%d ok by module types)", c.FromModules)
	}
	if c.FailingPrograms > 0 {
		s += fmt.Sprintf("; %d program(s) fail", c.FailingPrograms)
	}
	return s
}

// compatModules gives the kernels their module BTF for --modules (and
// those of a tree the archives beside them), and returns how to read it.
func compatModules(opts *InspectCompatOptions, kernels []inspect.Kernel) (func(string) (*kmod.Set, error), error) {
	fi, err := os.Stat(opts.Kernels)
	if err == nil && fi.IsDir() {
		tree, err := checkModulesTree(opts.Modules)
		if err != nil {
			return nil, err
		}
		entries, err := kbtf.Walk(opts.Kernels)
		if err != nil {
			return nil, inputError(err)
		}
		beside := map[string]kbtf.Entry{}
		for _, e := range entries {
			beside[e.Path] = e
		}
		for i := range kernels {
			e := beside[kernels[i].Path]
			kernels[i].Modules = e.Modules
			if tree != "" {
				if p := kbtf.FindModules(tree, e.OutRel); p != "" {
					kernels[i].Modules = p
				}
			}
		}
		return nil, nil
	}
	if len(opts.Modules) == 0 {
		return nil, nil
	}
	kernels[0].Modules = strings.Join(opts.Modules, ", ")
	kernels[0].Release = kernelRelease(opts.Kernels)
	return func(string) (*kmod.Set, error) {
		set, err := kmod.Open(opts.Modules, nil)
		if err != nil {
			return nil, fmt.Errorf("--modules: %w", err)
		}
		return set, nil
	}, nil
}

func compatVerdict(c inspect.Counts) string {
	switch {
	case c.LoadFails > 0:
		return "LOAD FAILS"
	case c.WillFail > 0 || c.FailingPrograms > 0:
		return "WILL FAIL"
	}
	return "ok"
}

func writeCompatText(w io.Writer, rep *compatReport, verbose bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(rep.Kernels) > 20 && !verbose {
		type group struct {
			name    string
			n, fail int
			c       inspect.Counts
			errs    int
		}
		groups := map[string]*group{}
		var order []string
		for _, kr := range rep.Kernels {
			key := kr.Distro + "/" + kr.Version + "/" + kr.Arch
			if kr.Distro == "" {
				key = filepath.Dir(kr.Name)
			}
			g, ok := groups[key]
			if !ok {
				g = &group{name: key}
				groups[key] = g
				order = append(order, key)
			}
			g.n++
			if kr.Error != "" {
				g.errs++
			}
			if kr.Failing() {
				g.fail++
			}
			g.c.Add(kr.Counts)
		}
		sort.Strings(order)
		fmt.Fprintln(tw, "GROUP\tKERNELS\tFAILING\tUNREADABLE\tRELOCATIONS")
		for _, k := range order {
			g := groups[k]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", g.name, g.n, g.fail, g.errs, compatCountsText(g.c))
		}
	} else {
		fmt.Fprintln(tw, "KERNEL\tVERDICT\tRELOCATIONS")
		for _, kr := range rep.Kernels {
			if kr.Error != "" {
				fmt.Fprintf(tw, "%s\tUNREADABLE\t%s\n", kr.Name, kr.Error)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", kr.Name, compatVerdict(kr.Counts), compatCountsText(kr.Counts))
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "%d of %d kernel(s) with failing relocations\n", rep.Failing, len(rep.Kernels))
	writeNeeds(w, "", rep.NeedsKernelBTF)
	if !verbose {
		writeCompatModules(w, rep)
		return
	}
	for _, kr := range rep.Kernels {
		for _, o := range kr.Objects {
			if o.Relocations == o.OK && o.FromModules == 0 && len(o.Programs) == 0 {
				continue
			}
			fmt.Fprintf(w, "%s: %s: %s\n", kr.Name, o.Path, compatCountsText(o.Counts))
			for _, d := range o.Details {
				if d.Compat == inspect.OK && len(d.Modules) == 0 {
					continue
				}
				line := fmt.Sprintf("  %s: %s", locationText(d.Location), d.Compat)
				if d.Error != "" {
					line += ": " + d.Error
				}
				if len(d.Modules) > 0 {
					line += " (module " + strings.Join(d.Modules, ", ") + ")"
				}
				fmt.Fprintln(w, line)
			}
			writePrograms(w, o.Programs)
		}
	}
}

// writeCompatModules lists the relocations that only kernel modules
// satisfy (vmlinux has no candidate), with the modules and the kernels on
// which they do: one line per object, relocation and set of modules.
func writeCompatModules(w io.Writer, rep *compatReport) {
	type key struct {
		obj, loc, mods string
	}
	type served struct {
		obj     string
		loc     core.Location
		mods    []string
		kernels []string
	}
	var order []key
	groups := map[key]*served{}
	readable := 0
	for _, kr := range rep.Kernels {
		if kr.Error != "" {
			continue
		}
		readable++
		for _, o := range kr.Objects {
			for _, d := range o.Details {
				if len(d.Modules) == 0 {
					continue
				}
				k := key{o.Path, fmt.Sprintf("%s\x00%s\x00%d", d.Section, d.Program, d.Index), strings.Join(d.Modules, ", ")}
				g := groups[k]
				if g == nil {
					g = &served{obj: o.Path, loc: d.Location, mods: d.Modules}
					groups[k] = g
					order = append(order, k)
				}
				g.kernels = append(g.kernels, kr.Name)
			}
		}
	}
	if len(order) == 0 {
		return
	}
	fmt.Fprintln(w, "relocations only kernel modules satisfy:")
	last := ""
	for _, k := range order {
		g := groups[k]
		if g.obj != last {
			fmt.Fprintf(w, "  %s:\n", g.obj)
			last = g.obj
		}
		sort.Strings(g.kernels)
		where := ""
		if readable > 1 {
			where = " on " + kernelList(g.kernels, readable)
		}
		fmt.Fprintf(w, "    %s: module %s%s\n", locationText(g.loc), strings.Join(g.mods, ", "), where)
	}
}
