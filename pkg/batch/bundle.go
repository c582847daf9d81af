package batch

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// IndexName is the name of the index in a bundle.
const IndexName = "index.json"

// Bundle errors.
var (
	// ErrNotFound means no kernel of the bundle has the release (and
	// architecture) asked for.
	ErrNotFound = errors.New("kernel not in bundle")
	// ErrAmbiguous means several kernels of the bundle, with different
	// BTF, have the release asked for (the same release string shipped by
	// two distributions or for two architectures).
	ErrAmbiguous = errors.New("several kernels match")
	// ErrBadBundle means the data is not a bundle: not a tar archive
	// compressed with xz, gzip or zstd, no valid index.json, or files that
	// do not match their index entries.
	ErrBadBundle = errors.New("not a valid bundle")
)

// bundleSuffixes are the output names that make a bundle, and how each is
// compressed.
var bundleSuffixes = []string{".tar.xz", ".tar.gz", ".tar.zst"}

// IsBundle reports whether output names a bundle: a name ending in
// .tar.xz, .tar.gz or .tar.zst.
func IsBundle(output string) bool {
	for _, s := range bundleSuffixes {
		if strings.HasSuffix(output, s) {
			return true
		}
	}
	return false
}

// Index is the content of a bundle's index.json.
type Index struct {
	// Format is the index format version, 1.
	Format int `json:"format"`
	// Kernels lists the kernels, sorted by Path.
	Kernels []IndexEntry `json:"kernels"`
}

// IndexEntry describes one BTF file of a bundle.
type IndexEntry struct {
	// Path is the file's path in the bundle, slash-separated and without
	// the "./" prefix the tar member name has:
	// "ubuntu/20.04/x86_64/5.4.0-91-generic.btf".
	Path string `json:"path"`
	// Release is the kernel release (uname -r); Distro, Version and Arch
	// the btfhub layout's directories (os-release ID and VERSION_ID,
	// uname -m). Empty when the input was not in the btfhub layout.
	Release string `json:"release"`
	Distro  string `json:"distro"`
	Version string `json:"version"`
	Arch    string `json:"arch"`
	// Size and SHA256 (hex) are those of the BTF file.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// bundleTime is the modification time of every bundle member.
var bundleTime = time.Unix(0, 0)

// writeBundle writes the done and skipped kernels of results to a bundle
// at path, atomically, and returns its size.
//
// Members are named "./" + path, as "tar -C DIR ." names them (what bcc
// libbpf-tools' btf_helpers.c looks up), index.json first, then the BTF
// files sorted by path; every member is a regular file with mode 0644,
// uid and gid 0, no user or group name and mtime 0, so that the bytes
// depend on the contents only. Compression settings are fixed: xz with an
// 8 MiB dictionary and CRC64, gzip level 9, zstd "best" level with a
// single encoder goroutine.
func writeBundle(path string, results []*KernelResult) (size int64, err error) {
	var idx Index
	idx.Format = 1
	files := map[string][]byte{}
	for _, k := range results {
		if k.Status == StatusFailed {
			continue
		}
		files[k.OutRel] = k.data
		idx.Kernels = append(idx.Kernels, IndexEntry{
			Path: k.OutRel, Release: k.Release, Distro: k.Distro, Version: k.Version, Arch: k.Arch,
			Size: int64(len(k.data)), SHA256: sha256Hex(k.data),
		})
	}
	sort.Slice(idx.Kernels, func(i, j int) bool { return idx.Kernels[i].Path < idx.Kernels[j].Path })
	index, err := json.MarshalIndent(&idx, "", "  ")
	if err != nil {
		return 0, err
	}
	index = append(index, '\n')

	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	zw, err := newCompressor(path, bw)
	if err != nil {
		return 0, err
	}
	tw := tar.NewWriter(zw)
	add := func(name string, data []byte) error {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg, Name: "./" + name, Size: int64(len(data)),
			Mode: 0o644, ModTime: bundleTime, Format: tar.FormatPAX,
		}
		if len(hdr.Name) < 100 {
			hdr.Format = tar.FormatUSTAR
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err = add(IndexName, index); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	for _, e := range idx.Kernels {
		if err = add(e.Path, files[e.Path]); err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err = tw.Close(); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if err = zw.Close(); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if err = bw.Flush(); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return 0, err
	}
	if err = f.Sync(); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if err = f.Close(); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// newCompressor returns the compressing writer for a bundle named path.
func newCompressor(path string, w io.Writer) (io.WriteCloser, error) {
	switch {
	case strings.HasSuffix(path, ".tar.xz"):
		return xz.WriterConfig{DictCap: 8 << 20, CheckSum: xz.CRC64}.NewWriter(w)
	case strings.HasSuffix(path, ".tar.gz"):
		return gzip.NewWriterLevel(w, gzip.BestCompression)
	case strings.HasSuffix(path, ".tar.zst"):
		return zstd.NewWriter(w,
			zstd.WithEncoderLevel(zstd.SpeedBestCompression),
			zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(8<<20))
	}
	return nil, fmt.Errorf("%w: %s: not a bundle name (.tar.xz, .tar.gz, .tar.zst)", ErrBadOptions, path)
}

// Bundle is a bundle read into memory.
type Bundle struct {
	index Index
	files map[string][]byte
}

// maxBundleSize bounds the decompressed size ReadBundle accepts.
const maxBundleSize = 1 << 30

// OpenBundle reads the bundle at path.
func OpenBundle(path string) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := ReadBundle(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// ReadBundle reads a bundle (xz, gzip or zstd compressed, or plain tar,
// recognised by content) from r: for example one embedded in a program
// with go:embed, through bytes.NewReader. It checks every file against
// its index entry; errors wrap ErrBadBundle.
func ReadBundle(r io.Reader) (*Bundle, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(6)
	var zr io.Reader = br
	switch {
	case bytes.HasPrefix(head, []byte("\xfd7zXZ\x00")):
		x, err := xz.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadBundle, err)
		}
		zr = x
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		g, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadBundle, err)
		}
		defer g.Close()
		zr = g
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		z, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadBundle, err)
		}
		defer z.Close()
		zr = z
	}
	b := &Bundle{files: map[string][]byte{}}
	tr := tar.NewReader(io.LimitReader(zr, maxBundleSize))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadBundle, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadBundle, hdr.Name, err)
		}
		b.files[strings.TrimPrefix(hdr.Name, "./")] = data
	}
	index, ok := b.files[IndexName]
	if !ok {
		return nil, fmt.Errorf("%w: no %s", ErrBadBundle, IndexName)
	}
	delete(b.files, IndexName)
	if err := json.Unmarshal(index, &b.index); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadBundle, IndexName, err)
	}
	for _, e := range b.index.Kernels {
		data, ok := b.files[e.Path]
		if !ok || int64(len(data)) != e.Size || sha256Hex(data) != e.SHA256 {
			return nil, fmt.Errorf("%w: %s does not match its index entry", ErrBadBundle, e.Path)
		}
	}
	return b, nil
}

// Index returns the bundle's index. The caller must not modify it.
func (b *Bundle) Index() *Index { return &b.index }

// ReadFile returns the content of the BTF file at path in the bundle
// (IndexEntry.Path). The caller must not modify it.
func (b *Bundle) ReadFile(path string) ([]byte, error) {
	data, ok := b.files[strings.TrimPrefix(path, "./")]
	if !ok {
		return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	return data, nil
}

// Lookup returns the BTF for the kernel release (uname -r) on the
// architecture arch (uname -m or GOARCH spelling; "" for any), and its
// index entry. Several entries with the same content count as one; several
// with different content give an error wrapping ErrAmbiguous, and a loader
// should then choose among Index().Kernels by Distro and Version
// (os-release ID and VERSION_ID). No match gives ErrNotFound.
func (b *Bundle) Lookup(release, arch string) ([]byte, *IndexEntry, error) {
	var found *IndexEntry
	for i := range b.index.Kernels {
		e := &b.index.Kernels[i]
		if e.Release != release || (arch != "" && canonicalArch(e.Arch) != canonicalArch(arch)) {
			continue
		}
		if found != nil && found.SHA256 != e.SHA256 {
			return nil, nil, fmt.Errorf("%s: %s and %s: %w", release, found.Path, e.Path, ErrAmbiguous)
		}
		if found == nil {
			found = e
		}
	}
	if found == nil {
		return nil, nil, fmt.Errorf("%s: %w", release, ErrNotFound)
	}
	return b.files[found.Path], found, nil
}
