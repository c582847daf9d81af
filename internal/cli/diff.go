package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfdiff"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// DiffOptions are the options of "diff".
type DiffOptions struct {
	IO         *IOStreams
	Old, New   string
	OnlyUsedBy []string
	Types      []string
	Format     outputFormat
	// OutTTY reports whether IO.Out is a terminal: the text is coloured.
	OutTTY bool
}

// NewCmdDiff returns "diff". runF replaces the run function in tests.
func NewCmdDiff(f *Factory, runF func(*DiffOptions) error) *cobra.Command {
	opts := &DiffOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show how the types of two BTFs differ",
		Long: `Compare two BTFs structurally and print what changed from OLD to NEW:
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
differs. Objects may also follow OLD and NEW as arguments. An object with
a CO-RE record libbpf refuses on every kernel is bad input.

Text output is grouped by type, with "+" added, "-" removed and "~"
changed lines (coloured on a terminal), and ends with a summary line;
-o json prints the report as JSON.

` + exitStatusHelp("no differences", "differences"),
		Example: `  btftool diff 6.1.0-56-amd64.btf.tar.xz 6.12.117+deb12-amd64.btf.tar.xz
  btftool diff old.btf new.btf --type task_struct --type 'sock*'
  btftool diff 4.19.btf.tar.xz 6.1.btf.tar.xz --only-used-by *.bpf.o -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usageErrorf("diff needs OLD and NEW, got %d argument(s)", len(args))
			}
			if len(args) > 2 && !cmd.Flags().Changed("only-used-by") {
				return usageErrorf("diff takes OLD and NEW, got %d arguments (objects go after --only-used-by)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Old, opts.New = args[0], args[1]
			opts.OnlyUsedBy = append(opts.OnlyUsedBy, args[2:]...)
			opts.OutTTY = diffIsTerminal(opts.IO.Out)
			if runF != nil {
				return runF(opts)
			}
			return runDiff(opts)
		},
	}
	addOutputFlag(cmd, &opts.Format)
	cmd.Flags().StringSliceVar(&opts.OnlyUsedBy, "only-used-by", nil, "restrict to what the CO-RE relocations of these BPF objects touch")
	cmd.Flags().StringArrayVarP(&opts.Types, "type", "t", nil, "restrict to types matching this name pattern and what they contain (repeatable)")
	return cmd
}

// diffIsTerminal reports whether w is the process's stdout and a terminal.
func diffIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && f == os.Stdout && term.IsTerminal(int(f.Fd()))
}

func runDiff(opts *DiffOptions) error {
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
	wg.Go(func() { old, _, oerr = readKernel(opts.Old) })
	new, _, nerr = readKernel(opts.New)
	wg.Wait()
	if oerr != nil {
		return oerr
	}
	if nerr != nil {
		return nerr
	}
	dopts := &btfdiff.Options{}
	if len(opts.Types) > 0 {
		s, err := btfdiff.TypeScope(opts.Types, old, new)
		if err != nil {
			return usageErrorf("--type: %v", err)
		}
		dopts.Scope = s
	}
	if len(objs) > 0 {
		dopts.Usage = btfdiff.UsedBy(objs, old, new)
	}
	rep := btfdiff.Diff(old, new, dopts)
	if opts.Format == "json" {
		if err := writeJSON(opts.IO.Out, diffReport{Old: opts.Old, New: opts.New, Report: rep}); err != nil {
			return err
		}
	} else {
		writeDiffText(opts.IO.Out, rep, opts.OutTTY)
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
	return fmt.Sprintf("%s %s insn %d: %s %s: %s → %s", filepath.Base(r.Object), r.Program, r.Insn, r.Kind, r.Path, diffDecisionString(r.Old), diffDecisionString(r.New))
}

func diffDecisionString(d btfdiff.Decision) string {
	switch {
	case d.Status == "failed":
		return "failed (" + d.Error + ")"
	case d.Status != "ok":
		return d.Status
	case d.Target != "":
		return d.Target
	case d.Value != nil:
		return fmt.Sprint(*d.Value)
	}
	return d.Status
}

func diffPlural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
