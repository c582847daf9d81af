// Package cli implements btftool's command line. Commands follow the
// GitHub CLI's shape: an Options struct per command, a NewCmdX constructor
// that binds flags into it, and a runX function that does the work, so
// flag parsing and behaviour are tested separately.
package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// Exit statuses, documented in the root command's help.
const (
	ExitOK       = 0 // success
	ExitFailed   = 1 // a check did not pass
	ExitBadInput = 2 // usage error or bad input
)

// IOStreams are the standard streams of a command, replaceable in tests.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// ErrTTY reports whether ErrOut is a terminal (progress bars).
	ErrTTY bool
}

// SystemIO returns the process's streams.
func SystemIO() *IOStreams {
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, ErrTTY: term.IsTerminal(int(os.Stderr.Fd()))}
}

// Factory holds what commands depend on.
type Factory struct {
	IO *IOStreams
}

// UsageError is a command-line mistake: usage is printed and the exit
// status is ExitBadInput.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// InputError is a problem with an input or output file: the exit status is
// ExitBadInput.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// FailedError means the command ran but a check it was asked to make did
// not pass: the exit status is ExitFailed.
type FailedError struct{ Err error }

func (e *FailedError) Error() string { return e.Err.Error() }
func (e *FailedError) Unwrap() error { return e.Err }

// SilentError ends a command with a status without printing anything more.
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

func inputError(err error) error { return &InputError{Err: err} }

// exitCode maps an error returned by a command to the process status.
func exitCode(err error) int {
	var ue *UsageError
	var ie *InputError
	var fe *FailedError
	var se *SilentError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &se):
		return se.Code
	case errors.As(err, &fe):
		return ExitFailed
	case errors.As(err, &ue), errors.As(err, &ie):
		return ExitBadInput
	}
	return ExitBadInput
}

// Execute runs btftool with the given arguments and returns the exit status.
func Execute(args []string) int {
	f := &Factory{IO: SystemIO()}
	return run(f, args)
}

func run(f *Factory, args []string) int {
	root := NewCmdRoot(f)
	root.SetArgs(args)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	cmd, err := root.ExecuteC()
	if err == nil {
		return ExitOK
	}
	var se *SilentError
	if errors.As(err, &se) {
		return se.Code
	}
	msg := oneLineMessage(err.Error())
	if cmd != nil && wantsJSON(cmd) {
		b, _ := json.Marshal(map[string]any{"error": msg, "exit_status": exitCode(err)})
		fmt.Fprintln(f.IO.ErrOut, string(b))
	} else {
		fmt.Fprintf(f.IO.ErrOut, "btftool: %s\n", msg)
	}
	var ue *UsageError
	if errors.As(err, &ue) || isCobraUsageError(err) {
		if cmd != nil {
			fmt.Fprintf(f.IO.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
		return ExitBadInput
	}
	return exitCode(err)
}

// isCobraUsageError recognises cobra's own argument and flag errors.
func isCobraUsageError(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand", "unknown command", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "bad flag syntax"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// oneLineMessage makes an error message one printable line: line breaks
// and runs of blanks become one space, and other control characters (which
// a hostile input file could smuggle in) are shown escaped.
func oneLineMessage(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == ' ':
			space = true
			continue
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}
