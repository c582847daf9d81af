package batch

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/btftool/btftool/internal/atomicfile"
	"github.com/btftool/btftool/internal/xzenc"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/bundle"
	"github.com/btftool/btftool/pkg/kbtf"
)

// bundleSuffixes are the output names that make a bundle, and how each is
// compressed.
var bundleSuffixes = map[string]string{".tar.xz": "xz", ".tar.gz": "gzip", ".tar.zst": "zstd"}

// IsBundle reports whether output names a bundle: a name ending in
// .tar.xz, .tar.gz or .tar.zst.
func IsBundle(output string) bool { return bundleCompression(output) != "" }

func bundleCompression(output string) string {
	for s, c := range bundleSuffixes {
		if strings.HasSuffix(output, s) {
			return c
		}
	}
	return ""
}

// BundleFile is one BTF file of a bundle to write.
type BundleFile struct {
	// Entry describes the file: Path, Release, Distro, Version and Arch
	// are written as given; the rest is computed.
	Entry bundle.Entry
	Data  []byte
}

// BundleInfo is what a bundle records besides its files.
type BundleInfo struct {
	// Generator names the program and version that made the BTF
	// ("btftool v0.9.0").
	Generator string
	// Objects are the BPF objects the BTF was minimized for.
	Objects []bundle.Object
	// Compression is "xz", "zstd" or "gzip".
	Compression string
	// BlockSize is the largest uncompressed size of a block of BTF
	// files, zero for DefaultBundleBlockSize. A file larger than it
	// gets a block of its own.
	BlockSize int
	// Window is how far back in a block the compressor finds matches
	// (the xz dictionary, the zstd window), zero for
	// DefaultBundleWindow: what a reader holds in memory to read one
	// file of a large block.
	Window int
}

// Defaults of BundleInfo. Kernels compress against the others of their
// block, so few large blocks make small bundles; a reader decompresses the
// block that holds a file up to it, holding only the window in memory.
const (
	DefaultBundleBlockSize = 64 << 20
	DefaultBundleWindow    = 1 << 20
)

// bundleTime is the modification time of every bundle member.
var bundleTime = time.Unix(0, 0)

// EncodeBundle returns the bytes of a bundle of format 2 (see package
// bundle) holding files.
//
// The tar archive holds ./index.json first, in a compressed block of its
// own; then each distinct BTF once, as a member named after the first of
// its paths in sort order, in blocks of at most BlockSize bytes taken in
// path order (so that neighbouring kernels compress against each other),
// compressed with matches at most Window bytes back;
// then, for every other path with the same content, a hard link to that
// member. The blocks are xz Blocks of one xz Stream, zstd frames followed
// by a seek table (the zstd seekable format), or gzip members. Every member
// is a regular file or a hard link with mode 0644, uid and gid 0, no user
// or group name and mtime 0: the bytes depend on the contents only.
func EncodeBundle(files []BundleFile, info BundleInfo) ([]byte, error) {
	blocks, err := layoutBundle(files, info)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	switch info.Compression {
	case "xz":
		w, err := xzenc.NewWriter(&out)
		if err != nil {
			return nil, err
		}
		for _, b := range parallelMap(blocks, func(b []byte) xzenc.Block { return xzenc.EncodeBlock(b, info.window()) }) {
			if err := w.WriteEncoded(b); err != nil {
				return nil, err
			}
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
	case "zstd":
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression),
			zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(zstdWindow(info.window())))
		if err != nil {
			return nil, err
		}
		var table []byte
		frames := parallelMap(blocks, func(b []byte) []byte { return enc.EncodeAll(b, nil) })
		for i, f := range frames {
			out.Write(f)
			table = binary32(binary32(table, uint32(len(f))), uint32(len(blocks[i])))
		}
		enc.Close()
		// The seek table: a skippable frame whose last 9 bytes are
		// the number of frames, a descriptor (no checksums) and the
		// seekable format's magic number.
		table = append(binary32(table, uint32(len(blocks))), 0)
		table = binary32(table, 0x8F92EAB1)
		out.Write(binary32(binary32(nil, 0x184D2A5E), uint32(len(table))))
		out.Write(table)
	case "gzip":
		zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
		if err != nil {
			return nil, err
		}
		for _, b := range blocks {
			zw.Reset(&out)
			if _, err := zw.Write(b); err != nil {
				return nil, err
			}
			if err := zw.Close(); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("%w: bundle compression %q (want xz, zstd or gzip)", ErrBadOptions, info.Compression)
	}
	return out.Bytes(), nil
}

// parallelMap returns f of each input, computed on every CPU.
func parallelMap[T any](in [][]byte, f func([]byte) T) []T {
	out := make([]T, len(in))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(in)) {
		wg.Go(func() {
			for i := range next {
				out[i] = f(in[i])
			}
		})
	}
	for i := range in {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func (info *BundleInfo) blockSize() int {
	if info.BlockSize <= 0 {
		return DefaultBundleBlockSize
	}
	return info.BlockSize
}

func (info *BundleInfo) window() int {
	if info.Window <= 0 {
		return DefaultBundleWindow
	}
	return info.Window
}

// zstdWindow is the zstd window for a window of n bytes: the power of two
// at or above it, from 1 KiB to 128 MiB.
func zstdWindow(n int) int {
	w := 1 << 10
	for w < n && w < 1<<27 {
		w <<= 1
	}
	return w
}

func binary32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

// layoutBundle returns the tar archive of a bundle cut into the blocks
// that are compressed separately.
func layoutBundle(files []BundleFile, info BundleInfo) ([][]byte, error) {
	files = append([]BundleFile(nil), files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Entry.Path < files[j].Entry.Path })
	idx := bundle.Index{Format: bundle.FormatBlocks, Generator: info.Generator, Objects: info.Objects, Kernels: make([]bundle.Entry, len(files))}
	for i := range files {
		e := files[i].Entry
		e.Size, e.SHA256 = int64(len(files[i].Data)), ""
		e.Member, e.Offset = "", 0
		if i > 0 && e.Path == files[i-1].Entry.Path {
			return nil, fmt.Errorf("%s: two files with this path", e.Path)
		}
		idx.Kernels[i] = e
	}

	// The BTF files, each content once, then the hard links, as one tar
	// stream that starts after the index: offsets are relative to its
	// start until the index's size is known.
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	first := map[string]int{} // content to the entry that stores it
	var cuts []int            // where each block of files ends in tarBuf
	var links []int
	for i := range idx.Kernels {
		e := &idx.Kernels[i]
		key := string(files[i].Data)
		if j, ok := first[key]; ok {
			e.Member, e.Offset = idx.Kernels[j].Member, idx.Kernels[j].Offset
			links = append(links, i)
			continue
		}
		first[key] = i
		n := tarSize(e.Path, e.Size)
		if start := lastCut(cuts); tarBuf.Len() > start && tarBuf.Len()-start+n > info.blockSize() {
			cuts = append(cuts, tarBuf.Len())
		}
		if err := tw.WriteHeader(tarHeader(e.Path, e.Size)); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Path, err)
		}
		e.Member, e.Offset = "./"+e.Path, int64(tarBuf.Len())
		if _, err := tw.Write(files[i].Data); err != nil {
			return nil, err
		}
		if err := tw.Flush(); err != nil {
			return nil, err
		}
	}
	for _, i := range links {
		e := &idx.Kernels[i]
		if err := tw.WriteHeader(linkHeader(e.Path, e.Member)); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	cuts = append(cuts, tarBuf.Len())

	// The index: its padded size shifts every offset, and the offsets
	// change its size. Grow the reserved size until the index fits,
	// then pad it with blanks to the size reserved.
	reserved := tarSize(bundle.IndexName, 0)
	var index []byte
	for {
		shifted := idx
		shifted.Kernels = append([]bundle.Entry(nil), idx.Kernels...)
		for i := range shifted.Kernels {
			shifted.Kernels[i].Offset += int64(reserved)
		}
		var err error
		if index, err = json.MarshalIndent(&shifted, "", " "); err != nil {
			return nil, err
		}
		index = append(index, '\n')
		if need := tarSize(bundle.IndexName, int64(len(index))); need > reserved {
			reserved = need
			continue
		}
		index = append(index, bytes.Repeat([]byte{' '}, reserved-blockSizeTar-len(index))...)
		break
	}
	var head bytes.Buffer
	hw := tar.NewWriter(&head)
	if err := hw.WriteHeader(tarHeader(bundle.IndexName, int64(len(index)))); err != nil {
		return nil, err
	}
	if _, err := hw.Write(index); err != nil {
		return nil, err
	}
	if err := hw.Flush(); err != nil {
		return nil, err
	}
	if head.Len() != reserved {
		return nil, fmt.Errorf("bundle index takes %d bytes, %d reserved", head.Len(), reserved)
	}

	blocks := [][]byte{head.Bytes()}
	data, start := tarBuf.Bytes(), 0
	for _, c := range cuts {
		if c > start {
			blocks = append(blocks, data[start:c])
		}
		start = c
	}
	return blocks, nil
}

const blockSizeTar = 512

func lastCut(cuts []int) int {
	if len(cuts) == 0 {
		return 0
	}
	return cuts[len(cuts)-1]
}

// tarHeader is the header of the member for p, of size bytes.
func tarHeader(p string, size int64) *tar.Header {
	h := &tar.Header{
		Typeflag: tar.TypeReg, Name: "./" + p, Size: size,
		Mode: 0o644, ModTime: bundleTime, Format: tar.FormatPAX,
	}
	if len(h.Name) < 100 {
		h.Format = tar.FormatUSTAR
	}
	return h
}

// linkHeader is the header of a hard link at p to member.
func linkHeader(p, member string) *tar.Header {
	h := tarHeader(p, 0)
	h.Typeflag, h.Linkname = tar.TypeLink, member
	if len(member) >= 100 {
		h.Format = tar.FormatPAX
	}
	return h
}

// tarSize is the size of the member for p in the tar archive: its header
// or headers and its data, padded.
func tarSize(p string, size int64) int {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(tarHeader(p, 0))
	return b.Len() + int(size+blockSizeTar-1)/blockSizeTar*blockSizeTar
}

// unmatchable returns the output paths of the entries whose bundle entry
// would have no release: nothing can select them.
func unmatchable(entries []kbtf.Entry) []string {
	var out []string
	for _, e := range entries {
		if bundle.Describe(bundle.Entry{Path: e.OutRel, Release: e.Release}).Release == "" {
			out = append(out, e.OutRel)
		}
	}
	return out
}

// previousBundle is the bundle a run is about to replace.
type previousBundle = bundle.Bundle

// openPrevious opens the bundle a run is about to replace, to reuse the
// files of unchanged kernels.
func openPrevious(path string) (*previousBundle, error) { return bundle.OpenFile(path, nil) }

// bundleInfo is what a run records in its bundle.
func bundleInfo(output, version string, objs []*bpfobj.Object) (BundleInfo, error) {
	info := BundleInfo{Generator: strings.TrimSpace("btftool " + version), Compression: bundleCompression(output)}
	names := map[string]int{}
	for _, o := range objs {
		names[filepath.Base(o.Path)]++
	}
	for _, o := range objs {
		data, err := os.ReadFile(o.Path)
		if err != nil {
			return info, err
		}
		name := filepath.Base(o.Path)
		if names[name] > 1 {
			name = path.Clean(filepath.ToSlash(o.Path))
		}
		sum := sha256.Sum256(data)
		info.Objects = append(info.Objects, bundle.Object{Name: name, SHA256: hex.EncodeToString(sum[:])})
	}
	return info, nil
}

// writeBundle writes the done and skipped kernels of results to a bundle
// at path, atomically, and returns its size.
func writeBundle(path string, results []*KernelResult, version string, objs []*bpfobj.Object) (int64, error) {
	info, err := bundleInfo(path, version, objs)
	if err != nil {
		return 0, err
	}
	var files []BundleFile
	for _, k := range results {
		if k.Status == StatusFailed {
			continue
		}
		files = append(files, BundleFile{
			Entry: bundle.Describe(bundle.Entry{Path: k.OutRel, Release: k.Release, Distro: k.Distro, Version: k.Version, Arch: k.Arch}),
			Data:  k.data,
		})
	}
	data, err := EncodeBundle(files, info)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return 0, err
	}
	return int64(len(data)), nil
}
