package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

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
// arguments ask for it, or BTFTOOL_OUTPUT does for a command with -o that
// was not given it. cmd may be nil.
func wantsJSON(cmd *cobra.Command, args []string) bool {
	if cmd != nil {
		if fl := cmd.Flags().Lookup(optOutput.Name); fl != nil {
			if fl.Value.String() == "json" {
				return true
			}
			if !fl.Changed {
				if v, ok := lookupEnv(optOutput.env()); ok && v == "json" {
					return true
				}
			}
		}
	}
	return argsWantJSON(args)
}

// argsWantJSON reports whether the last -o/--output in args, before any
// "--", says json: "-o json", "-ojson", "-o=json", "--output json" or
// "--output=json".
func argsWantJSON(args []string) bool {
	json := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		var v string
		switch {
		case a == "-o" || a == "--output":
			if i+1 >= len(args) {
				return json
			}
			i++
			v = args[i]
		case strings.HasPrefix(a, "--output="):
			v = strings.TrimPrefix(a, "--output=")
		case strings.HasPrefix(a, "-o") && !strings.HasPrefix(a, "--"):
			v = strings.TrimPrefix(strings.TrimPrefix(a, "-o"), "=")
		default:
			continue
		}
		json = v == "json"
	}
	return json
}

// locationText is how text reports name a relocation: "SECTION PROGRAM
// insn N relo #R: KIND PATH" ("-" for a record of no program).
func locationText(l core.Location) string {
	return fmt.Sprintf("%s %s insn %d relo #%d: %s %s", l.Section, inspectOrNone(l.Program), l.Insn, l.Index, l.Kind, l.Path)
}
