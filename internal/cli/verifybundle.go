package cli

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/btftool/btftool/pkg/bundle"
)

// staleCheck reports whether args are "verify BUNDLE OBJECT...": a bundle,
// then BPF objects (ELF relocatable files), rather than INPUT MINIMIZED
// OBJECT...: a bundle is never a kernel INPUT.
func staleCheck(args []string) bool {
	if len(args) < 2 || !isRelocatableELF(args[1]) {
		return false
	}
	b, err := bundle.OpenFile(args[0], nil)
	if err != nil {
		return false
	}
	b.Close()
	return true
}

// isRelocatableELF reports whether the file at p is an ELF relocatable
// object (e_type ET_REL), as BPF objects are and kernels are not.
func isRelocatableELF(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var h [18]byte
	if _, err := io.ReadFull(f, h[:]); err != nil || !bytes.HasPrefix(h[:], []byte("\x7fELF")) {
		return false
	}
	var order binary.ByteOrder = binary.LittleEndian
	if h[5] == 2 {
		order = binary.BigEndian
	}
	return order.Uint16(h[16:]) == 1
}

// BundleCheck is what "verify BUNDLE OBJECT..." reports.
type BundleCheck struct {
	Bundle    string               `json:"bundle"`
	Generator string               `json:"generator,omitempty"`
	Objects   []bundle.ObjectCheck `json:"objects"`
	Stale     int                  `json:"stale"`
}

// runVerifyBundle compares the objects with those the bundle was made for.
func runVerifyBundle(opts *VerifyOptions) error {
	b, err := bundle.OpenFile(opts.Input, nil)
	if err != nil {
		return inputError(err)
	}
	defer b.Close()
	idx := b.Index()
	rep := BundleCheck{Bundle: opts.Input, Generator: idx.Generator}
	for _, p := range opts.Objects {
		data, err := os.ReadFile(p)
		if err != nil {
			return inputError(err)
		}
		c := idx.CheckObject(filepath.ToSlash(p), data)
		if c.Stale() {
			rep.Stale++
		}
		rep.Objects = append(rep.Objects, c)
	}
	if opts.Format == "json" {
		if err := writeJSON(opts.IO.Out, &rep); err != nil {
			return err
		}
	} else {
		for _, c := range rep.Objects {
			switch c.State {
			case bundle.ObjectUnchanged:
				if opts.Verbose {
					fmt.Fprintf(opts.IO.Out, "%s: unchanged (%s)\n", c.Name, c.Recorded)
				}
			case bundle.ObjectChanged:
				fmt.Fprintf(opts.IO.Out, "%s: changed since the bundle was built (it has %s with SHA-256 %.12s, this is %.12s)\n", c.Name, c.Recorded, c.RecordedSHA256, c.SHA256)
			default:
				fmt.Fprintf(opts.IO.Out, "%s: not in the bundle\n", c.Name)
			}
		}
		made := ""
		if idx.Generator != "" {
			made = ", made by " + idx.Generator
		}
		if idx.Format == bundle.FormatStream {
			made += " (format 1: it records no objects)"
		}
		fmt.Fprintf(opts.IO.ErrOut, "btftool: %s%s: %d of %d object(s) unchanged\n", opts.Input, made, len(rep.Objects)-rep.Stale, len(rep.Objects))
	}
	if rep.Stale > 0 {
		return &SilentError{Code: ExitNegative}
	}
	return nil
}
