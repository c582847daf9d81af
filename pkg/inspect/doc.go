// Package inspect describes kernel BTFs and BPF objects and checks which
// CO-RE relocations of a set of objects libbpf can satisfy on a set of
// kernels.
//
// [Summarize] gives the shape of a BTF (types by kind, largest structs,
// whether it looks like a full kernel BTF or a minimized one),
// [DescribeObject] lists an object's programs, relocations and maps, and
// [Check] and [Run] decide every relocation of every object against kernel
// BTFs with pkg/core, making libbpf's decisions (processing order and
// candidate pruning included), and classify the outcome of each.
package inspect
