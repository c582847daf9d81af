// Package verify proves that a minimized kernel BTF is complete for a set of
// BPF objects, using a CO-RE engine independent of btftool's own: the one
// of cilium/ebpf ([github.com/cilium/ebpf/btf.CORERelocate]).
//
// For every CO-RE relocation of every program of every object, the program
// is relocated against the full kernel BTF and against the minimized one,
// each fixup is applied to a copy of its instruction, and the two resulting
// instructions must be the same (same value, both poisoned or neither). For
// target_type_id relocations the two target types must describe the same
// type (kind, name, size and shape), not carry the same number. btftool's
// libbpf-equivalent engine (package core) is run against the full BTF as
// well; where it and cilium/ebpf decide differently on the full BTF the
// relocation is reported as an engine disagreement, which says nothing
// about the minimized BTF.
//
// The minimized BTF must also be well-formed: readable by package rawbtf
// and by cilium/ebpf, and, when the process may load BTF, accepted by the
// running kernel. With [Options.Load] every program is also loaded into the
// running kernel twice, once relocated against each BTF, and must fare the
// same.
//
// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK. Like
// cilium/ebpf, package verify never changes process limits: a caller that
// offers BTF to the kernel or uses [Options.Load] on such a kernel calls
// [github.com/cilium/ebpf/rlimit.RemoveMemlock] once, before Check.
//
// # Differences between libbpf and cilium/ebpf
//
// cilium/ebpf implements CO-RE after libbpf but is not identical to it.
// Known differences, which show up as engine disagreements rather than
// failures of the minimized BTF:
//
//   - Candidate selection. libbpf takes, for each relocation in .BTF.ext
//     order, every candidate that matches, fails the object if they
//     disagree, and prunes the local type's candidate list to the matching
//     ones for later relocations. cilium/ebpf relocates all relocations of
//     one local type within one program together and keeps the candidate
//     that needs the fewest poisoned or "does not exist" fixups; candidates
//     with the same score must agree. With duplicate kernel types the two
//     can pick different candidates.
//   - Missing types. For type_size and target_type_id relocations whose
//     type exists nowhere in the kernel, libbpf writes 0; cilium/ebpf
//     poisons the instruction (it writes 0 only for the existence kinds:
//     field_exists, type_exists, type_matches, enumval_exists). Seen on
//     every kernel of the corpus with testdata/bpf/features.bpf.o.
//   - Object features. cilium/ebpf refuses some objects libbpf loads, such
//     as libbpf-tools' javagc.bpf.o (USDT support: a weak map symbol,
//     "unsupported binding: STB_WEAK"); their relocations are reported as
//     not checked.
//   - Scope. cilium/ebpf relocates each program (with its subprograms
//     linked in) on its own; libbpf caches candidates per object. A
//     subprogram's relocation is therefore checked once per program that
//     calls it, and is counted once per program.
//   - Load and store sizes. libbpf adjusts the width of a load whose field
//     changed size and poisons the instruction when it cannot; cilium/ebpf
//     only rewrites offsets and immediates. Only the relocated values are
//     compared between the engines.
//   - Forward declarations. cilium/ebpf never matches a field relocation
//     against a FWD candidate; libbpf rejects it as incompatible too, so
//     both end up poisoning.
//   - Byte order. cilium/ebpf refuses to relocate an object against BTF of
//     the other byte order; such relocations are reported as skipped.
//   - Errors. Where libbpf fails the whole object (ambiguity, anonymous
//     root type), cilium/ebpf fails the whole program, with its own
//     wording; errors are compared by class only.
//
// # The 2026 BTF format
//
// cilium/ebpf v0.22 parses the 32-byte header of kernel 7.1's format but
// not its layout section, and decodes 5 bits of kind and 16 of vlen. A
// full BTF with types of kinds rawbtf does not know is therefore given to
// it re-encoded in the classic format, each such type replaced by a
// placeholder that no relocation matches (as none matches the type it
// stands for), IDs unchanged; btftool's engine reads the BTF as it is. A
// full BTF with a type of a known kind of more than 65535 members,
// enumerators, parameters or variables cannot be given to cilium/ebpf at
// all: NewKernel refuses it, naming the type, rather than let it be
// misread.
//
// Type IDs for local_type_id relocations are the object's own BTF IDs, as
// libbpf uses them; cilium/ebpf's loader instead numbers the types of the
// BTF it builds for the program, so only the two relocation runs here are
// comparable, not the values a loaded program sees.
package verify
