// Package btfdump prints BTF the way bpftool does.
//
// [WriteRaw] writes the raw type listing of "bpftool btf dump file F" line
// for line, [Describe] gives the same information as typed values for JSON,
// [Closure] and [Match] select types, and [WriteC] writes a C header like
// "bpftool btf dump file F format c" (libbpf's btf_dump): types in an order
// that compiles, forward declarations where a pointer is enough, bitfields,
// padding and packed layouts that reproduce the BTF's sizes and offsets, and
// "___N" suffixes for duplicate names.
//
// The BTF format is described in the kernel's Documentation/bpf/btf.rst.
package btfdump
