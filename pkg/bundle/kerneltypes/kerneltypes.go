// Package kerneltypes gives a cilium/ebpf loader the kernel types to
// relocate its programs against: the running kernel's own BTF when it has
// one, otherwise the minimized BTF a btftool bundle holds for it. Pass the
// result as ebpf.ProgramOptions.KernelTypes.
//
// It is separate from package bundle so that loaders built on libbpf, which
// only need the bytes, do not import cilium/ebpf.
package kerneltypes

import (
	"bytes"
	"fmt"

	"github.com/cilium/ebpf/btf"

	"github.com/btftool/btftool/pkg/bundle"
)

// Options tunes Load. A nil *Options selects the defaults.
type Options struct {
	// Root is where the host's root file system is mounted when the
	// loader runs in a container ("/host"); empty for "/". It prefixes
	// /sys/kernel/btf/vmlinux and the os-release files.
	Root string
	// UseBundle takes the types from the bundle even when the running
	// kernel has BTF of its own.
	UseBundle bool
	// Target is the kernel to find in the bundle; nil means the running
	// machine's (bundle.HostTarget(Root)).
	Target *bundle.Target
}

// Source says where Load took the types from.
type Source struct {
	// Vmlinux is the kernel's own BTF file, when it was used.
	Vmlinux string
	// Match is the bundle entry used otherwise, with the rule that chose
	// it.
	Match *bundle.Match
}

// String describes the source for a log line: "/sys/kernel/btf/vmlinux" or
// "bundle entry debian/12/x86_64/6.1.0-56-amd64.btf (release, machine, ...)".
func (s Source) String() string {
	if s.Match == nil {
		return s.Vmlinux
	}
	return fmt.Sprintf("bundle entry %s (%s)", s.Match.Entry.Path, s.Match.Rule)
}

// Load returns the types to relocate against on this machine: the
// kernel's own BTF (Root + /sys/kernel/btf/vmlinux) when it exists and
// opts.UseBundle is false; otherwise the entry of b that
// [bundle.Bundle.Match] chooses for opts.Target or the running machine.
// b may be nil when the caller only wants the kernel's own BTF. A kernel
// with no BTF of its own and no entry gives an error wrapping
// bundle.ErrNotFound (or bundle.ErrAmbiguous).
func Load(b *bundle.Bundle, opts *Options) (*btf.Spec, Source, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if !o.UseBundle {
		if p, ok := bundle.HostVmlinux(o.Root); ok {
			var spec *btf.Spec
			var err error
			if o.Root == "" {
				spec, err = btf.LoadKernelSpec()
			} else {
				spec, err = btf.LoadSpec(p)
			}
			return spec, Source{Vmlinux: p}, err
		}
	}
	if b == nil {
		return nil, Source{}, fmt.Errorf("the kernel has no %s and there is no bundle: %w", bundle.VmlinuxPath, bundle.ErrNotFound)
	}
	var t bundle.Target
	if o.Target != nil {
		t = *o.Target
	} else {
		var err error
		if t, err = bundle.HostTarget(o.Root); err != nil {
			return nil, Source{}, err
		}
	}
	m, err := b.Match(t)
	if err != nil {
		return nil, Source{}, err
	}
	spec, err := LoadEntry(b, m.Entry)
	return spec, Source{Match: m}, err
}

// LoadEntry decodes the BTF of entry e of b.
func LoadEntry(b *bundle.Bundle, e *bundle.Entry) (*btf.Spec, error) {
	raw, err := b.ReadEntry(e)
	if err != nil {
		return nil, err
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("bundle entry %s: %w", e.Path, err)
	}
	return spec, nil
}
