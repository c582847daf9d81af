package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/verify"
)

// VerifyOptions are the options of "verify".
type VerifyOptions struct {
	IO *IOStreams
	// ConfigFile is the config file the options were read from, if any.
	ConfigFile string
	Input      string
	Minimized  string
	Objects    []string
	Format     outputFormat
	Verbose    bool
	Quiet      bool
	Load       bool
	// Modules is the kernel's module BTF, or for a tree a tree of module
	// archives mirroring it.
	Modules []string
	Now     func() time.Time
}

// NewCmdVerify returns "verify". runF replaces the run function in tests.
func NewCmdVerify(f *Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: f.IO, Now: time.Now, Format: "text"}
	var set *optionSet
	cmd := &cobra.Command{
		Use:   "verify {INPUT MINIMIZED | BUNDLE} OBJECT [OBJECT...]",
		Short: "Prove a minimized BTF complete with an independent CO-RE engine",
		Example: `  btftool verify 6.1.0-56-amd64.btf.tar.xz 6.1.0-56-amd64.btf *.bpf.o
  btftool verify /sys/kernel/btf/vmlinux min.btf prog.bpf.o --load -o json
  btftool verify btfhub-archive/ btfs.tar.xz *.bpf.o
  btftool verify btfs.tar.xz *.bpf.o`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 3 && !staleCheck(args) {
				return usageErrorf("verify needs INPUT, MINIMIZED and at least one OBJECT, got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := set.load(false); err != nil {
				return err
			}
			if staleCheck(args) {
				opts.Input, opts.Objects = args[0], args[1:]
				return runVerifyBundle(opts)
			}
			opts.Input, opts.Minimized, opts.Objects = args[0], args[1], args[2:]
			if runF != nil {
				return runF(opts)
			}
			return runVerify(opts)
		},
	}
	set = newOptionSet(cmd, "verify")
	set.String(&opts.ConfigFile, optConfig)
	enumVar(set, &opts.Format, optOutput)
	set.Bool(&opts.Verbose, flagDef{Name: "verbose", Short: "v", Usage: "list every relocation, check and note"})
	set.Bool(&opts.Quiet, optQuiet)
	set.Bool(&opts.Load, flagDef{Name: "load", Usage: "also load every program into the running kernel with each BTF (root)"})
	set.Strings(&opts.Modules, optModulesGen)
	cmd.Long = verifyHelp + set.help() + "\n\n" + exitStatusHelp("MINIMIZED is equivalent to INPUT for the objects", "it is not, or it is not well-formed; for a tree, a kernel's minimized BTF\n       is missing or not equivalent")
	return cmd
}

// verifyHelp is the help of "verify", before its settings and exit status.
const verifyHelp = `Check that the minimized BTF MINIMIZED serves every OBJECT exactly as the
full kernel BTF INPUT does, using cilium/ebpf's CO-RE implementation rather
than btftool's own.

Every CO-RE relocation of every program is relocated against INPUT and
against MINIMIZED and must come out the same: the same value, or poisoned
both times; for target_type_id the same type (kind, name, size), not the
same ID. btftool's libbpf engine is also run against INPUT, and where the
two engines disagree about INPUT itself the relocation is listed as an
engine disagreement (not a failure of MINIMIZED).

MINIMIZED must be well-formed: readable by btftool and cilium/ebpf and, when
run as root, accepted by the running kernel's BTF loader. With --load every
program is also loaded into the running kernel (root) relocated against
each BTF, and must be accepted or rejected alike.

INPUT and MINIMIZED are read like gen's INPUT (raw, ELF, compressed, tar).
When INPUT is a btfhub-style directory tree, MINIMIZED is the tree or the
bundle that gen min_core_btf wrote from it, and every kernel is verified
against its minimized BTF; a missing one fails.
Only mismatches and a summary are printed unless --verbose is given;
-o json prints the full report on stdout.

verify BUNDLE OBJECT... instead checks that the bundle (written by gen or
batch) was made for these objects: each is unchanged (the bundle records
its SHA-256), changed since the bundle was built, or not in the bundle;
the status is 1 unless all are unchanged. A loader can make the same check
with pkg/bundle's Index.CheckObject.`

func runVerify(opts *VerifyOptions) error {
	if err := oneStdin(append([]string{opts.Input, opts.Minimized}, opts.Objects...)...); err != nil {
		return err
	}
	allowBPFMemory()
	if fi, err := os.Stat(opts.Input); err == nil && fi.IsDir() {
		return runVerifyDir(opts)
	}
	start := opts.Now()
	defer relaxGC(relaxedHeap)()
	// The kernel BTF is read from the start, while btftool and then
	// cilium/ebpf read the objects. Decompressing it keeps a core busy:
	// cilium/ebpf then reads one object at a time.
	type inputs struct {
		k   *verify.Kernel
		min []byte
		err error
	}
	inc := make(chan inputs, 1)
	go func() {
		k, min, err := readVerifyInputs(opts)
		inc <- inputs{k, min, err}
	}()
	planOpts := verify.PlanOptions{}
	if kbtf.Compressed(opts.Input) {
		planOpts.Workers = max(1, runtime.GOMAXPROCS(0)-1)
	}
	objs, err := loadObjects(opts.Objects)
	if err != nil {
		return err
	}
	plan := verify.NewPlanWith(objs, planOpts)
	in := <-inc
	if in.err != nil {
		return in.err
	}
	k, min := in.k, in.min
	rep, err := plan.Check(k, min, verify.Options{Load: opts.Load})
	if err != nil {
		name := opts.Minimized
		if errors.Is(err, verify.ErrFullBTF) {
			name = opts.Input
		}
		return inputError(fmt.Errorf("%s: %w", name, err))
	}
	vr := &verifyReport{
		Input: opts.Input, Minimized: opts.Minimized, Equivalent: rep.Equivalent(),
		Mismatches: rep.Count(verify.StatusMismatch), Disagreements: rep.Count(verify.StatusEngineDisagreement),
		Skipped: rep.Count(verify.StatusSkipped), Report: rep,
	}
	vr.Seconds = opts.Now().Sub(start).Seconds()
	if err := printReport(opts.IO.Out, opts.Format, vr, func() { vr.writeText(opts.IO.Out, opts.Verbose) }); err != nil {
		return err
	}
	if !vr.Equivalent {
		return &SilentError{Code: ExitNegative}
	}
	return nil
}

// verifyReport is the JSON report of one verify run.
type verifyReport struct {
	Input         string  `json:"input"`
	Minimized     string  `json:"minimized"`
	Equivalent    bool    `json:"equivalent"`
	Mismatches    int     `json:"mismatches"`
	Disagreements int     `json:"engine_disagreements"`
	Skipped       int     `json:"skipped"`
	Seconds       float64 `json:"seconds"`
	*verify.Report
}

// writeText prints mismatches, failed checks and a summary line; with
// verbose, everything.
func (vr *verifyReport) writeText(w io.Writer, verbose bool) {
	rep := vr.Report
	for _, c := range rep.WellFormed {
		if c.Status == "failed" || verbose {
			line := fmt.Sprintf("well-formed: %s: %s", c.Name, c.Status)
			if c.Detail != "" {
				line += ": " + c.Detail
			}
			fmt.Fprintln(w, line)
		}
	}
	for i := range rep.Relocations {
		r := &rep.Relocations[i]
		if r.Status != verify.StatusMismatch && !verbose {
			continue
		}
		where := r.Program
		if r.Function != r.Program {
			where += "/" + r.Function
		}
		line := fmt.Sprintf("%s\t%s %s insn %d: %s %s: full %s, minimized %s", r.Status, filepath.Base(r.Object), where, r.Insn, r.Kind, r.Path, r.Full, r.Min)
		if r.Status == verify.StatusEngineDisagreement && r.Libbpf != nil {
			line += fmt.Sprintf(", libbpf %s", *r.Libbpf)
		}
		fmt.Fprintln(w, line)
	}
	for _, l := range rep.Loads {
		if l.Same && !verbose {
			continue
		}
		status := "ok"
		if !l.Same {
			status = string(verify.StatusMismatch)
		}
		line := fmt.Sprintf("load %s\t%s %s: full %s, minimized %s", status, filepath.Base(l.Object), l.Program, l.Full, l.Min)
		if !l.Same {
			line += fmt.Sprintf(" (%s | %s)", verifyOrDash(l.FullError), verifyOrDash(l.MinError))
		}
		fmt.Fprintln(w, line)
	}
	if verbose {
		for _, n := range rep.Notes {
			fmt.Fprintf(w, "note: %s\n", n)
		}
	}
	fmt.Fprintln(w, vr.summary(verbose))
}

func verifyOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// summary is the one-line verdict.
func (vr *verifyReport) summary(verbose bool) string {
	rep := vr.Report
	var bad []string
	if !rep.IsWellFormed() {
		bad = append(bad, "minimized BTF not well-formed")
	}
	if vr.Mismatches > 0 {
		bad = append(bad, verifyPlural(vr.Mismatches, "mismatch", "mismatches"))
	}
	if n := rep.LoadMismatches(); n > 0 {
		bad = append(bad, verifyPlural(n, "program loads", "programs load")+" differently")
	}
	verdict := "all equivalent"
	if len(bad) > 0 {
		verdict = "NOT equivalent: " + strings.Join(bad, ", ")
	}
	s := fmt.Sprintf("verify: %s in %s: %s", verifyPlural(len(rep.Relocations), "relocation", "relocations"), verifyPlural(rep.Objects, "object", "objects"), verdict)
	if len(rep.Loads) > 0 && rep.LoadMismatches() == 0 {
		s += fmt.Sprintf(", %s loaded alike", verifyPlural(len(rep.Loads), "program", "programs"))
	}
	var extra []string
	if vr.Disagreements > 0 {
		extra = append(extra, verifyPlural(vr.Disagreements, "engine disagreement", "engine disagreements"))
	}
	if vr.Skipped > 0 {
		extra = append(extra, fmt.Sprintf("%d skipped", vr.Skipped))
	}
	if len(rep.Notes) > 0 {
		extra = append(extra, verifyPlural(len(rep.Notes), "note", "notes"))
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ")
		if !verbose {
			s += "; --verbose lists them"
		}
		s += ")"
	}
	return s
}

func verifyPlural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// readVerifyInputs reads INPUT (prepared for checks) and MINIMIZED.
func readVerifyInputs(opts *VerifyOptions) (*verify.Kernel, []byte, error) {
	for _, p := range []string{opts.Input, opts.Minimized} {
		if err := refuseBundle(p); err != nil {
			return nil, nil, err
		}
	}
	full, _, err := readKernelFile(opts.IO, opts.Input)
	if err != nil {
		return nil, nil, err
	}
	min, _, err := readKernelFile(opts.IO, opts.Minimized)
	if err != nil {
		return nil, nil, err
	}
	mods, err := openModules(opts.Modules, opts.Input)
	if err != nil {
		return nil, nil, err
	}
	var k *verify.Kernel
	if mods != nil {
		k, err = verify.NewKernelModules(full, mods)
	} else {
		k, err = verify.NewKernel(full)
	}
	if err != nil {
		return nil, nil, inputError(fmt.Errorf("%s: %w", opts.Input, err))
	}
	return k, min, nil
}
