// Package rawbtf reads and writes BTF in its raw, on-disk encoding.
//
// It keeps the bytes as they are and decodes types on demand, so opening a
// full kernel BTF (100k types, ~5 MB) costs one pass over the type section
// and a few hundred kilobytes of offsets, with no per-type allocation. Both
// byte orders are supported; a BTF keeps the order it was read in.
//
// The format is described in the kernel's Documentation/bpf/btf.rst.
package rawbtf
