// Package core implements CO-RE relocation semantics exactly as libbpf
// does (tools/lib/bpf/relo_core.c and the candidate search of libbpf.c):
// parsing local access specs, finding target candidates by essential name,
// matching field, type and enum relocations, computing the relocated
// values, and telling ambiguous and unsatisfiable relocations apart.
//
// It works on rawbtf views of both the object's BTF and the target BTF and
// knows nothing about ELF files or output encoding.
package core
