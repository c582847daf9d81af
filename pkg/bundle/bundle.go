package bundle

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"sync"
)

// Default limits of [Options].
const (
	// DefaultMaxEntrySize bounds the index, each BTF file and each
	// compressed block held in memory decompressed: 256 MiB.
	DefaultMaxEntrySize int64 = 256 << 20
	// DefaultMaxArchiveSize bounds the decompressed size of the whole
	// archive, as its xz or zstd index declares it or as far as a stream
	// is decompressed to reach a file: 4 GiB.
	DefaultMaxArchiveSize int64 = 4 << 30
)

// Options bounds what reading a bundle may cost. A nil *Options and the
// zero value select the defaults.
type Options struct {
	// MaxEntrySize bounds the size of index.json, of each BTF file and of
	// each compressed block that is decompressed in memory; zero or
	// negative means DefaultMaxEntrySize.
	MaxEntrySize int64
	// MaxArchiveSize bounds the decompressed size of the archive; zero
	// or negative means DefaultMaxArchiveSize.
	MaxArchiveSize int64
}

func (o *Options) maxEntry() int64 {
	if o == nil || o.MaxEntrySize <= 0 {
		return DefaultMaxEntrySize
	}
	return min(o.MaxEntrySize, 1<<40)
}

func (o *Options) maxArchive() int64 {
	if o == nil || o.MaxArchiveSize <= 0 {
		return DefaultMaxArchiveSize
	}
	return min(o.MaxArchiveSize, 1<<50)
}

// blockSize is the tar block size: headers and data are multiples of it.
const blockSize = 512

// Bundle is an open bundle. Its index is read when it is opened; the BTF
// files are read and decompressed on demand. Its methods may be called
// concurrently (reads are serialized).
type Bundle struct {
	mu     sync.Mutex // guards arc
	index  *Index
	arc    archive
	opts   Options
	closer io.Closer
	byPath map[string]int
}

// Open opens the bundle held in data, for example one a loader embeds
// with a go:embed directive. data must stay unchanged while the bundle is
// used.
func Open(data []byte, opts *Options) (*Bundle, error) {
	return OpenReaderAt(bytes.NewReader(data), int64(len(data)), opts)
}

// OpenReaderAt opens the bundle of size bytes that r reads. Only the
// index, the compressors' own indexes and the blocks of the files read are
// read from r.
func OpenReaderAt(r io.ReaderAt, size int64, opts *Options) (*Bundle, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	arc, err := openArchive(r, size, &o)
	if err != nil {
		return nil, err
	}
	b := &Bundle{arc: arc, opts: o}
	if err := b.readIndex(); err != nil {
		return nil, err
	}
	return b, nil
}

// OpenFS opens the bundle name in fsys (an embed.FS, os.DirFS...). When
// the file implements io.ReaderAt, as embed.FS files and *os.File do, it
// is read on demand and must stay open until Close; otherwise it is read
// into memory (up to MaxArchiveSize bytes).
func OpenFS(fsys fs.FS, name string, opts *Options) (*Bundle, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	b, err := openFile(f, opts)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b, nil
}

// OpenFile opens the bundle file at path. Close closes it.
func OpenFile(path string, opts *Options) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	b, err := openFile(f, opts)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

func openFile(f fs.File, opts *Options) (*Bundle, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: not a regular file", ErrBadBundle)
	}
	var b *Bundle
	if ra, ok := f.(io.ReaderAt); ok {
		b, err = OpenReaderAt(ra, fi.Size(), opts)
		if err == nil {
			b.closer = f
		}
		return b, err
	}
	if fi.Size() > opts.maxArchive() {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, fi.Size(), opts.maxArchive())
	}
	data, err := io.ReadAll(io.LimitReader(f, opts.maxArchive()))
	if err != nil {
		return nil, err
	}
	f.Close()
	return Open(data, opts)
}

// Close releases the bundle: the file OpenFile or OpenFS opened, and the
// decompressors' buffers.
func (b *Bundle) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.arc.close()
	if b.closer != nil {
		return b.closer.Close()
	}
	return nil
}

// Index returns the bundle's index. The caller must not modify it.
func (b *Bundle) Index() *Index { return b.index }

// Entries returns the bundle's kernels, in index order (sorted by path).
// The caller must not modify them.
func (b *Bundle) Entries() []Entry { return b.index.Kernels }

// Compression names how the archive is compressed: "xz", "zstd", "gzip"
// or "none"; with ", indexed" when single blocks can be decompressed alone.
func (b *Bundle) Compression() string { return b.arc.describe() }

// Entry returns the entry whose Path is path (a leading "./" is ignored),
// or an error wrapping ErrNotFound.
func (b *Bundle) Entry(path string) (*Entry, error) {
	i, ok := b.byPath[strings.TrimPrefix(path, "./")]
	if !ok {
		return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	return &b.index.Kernels[i], nil
}

// ReadFile returns the BTF of the entry whose Path is path.
func (b *Bundle) ReadFile(path string) ([]byte, error) {
	e, err := b.Entry(path)
	if err != nil {
		return nil, err
	}
	return b.ReadEntry(e)
}

// ReadEntry returns the BTF file of e, an entry of this bundle, checked
// against its size and SHA-256. For format 2 it decompresses only the
// blocks that hold it.
func (b *Bundle) ReadEntry(e *Entry) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readEntry(e)
}

func (b *Bundle) readEntry(e *Entry) ([]byte, error) {
	var data []byte
	var err error
	if b.index.Format == FormatBlocks {
		data, err = b.readAtOffset(e)
	} else {
		data, err = b.scanFor(e)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.Path, err)
	}
	if !e.matches(data) {
		return nil, fmt.Errorf("%w: %s does not match its index entry (size or SHA-256)", ErrBadBundle, e.Path)
	}
	return data, nil
}

// Walk calls fn with every entry and its BTF, in the order the archive
// stores them, reading the archive once; an error from fn stops it and is
// returned. data is valid only during the call.
func (b *Bundle) Walk(fn func(e *Entry, data []byte) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.index.Format == FormatBlocks {
		order := make([]*Entry, len(b.index.Kernels))
		for i := range b.index.Kernels {
			order[i] = &b.index.Kernels[i]
		}
		sort.SliceStable(order, func(i, j int) bool { return order[i].Offset < order[j].Offset })
		for _, e := range order {
			data, err := b.readEntry(e)
			if err != nil {
				return err
			}
			if err := fn(e, data); err != nil {
				return err
			}
		}
		return nil
	}
	left := len(b.index.Kernels)
	err := b.scan(func(name string) bool { _, ok := b.byPath[name]; return ok }, func(name string, data []byte) (bool, error) {
		e := &b.index.Kernels[b.byPath[name]]
		if !e.matches(data) {
			return false, fmt.Errorf("%w: %s does not match its index entry (size or SHA-256)", ErrBadBundle, e.Path)
		}
		if err := fn(e, data); err != nil {
			return false, err
		}
		left--
		return left == 0, nil
	})
	if err == nil && left > 0 {
		err = fmt.Errorf("%w: %d file(s) of the index missing from the archive", ErrBadBundle, left)
	}
	return err
}

// readIndex reads index.json, the first member of the archive.
func (b *Bundle) readIndex() error {
	r, err := b.arc.reader(0)
	if err != nil {
		return err
	}
	tr := tar.NewReader(r)
	hdr, err := tr.Next()
	if err != nil {
		return fmt.Errorf("%w: no tar member: %w", ErrBadBundle, noEOF(err))
	}
	if strings.TrimPrefix(hdr.Name, "./") != IndexName || hdr.Typeflag != tar.TypeReg {
		return fmt.Errorf("%w: first member is %q, not ./%s", ErrBadBundle, hdr.Name, IndexName)
	}
	if hdr.Size > b.opts.maxEntry() {
		return fmt.Errorf("%w: %s of %d bytes, limit %d", ErrTooLarge, IndexName, hdr.Size, b.opts.maxEntry())
	}
	data := make([]byte, hdr.Size)
	if _, err := io.ReadFull(tr, data); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadBundle, IndexName, noEOF(err))
	}
	idx, err := parseIndex(data, &b.opts)
	if err != nil {
		return err
	}
	b.index = idx
	b.byPath = make(map[string]int, len(idx.Kernels))
	for i := range idx.Kernels {
		b.byPath[idx.Kernels[i].Path] = i
	}
	return nil
}

// readAtOffset reads a format 2 entry: the tar header before Offset, then
// the data.
func (b *Bundle) readAtOffset(e *Entry) ([]byte, error) {
	buf, err := readAt(b.arc, e.Offset-blockSize, blockSize+e.Size)
	if err != nil {
		return nil, err
	}
	hdr, err := tar.NewReader(bytes.NewReader(buf)).Next()
	if err != nil {
		return nil, fmt.Errorf("%w: no tar header before offset %d: %w", ErrBadBundle, e.Offset, noEOF(err))
	}
	// The header is the member's own; for a long name, whose full
	// form is in the PAX header before it, it holds the name cut short.
	named := hdr.Name == e.Member || len(e.Member) >= 100 && len(hdr.Name) >= 90 && strings.HasPrefix(e.Member, hdr.Name)
	if hdr.Typeflag != tar.TypeReg || hdr.Size != e.Size || !named {
		return nil, fmt.Errorf("%w: the tar member at offset %d is not %s of %d bytes", ErrBadBundle, e.Offset, e.Member, e.Size)
	}
	return buf[blockSize:], nil
}

// scanFor reads a format 1 entry by reading the archive up to its member.
func (b *Bundle) scanFor(e *Entry) ([]byte, error) {
	var out []byte
	err := b.scan(func(name string) bool { return name == e.Path }, func(_ string, data []byte) (bool, error) {
		out = bytes.Clone(data)
		return true, nil
	})
	if err == nil && out == nil {
		err = fmt.Errorf("%w: no tar member ./%s", ErrBadBundle, e.Path)
	}
	return out, err
}

// scan reads the archive's regular members in order and calls found with
// the data of those want accepts, until found returns true.
func (b *Bundle) scan(want func(name string) bool, found func(name string, data []byte) (bool, error)) error {
	r, err := b.arc.reader(0)
	if err != nil {
		return err
	}
	tr := tar.NewReader(r)
	var buf []byte
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadBundle, noEOF(err))
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		if hdr.Typeflag != tar.TypeReg || !want(name) {
			continue
		}
		if hdr.Size > b.opts.maxEntry() {
			return fmt.Errorf("%w: %s of %d bytes, limit %d", ErrTooLarge, name, hdr.Size, b.opts.maxEntry())
		}
		if int64(cap(buf)) < hdr.Size {
			buf = make([]byte, hdr.Size)
		}
		data := buf[:hdr.Size]
		if _, err := io.ReadFull(tr, data); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrBadBundle, name, noEOF(err))
		}
		done, err := found(name, data)
		if done || err != nil {
			return err
		}
	}
}

// matches reports whether data fits e's size and, when it has one, its
// SHA-256.
func (e *Entry) matches(data []byte) bool {
	return int64(len(data)) == e.Size && (e.SHA256 == "" || sha256Hex(data) == e.SHA256)
}

// sameContent reports whether e and o hold the same BTF: they share a
// member, or have the same SHA-256.
func (e *Entry) sameContent(o *Entry) bool {
	if e.Member != "" || o.Member != "" {
		return e.Member == o.Member && e.Offset == o.Offset
	}
	return e.SHA256 == o.SHA256
}

// noEOF turns an unexpected end of data into an error that says so.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("truncated archive")
	}
	return err
}

func sha256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
