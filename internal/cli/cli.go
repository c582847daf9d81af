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
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// IOStreams are the standard streams of a command, replaceable in tests,
// and the one place that decides terminal behaviour.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// OutTTY and ErrTTY report whether Out and ErrOut are terminals
	// (colour, progress bars).
	OutTTY, ErrTTY bool
	// NoColor is set when the NO_COLOR environment variable is set and not
	// empty (no-color.org).
	NoColor bool
}

// SystemIO returns the process's streams.
func SystemIO() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		OutTTY:  term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY:  term.IsTerminal(int(os.Stderr.Fd())),
		NoColor: os.Getenv("NO_COLOR") != "",
	}
}

// ColorEnabled reports whether output to Out is coloured under mode
// (--color): always, never, or auto: on a terminal unless NO_COLOR is set.
func (s *IOStreams) ColorEnabled(mode string) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	return s.OutTTY && !s.NoColor
}

// Factory holds what commands depend on.
type Factory struct {
	IO *IOStreams
}

// Execute runs btftool with the given arguments and returns the exit status.
func Execute(args []string) int {
	f := &Factory{IO: SystemIO()}
	defer startProfiles(os.Stderr)()
	return run(f, args)
}

func run(f *Factory, args []string) int { return execute(f, NewCmdRoot(f), args) }

// execute runs root with args, prints the error of a failed command (as
// JSON for -o json, with a bug report request for an internal error) and
// returns the exit status exitCode gives it. A panic is an internal error.
func execute(f *Factory, root *cobra.Command, args []string) (code int) {
	root.SetArgs(args)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	var cmd *cobra.Command
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = &InternalError{Err: fmt.Errorf("panic: %v", r), Stack: debug.Stack()}
			}
		}()
		cmd, err = root.ExecuteC()
	}()
	if err == nil {
		return ExitOK
	}
	var se *SilentError
	if errors.As(err, &se) {
		return se.Code
	}
	code = exitCode(err)
	msg := oneLineMessage(err.Error())
	if code == ExitInternal {
		msg = "internal error: " + msg
	}
	if wantsJSON(cmd, args) {
		rep := errorReport{Error: msg, ExitStatus: code}
		if code == ExitInternal {
			rep.BugReport = bugReport(err, args)
		}
		b, _ := json.Marshal(rep)
		fmt.Fprintln(f.IO.ErrOut, string(b))
		return code
	}
	fmt.Fprintf(f.IO.ErrOut, "btftool: %s\n", msg)
	var ue *UsageError
	var ie *InternalError
	switch {
	case code == ExitInternal:
		fmt.Fprintf(f.IO.ErrOut, "btftool: %s\n", bugReport(err, args))
		if errors.As(err, &ie) && len(ie.Stack) > 0 {
			f.IO.ErrOut.Write(ie.Stack)
		}
	case errors.As(err, &ue) && cmd != nil:
		fmt.Fprintf(f.IO.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
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
