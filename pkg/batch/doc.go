// Package batch minimizes many kernel BTFs for one set of BPF objects: a
// btfhub-style tree (or a single file) in, a mirrored directory tree or one
// compressed tar bundle out.
//
// [Run] parses nothing itself: the objects come prepared as a
// [btfgen.Plan], and each kernel is read, minimized and written by one of a
// pool of workers, then dropped, so memory stays bounded however many
// kernels there are. One bad kernel does not stop the others (unless
// [Options.FailFast]); every output is written atomically (a temporary
// file renamed into place; the file system is synced once at the end,
// before the manifest records the outputs, rather than once per kernel),
// and cancelling the context leaves no partial or temporary file behind.
//
// A bundle ([IsBundle], [EncodeBundle]) is a tar archive compressed with
// xz, gzip or zstd, holding RELEASE.btf files at the paths of the input tree
// and an index.json describing them, the objects and the generator; its
// layout and format are those package
// [github.com/btftool/btftool/pkg/bundle] reads, which loaders import
// alone. It is deterministic: the same inputs give the same bytes.
package batch
