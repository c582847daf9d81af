// Package reach decides, per kernel, what libbpf and the verifier make of
// each CO-RE relocation and each program of a BPF object: whether a
// poisoned instruction is dead code once the existence checks guarding it
// are patched to constants, and so whether each program loads, loads once
// a variant is disabled, or fails.
//
// The analysis is an abstract interpretation of the program's BPF
// instructions (Reachable) in which the values libbpf writes into
// relocated instructions are known constants, so branches on
// bpf_core_field_exists and friends are resolved as the verifier resolves
// them, and unreachable instructions are found by control flow, not by
// their position.
package reach
