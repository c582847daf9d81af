package cli

import (
	"fmt"
	"io"
	"sync"

	"github.com/spf13/cobra"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfdiff"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// DiffOptions are the options of "diff".
type DiffOptions struct {
	IO *IOStreams
	// ConfigFile is the config file the options were read from, if any.
	ConfigFile string
	Old, New   string
	OnlyUsedBy []string
	// OldModules and NewModules are OLD's and NEW's module BTF: with
	// --only-used-by, the objects' relocations are decided as libbpf does
	// on a kernel with these modules, and their types are compared too.
	OldModules, NewModules []string
	Types                  []string
	Format                 outputFormat
	Quiet                  bool
	// Color is --color: auto, always or never (IOStreams.ColorEnabled).
	Color string
}

// NewCmdDiff returns "diff". runF replaces the run function in tests.
func NewCmdDiff(f *Factory, runF func(*DiffOptions) error) *cobra.Command {
	opts := &DiffOptions{IO: f.IO, Format: "text", Color: "auto"}
	var set *optionSet
	cmd := &cobra.Command{
		Use:   "diff OLD NEW [OBJECT...]",
		Short: "Show how the types of two BTFs differ",
		Example: `  btftool diff 6.1.0-56-amd64.btf.tar.xz 6.12.117+deb12-amd64.btf.tar.xz
  btftool diff old.btf new.btf --type task_struct --type 'sock*'
  btftool diff 4.19.btf.tar.xz 6.1.btf.tar.xz --only-used-by *.bpf.o -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usageErrorf("diff needs OLD and NEW, got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := set.load(false); err != nil {
				return err
			}
			opts.Old, opts.New = args[0], args[1]
			opts.OnlyUsedBy = append(opts.OnlyUsedBy, args[2:]...)
			if runF != nil {
				return runF(opts)
			}
			return runDiff(opts)
		},
	}
	set = newOptionSet(cmd, "diff")
	set.String(&opts.ConfigFile, optConfig)
	enumVar(set, &opts.Format, optOutput)
	set.Bool(&opts.Quiet, optQuiet)
	set.String(&opts.Color, optColor)
	set.Strings(&opts.OnlyUsedBy, flagDef{Name: "only-used-by", ValueName: "OBJECT", Path: true, Usage: "restrict to what the CO-RE relocations of this BPF object touch (repeatable; objects after OLD and NEW are added)"})
	set.Strings(&opts.OldModules, flagDef{Name: "old-modules", ValueName: "PATH", Usage: "with --only-used-by: OLD's module BTF (as --modules of gen, repeatable)"})
	set.Strings(&opts.NewModules, flagDef{Name: "new-modules", ValueName: "PATH", Usage: "with --only-used-by: NEW's module BTF (as --modules of gen, repeatable)"})
	set.Strings(&opts.Types, flagDef{Name: "type", Short: "t", ValueName: "PATTERN", Check: checkGlob, Usage: "restrict to types matching this name pattern and what they contain (repeatable)"})
	cmd.Long = diffHelp + set.help() + "\n\n" + exitStatusHelp("no differences", "differences")
	return cmd
}

// diffHelp is the help of "diff", before its settings and exit status.
const diffHelp = `Compare two BTFs structurally and print what changed from OLD to NEW:
types added and removed, struct and union sizes, members added, removed,
retyped, moved or changed as bitfields, enumerators, typedef targets,
function prototypes and variable types.

OLD and NEW are read like gen's INPUT: raw BTF (either byte order), ELF
.BTF sections, compressed files and btfhub archives. Types are matched by
kind and name and described by names, never by type IDs. An anonymous
struct or union inside another is identified by the member names it holds
("<anon union:__state>"); same-named types (duplicates) are compared as
sets of distinct forms, so copies present in both are no change.

--type restricts the diff to the types whose name matches a pattern
(path.Match syntax: "task_*"; "struct sock*" also matches the kind) and
the types they contain, not following pointers.

--only-used-by restricts it to the types the CO-RE relocations of the
objects touch (root types, types along access paths, enums). Every
relocation is decided on OLD and NEW as libbpf would; each type lists the
relocations touching it, and a relocation is "broken" when it resolves on
OLD but not on NEW, "fixed" for the reverse, "changed" when its value
differs. Objects following OLD and NEW are taken as --only-used-by. An object with
a CO-RE record libbpf refuses on every kernel is bad input.

Text output is grouped by type, with "+" added, "-" removed and "~"
changed lines (coloured on a terminal), and ends with a summary line;
-o json prints the report as JSON.`

func runDiff(opts *DiffOptions) error {
	if err := oneStdin(opts.Old, opts.New); err != nil {
		return err
	}
	var objs []*bpfobj.Object
	if len(opts.OnlyUsedBy) > 0 {
		var err error
		if objs, err = loadObjects(opts.OnlyUsedBy); err != nil {
			return err
		}
	}
	var old, new *rawbtf.BTF
	var oerr, nerr error
	var wg sync.WaitGroup
	wg.Go(func() { old, _, oerr = readKernel(opts.IO, opts.Old) })
	new, _, nerr = readKernel(opts.IO, opts.New)
	wg.Wait()
	if oerr != nil {
		return oerr
	}
	if nerr != nil {
		return nerr
	}
	dopts := &btfdiff.Options{}
	var err error
	if len(opts.Types) > 0 {
		s, err := btfdiff.TypeScope(opts.Types, old, new)
		if err != nil {
			return usageErrorf("--type: %v", err)
		}
		dopts.Scope = s
	}
	if len(opts.OldModules)+len(opts.NewModules) > 0 && len(objs) == 0 {
		return usageErrorf("--old-modules and --new-modules need --only-used-by: which module types matter depends on the objects")
	}
	if len(objs) > 0 {
		if old, err = withModules(old, opts.Old, opts.OldModules, objs); err != nil {
			return err
		}
		if new, err = withModules(new, opts.New, opts.NewModules, objs); err != nil {
			return err
		}
		dopts.Usage = btfdiff.UsedBy(objs, old, new)
	}
	rep := btfdiff.Diff(old, new, dopts)
	if err := printReport(opts.IO.Out, opts.Format, diffReport{Old: opts.Old, New: opts.New, Report: rep}, func() {
		writeDiffText(opts.IO.Out, rep, opts.IO.ColorEnabled(opts.Color))
	}); err != nil {
		return err
	}
	if !rep.Empty() {
		return &SilentError{Code: ExitNegative}
	}
	return nil
}

// diffReport is the JSON report of "diff".
type diffReport struct {
	Old string `json:"old"`
	New string `json:"new"`
	*btfdiff.Report
}

const (
	diffColorReset = "\x1b[0m"
	diffColorBold  = "\x1b[1m"
)

func diffOpColor(op btfdiff.Op) string {
	switch op {
	case btfdiff.Added:
		return "\x1b[32m"
	case btfdiff.Removed:
		return "\x1b[31m"
	}
	return "\x1b[33m"
}

func diffVerdictColor(v btfdiff.Verdict) string {
	switch v {
	case btfdiff.VerdictBroken:
		return "\x1b[31m"
	case btfdiff.VerdictFixed:
		return "\x1b[32m"
	}
	return "\x1b[33m"
}

// writeDiffText prints the report grouped by type and a summary line.
func writeDiffText(w io.Writer, rep *btfdiff.Report, color bool) {
	paint := func(c, s string) string {
		if !color {
			return s
		}
		return c + s + diffColorReset
	}
	for _, t := range rep.Types {
		fmt.Fprintln(w, paint(diffOpColor(t.Op)+diffColorBold, string(t.Op)+" "+t.Key.String()))
		for _, c := range t.Changes {
			fmt.Fprintln(w, "    "+paint(diffOpColor(c.Op), c.String()))
		}
		same := 0
		for _, i := range t.Relocations {
			r := &rep.Relocations[i]
			if r.Verdict == btfdiff.VerdictSame {
				same++
				continue
			}
			fmt.Fprintf(w, "    %s %s\n", paint(diffVerdictColor(r.Verdict), "! "+string(r.Verdict)), diffRelocLine(r))
		}
		if same > 0 {
			fmt.Fprintf(w, "    = %s decided the same\n", diffPlural(same, "relocation", "relocations"))
		}
	}
	// Relocations decided differently that touch no reported type.
	reported := map[int]bool{}
	for _, t := range rep.Types {
		for _, i := range t.Relocations {
			reported[i] = true
		}
	}
	counts := map[btfdiff.Verdict]int{}
	for i := range rep.Relocations {
		r := &rep.Relocations[i]
		counts[r.Verdict]++
		if r.Verdict != btfdiff.VerdictSame && !reported[i] {
			fmt.Fprintf(w, "%s %s\n", paint(diffVerdictColor(r.Verdict), "! "+string(r.Verdict)), diffRelocLine(r))
		}
	}
	fmt.Fprintf(w, "%s changed, %d added, %d removed\n", diffPlural(rep.Changed, "type", "types"), rep.Added, rep.Removed)
	if len(rep.Relocations) > 0 {
		fmt.Fprintf(w, "%s: %d broken, %d fixed, %d changed, %d same\n", diffPlural(len(rep.Relocations), "relocation", "relocations"),
			counts[btfdiff.VerdictBroken], counts[btfdiff.VerdictFixed], counts[btfdiff.VerdictChanged], counts[btfdiff.VerdictSame])
	}
}

// diffRelocLine describes a relocation and its two decisions.
func diffRelocLine(r *btfdiff.Relocation) string {
	return fmt.Sprintf("%s %s insn %d: %s %s: %s → %s", r.Object, r.Program, r.Insn, r.Kind, r.Path, diffDecisionString(r.Old), diffDecisionString(r.New))
}

func diffDecisionString(d core.Decision) string {
	switch {
	case d.Status == core.StatusFailed:
		return "failed (" + d.Error + ")"
	case d.Status != core.StatusOK:
		return d.Status.String()
	case d.Target != "":
		return d.Target
	case d.Value != nil:
		return fmt.Sprint(*d.Value)
	}
	return d.Status.String()
}

func diffPlural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
