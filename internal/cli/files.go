package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/btftool/btftool/internal/atomicfile"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// runningKernel is the running kernel's BTF: what a command that needs one
// kernel reads when none is given, as pahole and bpftool do.
const runningKernel = "/sys/kernel/btf/vmlinux"

// stdio is the file name that stands for standard input (an input) or
// standard output (an output).
const stdio = "-"

// noteDefaultKernel says on stderr, unless quiet, that the running kernel's
// BTF is read because no kernel was given.
func noteDefaultKernel(s *IOStreams, quiet bool, what string) {
	if !quiet {
		fmt.Fprintf(s.ErrOut, "btftool: no %s given: reading the running kernel's BTF, %s\n", what, runningKernel)
	}
}

// oneStdin refuses "-" for more than one of the inputs named in paths:
// standard input can be read once.
func oneStdin(paths ...string) error {
	n := 0
	for _, p := range paths {
		if p == stdio {
			n++
		}
	}
	if n > 1 {
		return usageErrorf("'-' (standard input) given %d times: it can stand for one input only", n)
	}
	return nil
}

// readKernel reads a kernel BTF from any supported container.
func readKernel(s *IOStreams, path string) (*rawbtf.BTF, kbtf.Source, error) {
	_, b, src, err := readKernelData(s, path)
	return b, src, err
}

// readKernelData is readKernel that also returns the raw bytes. "-" reads
// standard input.
func readKernelData(s *IOStreams, path string) ([]byte, *rawbtf.BTF, kbtf.Source, error) {
	if err := refuseBundle(path); err != nil {
		return nil, nil, kbtf.Source{}, err
	}
	data, src, err := readKernelFile(s, path)
	if err != nil {
		return nil, nil, src, err
	}
	b, err := rawbtf.Parse(data)
	if err != nil {
		return nil, nil, src, inputError(fmt.Errorf("%s: %w", path, err))
	}
	return data, b, src, nil
}

// readKernelFile reads the raw BTF at path ("-": standard input) from any
// supported container.
func readKernelFile(s *IOStreams, path string) ([]byte, kbtf.Source, error) {
	var data []byte
	var src kbtf.Source
	var err error
	if path == stdio {
		data, src, err = kbtf.Read(s.In, "standard input", nil)
	} else {
		data, src, err = kbtf.ReadFile(path, nil)
	}
	if err != nil {
		if path == runningKernel && errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%w (this kernel has no BTF, CONFIG_DEBUG_INFO_BTF: give the kernel BTF file)", err)
		}
		return nil, src, inputError(err)
	}
	return data, src, nil
}

// writeOutput writes data to path atomically, or to standard output for
// "-".
func writeOutput(s *IOStreams, path string, data []byte) error {
	if path == stdio {
		_, err := s.Out.Write(data)
		return outputError(err)
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return inputError(err)
	}
	return nil
}

// outputError is a failure to write to standard output, an output
// problem (ExitBadInput); nil for nil.
func outputError(err error) error {
	if err == nil {
		return nil
	}
	return inputError(fmt.Errorf("standard output: %w", err))
}
