// Package xzdec decodes .xz files held whole in memory.
//
// It is a single-call decoder, like XZ Embedded's XZ_SINGLE mode: it reads
// the Stream Footers and Indexes at the end of the input first (walking
// backwards over concatenated Streams and Stream Padding, as xz does), takes
// the total uncompressed size from the Indexes, checks it against the
// caller's limit, allocates the output once at that exact size and decodes
// LZMA2 straight into it. The output buffer is the LZMA dictionary: a match
// copies from earlier in the same buffer, so there is no ring buffer and no
// copy from a dictionary to the output.
//
// Only the LZMA2 filter is implemented, with the None, CRC32, CRC64 and
// SHA-256 checks. Files using anything else that xz can decode (BCJ and Delta
// filters, check IDs that xz only warns about) give ErrUnsupported, so that
// the caller can fall back to a streaming decoder.
package xzdec

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// ErrUnsupported is returned (wrapped) for a .xz file that uses a feature
// this decoder does not implement: a filter other than LZMA2 (BCJ, Delta),
// or a check ID other than None, CRC32, CRC64 and SHA-256 (which xz decodes
// with a warning). A streaming decoder may still be able to decode such a
// file. What liblzma reports as unsupported options is also ErrUnsupported:
// unknown filter IDs, reserved flag bits, non-null Block Header Padding, an
// LZMA2 dictionary size byte above 40.
var ErrUnsupported = errors.New("xzdec: unsupported xz feature")

// ErrTooLarge is returned (wrapped) when the uncompressed size declared by
// the file's Indexes exceeds the caller's maxSize. It is detected before the
// output is allocated.
var ErrTooLarge = errors.New("xzdec: uncompressed size exceeds the limit")

// ErrCorrupt is returned (wrapped) for malformed input: bad magic bytes,
// header or Index CRC32 mismatch, Index that does not describe the Blocks,
// LZMA2 data errors, check (CRC32, CRC64, SHA-256) mismatch, truncation or
// trailing garbage.
var ErrCorrupt = errors.New("xzdec: corrupt xz data")

// corrupt returns an error wrapping ErrCorrupt, with the reason and the byte
// offset in the input where it was found.
func corrupt(off int, format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", ErrCorrupt, fmt.Sprintf(format, args...), off)
}

// unsupported is corrupt for ErrUnsupported.
func unsupported(off int, format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", ErrUnsupported, fmt.Sprintf(format, args...), off)
}

const (
	headerSize  = 12 // Stream Header and Stream Footer
	headerMagic = "\xfd7zXZ\x00"
	footerMagic = "YZ"

	checkNone   = 0x00
	checkCRC32  = 0x01
	checkCRC64  = 0x04
	checkSHA256 = 0x0a

	filterLZMA2 = 0x21

	vliMax = 1<<63 - 1

	// maxExpansion bounds the uncompressed size of a Block per byte of
	// its Unpadded Size: 2 MiB from a 10-byte LZMA2 chunk.
	maxExpansion = (2<<20)/10 + 1
)

// checkSizes is the size of the Check field for each check ID.
var checkSizes = [16]int{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}

var crc64Table = crc64.MakeTable(crc64.ECMA)

// record is one Index record: a Block's Unpadded Size and Uncompressed Size.
type record struct {
	unpadded     uint64
	uncompressed uint64
}

// stream is a Stream located from its footer and Index.
type stream struct {
	start      int // offset of the Stream Header
	check      byte
	records    []record
	indexStart int // offset of the Index (the end of the Blocks)
}

// DecodeAll decodes a complete .xz file held in memory and returns its
// uncompressed bytes.
//
// All the concatenated Streams of src are decoded (with Stream Padding
// between and after them, as xz -dc accepts). maxSize bounds the size of the
// output: when the Indexes declare more than maxSize bytes in all, DecodeAll
// returns ErrTooLarge without allocating it (a negative maxSize counts as
// 0). The Indexes are validated against the Blocks, so the output
// is never larger than declared.
//
// Errors wrap ErrCorrupt, ErrUnsupported or ErrTooLarge (use errors.Is), with
// a one-line reason and the offset in src.
func DecodeAll(src []byte, maxSize int64) ([]byte, error) {
	return DecodeAllInto(nil, src, maxSize)
}

// DecodeAllInto is DecodeAll that decodes into dst's storage when its
// capacity is large enough, overwriting it; the result then aliases dst.
// A caller decoding many files can so reuse one buffer.
func DecodeAllInto(dst, src []byte, maxSize int64) ([]byte, error) {
	streams, total, err := locateStreams(src)
	if err != nil {
		return nil, err
	}
	if total > max(maxSize, 0) || total > int64(math.MaxInt) {
		return nil, fmt.Errorf("%w: %d bytes declared, limit %d", ErrTooLarge, total, maxSize)
	}
	// Parse every Block Header first: unsupported filters are reported
	// before any decoding work.
	nblocks := 0
	for i := range streams {
		nblocks += len(streams[i].records)
	}
	blocks := make([]block, 0, nblocks)
	for i := range streams {
		s := &streams[i]
		pos := s.start + headerSize
		for _, r := range s.records {
			b, err := parseBlockHeader(src, pos, r, s.check)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, b)
			pos += int(r.unpadded+3) &^ 3
		}
	}

	var out []byte
	if int64(cap(dst)) >= total {
		out = dst[:total] // every byte is written below
	} else {
		out = make([]byte, total)
	}
	if len(blocks) == 0 {
		return out, nil
	}
	workers := min(len(blocks), runtime.GOMAXPROCS(0))
	if workers < 2 {
		d := decoderPool.Get().(*lzmaDecoder)
		defer decoderPool.Put(d)
		o := 0
		for i := range blocks {
			b := &blocks[i]
			end := o + int(b.uncompressed)
			if err := b.decode(d, src, out[o:end:end]); err != nil {
				return nil, err
			}
			o = end
		}
		return out, nil
	}
	// Blocks are independent (each starts with a fresh LZMA2 state and
	// knows its place in the output): decode them in parallel, as xz -T0
	// does, and report the first corrupt one in file order.
	starts := make([]int, len(blocks)+1)
	for i := range blocks {
		starts[i+1] = starts[i] + int(blocks[i].uncompressed)
	}
	errs := make([]error, len(blocks))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			d := decoderPool.Get().(*lzmaDecoder)
			defer decoderPool.Put(d)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(blocks) {
					return
				}
				errs[i] = blocks[i].decode(d, src, out[starts[i]:starts[i+1]:starts[i+1]])
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

var decoderPool = sync.Pool{New: func() any { return new(lzmaDecoder) }}

// locateStreams walks src backwards from its end, Stream by Stream, and
// returns them in file order with the total uncompressed size they declare.
func locateStreams(src []byte) ([]stream, int64, error) {
	if len(src) == 0 {
		return nil, 0, corrupt(0, "empty input")
	}
	if len(src)%4 != 0 {
		// Streams and Stream Padding are multiples of four bytes.
		if len(src) >= len(headerMagic) && string(src[:len(headerMagic)]) != headerMagic {
			return nil, 0, corrupt(0, "bad stream header magic")
		}
		return nil, 0, corrupt(len(src), "file size %d is not a multiple of four (truncated or trailing garbage)", len(src))
	}
	var streams []stream
	var total uint64
	pos := len(src)
	for pos > 0 {
		// Stream Padding: four null bytes at a time.
		for pos >= 4 && binary.LittleEndian.Uint32(src[pos-4:]) == 0 {
			pos -= 4
		}
		if pos == 0 {
			return nil, 0, corrupt(0, "stream padding without a stream before it")
		}
		s, err := parseStreamBackwards(src, pos)
		if err != nil {
			return nil, 0, err
		}
		for _, r := range s.records {
			total += r.uncompressed
			if total > vliMax || r.uncompressed > vliMax {
				return nil, 0, corrupt(s.indexStart, "total uncompressed size overflows")
			}
		}
		streams = append(streams, s)
		pos = s.start
	}
	// Reverse into file order.
	for i, j := 0, len(streams)-1; i < j; i, j = i+1, j-1 {
		streams[i], streams[j] = streams[j], streams[i]
	}
	return streams, int64(total), nil
}

// parseStreamBackwards parses the Stream that ends at src[end-1]: its Stream
// Footer, Index and Stream Header. The Blocks are only located, not parsed.
func parseStreamBackwards(src []byte, end int) (stream, error) {
	var s stream
	if end < 2*headerSize {
		if end >= len(headerMagic) && string(src[:len(headerMagic)]) != headerMagic {
			return s, corrupt(0, "bad stream header magic")
		}
		return s, corrupt(end, "truncated stream")
	}
	footerPos := end - headerSize
	f := src[footerPos:end]
	if string(f[10:12]) != footerMagic && end == len(src) && string(src[:len(headerMagic)]) != headerMagic {
		return s, corrupt(0, "bad stream header magic")
	}
	backward, err := parseFooter(f, footerPos)
	if err != nil {
		return s, err
	}
	if uint64(footerPos-headerSize) < backward {
		return s, corrupt(footerPos+4, "backward size %d does not fit in the file", backward)
	}
	s.indexStart = footerPos - int(backward)
	records, blocksSize, err := parseIndex(src[s.indexStart:footerPos], s.indexStart)
	if err != nil {
		return s, err
	}
	s.records = records
	s.start = s.indexStart - int(blocksSize) - headerSize
	s.check, err = parseStreamHeader(src[s.start:s.start+headerSize], s.start, f, footerPos)
	return s, err
}

// parseFooter checks the Stream Footer f, found at offset footerPos, and
// returns the Backward Size it declares: the size of the Index before it.
func parseFooter(f []byte, footerPos int) (backward uint64, err error) {
	if string(f[10:12]) != footerMagic {
		return 0, corrupt(footerPos+10, "bad stream footer magic")
	}
	if crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f) {
		return 0, corrupt(footerPos, "stream footer CRC32 mismatch")
	}
	backward = (uint64(binary.LittleEndian.Uint32(f[4:])) + 1) * 4
	if backward < 8 {
		// Indicator, count, padding, CRC32: an Index takes 8 bytes or more.
		return 0, corrupt(footerPos+4, "backward size %d is too small for an index", backward)
	}
	return backward, nil
}

// parseIndex parses the Index index, found at offset indexStart, and
// returns its records and the total size of the Blocks they describe, which
// it checks fit before the Index along with a Stream Header.
func parseIndex(index []byte, indexStart int) ([]record, uint64, error) {
	// Index: indicator, count, records, padding, CRC32.
	if index[0] != 0 {
		return nil, 0, corrupt(indexStart, "no index indicator where the backward size points")
	}
	footerPos := indexStart + len(index)
	body := index[:len(index)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(index[len(index)-4:]) {
		return nil, 0, corrupt(footerPos-4, "index CRC32 mismatch")
	}
	p := 1
	count, n := readVLI(body[p:])
	if n <= 0 {
		return nil, 0, corrupt(indexStart+p, "bad number of records in index")
	}
	p += n
	// Each record takes at least two bytes: this bounds the allocation.
	if count > uint64(len(body)-p)/2 {
		return nil, 0, corrupt(indexStart+1, "index declares %d records, more than fit in it", count)
	}
	records := make([]record, count)
	var blocksSize uint64
	for i := range records {
		unpadded, n := readVLI(body[p:])
		if n <= 0 {
			return nil, 0, corrupt(indexStart+p, "bad unpadded size in index record %d", i)
		}
		p += n
		uncompressed, n := readVLI(body[p:])
		if n <= 0 {
			return nil, 0, corrupt(indexStart+p, "bad uncompressed size in index record %d", i)
		}
		p += n
		// A Block is at least an 8-byte header, one byte of LZMA2
		// data and its Check; liblzma's minimum is 5 bytes.
		if unpadded < 5 || unpadded > vliMax-3 {
			return nil, 0, corrupt(indexStart+p, "invalid unpadded size %d in index record %d", unpadded, i)
		}
		// An LZMA2 chunk of at most 2 MiB takes at least 10 bytes,
		// an uncompressed chunk is no smaller than its data: a
		// bound that no valid Block exceeds, and that keeps a small
		// input from declaring a huge output.
		if uncompressed/maxExpansion >= unpadded {
			return nil, 0, corrupt(indexStart+p, "uncompressed size %d in index record %d is impossible for %d bytes of input", uncompressed, i, unpadded)
		}
		blocksSize += (unpadded + 3) &^ 3
		if blocksSize > uint64(indexStart) {
			return nil, 0, corrupt(indexStart, "index records describe more blocks than fit before the index")
		}
		records[i] = record{unpadded, uncompressed}
	}
	// Index Padding: 0-3 null bytes up to a multiple of four (len(body) is
	// one, as the backward size and the CRC32 are).
	if len(body)-p > 3 {
		return nil, 0, corrupt(indexStart+p, "index is longer than its %d records", count)
	}
	for ; p < len(body); p++ {
		if body[p] != 0 {
			return nil, 0, corrupt(indexStart+p, "non-null index padding")
		}
	}
	if uint64(indexStart)-blocksSize < headerSize {
		return nil, 0, corrupt(indexStart, "index records describe more blocks than fit before the index")
	}
	return records, blocksSize, nil
}

// parseStreamHeader checks the Stream Header h, found at offset start,
// against the Stream Footer f at footerPos, and returns the check ID.
func parseStreamHeader(h []byte, start int, f []byte, footerPos int) (byte, error) {
	if string(h[:len(headerMagic)]) != headerMagic {
		return 0, corrupt(start, "bad stream header magic")
	}
	if crc32.ChecksumIEEE(h[6:8]) != binary.LittleEndian.Uint32(h[8:]) {
		return 0, corrupt(start+6, "stream header CRC32 mismatch")
	}
	if h[6] != f[8] || h[7] != f[9] {
		return 0, corrupt(footerPos+8, "stream flags differ in stream header and footer")
	}
	if h[6] != 0 || h[7]&0xf0 != 0 {
		return 0, unsupported(start+6, "reserved stream flags 0x%02x%02x", h[6], h[7])
	}
	switch check := h[7]; check {
	case checkNone, checkCRC32, checkCRC64, checkSHA256:
		return check, nil
	default:
		return 0, unsupported(start+7, "check ID 0x%x", check)
	}
}

// readVLI decodes a variable-length integer from the start of b. It returns
// the value and its size in bytes, or n <= 0 when b has no valid integer
// (truncated, more than nine bytes, or with a superfluous null last byte).
func readVLI(b []byte) (v uint64, n int) {
	for i := 0; i < 9 && i < len(b); i++ {
		c := b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			if c == 0 && i > 0 {
				return 0, -1
			}
			return v, i + 1
		}
	}
	return 0, -1
}

// block is a Block whose header was parsed and validated against its Index
// record.
type block struct {
	data         int    // offset of the Compressed Data
	compressed   int    // size of the Compressed Data
	uncompressed uint64 // from the Index
	dictSize     uint32
	check        byte
	checkPos     int // offset of the Check field
}

// parseBlockHeader parses the Block Header at src[pos] for the Block that
// the Index record r describes.
func parseBlockHeader(src []byte, pos int, r record, check byte) (block, error) {
	var b block
	hsize := (int(src[pos]) + 1) * 4
	if src[pos] == 0 {
		return b, corrupt(pos, "index indicator where a block header is expected")
	}
	checkSize := checkSizes[check]
	if uint64(hsize+checkSize) >= r.unpadded {
		return b, corrupt(pos, "block header size %d does not fit in the unpadded size %d", hsize, r.unpadded)
	}
	h := src[pos : pos+hsize-4]
	if crc32.ChecksumIEEE(h) != binary.LittleEndian.Uint32(src[pos+hsize-4:]) {
		return b, corrupt(pos+hsize-4, "block header CRC32 mismatch")
	}
	b.data = pos + hsize
	b.compressed = int(r.unpadded) - hsize - checkSize
	b.uncompressed = r.uncompressed
	b.check = check
	b.checkPos = pos + (int(r.unpadded)+3)&^3 - checkSize

	flags := h[1]
	if flags&0x3c != 0 {
		return b, unsupported(pos+1, "reserved block flags 0x%02x", flags)
	}
	p := 2
	if flags&0x40 != 0 {
		v, n := readVLI(h[p:])
		if n <= 0 {
			return b, corrupt(pos+p, "bad compressed size in block header")
		}
		if v == 0 || v != uint64(b.compressed) {
			return b, corrupt(pos+p, "block header compressed size %d, index says %d", v, b.compressed)
		}
		p += n
	}
	if flags&0x80 != 0 {
		v, n := readVLI(h[p:])
		if n <= 0 {
			return b, corrupt(pos+p, "bad uncompressed size in block header")
		}
		if v != r.uncompressed {
			return b, corrupt(pos+p, "block header uncompressed size %d, index says %d", v, r.uncompressed)
		}
		p += n
	}
	nfilters := int(flags&3) + 1
	for i := range nfilters {
		id, n := readVLI(h[p:])
		if n <= 0 {
			return b, corrupt(pos+p, "bad filter ID in block header")
		}
		p += n
		psize, n := readVLI(h[p:])
		if n <= 0 || psize > uint64(len(h)-p-n) {
			return b, corrupt(pos+p, "bad filter properties size in block header")
		}
		p += n
		props := h[p : p+int(psize)]
		p += int(psize)
		if i < nfilters-1 {
			continue // Checked below: only a lone LZMA2 is supported.
		}
		if nfilters != 1 || id != filterLZMA2 {
			// Finish checking the header, as liblzma does, before
			// calling it unsupported.
			for q := p; q < len(h); q++ {
				if h[q] != 0 {
					return b, unsupported(pos+q, "non-null block header padding")
				}
			}
			if nfilters != 1 {
				return b, unsupported(pos+2, "filter chain of %d filters (BCJ or Delta)", nfilters)
			}
			return b, unsupported(pos+2, "filter ID 0x%x", id)
		}
		if psize != 1 {
			return b, unsupported(pos+p-int(psize), "LZMA2 properties of %d bytes", psize)
		}
		if props[0] > 40 {
			return b, unsupported(pos+p-1, "LZMA2 dictionary size byte %d", props[0])
		}
		if props[0] == 40 {
			b.dictSize = 0xffffffff
		} else {
			b.dictSize = (2 | uint32(props[0])&1) << (props[0]/2 + 11)
		}
	}
	for ; p < len(h); p++ {
		if h[p] != 0 {
			return b, unsupported(pos+p, "non-null block header padding")
		}
	}
	return b, nil
}

// decode decodes the Block into out, whose length is the Block's
// uncompressed size, and verifies its padding and Check.
func (b *block) decode(d *lzmaDecoder, src []byte, out []byte) error {
	var c checker
	c.init(b.check)
	in := src[b.data : b.data+b.compressed]
	if err := d.decodeLZMA2(in, b.data, out, b.dictSize, &c); err != nil {
		return err
	}
	for p := b.data + b.compressed; p < b.checkPos; p++ {
		if src[p] != 0 {
			return corrupt(p, "non-null block padding")
		}
	}
	size := checkSizes[b.check]
	if !c.verify(src[b.checkPos : b.checkPos+size]) {
		return corrupt(b.checkPos, "%s mismatch", checkName(b.check))
	}
	return nil
}

func checkName(id byte) string {
	switch id {
	case checkCRC32:
		return "CRC32"
	case checkCRC64:
		return "CRC64"
	case checkSHA256:
		return "SHA-256"
	}
	return "check"
}

// checker computes a Block's check incrementally, chunk by chunk, while the
// decoded data is still in the cache.
type checker struct {
	id    byte
	crc32 uint32
	crc64 uint64
	sha   hash.Hash
}

func (c *checker) init(id byte) {
	c.id = id
	if id == checkSHA256 {
		c.sha = sha256.New()
	}
}

func (c *checker) update(p []byte) {
	switch c.id {
	case checkCRC32:
		c.crc32 = crc32.Update(c.crc32, crc32.IEEETable, p)
	case checkCRC64:
		c.crc64 = crc64.Update(c.crc64, crc64Table, p)
	case checkSHA256:
		c.sha.Write(p)
	}
}

func (c *checker) verify(want []byte) bool {
	switch c.id {
	case checkCRC32:
		return binary.LittleEndian.Uint32(want) == c.crc32
	case checkCRC64:
		return binary.LittleEndian.Uint64(want) == c.crc64
	case checkSHA256:
		var sum [32]byte
		return string(c.sha.Sum(sum[:0])) == string(want)
	}
	return true
}
