package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/btftool/btftool/internal/atomicfile"
	"github.com/btftool/btftool/pkg/bundle"
)

// SelectOptions are the options of "select".
type SelectOptions struct {
	IO *IOStreams
	// Bundle is the bundle file; Output the file to write the BTF to,
	// "" or "-" for stdout.
	Bundle, Output string
	// Release, Machine and OSRelease (a file) describe the kernel to
	// select for; empty ones are the running machine's.
	Release, Machine, OSRelease string
	// Root is where the host's root is mounted (a container's /host).
	Root string
	// NoVmlinux selects from the bundle even when the running kernel has
	// BTF of its own.
	NoVmlinux bool
	// DryRun chooses and reports, and writes no BTF.
	DryRun bool
	Format outputFormat
	Quiet  bool
	// ConfigFile is the config file the options were read from, if any.
	ConfigFile string
}

// NewCmdSelect returns "select". runF replaces the run function in tests.
func NewCmdSelect(f *Factory, runF func(*SelectOptions) error) *cobra.Command {
	opts := &SelectOptions{IO: f.IO, Format: "text"}
	var set *optionSet
	cmd := &cobra.Command{
		Use:   "select BUNDLE [OUTPUT]",
		Short: "Pick the BTF of this machine's kernel from a bundle",
		Example: `  btftool select min_core_btfs.tar.xz /var/lib/myagent/vmlinux.btf
  btftool select min_core_btfs.tar.xz --root /host > vmlinux.btf
  btftool select min_core_btfs.tar.xz --release 5.4.0-91-generic --machine x86_64 --os-release focal.os-release out.btf
  btftool select min_core_btfs.tar.xz --dry-run -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageErrorf("select needs BUNDLE and an optional OUTPUT, got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := set.load(false); err != nil {
				return err
			}
			opts.Bundle = args[0]
			if len(args) == 2 {
				opts.Output = args[1]
			}
			if opts.Format == "json" && !opts.DryRun && (opts.Output == "" || opts.Output == "-") {
				return usageErrorf("-o json prints the report on stdout: give OUTPUT for the BTF, or --dry-run")
			}
			if opts.DryRun && opts.Output != "" {
				return usageErrorf("--dry-run writes nothing: no OUTPUT")
			}
			if runF != nil {
				return runF(opts)
			}
			return runSelect(opts)
		},
	}
	set = newOptionSet(cmd, "select")
	set.String(&opts.ConfigFile, optConfig)
	enumVar(set, &opts.Format, optOutput)
	set.Bool(&opts.Quiet, optQuiet)
	set.String(&opts.Release, flagDef{Name: "release", ValueName: "RELEASE", Usage: "select for kernel RELEASE (uname -r) instead of the running one"})
	set.String(&opts.Machine, flagDef{Name: "machine", ValueName: "MACHINE", Usage: "select for MACHINE (uname -m) instead of the running one"})
	set.String(&opts.OSRelease, flagDef{Name: "os-release", ValueName: "FILE", Path: true, Usage: "read the distribution from this os-release file instead of the running machine's"})
	set.String(&opts.Root, flagDef{Name: "root", ValueName: "DIR", Path: true, Usage: "the host's root file system, for /sys/kernel/btf and os-release (e.g. /host in a container)"})
	set.Bool(&opts.NoVmlinux, flagDef{Name: "no-vmlinux", Usage: "select from the bundle even when the kernel has BTF of its own"})
	set.Bool(&opts.DryRun, flagDef{Name: "dry-run", Usage: "choose and report, write no BTF"})
	cmd.Long = selectHelp + set.help() + "\n\n" + exitStatusHelp("selected (or the kernel has BTF of its own)", "no entry matches, or several do with different BTF")
	return cmd
}

// selectHelp is the help of "select", before its settings and exit
// status.
const selectHelp = `Pick from BUNDLE (a bundle written by gen or batch) the minimized BTF for
the running kernel, or for the kernel that --release, --machine and
--os-release describe, and write it to OUTPUT (atomically) or to stdout.
Give the file to libbpf as btf_custom_path, to bpftool, or to any loader
that takes a BTF file. What was chosen, and by which rule, is said on
stderr (-o json prints it on stdout, and then needs OUTPUT or --dry-run).

For the running machine, a kernel that has BTF of its own
(/sys/kernel/btf/vmlinux) needs no bundle: its own BTF is written, unless
--no-vmlinux. Otherwise the entry is matched by:
  - machine (uname -m; x86_64 and amd64, aarch64 and arm64 ... are one);
  - release (uname -r), exactly; SUSE kernels named by btfhub with the
    package build counter (5.3.18-59.37.1-default) also fit the release
    uname prints (5.3.18-59.37-default);
  - os-release ID and VERSION_ID (or its major version), read from
    /etc/os-release or /usr/lib/os-release under --root; when there is
    none, or no entry of that distribution, the release alone, across
    distributions.
Several entries left with different BTF are refused as ambiguous. No
rule picks a kernel of another release: when nothing matches, the closest
entries are named and the exit status is 1.

-o stays the output format here as in every btftool command; the BTF goes
to the OUTPUT argument, as in 'gen min_core_btf INPUT OUTPUT'.

`

// SelectReport is what "select" reports.
type SelectReport struct {
	Bundle string `json:"bundle"`
	Target struct {
		Release     string `json:"release"`
		Machine     string `json:"machine"`
		OSID        string `json:"os_id,omitempty"`
		OSVersionID string `json:"os_version_id,omitempty"`
	} `json:"target"`
	// Source is "vmlinux" (the kernel's own BTF) or "bundle".
	Source string        `json:"source,omitempty"`
	Entry  *bundle.Entry `json:"entry,omitempty"`
	Rule   string        `json:"rule,omitempty"`
	// Same lists other entries with the same BTF that matched too.
	Same []string `json:"same,omitempty"`
	// Candidates lists the entries of an ambiguous match, Closest those
	// nearest to a target that matches nothing.
	Candidates []string `json:"candidates,omitempty"`
	Closest    []string `json:"closest,omitempty"`
	Output     string   `json:"output,omitempty"`
	Bytes      int      `json:"bytes,omitempty"`
	Error      string   `json:"error,omitempty"`
}

func runSelect(opts *SelectOptions) error {
	target, running, err := selectTarget(opts)
	if err != nil {
		return err
	}
	rep := &SelectReport{Bundle: opts.Bundle}
	rep.Target.Release, rep.Target.Machine = target.Release, target.Machine
	if target.OS != nil {
		rep.Target.OSID, rep.Target.OSVersionID = target.OS.ID, target.OS.VersionID
	}
	var data []byte
	if vm, ok := bundle.HostVmlinux(opts.Root); running && !opts.NoVmlinux && ok {
		rep.Source, rep.Rule = "vmlinux", "the running kernel has BTF of its own: "+vm
		if !opts.DryRun {
			if data, err = os.ReadFile(vm); err != nil {
				return inputError(err)
			}
		}
	} else {
		b, err := bundle.OpenFile(opts.Bundle, nil)
		if err != nil {
			return inputError(err)
		}
		defer b.Close()
		m, err := b.Match(target)
		var nm *bundle.NoMatchError
		var am *bundle.AmbiguousError
		switch {
		case errors.As(err, &nm):
			for _, c := range nm.Closest {
				rep.Closest = append(rep.Closest, c.Path)
			}
			return selectFailed(opts, rep, err)
		case errors.As(err, &am):
			for _, c := range am.Candidates {
				rep.Candidates = append(rep.Candidates, c.Path)
			}
			return selectFailed(opts, rep, err)
		case err != nil:
			return inputError(err)
		}
		rep.Source, rep.Entry, rep.Rule = "bundle", m.Entry, m.Rule
		for _, s := range m.Same {
			rep.Same = append(rep.Same, s.Path)
		}
		if !opts.DryRun {
			if data, err = b.ReadEntry(m.Entry); err != nil {
				return inputError(err)
			}
		}
	}
	if !opts.DryRun {
		if err := writeSelected(opts, data); err != nil {
			return err
		}
		rep.Output, rep.Bytes = opts.Output, len(data)
		if rep.Output == "" {
			rep.Output = "-"
		}
	}
	if opts.Format == "json" {
		return writeJSON(opts.IO.Out, rep)
	}
	if opts.Quiet {
		return nil
	}
	what := "the kernel's own BTF"
	if rep.Entry != nil {
		what = rep.Entry.Path
	}
	fmt.Fprintf(opts.IO.ErrOut, "btftool: selected %s for %s: %s\n", what, target, rep.Rule)
	return nil
}

// selectTarget returns the kernel to select for, and whether it is the
// running one. A release given without an os-release file has no
// os-release: the running machine's says nothing of another kernel.
func selectTarget(opts *SelectOptions) (bundle.Target, bool, error) {
	var t bundle.Target
	if opts.Release == "" || opts.Machine == "" {
		host, err := bundle.HostTarget(opts.Root)
		if err != nil {
			return t, false, inputError(err)
		}
		t.Machine = host.Machine
		if opts.Release == "" {
			t = host
		}
	}
	if opts.Release != "" {
		t.Release = opts.Release
	}
	if opts.Machine != "" {
		t.Machine = opts.Machine
	}
	if opts.OSRelease != "" {
		data, err := os.ReadFile(opts.OSRelease)
		if err != nil {
			return t, false, inputError(err)
		}
		if t.OS, err = bundle.ParseOSRelease(data); err != nil {
			return t, false, inputError(fmt.Errorf("%s: %w", opts.OSRelease, err))
		}
	}
	return t, opts.Release == "" && opts.Machine == "", nil
}

// selectFailed reports a target that matches nothing, or too much: exit
// status 1.
func selectFailed(opts *SelectOptions, rep *SelectReport, err error) error {
	rep.Error = err.Error()
	if opts.Format == "json" {
		if perr := writeJSON(opts.IO.Out, rep); perr != nil {
			return perr
		}
	}
	return &NegativeError{Err: fmt.Errorf("%s: %w", opts.Bundle, err)}
}

// writeSelected writes the BTF to opts.Output atomically, or to stdout.
// It never writes over the bundle.
func writeSelected(opts *SelectOptions, data []byte) error {
	if opts.Output == "" || opts.Output == "-" {
		_, err := opts.IO.Out.Write(data)
		return err
	}
	if fo, err := os.Stat(opts.Output); err == nil {
		if fb, err := os.Stat(opts.Bundle); err == nil && os.SameFile(fo, fb) {
			return usageErrorf("OUTPUT %s is the bundle itself", opts.Output)
		}
	}
	if err := atomicfile.WriteFile(filepath.Clean(opts.Output), data, 0o644); err != nil {
		return inputError(err)
	}
	return nil
}
