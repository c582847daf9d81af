package cli

import (
	"encoding/json"
	"fmt"
	"io"
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
