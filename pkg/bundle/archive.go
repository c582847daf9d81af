package bundle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/mikelolasagasti/xz"

	"github.com/btftool/btftool/internal/xzdec"
)

// archive gives access to the uncompressed tar archive of a bundle.
type archive interface {
	// reader returns a reader of the tar archive from offset off on.
	// Only one reader is in use at a time: the next call may end it.
	reader(off int64) (io.Reader, error)
	describe() string
	close()
}

// readAt returns the n bytes of a's tar archive at offset off, or an error
// wrapping ErrBadBundle (or ErrTooLarge) when there are not so many.
func readAt(a archive, off, n int64) ([]byte, error) {
	if off < 0 || n < 0 {
		return nil, fmt.Errorf("%w: negative offset or size", ErrBadBundle)
	}
	if b, ok := a.(*blockArchive); ok {
		return b.readRange(off, n)
	}
	r, err := a.reader(off)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("%w: %d bytes at offset %d: %w", ErrBadBundle, n, off, noEOF(err))
	}
	return buf, nil
}

// Magic numbers of the compressed formats.
var (
	xzMagic       = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	gzipMagic     = []byte{0x1f, 0x8b, 8}
	zstdMagic     = []byte{0x28, 0xb5, 0x2f, 0xfd}
	seekableMagic = uint32(0x8F92EAB1) // zstd seekable format's seek table footer
)

// skippableMagic is the magic number of the zstd skippable frame that holds
// a seek table.
const skippableMagic = 0x184D2A5E

// openArchive detects how r is compressed and returns access to its tar
// archive: by blocks when the compressor's own index locates them (xz,
// zstd with a seek table), otherwise by streaming.
func openArchive(r io.ReaderAt, size int64, opts *Options) (archive, error) {
	head := make([]byte, blockSize)
	n, err := r.ReadAt(head, 0)
	if n < len(head) && !errors.Is(err, io.EOF) && err != nil {
		return nil, err
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, xzMagic):
		stream := newStream(r, size, opts, "xz", openXZStream)
		if a, err := openXZBlocks(r, size, opts, stream); err == nil || !errors.Is(err, errNoBlocks) {
			return a, err
		}
		return stream, nil
	case bytes.HasPrefix(head, zstdMagic) || isSkippable(head):
		stream := newStream(r, size, opts, "zstd", func(rd io.Reader) (io.Reader, func(), error) { return openZstdStream(rd, opts) })
		if a, err := openZstdFrames(r, size, opts, stream); err == nil || !errors.Is(err, errNoBlocks) {
			return a, err
		}
		return stream, nil
	case bytes.HasPrefix(head, gzipMagic):
		return newStream(r, size, opts, "gzip", func(rd io.Reader) (io.Reader, func(), error) {
			z, err := gzip.NewReader(rd)
			if err != nil {
				return nil, nil, err
			}
			return z, func() { z.Close() }, nil
		}), nil
	case len(head) == blockSize:
		return &plainArchive{r: r, size: size}, nil
	}
	return nil, fmt.Errorf("%w: not a tar archive compressed with xz, zstd or gzip (%d bytes)", ErrBadBundle, size)
}

// xzWindowMax bounds the dictionary of an xz stream decoded as a stream:
// that of xz -9.
const xzWindowMax = 64 << 20

func openXZStream(rd io.Reader) (io.Reader, func(), error) {
	z, err := xz.NewReader(rd, xzWindowMax)
	return z, func() {}, err
}

func openZstdStream(rd io.Reader, opts *Options) (io.Reader, func(), error) {
	z, err := zstd.NewReader(rd, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(uint64(min(opts.maxEntry(), 1<<30))))
	if err != nil {
		return nil, nil, err
	}
	return z, z.Close, nil
}

func isSkippable(b []byte) bool {
	return len(b) >= 4 && b[0]&0xf0 == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18
}

// errNoBlocks means a compressed file has no index of separately
// decompressible blocks (or blocks too large to hold): it is read as a
// stream.
var errNoBlocks = errors.New("no block index")

// plainArchive is an uncompressed tar.
type plainArchive struct {
	r    io.ReaderAt
	size int64
}

func (a *plainArchive) reader(off int64) (io.Reader, error) {
	if off > a.size {
		return nil, fmt.Errorf("%w: offset %d is beyond the archive's %d bytes", ErrBadBundle, off, a.size)
	}
	return io.NewSectionReader(a.r, off, a.size-off), nil
}

func (a *plainArchive) describe() string { return "none" }
func (a *plainArchive) close()           {}

// span is one separately decompressible block: its place in the
// compressed file and in the tar archive.
type span struct {
	off, size   int64 // compressed
	uoff, usize int64 // uncompressed
}

// wholeBlock is the largest block decompressed whole (and kept for the
// next read); larger ones are decompressed through their dictionary
// window, keeping only the bytes asked for.
const wholeBlock = 4 << 20

// blockArchive reads the blocks that hold the bytes asked for, keeping the
// last small one decompressed.
type blockArchive struct {
	r     io.ReaderAt
	spans []span
	name  string
	free  func()
	// decode decompresses block i whole; window hands the bytes of a
	// large block i to fn in order, through its dictionary window.
	decode func(src []byte, i int) ([]byte, error)
	window func(src []byte, i int, fn func([]byte)) error
	// stream reads large blocks sequentially.
	stream *streamArchive

	cached int // index of the block in data, or -1
	data   []byte
	src    []byte
}

// newBlockArchive checks that the spans tile the archive within the
// limits.
func newBlockArchive(r io.ReaderAt, spans []span, opts *Options, name string, stream *streamArchive) (*blockArchive, error) {
	var uoff int64
	for _, s := range spans {
		if s.uoff != uoff {
			return nil, fmt.Errorf("%w: %s blocks do not follow each other", ErrBadBundle, name)
		}
		if s.size > opts.maxArchive() {
			return nil, fmt.Errorf("%w: %s block of %d bytes", ErrTooLarge, name, s.size)
		}
		uoff += s.usize
		if uoff > opts.maxArchive() {
			return nil, fmt.Errorf("%w: %s declares more than %d bytes decompressed", ErrTooLarge, name, opts.maxArchive())
		}
	}
	return &blockArchive{r: r, spans: spans, name: name, cached: -1, free: func() {}, stream: stream}, nil
}

// find returns the index of the block that holds offset off, or
// len(a.spans).
func (a *blockArchive) find(off int64) int {
	return sort.Search(len(a.spans), func(i int) bool { return a.spans[i].uoff+a.spans[i].usize > off })
}

func (a *blockArchive) reader(off int64) (io.Reader, error) {
	return &blockReader{a: a, off: off}, nil
}

// readRange returns the n bytes at off, decompressing only the blocks
// that hold them, and of large blocks only as much as needed.
func (a *blockArchive) readRange(off, n int64) ([]byte, error) {
	out := make([]byte, 0, n)
	for i := a.find(off); int64(len(out)) < n; i++ {
		if i >= len(a.spans) {
			return nil, fmt.Errorf("%w: %d bytes at offset %d are beyond the archive", ErrBadBundle, n, off)
		}
		s := a.spans[i]
		want := min(n-int64(len(out)), s.uoff+s.usize-off) // from this block
		if s.usize <= wholeBlock {
			data, err := a.block(i)
			if err != nil {
				return nil, err
			}
			out = append(out, data[off-s.uoff:off-s.uoff+want]...)
		} else {
			src, err := a.read(i)
			if err != nil {
				return nil, err
			}
			at := s.uoff // uncompressed offset of the next bytes fn sees
			from, to := off, off+want
			err = a.window(src, i, func(p []byte) {
				if lo, hi := max(from, at), min(to, at+int64(len(p))); lo < hi {
					out = append(out, p[lo-at:hi-at]...)
				}
				at += int64(len(p))
			})
			if err != nil {
				return nil, fmt.Errorf("%w: %s block at offset %d: %w", ErrBadBundle, a.name, s.off, err)
			}
		}
		off += want
	}
	return out, nil
}

// blockReader reads a blockArchive sequentially: small blocks from their
// decompressed copy, large ones as a stream.
type blockReader struct {
	a   *blockArchive
	off int64
	sr  io.Reader // the stream, once in a large block
}

func (r *blockReader) Read(p []byte) (int, error) {
	if r.sr != nil {
		n, err := r.sr.Read(p)
		r.off += int64(n)
		return n, err
	}
	spans := r.a.spans
	i := r.a.find(r.off)
	if i == len(spans) {
		return 0, io.EOF
	}
	if spans[i].usize > wholeBlock {
		sr, err := r.a.stream.reader(r.off)
		if err != nil {
			return 0, err
		}
		r.sr = sr
		return r.Read(p)
	}
	data, err := r.a.block(i)
	if err != nil {
		return 0, err
	}
	n := copy(p, data[r.off-spans[i].uoff:])
	r.off += int64(n)
	return n, nil
}

// read returns the compressed bytes of block i.
func (a *blockArchive) read(i int) ([]byte, error) {
	s := a.spans[i]
	if int64(cap(a.src)) < s.size {
		a.src = make([]byte, s.size)
	}
	src := a.src[:s.size]
	if _, err := a.r.ReadAt(src, s.off); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return src, nil
}

// block returns small block i decompressed.
func (a *blockArchive) block(i int) ([]byte, error) {
	if a.cached == i {
		return a.data, nil
	}
	s := a.spans[i]
	src, err := a.read(i)
	if err != nil {
		return nil, err
	}
	a.cached = -1
	data, err := a.decode(src, i)
	if err != nil {
		return nil, fmt.Errorf("%w: %s block at offset %d: %w", ErrBadBundle, a.name, s.off, err)
	}
	if int64(len(data)) != s.usize {
		return nil, fmt.Errorf("%w: %s block at offset %d: %d bytes, index says %d", ErrBadBundle, a.name, s.off, len(data), s.usize)
	}
	a.cached, a.data = i, data
	return data, nil
}

func (a *blockArchive) describe() string { return a.name + ", indexed" }

func (a *blockArchive) close() {
	a.free()
	a.stream.close()
	a.data, a.src, a.cached = nil, nil, -1
}

// openXZBlocks locates the Blocks of an .xz file from its Index.
func openXZBlocks(r io.ReaderAt, size int64, opts *Options, stream *streamArchive) (archive, error) {
	blocks, err := xzdec.ReadBlocks(r, size, min(opts.maxEntry(), 64<<20))
	if errors.Is(err, xzdec.ErrUnsupported) {
		return nil, errNoBlocks
	}
	if errors.Is(err, xzdec.ErrTooLarge) {
		return nil, fmt.Errorf("%w: xz: %w", ErrTooLarge, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: xz: %w", ErrBadBundle, noEOF(err))
	}
	spans := make([]span, len(blocks))
	for i, b := range blocks {
		spans[i] = span{off: b.Offset, size: b.Size, uoff: b.UncompressedOffset, usize: b.UncompressedSize}
	}
	a, err := newBlockArchive(r, spans, opts, "xz", stream)
	if err != nil {
		return nil, err
	}
	a.decode = func(src []byte, i int) ([]byte, error) {
		// Reuse the buffer of the block decoded before.
		return xzdec.DecodeBlock(a.data[:0], src, blocks[i], wholeBlock)
	}
	a.window = func(src []byte, i int, fn func([]byte)) error {
		return xzdec.DecodeBlockFunc(src, blocks[i], min(opts.maxEntry(), xzWindowMax), fn)
	}
	return a, nil
}

// openZstdFrames locates the frames of a zstd file from the seek table of
// the zstd seekable format, a skippable frame at its end.
func openZstdFrames(r io.ReaderAt, size int64, opts *Options, stream *streamArchive) (archive, error) {
	const footerSize = 9
	if size < footerSize+8 {
		return nil, errNoBlocks
	}
	var foot [footerSize]byte
	if _, err := r.ReadAt(foot[:], size-footerSize); err != nil {
		return nil, err
	}
	if binary.LittleEndian.Uint32(foot[5:]) != seekableMagic {
		return nil, errNoBlocks
	}
	frames := int64(binary.LittleEndian.Uint32(foot[:]))
	desc := foot[4]
	if desc&0x7c != 0 {
		return nil, fmt.Errorf("%w: zstd seek table: reserved descriptor bits 0x%02x", ErrBadBundle, desc)
	}
	entrySize := int64(8)
	if desc&0x80 != 0 {
		entrySize = 12
	}
	tableSize := 8 + frames*entrySize + footerSize
	if frames == 0 || tableSize > size || tableSize > min(opts.maxEntry(), 64<<20) {
		return nil, fmt.Errorf("%w: zstd seek table of %d frames does not fit in %d bytes", ErrBadBundle, frames, size)
	}
	table := make([]byte, tableSize)
	if _, err := r.ReadAt(table, size-tableSize); err != nil {
		return nil, err
	}
	if binary.LittleEndian.Uint32(table) != skippableMagic || int64(binary.LittleEndian.Uint32(table[4:])) != tableSize-8 {
		return nil, fmt.Errorf("%w: zstd seek table: bad skippable frame header", ErrBadBundle)
	}
	spans := make([]span, frames)
	var off, uoff int64
	for i := range spans {
		e := table[8+int64(i)*entrySize:]
		c, u := int64(binary.LittleEndian.Uint32(e)), int64(binary.LittleEndian.Uint32(e[4:]))
		spans[i] = span{off: off, size: c, uoff: uoff, usize: u}
		off += c
		uoff += u
	}
	if off != size-tableSize {
		return nil, fmt.Errorf("%w: zstd seek table describes %d bytes of frames, the file has %d", ErrBadBundle, off, size-tableSize)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(wholeBlock))
	if err != nil {
		return nil, err
	}
	a, err := newBlockArchive(r, spans, opts, "zstd", stream)
	if err != nil {
		dec.Close()
		return nil, err
	}
	isFrame := func(src []byte) error {
		if len(src) < 4 || binary.LittleEndian.Uint32(src) != binary.LittleEndian.Uint32(zstdMagic) {
			return errors.New("not a zstd frame")
		}
		return nil
	}
	a.decode = func(src []byte, i int) ([]byte, error) {
		if err := isFrame(src); err != nil {
			return nil, err
		}
		return dec.DecodeAll(src, a.data[:0])
	}
	a.window = func(src []byte, i int, fn func([]byte)) error {
		if err := isFrame(src); err != nil {
			return err
		}
		zr, done, err := openZstdStream(bytes.NewReader(src), opts)
		if err != nil {
			return err
		}
		defer done()
		buf := make([]byte, 64<<10)
		var n int64
		for {
			k, err := zr.Read(buf)
			n += int64(k)
			if n > a.spans[i].usize {
				return errors.New("frame decodes to more than the seek table says")
			}
			fn(buf[:k])
			if errors.Is(err, io.EOF) {
				if n != a.spans[i].usize {
					return errors.New("frame decodes to less than the seek table says")
				}
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	a.free = dec.Close
	return a, nil
}

// streamArchive decompresses the archive from its start, as far as the
// bytes asked for; reading backwards starts again from the beginning.
type streamArchive struct {
	r    io.ReaderAt
	size int64
	opts *Options
	name string
	open func(io.Reader) (io.Reader, func(), error)
	rd   io.Reader
	done func()
	pos  int64
}

func newStream(r io.ReaderAt, size int64, opts *Options, name string, open func(io.Reader) (io.Reader, func(), error)) *streamArchive {
	return &streamArchive{r: r, size: size, opts: opts, name: name, open: open}
}

func (a *streamArchive) reader(off int64) (io.Reader, error) {
	if off > a.opts.maxArchive() {
		return nil, fmt.Errorf("%w: offset %d is beyond the limit of %d bytes decompressed", ErrTooLarge, off, a.opts.maxArchive())
	}
	if a.rd == nil || off < a.pos {
		a.close()
		zr, done, err := a.open(io.NewSectionReader(a.r, 0, a.size))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadBundle, a.name, noEOF(err))
		}
		a.rd, a.done, a.pos = zr, done, 0
	}
	if off > a.pos {
		k, err := io.CopyN(io.Discard, a.rd, off-a.pos)
		a.pos += k
		if err != nil {
			a.close()
			return nil, fmt.Errorf("%w: %s: %w", ErrBadBundle, a.name, noEOF(err))
		}
	}
	return (*streamReader)(a), nil
}

// streamReader reads a streamArchive from where it is.
type streamReader streamArchive

func (r *streamReader) Read(p []byte) (int, error) {
	a := (*streamArchive)(r)
	if a.rd == nil {
		return 0, io.ErrUnexpectedEOF
	}
	if a.pos >= a.opts.maxArchive() {
		return 0, fmt.Errorf("%w: more than %d bytes decompressed", ErrTooLarge, a.opts.maxArchive())
	}
	n, err := a.rd.Read(p[:min(int64(len(p)), a.opts.maxArchive()-a.pos)])
	a.pos += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("%w: %s: %w", ErrBadBundle, a.name, noEOF(err))
	}
	return n, err
}

func (a *streamArchive) describe() string { return a.name }

func (a *streamArchive) close() {
	if a.done != nil {
		a.done()
	}
	a.rd, a.done, a.pos = nil, nil, 0
}
