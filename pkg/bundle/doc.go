// Package bundle reads btftool bundles on the machine that runs BPF
// programs: it lists a bundle's kernels, finds the one the running kernel
// needs and returns its minimized BTF, for libbpf's btf_custom_path or, with
// package [github.com/btftool/btftool/pkg/bundle/kerneltypes], for
// cilium/ebpf's ProgramOptions.KernelTypes.
//
// A bundle is a tar archive (compressed with xz, zstd or gzip, or not at
// all) whose first member, index.json, describes the BTF files that follow
// (see [Index]; the format is documented in docs/bundle-format.md). Bundles
// of format 2 (btftool's current writer) store each distinct BTF once, put
// the index in a compressed block of its own and the BTF files in blocks of
// a bounded size (xz Blocks, zstd frames with a seek table), and record
// where each file's bytes are: [Bundle.ReadEntry] then decompresses the
// block that holds them and nothing else. Format 1 bundles are read too, by
// streaming through the archive up to the file.
//
// A bundle is untrusted input: sizes and offsets in the index are checked
// against the archive, every file against its SHA-256, entry paths may not
// escape (no "..", no absolute paths), and [Options] bound what is
// decompressed and held in memory. Errors wrap [ErrBadBundle] or
// [ErrTooLarge].
//
// [Bundle.Match] picks the entry for a [Target] (release, machine and
// os-release of a kernel; [HostTarget] reads the running machine's) by the
// rules documented there, and never guesses a "nearest" kernel.
//
// The package imports nothing of btftool's generator: a loader that embeds
// a bundle pulls in only this package, its decompressors and the standard
// library.
package bundle
