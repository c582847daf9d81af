// Package kbtf opens a kernel BTF from any of the forms users have it in and
// returns the raw BTF bytes.
//
// The form is detected from the content (magic bytes), not from the file
// name:
//
//   - raw BTF (magic 0xeB9F, either byte order),
//   - an ELF file (vmlinux or any other) with a .BTF section, of either class
//     and byte order,
//   - xz, gzip or zstd compressed data,
//   - a tar archive (btfhub's RELEASE.btf.tar.xz holds one raw RELEASE.btf):
//     the first regular member that is BTF, ELF or compressed is used;
//     directories, links and devices are skipped.
//
// Containers may be nested (xz → tar → ELF, for example), up to a small
// depth. Everything happens in memory: nothing is written to disk and no
// external tool is run. Decompressed sizes are bounded by [Options.MaxSize]
// so that decompression bombs fail early with [ErrTooLarge].
//
// The package does not parse BTF: it only checks the magic number.
package kbtf

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// DefaultMaxSize is the limit on decompressed sizes used when
// [Options.MaxSize] is zero or negative: 1 GiB.
const DefaultMaxSize int64 = 1 << 30

// Options tunes [Read] and [ReadFile]. A nil *Options and the zero value both
// select the defaults.
type Options struct {
	// MaxSize is the largest number of bytes that any decompression step may
	// produce, and the largest BTF, ELF or archive member that is read into
	// memory. Zero or negative means DefaultMaxSize.
	MaxSize int64
}

func (o *Options) maxSize() int64 {
	if o == nil || o.MaxSize <= 0 {
		return DefaultMaxSize
	}
	return min(o.MaxSize, 1<<62) // leaves room for arithmetic on it
}

// Source describes what was opened.
type Source struct {
	// Path is the path or name as given by the caller.
	Path string
	// Format describes the container chain like a file suffix, innermost
	// first: "raw" or "elf" for an uncompressed file, otherwise the
	// containers, e.g. "tar.xz", "xz", "gz", "tar.zst", with an "elf."
	// prefix when the BTF came from an ELF inside them ("elf.xz").
	Format string
	// CompressedSize is the size of the input as stored: the file size for
	// ReadFile on a regular file, otherwise the number of bytes read from the
	// reader.
	CompressedSize int64
}

// Sentinel errors. Errors returned by this package wrap one of these (test
// with errors.Is); their text also names the file and the details.
var (
	// ErrNotBTF means the data is not raw BTF, an ELF file or a supported
	// compressed or archive format, or an ELF's .BTF section has no BTF magic.
	ErrNotBTF = errors.New("not BTF, ELF or a supported archive")
	// ErrNoBTFSection means an ELF file has no .BTF section (or an empty one).
	ErrNoBTFSection = errors.New("ELF has no .BTF section")
	// ErrNoBTFInArchive means a tar archive holds no regular file that is
	// BTF, ELF or compressed.
	ErrNoBTFInArchive = errors.New("no BTF or ELF file in archive")
	// ErrTooLarge means a limit was exceeded: Options.MaxSize, the number of
	// tar entries, the nesting depth or a decoder's dictionary size.
	ErrTooLarge = errors.New("size limit exceeded")
	// ErrEmpty means the file, or the decompressed data, is empty.
	ErrEmpty = errors.New("empty file")
	// ErrCorrupt means compressed, archive or ELF data is corrupt or
	// truncated. The decoder's own error is wrapped too.
	ErrCorrupt = errors.New("corrupt or truncated data")
)

// ReadFile reads the kernel BTF stored at path in any supported form and
// returns the raw BTF bytes.
//
// For an uncompressed ELF file only the .BTF section is read, so a large
// vmlinux with debug info costs little memory. Errors from opening the file
// are returned as they are (*fs.PathError); a directory yields a
// *fs.PathError wrapping syscall.EISDIR.
func ReadFile(path string, opts *Options) (data []byte, src Source, err error) {
	return (&Reader{opts: opts}).ReadFile(path)
}

// A Reader reads kernel BTF files like [ReadFile] but reuses its buffers
// from one call to the next, so that a run over many files allocates
// memory for the largest rather than for each: the BTF a call returns
// stays valid only until the next call. A Reader is not safe for
// concurrent use; give each goroutine its own.
type Reader struct {
	opts *Options
	// keep is set by NewReader: buffers are kept between calls.
	keep bool
	// src holds a compressed file, out what it decompresses to.
	src, out []byte
	// stored is the last file's bytes as stored, when read whole.
	stored []byte
}

// Stored returns the bytes of the file the last ReadFile call read, as
// stored on disk, when that call read the file whole: a raw BTF or an .xz
// file. It returns nil otherwise (an ELF file, other compressions,
// streams). Like the BTF, they stay valid until the next call. A caller
// that needs a digest of the input can so avoid reading it twice.
func (r *Reader) Stored() []byte { return r.stored }

// NewReader returns a Reader with the given options (nil for the
// defaults).
func NewReader(opts *Options) *Reader { return &Reader{opts: opts, keep: true} }

// buffer returns a slice of length n, from *buf when it is large enough.
// The Reader keeps the storage for its next call.
func (r *Reader) buffer(buf *[]byte, n int64) []byte {
	if int64(cap(*buf)) >= n {
		return (*buf)[:n]
	}
	b := make([]byte, n)
	if r.keep {
		*buf = b
	}
	return b
}

// ReadFile reads the kernel BTF stored at path, as the function ReadFile
// does; the result is valid until the next call.
func (r *Reader) ReadFile(path string) (data []byte, src Source, err error) {
	opts := r.opts
	r.stored = nil
	src = Source{Path: path}
	f, err := os.Open(path)
	if err != nil {
		return nil, src, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, src, err
	}
	if fi.IsDir() {
		return nil, src, &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
	}
	if !fi.Mode().IsRegular() {
		// A pipe, character device or similar: stream it.
		return Read(f, path, opts)
	}

	d := newDecoder(opts)
	size := fi.Size()
	src.CompressedSize = size
	if size == 0 {
		return nil, src, nameErr(path, problem(ErrEmpty, nil, "empty file"))
	}
	var head [sniffLen]byte
	n, err := f.ReadAt(head[:min(size, sniffLen)], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, src, err
	}
	switch sniff(head[:n]) {
	case kindRaw:
		// Size known: allocate exactly once.
		if size > d.max {
			return nil, src, nameErr(path, d.tooLarge("BTF", size))
		}
		data = r.buffer(&r.out, size)
		if _, err := f.ReadAt(data, 0); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF // the file shrank since Stat
			}
			return nil, src, nameErr(path, problem(ErrCorrupt, err, "read: %v", err))
		}
		src.Format = "raw"
		r.stored = data
		return data, src, nil
	case kindELF:
		// Read only the .BTF section, straight from the file.
		data, err = d.elfBTF(f)
		if err != nil {
			return nil, src, nameErr(path, err)
		}
		src.Format = "elf"
		return data, src, nil
	}
	if kind := sniff(head[:n]); kind == kindXZ && size <= maxInMemoryXZ {
		data, err = d.xzFile(r, f, size)
		if err != nil {
			r.stored = nil
			return nil, src, nameErr(path, err)
		}
		src.Format = d.format()
		return data, src, nil
	}
	data, err = d.decode(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return nil, src, nameErr(path, err)
	}
	src.Format = d.format()
	return data, src, nil
}

// Read reads a kernel BTF in any supported form from r and returns the raw
// BTF bytes. name is used in error messages and as Source.Path.
//
// An uncompressed ELF file has to be buffered whole (up to Options.MaxSize);
// prefer ReadFile for files on disk.
func Read(r io.Reader, name string, opts *Options) ([]byte, Source, error) {
	src := Source{Path: name}
	d := newDecoder(opts)
	cr := &countingReader{r: r}
	data, err := d.decode(bufio.NewReaderSize(cr, 64<<10))
	src.CompressedSize = cr.n
	if err != nil {
		return nil, src, nameErr(name, err)
	}
	src.Format = d.format()
	return data, src, nil
}

// kbtfError is an error with a complete one-line message that wraps a
// sentinel and, optionally, the underlying cause.
type kbtfError struct {
	msg  string
	errs []error
	// stream marks problems of a container's data stream as a whole
	// (decompression, tar structure, size limit, I/O), as opposed to
	// problems of the member being read from it.
	stream bool
}

func (e *kbtfError) Error() string   { return e.msg }
func (e *kbtfError) Unwrap() []error { return e.errs }

// problem returns an error whose text is the formatted message and which
// wraps sentinel and cause (either may be nil).
func problem(sentinel, cause error, format string, args ...any) error {
	e := &kbtfError{msg: fmt.Sprintf(format, args...)}
	if sentinel != nil {
		e.errs = append(e.errs, sentinel)
	}
	if cause != nil {
		e.errs = append(e.errs, cause)
	}
	return e
}

// nameErr prefixes err's text with the file name.
func nameErr(name string, err error) error {
	return &kbtfError{msg: name + ": " + err.Error(), errs: []error{err}}
}

// countingReader counts the bytes read from r.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// formatSize renders n in the largest binary unit that divides it exactly.
func formatSize(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// Compressed reports whether the file at path starts like xz, gzip or
// zstd data, which ReadFile must decompress: a caller can so tell a read
// that takes a core for a while from one that is over in a moment. It
// reports false for anything else, including files it cannot read.
func Compressed(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [8]byte
	n, _ := io.ReadFull(f, head[:])
	switch sniff(head[:n]) {
	case kindXZ, kindGzip, kindZstd:
		return true
	}
	return false
}
