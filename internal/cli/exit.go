package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/btfgen"
)

// Exit statuses. exitCode maps an error to one of them, in one place; the
// root command's help and each command's "Exit status" block print them
// (exitStatusHelp).
const (
	// ExitOK: success.
	ExitOK = 0
	// ExitNegative: the command ran and its answer is no: relocations
	// unsatisfied with --fail-on-poison, a minimized BTF not equivalent,
	// differences found, a kernel of a batch failed.
	ExitNegative = 1
	// ExitBadInput: a usage error or bad input: a missing, unreadable or
	// malformed file, an object libbpf refuses, an output that would
	// overwrite an input or a file of another kind.
	ExitBadInput = 2
	// ExitInternal: btftool itself failed (its self-check, a recovered
	// panic, an error it did not expect): a bug to report.
	ExitInternal = 3
	// ExitInterrupted: SIGINT or SIGTERM stopped the run (128 + SIGINT,
	// as shells report it); complete outputs are kept, partial ones are not.
	ExitInterrupted = 130
)

// bugReportURL is where internal errors are reported.
const bugReportURL = "https://github.com/btftool/btftool/issues"

// UsageError is a command-line mistake: the exit status is ExitBadInput
// and a hint to run --help follows the message.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// InputError is a problem with an input or output file: the exit status is
// ExitBadInput.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// NegativeError means the command ran but a check it was asked to make did
// not pass: the exit status is ExitNegative.
type NegativeError struct{ Err error }

func (e *NegativeError) Error() string { return e.Err.Error() }
func (e *NegativeError) Unwrap() error { return e.Err }

// InternalError is a failure of btftool itself: the exit status is
// ExitInternal, and the message asks for a bug report naming Inputs, the
// files that reproduce it.
type InternalError struct {
	Err error
	// Inputs are the files needed to reproduce the failure; when empty,
	// the command line is named instead.
	Inputs []string
	// Stack is the goroutine's stack, for a recovered panic.
	Stack []byte
}

func (e *InternalError) Error() string { return e.Err.Error() }
func (e *InternalError) Unwrap() error { return e.Err }

// SilentError ends a command with a status without printing anything more.
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

func inputError(err error) error { return &InputError{Err: err} }

// exitCode maps an error returned by a command to the process status.
// Errors of no known kind are btftool's own failures (ExitInternal), never
// taken for bad input.
func exitCode(err error) int {
	var (
		se *SilentError
		ie *InternalError
		ne *NegativeError
		ue *UsageError
		be *InputError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &se):
		return se.Code
	case errors.As(err, &ie), errors.Is(err, btfgen.ErrSelfCheck), errors.Is(err, batch.ErrInternal):
		return ExitInternal
	case isInterrupt(err):
		return ExitInterrupted
	case errors.As(err, &ne):
		return ExitNegative
	case errors.As(err, &ue), errors.As(err, &be):
		return ExitBadInput
	}
	return ExitInternal
}

func isInterrupt(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// bugReport is the request that follows an internal error: where to
// report it and what reproduces it (the files, else the command line).
func bugReport(err error, args []string) string {
	var ie *InternalError
	what := "the command line: btftool " + strings.Join(args, " ")
	if errors.As(err, &ie) && len(ie.Inputs) > 0 {
		what = "these files, which reproduce it: " + strings.Join(ie.Inputs, ", ")
	}
	return fmt.Sprintf("this is a bug in btftool: please report it at %s with the output of 'btftool version' and %s", bugReportURL, what)
}

// exitStatusHelp returns a command's "Exit status" block. ok says what
// status 0 means ("success" when empty); negative what status 1 means,
// empty when the command has no negative answer.
func exitStatusHelp(ok, negative string) string {
	if ok == "" {
		ok = "success"
	}
	var b strings.Builder
	b.WriteString("Exit status:\n")
	fmt.Fprintf(&b, "  %-3d  %s\n", ExitOK, ok)
	if negative != "" {
		fmt.Fprintf(&b, "  %-3d  %s\n", ExitNegative, negative)
	}
	fmt.Fprintf(&b, "  %-3d  %s\n", ExitBadInput, "usage error or bad input: a missing, unreadable or malformed file, an\n       object libbpf refuses, an output that would overwrite an input")
	fmt.Fprintf(&b, "  %-3d  %s\n", ExitInternal, "internal error, a bug in btftool: the message says what to report")
	fmt.Fprintf(&b, "  %-3d  %s", ExitInterrupted, "interrupted (SIGINT, SIGTERM): complete outputs are kept, partial ones\n       are not")
	return b.String()
}
