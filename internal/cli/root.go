package cli

import (
	"errors"
	"fmt"
	"strings"

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

` + exitStatusHelp("", "a negative answer: relocations unsatisfied with --fail-on-poison, a\n       minimized BTF not equivalent (verify, --verify), differences found\n       (diff), failing kernels (inspect compat --fail-on), a kernel of a\n       directory or batch run failed"),
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
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
	setupCompletion(cmd)
	return cmd
}

// noArgs accepts no arguments: an argument where a command takes none is
// an unknown subcommand, a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default, set only by its own lookup
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
	}
	if cmd.HasAvailableSubCommands() {
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
			}
		}
		msg += "; commands: " + strings.Join(names, ", ")
	}
	return &UsageError{Err: errors.New(msg)}
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
