package kbtf

import (
	"archive/tar"
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/btftool/btftool/internal/xzdec"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/mikelolasagasti/xz"
)

const (
	// sniffLen is how many leading bytes format detection looks at (one tar
	// header block).
	sniffLen = 512
	// maxDepth bounds the number of nested containers (xz → tar → gz …).
	maxDepth = 4
	// maxTarEntries bounds the number of entries read from one tar archive.
	maxTarEntries = 4096
	// Decoders allocate their whole dictionary (xz) or window (zstd) up
	// front, at the size the stream header declares. The largest accepted is
	// that of xz -9 and zstd --long / --ultra -22, lowered to MaxSize (a
	// larger window cannot help output within the limit) but never below
	// that of xz -6 and zstd -19, so that files from the default presets
	// always decode.
	xzDictMax     = 64 << 20
	zstdWindowMax = 128 << 20
	minWindow     = 8 << 20
)

// windowLimit is the largest decoder dictionary or window accepted, given
// the format's own cap.
func (d *decoder) windowLimit(capacity int64) int64 {
	return max(minWindow, min(d.max, capacity))
}

// kind is a detected data format.
type kind int

const (
	kindUnknown kind = iota
	kindRaw          // raw BTF
	kindELF
	kindXZ
	kindGzip
	kindZstd
	kindTar
)

// sniff detects the format of data from its first bytes (up to sniffLen).
func sniff(b []byte) kind {
	switch {
	case isBTF(b):
		return kindRaw
	case bytes.HasPrefix(b, []byte(elf.ELFMAG)):
		return kindELF
	case bytes.HasPrefix(b, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return kindXZ
	case len(b) >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8: // deflate
		return kindGzip
	case bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return kindZstd
	case len(b) >= 4 && b[0]&0xf0 == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18:
		return kindZstd // a skippable frame, 0x184D2A5?
	case isTarHeader(b):
		return kindTar
	}
	return kindUnknown
}

// isBTF reports whether b starts with the BTF magic 0xeB9F in either byte
// order.
func isBTF(b []byte) bool {
	return len(b) >= 2 && (b[0] == 0x9f && b[1] == 0xeb || b[0] == 0xeb && b[1] == 0x9f)
}

// isTarHeader reports whether b starts with a tar header block: one whose
// checksum field matches its content (this covers ustar, GNU and old V7
// headers alike).
func isTarHeader(b []byte) bool {
	if len(b) < 512 {
		return false
	}
	// The checksum is octal, padded with spaces and NULs.
	field := strings.Trim(string(b[148:156]), " \x00")
	want, err := strconv.ParseInt(field, 8, 64)
	if field == "" || err != nil {
		return false
	}
	var unsigned, signed int64
	for i, c := range b[:512] {
		if i >= 148 && i < 156 {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	return want == unsigned || want == signed
}

// hexHead renders the first bytes of b for error messages.
func hexHead(b []byte) string {
	b = b[:min(len(b), 4)]
	s := make([]string, len(b))
	for i, c := range b {
		s[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(s, " ")
}

// decoder holds the state of one Read or ReadFile call.
type decoder struct {
	max     int64
	layers  []string // containers, outermost first: "xz", "tar", …
	payload string   // "raw" or "elf" once found
	window  int64    // window limit of the latest decompressor
}

func newDecoder(opts *Options) *decoder {
	return &decoder{max: opts.maxSize()}
}

// chain renders the containers seen so far like a file suffix, innermost
// first: "tar.xz".
func (d *decoder) chain() string {
	s := make([]string, 0, len(d.layers))
	for i := len(d.layers) - 1; i >= 0; i-- {
		s = append(s, d.layers[i])
	}
	return strings.Join(s, ".")
}

// format is Source.Format.
func (d *decoder) format() string {
	if len(d.layers) == 0 {
		return d.payload
	}
	if d.payload == "elf" {
		return "elf." + d.chain()
	}
	return d.chain()
}

// where says in which container the current data is, for messages.
func (d *decoder) where() string {
	if len(d.layers) == 0 {
		return ""
	}
	return " inside " + d.chain()
}

func (d *decoder) tooLarge(what string, size int64) error {
	return problem(ErrTooLarge, nil, "%s size %d exceeds limit of %s", what, size, formatSize(d.max))
}

func (d *decoder) push(layer string) error {
	if len(d.layers) >= maxDepth {
		return problem(ErrTooLarge, nil, "containers nested more than %d deep", maxDepth)
	}
	d.layers = append(d.layers, layer)
	return nil
}

// decode detects the format of the data in br and returns the BTF in it.
func (d *decoder) decode(br *bufio.Reader) ([]byte, error) {
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, readErr(err)
	}
	if len(head) == 0 {
		if len(d.layers) == 0 {
			return nil, problem(ErrEmpty, nil, "empty file")
		}
		return nil, problem(ErrEmpty, nil, "no data%s", d.where())
	}
	switch k := sniff(head); k {
	case kindRaw:
		d.payload = "raw"
		return d.readBTF(br, head)
	case kindELF:
		d.payload = "elf"
		buf, err := d.readELF(br, head)
		if err != nil {
			return nil, err
		}
		return d.elfBTF(bytes.NewReader(buf))
	case kindTar:
		return d.tar(br)
	case kindXZ, kindGzip, kindZstd:
		return d.decompress(k, br)
	}
	return nil, problem(ErrNotBTF, nil, "not BTF, ELF or a supported archive%s (starts with %s)", d.where(), hexHead(head))
}

// readBTF reads a raw BTF from a stream. The header declares the blob's
// size: exactly that much is read, so a decompression bomb that starts
// with a BTF header costs no more memory than the BTF it claims to be, and
// data after the declared end is an error (the kernel refuses it too).
func (d *decoder) readBTF(br *bufio.Reader, head []byte) ([]byte, error) {
	size, ok := declaredSize(head)
	if !ok {
		return d.readAll(br, "BTF")
	}
	if size > uint64(d.max) {
		return nil, d.tooLarge("BTF", int64(min(size, 1<<62)))
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(br, buf); err != nil {
		return nil, readErr(err)
	}
	if _, err := br.Peek(1); err == nil {
		return nil, problem(ErrCorrupt, nil, "data continues after the %d bytes of BTF its header declares%s", size, d.where())
	} else if !errors.Is(err, io.EOF) {
		return nil, readErr(err)
	}
	return buf, nil
}

// readELF reads an ELF file from a stream up to the end of its section
// header table, which the ELF header locates: memory is bounded by what
// the header declares, not by how much data follows.
func (d *decoder) readELF(br *bufio.Reader, head []byte) ([]byte, error) {
	end, ok := elfEnd(head)
	if !ok {
		return d.readAll(br, "ELF")
	}
	if end <= 64 {
		return nil, problem(ErrNoBTFSection, nil, "ELF has no section headers%s", d.where())
	}
	if end > uint64(d.max) {
		return nil, d.tooLarge("ELF", int64(min(end, 1<<62)))
	}
	buf := make([]byte, end)
	if _, err := io.ReadFull(br, buf); err != nil {
		return nil, readErr(err)
	}
	return buf, nil
}

// elfEnd returns where the section header table of an ELF ends.
func elfEnd(head []byte) (uint64, bool) {
	if len(head) < 64 || head[4] != 2 { // only ELF64 is read this way
		return 0, false
	}
	var order binary.ByteOrder = binary.LittleEndian
	if head[5] == 2 {
		order = binary.BigEndian
	}
	shoff := order.Uint64(head[0x28:])
	shentsize, shnum := uint64(order.Uint16(head[0x3a:])), uint64(order.Uint16(head[0x3c:]))
	if shoff > 1<<62 {
		return 1 << 62, true
	}
	return shoff + shentsize*shnum, true
}

// declaredSize returns the total size a BTF header declares.
func declaredSize(head []byte) (uint64, bool) {
	if len(head) < 24 {
		return 0, false
	}
	var order binary.ByteOrder = binary.LittleEndian
	if binary.BigEndian.Uint16(head) == 0xeb9f {
		order = binary.BigEndian
	}
	hdrLen := uint64(order.Uint32(head[4:]))
	if hdrLen < 24 {
		return 0, false
	}
	types := uint64(order.Uint32(head[8:])) + uint64(order.Uint32(head[12:]))
	strs := uint64(order.Uint32(head[16:])) + uint64(order.Uint32(head[20:]))
	return hdrLen + max(types, strs), true
}

// readAll reads r to its end, failing once more than d.max bytes arrive.
// Unlike io.ReadAll it never allocates more than about twice the limit.
func (d *decoder) readAll(r io.Reader, what string) ([]byte, error) {
	b := make([]byte, 0, min(d.max+1, 64<<10))
	for {
		if len(b) == cap(b) {
			nb := make([]byte, len(b), min(2*int64(cap(b)), d.max+1))
			copy(nb, b)
			b = nb
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > d.max {
			return nil, problem(ErrTooLarge, nil, "%s size exceeds limit of %s", what, formatSize(d.max))
		}
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return nil, readErr(err)
		}
	}
}

// readErr describes an error from reading the input. Errors from the layers
// below are already described and pass unchanged.
func readErr(err error) error {
	if _, ok := err.(*kbtfError); ok {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return streamProblem(ErrCorrupt, err, "unexpected end of input (truncated?)")
	}
	return streamProblem(nil, err, "read: %v", err)
}

// maxInMemoryXZ is the largest .xz file ReadFile decodes in one call with
// xzdec (larger ones are streamed): the whole file is read first.
const maxInMemoryXZ = 256 << 20

// xzFile reads the whole .xz file f and decodes it with xzdec, which
// writes the output once, at the size the file's index declares, and so
// is as fast as the xz tool. Files xzdec does not handle, and corrupt
// ones (for the streaming decoder's description of the problem), go
// through the streaming path.
func (d *decoder) xzFile(r *Reader, f io.ReaderAt, size int64) ([]byte, error) {
	src := r.buffer(&r.src, size)
	if _, err := f.ReadAt(src, 0); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // the file shrank since Stat
		}
		return nil, problem(ErrCorrupt, err, "read: %v", err)
	}
	r.stored = src
	out, err := xzdec.DecodeAllInto(r.out, src, d.max)
	if err == nil && r.keep && cap(out) > cap(r.out) {
		r.out = out
	}
	switch {
	case errors.Is(err, xzdec.ErrTooLarge):
		return nil, streamProblem(ErrTooLarge, err, "xz: decompressed size exceeds limit of %s", formatSize(d.max))
	case err != nil:
		return d.decode(bufio.NewReaderSize(bytes.NewReader(src), 64<<10))
	}
	if err := d.push("xz"); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, problem(ErrEmpty, nil, "no data%s", d.where())
	}
	if sniff(out[:min(len(out), sniffLen)]) == kindTar {
		return d.tarMem(out)
	}
	return d.decode(bufio.NewReaderSize(bytes.NewReader(out), 64<<10))
}

// tarMem is tar for an archive held in memory: a raw BTF member is
// returned in place, without a copy.
func (d *decoder) tarMem(mem []byte) ([]byte, error) {
	r := bytes.NewReader(mem)
	return d.tarFrom(r, func(hdr *tar.Header, head []byte) []byte {
		// archive/tar leaves r at the member's data once Next returns,
		// and head (its first bytes) has been read since.
		start := int64(len(mem)) - int64(r.Len()) - int64(len(head))
		if start < 0 || hdr.Size > int64(len(mem))-start || !bytes.Equal(mem[start:start+int64(len(head))], head) {
			return nil // not where expected: read it as a stream
		}
		return mem[start : start+hdr.Size : start+hdr.Size]
	})
}

// xzPool keeps xz readers, and so their dictionaries, for reuse across
// calls: batch runs then do not allocate a dictionary per file.
var xzPool sync.Pool

// decompress decodes one compression layer and the data inside it.
func (d *decoder) decompress(k kind, br *bufio.Reader) ([]byte, error) {
	lr, done, err := d.openLayer(k, br, d.max)
	if err != nil {
		return nil, err
	}
	defer done()
	data, err := d.decode(bufio.NewReaderSize(lr, 4<<10))
	if err != nil {
		return nil, err
	}
	// Read to the end so that the integrity check of the stream (the CRC
	// in xz and gzip, the checksum in zstd) is verified even when the BTF
	// was a tar member followed by more data.
	if _, err := io.Copy(io.Discard, lr); err != nil {
		return nil, err
	}
	return data, nil
}

// openLayer starts decoding one compression layer of kind k from br, at
// most limit bytes of output; done releases the decoder.
func (d *decoder) openLayer(k kind, br io.Reader, limit int64) (lr *layerReader, done func(), err error) {
	var (
		name string
		dr   io.Reader
	)
	done = func() {}
	switch k {
	case kindXZ:
		name = "xz"
		var z *xz.Reader
		window := d.windowLimit(xzDictMax)
		if window == xzDictMax {
			// The common case: reuse a reader and its dictionary.
			if z, _ = xzPool.Get().(*xz.Reader); z != nil {
				err = z.Reset(br)
			} else {
				z, err = xz.NewReader(br, xzDictMax)
			}
			if z != nil {
				done = func() { xzPool.Put(z) }
			}
		} else {
			z, err = xz.NewReader(br, uint32(window))
		}
		d.window = window
		dr = z
	case kindGzip:
		name = "gz"
		var z *gzip.Reader
		if z, err = gzip.NewReader(br); err == nil {
			done = func() { z.Close() }
		}
		dr = z
	case kindZstd:
		name = "zst"
		var z *zstd.Decoder
		d.window = d.windowLimit(zstdWindowMax)
		z, err = zstd.NewReader(br,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(uint64(d.window)))
		if err == nil {
			done = z.Close
		}
		dr = z
	}
	if err != nil {
		done()
		return nil, func() {}, codecErr(name, err, d.window)
	}
	if err := d.push(name); err != nil {
		done()
		return nil, func() {}, err
	}
	return &layerReader{r: dr, name: name, left: limit, max: d.max, window: d.window}, done, nil
}

// layerReader reads the output of a decompressor: it enforces the size
// limit and describes the decompressor's errors.
type layerReader struct {
	r         io.Reader
	name      string
	left, max int64
	window    int64 // the decoder's window limit, for messages
}

func (l *layerReader) Read(p []byte) (int, error) {
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n + int(l.left), streamProblem(ErrTooLarge, nil, "decompressed size exceeds limit of %s", formatSize(l.max))
	}
	if err != nil && !errors.Is(err, io.EOF) {
		err = codecErr(l.name, err, l.window)
	}
	return n, err
}

// codecErr describes an error from the decompressor named name, whose
// window limit was window.
func codecErr(name string, err error, window int64) error {
	if _, ok := err.(*kbtfError); ok {
		return err // from the layer below, already described
	}
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, xz.ErrBuf):
		// xz.ErrBuf: the decoder could make no progress, because the
		// input ended.
		return streamProblem(ErrCorrupt, err, "%s: unexpected end of input (truncated?)", name)
	case errors.Is(err, xz.ErrMemlimit):
		return streamProblem(ErrTooLarge, err, "%s: dictionary size exceeds limit of %s", name, formatSize(window))
	case errors.Is(err, zstd.ErrWindowSizeExceeded):
		return streamProblem(ErrTooLarge, err, "%s: window size exceeds limit of %s", name, formatSize(window))
	}
	msg := err.Error()
	for _, p := range []string{"xz: ", "gzip: ", "zstd: ", "flate: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return streamProblem(ErrCorrupt, err, "%s: %s", name, msg)
}

// tar returns the BTF in the first regular member of the tar archive in r
// that is BTF, ELF or compressed.
func (d *decoder) tar(r io.Reader) ([]byte, error) {
	return d.tarFrom(r, nil)
}

// tarFrom is tar; inPlace, when set, may return a raw BTF member's bytes
// without reading them (nil to read them).
func (d *decoder) tarFrom(r io.Reader, inPlace func(hdr *tar.Header, head []byte) []byte) ([]byte, error) {
	if err := d.push("tar"); err != nil {
		return nil, err
	}
	tr := tar.NewReader(r)
	for i := 0; ; i++ {
		if i == maxTarEntries {
			return nil, problem(ErrTooLarge, nil, "tar archive has more than %d entries", maxTarEntries)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, problem(ErrNoBTFInArchive, nil, "no BTF or ELF file in tar archive")
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return nil, tarErr(err)
		}
		// Nothing is ever extracted, but an archive with absolute or
		// ".." member names is not a kernel BTF archive: refuse it
		// rather than pass it on to tools that do extract.
		if !filepath.IsLocal(hdr.Name) {
			return nil, problem(ErrCorrupt, nil, "tar member %q: unsafe path (absolute or outside the archive)", hdr.Name)
		}
		// Only regular files: directories, links, devices and
		// sparse files are skipped.
		if hdr.Typeflag != tar.TypeReg || hdr.Size <= 0 {
			continue
		}
		head := make([]byte, min(hdr.Size, sniffLen))
		if _, err := io.ReadFull(tr, head); err != nil {
			return nil, tarErr(err)
		}
		k := sniff(head)
		if k == kindUnknown {
			continue
		}
		if k == kindRaw && inPlace != nil && hdr.Size <= d.max {
			if data := inPlace(hdr, head); data != nil {
				d.payload = "raw"
				return data, nil
			}
		}
		data, err := d.member(k, head, tr, hdr.Size)
		if err != nil {
			if ke, ok := err.(*kbtfError); ok && ke.stream {
				return nil, err // a problem of the archive, not of the member
			}
			return nil, &kbtfError{msg: fmt.Sprintf("tar member %q: %v", hdr.Name, err), errs: []error{err}}
		}
		return data, nil
	}
}

// member returns the BTF in a tar member whose first bytes are head and
// whose remaining bytes are in r.
func (d *decoder) member(k kind, head []byte, r io.Reader, size int64) ([]byte, error) {
	if k != kindRaw && k != kindELF {
		return d.decode(bufio.NewReaderSize(io.MultiReader(bytes.NewReader(head), r), 4<<10))
	}
	what := "BTF"
	if k == kindELF {
		what = "ELF"
	}
	if size > d.max {
		return nil, d.tooLarge(what, size)
	}
	// The size is known: allocate exactly once.
	buf := make([]byte, size)
	copy(buf, head)
	if _, err := io.ReadFull(r, buf[len(head):]); err != nil {
		return nil, tarErr(err)
	}
	if k == kindRaw {
		d.payload = "raw"
		return buf, nil
	}
	d.payload = "elf"
	return d.elfBTF(bytes.NewReader(buf))
}

// tarErr describes an error from archive/tar.
func tarErr(err error) error {
	if _, ok := err.(*kbtfError); ok {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return streamProblem(ErrCorrupt, err, "tar: unexpected end of archive (truncated?)")
	}
	return streamProblem(ErrCorrupt, err, "tar: %s", strings.TrimPrefix(err.Error(), "archive/tar: "))
}

// streamProblem is problem for errors of a container as a whole, which are
// reported without the name of the tar member being read.
func streamProblem(sentinel, cause error, format string, args ...any) error {
	e := problem(sentinel, cause, format, args...).(*kbtfError)
	e.stream = true
	return e
}

// elfBTF returns a copy of the .BTF section of the ELF file in ra.
func (d *decoder) elfBTF(ra io.ReaderAt) (data []byte, err error) {
	defer func() {
		// debug/elf is meant not to panic on bad input; be safe anyway.
		if r := recover(); r != nil {
			data, err = nil, problem(ErrCorrupt, nil, "invalid ELF: %v", r)
		}
	}()
	f, err := elf.NewFile(ra)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, problem(ErrCorrupt, err, "invalid ELF: unexpected end of file (truncated?)")
	}
	if err != nil {
		return nil, problem(ErrCorrupt, err, "invalid ELF: %v", err)
	}
	sec := f.Section(".BTF")
	if sec == nil || sec.Type == elf.SHT_NOBITS || sec.Size == 0 {
		return nil, problem(ErrNoBTFSection, nil, "ELF has no .BTF section")
	}
	if sec.Size > uint64(d.max) {
		return nil, d.tooLarge(".BTF section", int64(min(sec.Size, 1<<62)))
	}
	// Size is the uncompressed size, also for a compressed section.
	data = make([]byte, sec.Size)
	if _, err := io.ReadFull(sec.Open(), data); err != nil {
		return nil, problem(ErrCorrupt, err, "ELF .BTF section: %v", err)
	}
	if !isBTF(data) {
		return nil, problem(ErrNotBTF, nil, "ELF .BTF section is not BTF (starts with %s)", hexHead(data))
	}
	return data, nil
}
