package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/btftool/btftool/pkg/bundle"
	"github.com/btftool/btftool/pkg/inspect"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// A bundle is a set of kernels: commands that read one kernel refuse it,
// naming what to do instead; inspect btf lists it; inspect compat checks
// every kernel of it.

// openBundle opens path when it is a bundle (an archive whose first member
// is index.json), and reports false for any other file.
func openBundle(path string) (*bundle.Bundle, bool) {
	b, err := bundle.OpenFile(path, nil)
	if err != nil {
		return nil, false
	}
	return b, true
}

// refuseBundle returns an error when path is a bundle, where one kernel's
// BTF is expected.
func refuseBundle(path string) error {
	b, ok := openBundle(path)
	if !ok {
		return nil
	}
	defer b.Close()
	return inputError(fmt.Errorf("%s: a bundle of %d kernels, not one kernel's BTF: list them with 'btftool inspect btf %s', take one with 'btftool select %s --release RELEASE --machine MACHINE OUT.btf'",
		path, len(b.Entries()), path, path))
}

// BundleListing is "inspect btf BUNDLE -o json".
type BundleListing struct {
	Bundle      string          `json:"bundle"`
	Format      int             `json:"format"`
	Compression string          `json:"compression"`
	Generator   string          `json:"generator,omitempty"`
	Objects     []bundle.Object `json:"objects,omitempty"`
	Kernels     []bundle.Entry  `json:"kernels"`
}

// inspectBundle lists the kernels of a bundle.
func inspectBundle(opts *InspectBTFOptions, b *bundle.Bundle) error {
	idx := b.Index()
	if opts.Format == "json" {
		return writeJSON(opts.IO.Out, BundleListing{Bundle: opts.Input, Format: idx.Format, Compression: b.Compression(),
			Generator: idx.Generator, Objects: idx.Objects, Kernels: idx.Kernels})
	}
	stored := map[string]bool{}
	for _, e := range idx.Kernels {
		stored[e.Member+fmt.Sprint(e.Offset)] = true
	}
	fmt.Fprintf(opts.IO.Out, "%s: bundle (format %d, %s) of %d kernels, %d distinct BTFs", opts.Input, idx.Format, b.Compression(), len(idx.Kernels), len(stored))
	if idx.Generator != "" {
		fmt.Fprintf(opts.IO.Out, ", made by %s for %d objects", idx.Generator, len(idx.Objects))
	}
	fmt.Fprintln(opts.IO.Out)
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tRELEASE\tDISTRO\tVERSION\tARCH\tBYTES\tSTORED IN")
	for _, e := range idx.Kernels {
		in := ""
		if e.Member != "" && e.Member != "./"+e.Path {
			in = e.Member
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.Path, dash(e.Release), dash(e.Distro), dash(e.Version), dash(e.Arch), e.Size, in)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// bundleKernels returns the kernels of a bundle for inspect compat, each
// named BUNDLE:PATH, and a reader for them.
func bundleKernels(path string, b *bundle.Bundle) ([]inspect.Kernel, func(string) (*rawbtf.BTF, bool, error)) {
	byName := map[string]*bundle.Entry{}
	var ks []inspect.Kernel
	for i := range b.Entries() {
		e := &b.Entries()[i]
		name := path + ":" + e.Path
		byName[name] = e
		ks = append(ks, inspect.Kernel{Path: name, Name: e.Path, Distro: e.Distro, Version: e.Version, Arch: e.Arch, Release: e.Release})
	}
	read := func(p string) (*rawbtf.BTF, bool, error) {
		e, ok := byName[p]
		if !ok {
			return nil, false, nil
		}
		data, err := b.ReadEntry(e)
		if err != nil {
			return nil, true, err
		}
		k, err := rawbtf.Parse(data)
		if err != nil {
			return nil, true, fmt.Errorf("%s: %w", p, err)
		}
		return k, true, nil
	}
	return ks, read
}
