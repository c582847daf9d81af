package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/btftool/btftool/pkg/core"
)

// printReport prints a command's report: rep as JSON on w with -o json,
// otherwise text, which writes the human form wherever it belongs (stdout
// or stderr); text may be nil when there is nothing to print as text.
func printReport(w io.Writer, format outputFormat, rep any, text func()) error {
	if format == "json" {
		return writeJSON(w, rep)
	}
	if text != nil {
		text()
	}
	return nil
}

// writeJSON writes v as indented JSON and a newline. A value that does
// not marshal is btftool's bug; a write that fails is an output problem.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return &InternalError{Err: fmt.Errorf("JSON report: %w", err)}
	}
	_, err = w.Write(append(b, '\n'))
	return outputError(err)
}

// errorReport is the JSON object a failed run prints on stderr in JSON
// mode.
type errorReport struct {
	Error      string `json:"error"`
	ExitStatus int    `json:"exit_status"`
	// BugReport asks for a bug report, for an internal error.
	BugReport string `json:"bug_report,omitempty"`
}

// wantsJSON reports whether a run that failed was asked for JSON output,
// so that its error is printed as JSON: cmd's -o flag holds json (given,
// or resolved from the environment or config file), or, when the error
// came before that (a flag cobra could not parse, an argument count
// checked before the settings are read, a command that has no -o), the
// last -o in the arguments says json, or, with none there, BTFTOOL_OUTPUT
// does for a command that takes -o. cmd may be nil.
func wantsJSON(cmd *cobra.Command, args []string) bool {
	fl := (*pflag.Flag)(nil)
	if cmd != nil {
		fl = cmd.Flags().Lookup(optOutput.Name)
	}
	if fl != nil && fl.Value.String() == "json" {
		return true
	}
	if v, ok := argsOutput(args); ok {
		return v == "json"
	}
	if fl != nil && !fl.Changed {
		v, ok := lookupEnv(optOutput.env())
		return ok && v == "json"
	}
	return false
}

// argsOutput returns the value of the last -o/--output in args, before
// any "--" ("-o json", "-ojson", "-o=json", "--output json",
// "--output=json"), and whether there is one.
func argsOutput(args []string) (value string, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return value, ok
		case a == "-o" || a == "--output":
			if i+1 < len(args) {
				i++
				value, ok = args[i], true
			}
		case strings.HasPrefix(a, "--output="):
			value, ok = strings.TrimPrefix(a, "--output="), true
		case strings.HasPrefix(a, "-o") && !strings.HasPrefix(a, "--"):
			value, ok = strings.TrimPrefix(strings.TrimPrefix(a, "-o"), "="), true
		}
	}
	return value, ok
}

// locationText is how text reports name a relocation: "SECTION PROGRAM
// insn N relo #R: KIND PATH" ("-" for a record of no program).
func locationText(l core.Location) string {
	return fmt.Sprintf("%s %s insn %d relo #%d: %s %s", l.Section, inspectOrNone(l.Program), l.Insn, l.Index, l.Kind, l.Path)
}
