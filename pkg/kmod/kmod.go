// Package kmod indexes the BTF of a kernel's modules and extends the
// kernel's vmlinux BTF with the module types that CO-RE relocations can
// match, as libbpf finds them on a running kernel.
//
// libbpf looks for a local type's candidates in vmlinux first; only when
// vmlinux has none does it search every module's BTF (the types each
// module adds to vmlinux, in /sys/kernel/btf/MODULE), and candidates from
// several modules are then considered together. A Set holds the modules
// of one kernel as split BTF, unparsed; Extend looks at the names each
// module defines (a pass over type headers, not a parse) and returns
// vmlinux extended with the types of the modules that define any of the
// names asked for — the names whose local types have no candidate in
// vmlinux — merged into one split BTF on vmlinux. Every module is checked
// to fit vmlinux, needed or not. pkg/core applies
// libbpf's rule to such a split BTF: base types first, the modules' types
// only when the base has no candidate.
package kmod

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// Errors returned by this package, wrapped with details.
var (
	// ErrMixedReleases means the modules of a Set were built for
	// different kernels.
	ErrMixedReleases = errors.New("modules of different kernels")
	// ErrWrongKernel means modules were built for another kernel than the
	// one they are used with: their release differs, or their split BTF
	// does not fit its vmlinux BTF (it wraps rawbtf.ErrWrongBase then).
	ErrWrongKernel = errors.New("modules of another kernel")
)

// Module is one kernel module's BTF.
type Module struct {
	// Name is the module's name, as /sys/kernel/btf names it.
	Name string
	// Path says where it was read (see kbtf.ModuleFile.Path).
	Path string
	// Release is the kernel release it was built for; empty if unknown.
	Release string
	// data is the module's split BTF.
	data []byte
}

// Size returns the size of the module's split BTF in bytes.
func (m *Module) Size() int { return len(m.data) }

// Set is the module BTF of one kernel. It is safe for concurrent use.
type Set struct {
	mods    []Module
	release string
	sources []string
}

// Open reads the modules at paths (see kbtf.ReadModules for the forms
// accepted) into one Set. A module found twice, or modules of different
// kernel releases, are errors.
func Open(paths []string, opts *kbtf.Options) (*Set, error) {
	var files []kbtf.ModuleFile
	for _, p := range paths {
		fs, err := kbtf.ReadModules(p, opts)
		if err != nil {
			return nil, err
		}
		if len(fs) == 0 {
			return nil, fmt.Errorf("%s: no kernel module BTF found", p)
		}
		files = append(files, fs...)
	}
	s, err := New(files)
	if err != nil {
		return nil, err
	}
	s.sources = append([]string(nil), paths...)
	return s, nil
}

// New returns a Set of the module files given; it takes ownership of
// their BTF.
func New(files []kbtf.ModuleFile) (*Set, error) {
	s := &Set{mods: make([]Module, 0, len(files))}
	var releaseFrom string
	for _, f := range files {
		if f.Release != "" {
			switch {
			case s.release == "":
				s.release, releaseFrom = f.Release, f.Path
			case s.release != f.Release:
				return nil, fmt.Errorf("%w: %s is for %s, %s for %s", ErrMixedReleases, releaseFrom, s.release, f.Path, f.Release)
			}
		}
		s.mods = append(s.mods, Module{Name: f.Name, Path: f.Path, Release: f.Release, data: f.BTF})
	}
	sort.SliceStable(s.mods, func(i, j int) bool { return s.mods[i].Name < s.mods[j].Name })
	for i := 1; i < len(s.mods); i++ {
		if a, b := &s.mods[i-1], &s.mods[i]; a.Name == b.Name {
			return nil, fmt.Errorf("%w: module %s is in both %s and %s", kbtf.ErrDuplicateModule, a.Name, a.Path, b.Path)
		}
	}
	return s, nil
}

// Len returns the number of modules.
func (s *Set) Len() int { return len(s.mods) }

// Modules returns the modules, sorted by name. The caller must not modify
// them.
func (s *Set) Modules() []Module { return s.mods }

// Sources returns the paths the Set was opened from.
func (s *Set) Sources() []string { return s.sources }

// Release returns the kernel release the modules say they were built
// for; empty when none says.
func (s *Set) Release() string { return s.release }

// CheckRelease fails with ErrWrongKernel when the modules say they were
// built for another release than release (the kernel's uname -r, or the
// RELEASE of btfhub's RELEASE.btf.tar.xz). Nothing is checked when either
// is unknown (empty).
func (s *Set) CheckRelease(release string) error {
	if release == "" || s.release == "" || release == s.release {
		return nil
	}
	return fmt.Errorf("%w: the modules are for %s, the kernel is %s", ErrWrongKernel, s.release, release)
}

// Kernel is a kernel's vmlinux BTF extended with the types of some of its
// modules.
type Kernel struct {
	// BTF holds vmlinux and the modules' types: split BTF on Vmlinux,
	// whose IDs from Vmlinux.NumTypes() on are the modules', or Vmlinux
	// itself when no module was needed.
	BTF *rawbtf.BTF
	// Vmlinux is the kernel's vmlinux BTF.
	Vmlinux *rawbtf.BTF
	// Modules are the modules whose types BTF holds, in ID order.
	Modules []Loaded
}

// Loaded is a module whose types a Kernel holds.
type Loaded struct {
	*Module
	// First and End delimit the module's types in Kernel.BTF: IDs
	// First to End-1.
	First, End rawbtf.TypeID
}

// ModuleOf returns the module holding type id of k.BTF; nil for a type of
// vmlinux.
func (k *Kernel) ModuleOf(id rawbtf.TypeID) *Loaded {
	i := sort.Search(len(k.Modules), func(i int) bool { return k.Modules[i].End > id })
	if i < len(k.Modules) && id >= k.Modules[i].First {
		return &k.Modules[i]
	}
	return nil
}

// ModulesOf returns the names of the modules holding the types ids of
// k.BTF, in the order of ids, once each; nil when they are all vmlinux's.
func (k *Kernel) ModulesOf(ids []rawbtf.TypeID) []string {
	var names []string
	for _, id := range ids {
		if m := k.ModuleOf(id); m != nil && !slices.Contains(names, m.Name) {
			names = append(names, m.Name)
		}
	}
	return names
}

// Extend returns vmlinux extended with the types of every module that
// defines a type carrying one of names as its essential name (the name
// without a ___flavor suffix): the names of the local types that have no
// candidate in vmlinux, which libbpf looks for in the modules. Only those
// modules are parsed. A module whose BTF does not fit vmlinux (it was made
// for another kernel) gives an error wrapping ErrWrongKernel and
// rawbtf.ErrWrongBase, whether it is needed or not; one that is malformed
// an error wrapping rawbtf.ErrCorrupt; both name the module.
func (s *Set) Extend(vmlinux *rawbtf.BTF, names map[string]struct{}) (*Kernel, error) {
	k := &Kernel{BTF: vmlinux, Vmlinux: vmlinux}
	if len(s.mods) == 0 {
		return k, nil
	}
	want := newNameFilter(names)
	// The base's strings that are wanted, by offset: a module names a
	// type with a base string when vmlinux has the same string (pahole
	// deduplicates them), as it has for a forward declaration.
	baseWanted := make([]uint64, (vmlinux.StringsLen()+63)/64)
	for off := uint32(1); off < uint32(vmlinux.StringsLen()); {
		str := vmlinux.StringBytes(off)
		if want.has(str) {
			baseWanted[off/64] |= 1 << (off % 64)
		}
		off += uint32(len(str)) + 1
	}
	var picked []*Module
	for i := range s.mods {
		m := &s.mods[i]
		ok, err := m.defines(vmlinux, want, baseWanted)
		if err != nil {
			return nil, fmt.Errorf("module %s (%s): %w", m.Name, m.Path, err)
		}
		if ok {
			picked = append(picked, m)
		}
	}
	if len(picked) == 0 {
		return k, nil
	}
	splits := make([]*rawbtf.BTF, len(picked))
	for i, m := range picked {
		b, err := rawbtf.ParseSplit(m.data, vmlinux)
		if errors.Is(err, rawbtf.ErrWrongBase) {
			return nil, fmt.Errorf("module %s (%s): %w: %w", m.Name, m.Path, ErrWrongKernel, err)
		}
		if err != nil {
			return nil, fmt.Errorf("module %s (%s): %w", m.Name, m.Path, err)
		}
		splits[i] = b
	}
	merged, firsts := splits[0], []rawbtf.TypeID{splits[0].FirstID()}
	if len(splits) > 1 {
		var err error
		if merged, firsts, err = rawbtf.MergeSplit(vmlinux, splits); err != nil {
			return nil, fmt.Errorf("modules %s: %w", moduleNames(picked), err)
		}
	}
	k.BTF = merged
	for i, m := range picked {
		end := rawbtf.TypeID(merged.NumTypes())
		if i+1 < len(firsts) {
			end = firsts[i+1]
		}
		k.Modules = append(k.Modules, Loaded{Module: m, First: firsts[i], End: end})
	}
	return k, nil
}

func moduleNames(ms []*Module) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return strings.Join(names, ", ")
}

// defines reports whether the module names a type with one of the wanted
// names: baseWanted marks the wanted offsets into the base's strings.
// Every type name is also checked to be the start of a string of the base
// or of the module's own strings: split BTF made for another kernel's
// vmlinux fails that check (its string offsets continue another string
// section), so a wrong module is refused even when no type of it is
// needed.
func (m *Module) defines(vmlinux *rawbtf.BTF, want *nameFilter, baseWanted []uint64) (bool, error) {
	own, err := rawbtf.StringsIn(m.data)
	if err != nil {
		return false, err
	}
	strBase := uint32(vmlinux.StringsLen())
	found := false
	var bad uint32
	err = rawbtf.SplitNamesOn(m.data, vmlinux, func(kind rawbtf.Kind, nameOff uint32) {
		if bad != 0 {
			return
		}
		if nameOff < strBase {
			if vmlinux.StringByte(nameOff-1) != 0 {
				bad = nameOff
			} else if !found && baseWanted[nameOff/64]&(1<<(nameOff%64)) != 0 {
				found = true
			}
			return
		}
		rel := nameOff - strBase
		if rel >= uint32(len(own)) || (rel > 0 && own[rel-1] != 0) {
			bad = nameOff
			return
		}
		if !found && want.hasAt(own, int(rel)) {
			found = true
		}
	})
	if err != nil {
		return false, err
	}
	if bad != 0 {
		return false, fmt.Errorf("%w: %w: a type name at string offset %d is not a string of this vmlinux or of the module", ErrWrongKernel, rawbtf.ErrWrongBase, bad)
	}
	return found, nil
}

// nameFilter tells whether a name's essential name is among a set, ruling
// most names out by their first two bytes.
type nameFilter struct {
	names    map[string]struct{}
	prefixes [1 << 16 / 64]uint64
}

func newNameFilter(names map[string]struct{}) *nameFilter {
	f := &nameFilter{names: names}
	for n := range names {
		if n == "" {
			continue
		}
		k := uint32(n[0]) << 8
		if len(n) > 1 {
			k |= uint32(n[1])
		}
		f.prefixes[k/64] |= 1 << (k % 64)
	}
	return f
}

// hasAt is has for the NUL-terminated string at off in strs, which it
// reads whole only when its first bytes are those of a wanted name.
func (f *nameFilter) hasAt(strs []byte, off int) bool {
	if off >= len(strs) || strs[off] == 0 {
		return false
	}
	if off+1 < len(strs) && strs[off+1] != '_' {
		k := uint32(strs[off])<<8 | uint32(strs[off+1])
		if f.prefixes[k/64]&(1<<(k%64)) == 0 {
			return false
		}
	}
	n := bytes.IndexByte(strs[off:], 0)
	if n < 0 {
		n = len(strs) - off
	}
	return f.has(strs[off : off+n])
}

func (f *nameFilter) has(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	// A flavor suffix can start at the second byte ("a___b" is "a"):
	// names whose second byte is '_' are always looked up.
	if len(name) == 1 || name[1] != '_' {
		k := uint32(name[0]) << 8
		if len(name) > 1 {
			k |= uint32(name[1])
		}
		if f.prefixes[k/64]&(1<<(k%64)) == 0 {
			return false
		}
	}
	_, ok := f.names[string(rawbtf.EssentialName(name))]
	return ok
}

// MissingNames returns the essential names of the local root types of
// objs' relocations that vmlinux (indexed by vm) has no candidate for:
// those libbpf looks for in the kernel's modules.
func MissingNames(vm *core.Target, objs []*bpfobj.Object) map[string]struct{} {
	names := map[string]struct{}{}
	for _, o := range objs {
		for i := range o.Relocations {
			r := &o.Relocations[i]
			if r.Spec == nil || r.Kind == core.TypeIDLocal || !o.BTF.Valid(r.TypeID) {
				continue
			}
			lt := o.BTF.Type(r.TypeID)
			if len(lt.NameBytes()) > 0 && len(vm.Candidates(lt)) == 0 {
				names[string(rawbtf.EssentialName(lt.NameBytes()))] = struct{}{}
			}
		}
	}
	return names
}

// ExtendFor is Extend for the relocations of objs: it returns vmlinux (vm's
// BTF) extended with the modules that define the local types vmlinux has
// no candidate for, and the candidate index of that kernel, which applies
// libbpf's rule (vm itself when no module is needed). vm must index
// vmlinux for the names of objs (core.NewTargetFor).
func (s *Set) ExtendFor(vm *core.Target, objs []*bpfobj.Object) (*Kernel, *core.Target, error) {
	k, err := s.Extend(vm.BTF, MissingNames(vm, objs))
	if err != nil {
		return nil, nil, err
	}
	if k.BTF == vm.BTF {
		return k, vm, nil
	}
	return k, vm.WithModules(k.BTF), nil
}

// Flatten encodes the kernel — vmlinux and all of the modules' types k
// holds — as one ordinary BTF, such as libbpf's btf_custom_path and
// cilium/ebpf's KernelTypes take, in the kernel's byte order and the
// classic format. With hideShadowed, the module types that vmlinux
// shadows (it has a type of a compatible kind with the same essential
// name, which libbpf takes instead) are encoded without their name, or
// elided for typedefs (what refers to one refers to its target), so that
// libbpf searching the one BTF finds the candidates it finds on the
// running kernel wherever it does not compare those types' names (see
// docs/modules.md). Without hideShadowed it is the plain merge of vmlinux
// and the modules, in which libbpf takes shadowed module types as
// candidates too.
func (k *Kernel) Flatten(hideShadowed bool) ([]byte, error) {
	b := k.BTF
	hidden := map[rawbtf.TypeID]bool{}
	if hideShadowed && b != k.Vmlinux {
		vm := core.NewTarget(k.Vmlinux)
		for id := b.FirstID(); int(id) < b.NumTypes(); id++ {
			t := b.Type(id)
			switch t.Kind() {
			case rawbtf.KindStruct, rawbtf.KindUnion, rawbtf.KindEnum, rawbtf.KindEnum64, rawbtf.KindTypedef:
				if len(t.NameBytes()) > 0 && len(vm.Candidates(t)) > 0 {
					hidden[id] = true
				}
			}
		}
	}
	elided := func(id rawbtf.TypeID) bool { return hidden[id] && b.Type(id).Kind() == rawbtf.KindTypedef }
	newID := make([]rawbtf.TypeID, b.NumTypes())
	n := rawbtf.TypeID(0)
	for id := 1; id < b.NumTypes(); id++ {
		if !elided(rawbtf.TypeID(id)) {
			n++
			newID[id] = n
		}
	}
	enc := rawbtf.NewEncoder(b.ByteOrder())
	remap := func(id rawbtf.TypeID) rawbtf.TypeID {
		for n := 0; n < 1<<16 && elided(id); n++ {
			id = b.Type(id).Ref()
		}
		return newID[id]
	}
	for id := rawbtf.TypeID(1); int(id) < b.NumTypes(); id++ {
		if newID[id] == 0 {
			continue
		}
		if _, err := enc.Copy(b.Type(id), rawbtf.Edit{Remap: remap, Anonymous: hidden[id]}); err != nil {
			return nil, fmt.Errorf("type [%d]: %w", id, err)
		}
	}
	return enc.Bytes()
}
