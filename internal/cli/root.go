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
	// --version only: -v is --verbose in every subcommand.
	cmd.Flags().Bool("version", false, "print the version ('btftool version' says more)")
	cmd.SetFlagErrorFunc(flagError)
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

// newGroup returns a command group: it runs nothing itself, and names its
// subcommands when run without one.
func newGroup(use, short string, subs ...*cobra.Command) *cobra.Command {
	var names []string
	for _, c := range subs {
		names = append(names, c.Name())
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  short + ": see each subcommand's --help (" + strings.Join(names, ", ") + ").\n\n" + exitStatusHelp("", "see the subcommand"),
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf("%s needs a subcommand: %s", use, orList(names))
		},
	}
	cmd.AddCommand(subs...)
	return cmd
}

// flagError makes a flag parsing error (cobra's or an option's Set) a
// usage error.
func flagError(_ *cobra.Command, err error) error { return &UsageError{Err: err} }

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

// outputFormat is the value of -o/--output: text or json.
type outputFormat string
