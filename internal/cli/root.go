package cli

import (
	"github.com/spf13/cobra"
)

// Version information, set at build time with -ldflags.
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// NewCmdRoot returns the root command with every subcommand attached.
func NewCmdRoot(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "btftool",
		Short: "Minimized kernel BTF for CO-RE BPF programs",
		Long: `btftool makes CO-RE BPF programs run on kernels that ship no BTF.

It cuts full kernel BTFs (btfhub archives, vmlinux files) down to exactly
what a set of BPF objects needs for their CO-RE relocations, such that
libbpf makes the same relocation decisions with the result as with the
full BTF.

Exit status:
  0  success
  1  a check did not pass (unsatisfied relocations with --fail-on-poison)
  2  usage error or bad input (missing, unreadable or malformed files)`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetVersionTemplate("btftool {{.Version}}\n")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &UsageError{Err: err} })
	cmd.AddCommand(NewCmdGen(f))
	cmd.AddCommand(NewCmdVersion(f))
	cmd.AddCommand(NewCmdBatch(f, nil))
	cmd.AddCommand(NewCmdVerify(f, nil))
	cmd.AddCommand(NewCmdInspect(f))
	cmd.AddCommand(NewCmdDiff(f, nil))
	cmd.AddCommand(NewCmdSelect(f, nil))
	setupCompletion(cmd)
	return cmd
}

// wantsJSON reports whether the command was asked for JSON output.
func wantsJSON(cmd *cobra.Command) bool {
	fl := cmd.Flags().Lookup("output")
	return fl != nil && fl.Value.String() == "json"
}

// outputFormat is the value of -o/--output.
type outputFormat string

func (o *outputFormat) String() string { return string(*o) }
func (o *outputFormat) Type() string   { return "text|json" }
func (o *outputFormat) Set(s string) error {
	switch s {
	case "text", "json":
		*o = outputFormat(s)
		return nil
	}
	return usageErrorf("invalid output format %q: want text or json", s)
}

func addOutputFlag(cmd *cobra.Command, o *outputFormat) {
	*o = "text"
	cmd.Flags().VarP(o, "output", "o", "output format: text or json")
}
