// Package rawbtf reads and writes BTF in its raw, on-disk encoding.
//
// It keeps the bytes as they are and decodes types on demand, so opening a
// full kernel BTF (100k types, ~5 MB) costs one pass over the type section
// and a few hundred kilobytes of offsets, with no per-type allocation. Both
// byte orders are supported; a BTF keeps the order it was read in.
//
// The format is described in the kernel's Documentation/bpf/btf.rst and
// include/uapi/linux/btf.h. Both of its forms are read: the classic one
// (a 24-byte header) and kernel 7.1's, whose header may be 32 bytes long
// and locate a layout section telling, for each kind, how long its
// records are. In both, vlen takes bits 0-23 of a type's info word and
// the kind bits 24-30. Types of kinds this package does not know (see
// Kind.Known) are skipped by the layout section; without one they make
// the BTF corrupt. Encoder always writes the classic form, which every
// libbpf and cilium/ebpf reads.
package rawbtf
