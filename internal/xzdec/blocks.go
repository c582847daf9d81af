package xzdec

import (
	"encoding/binary"
	"fmt"
	"io"
)

// BlockInfo locates one Block of an .xz file, as its Stream's Index
// describes it.
type BlockInfo struct {
	// Offset is the offset of the Block Header in the file; Size the
	// Block's size there, Block Padding included.
	Offset, Size int64
	// UncompressedOffset is the offset of the Block's data in the whole
	// file's uncompressed output; UncompressedSize its size.
	UncompressedOffset, UncompressedSize int64

	unpadded uint64
	check    byte
}

// ReadBlocks locates the Blocks of the .xz file of size bytes that r reads,
// from its Stream Footers and Indexes, without reading the Blocks: a
// reader can then decode the one Block it needs with [DecodeBlock].
// Concatenated Streams and Stream Padding are walked as [DecodeAll] does.
// An Index larger than maxIndex bytes gives an error wrapping ErrTooLarge.
//
// Errors wrap ErrCorrupt, ErrUnsupported or ErrTooLarge, or are r's own.
func ReadBlocks(r io.ReaderAt, size, maxIndex int64) ([]BlockInfo, error) {
	if size <= 0 {
		return nil, corrupt(0, "empty input")
	}
	if size%4 != 0 || size > 1<<62 {
		return nil, corrupt(int(min(size, 1<<62)), "file size %d is not a multiple of four (truncated or trailing garbage)", size)
	}
	var streams [][]BlockInfo
	pos := size
	var word [4]byte
	for pos > 0 {
		// Stream Padding: four null bytes at a time.
		for pos >= 4 {
			if _, err := r.ReadAt(word[:], pos-4); err != nil {
				return nil, err
			}
			if binary.LittleEndian.Uint32(word[:]) != 0 {
				break
			}
			pos -= 4
		}
		if pos == 0 {
			return nil, corrupt(0, "stream padding without a stream before it")
		}
		if pos < 2*headerSize {
			return nil, corrupt(int(pos), "truncated stream")
		}
		footerPos := pos - headerSize
		var f [headerSize]byte
		if _, err := r.ReadAt(f[:], footerPos); err != nil {
			return nil, err
		}
		backward, err := parseFooter(f[:], int(footerPos))
		if err != nil {
			return nil, err
		}
		if uint64(footerPos-headerSize) < backward {
			return nil, corrupt(int(footerPos+4), "backward size %d does not fit in the file", backward)
		}
		if backward > uint64(max(maxIndex, 0)) {
			return nil, fmt.Errorf("%w: index of %d bytes, limit %d", ErrTooLarge, backward, maxIndex)
		}
		indexStart := footerPos - int64(backward)
		index := make([]byte, backward)
		if _, err := r.ReadAt(index, indexStart); err != nil {
			return nil, err
		}
		records, blocksSize, err := parseIndex(index, int(indexStart))
		if err != nil {
			return nil, err
		}
		start := indexStart - int64(blocksSize) - headerSize
		var h [headerSize]byte
		if _, err := r.ReadAt(h[:], start); err != nil {
			return nil, err
		}
		check, err := parseStreamHeader(h[:], int(start), f[:], int(footerPos))
		if err != nil {
			return nil, err
		}
		blocks := make([]BlockInfo, len(records))
		off := start + headerSize
		for i, rec := range records {
			padded := int64(rec.unpadded+3) &^ 3
			blocks[i] = BlockInfo{Offset: off, Size: padded, UncompressedSize: int64(rec.uncompressed), unpadded: rec.unpadded, check: check}
			off += padded
		}
		streams = append(streams, blocks)
		pos = start
	}
	var all []BlockInfo
	var uoff int64
	for i := len(streams) - 1; i >= 0; i-- {
		for _, b := range streams[i] {
			if b.UncompressedSize > vliMax-uoff {
				return nil, corrupt(int(b.Offset), "total uncompressed size overflows")
			}
			b.UncompressedOffset = uoff
			uoff += b.UncompressedSize
			all = append(all, b)
		}
	}
	return all, nil
}

// DecodeBlock decodes the Block b that [ReadBlocks] located, whose bytes
// (b.Size of them, read from b.Offset) src holds, and verifies its Check.
// It decodes into dst's storage when its capacity is large enough. A Block
// whose uncompressed size is above maxSize gives an error wrapping
// ErrTooLarge, before anything is allocated. Error offsets are relative to
// the Block.
func DecodeBlock(dst, src []byte, b BlockInfo, maxSize int64) ([]byte, error) {
	if b.UncompressedSize > max(maxSize, 0) {
		return nil, fmt.Errorf("%w: block of %d bytes, limit %d", ErrTooLarge, b.UncompressedSize, maxSize)
	}
	if int64(len(src)) != b.Size || b.unpadded == 0 {
		return nil, corrupt(0, "block of %d bytes, index says %d", len(src), b.Size)
	}
	blk, err := parseBlockHeader(src, 0, record{b.unpadded, uint64(b.UncompressedSize)}, b.check)
	if err != nil {
		return nil, err
	}
	var out []byte
	if int64(cap(dst)) >= b.UncompressedSize {
		out = dst[:b.UncompressedSize]
	} else {
		out = make([]byte, b.UncompressedSize)
	}
	d := decoderPool.Get().(*lzmaDecoder)
	defer decoderPool.Put(d)
	if err := blk.decode(d, src, out); err != nil {
		return nil, err
	}
	return out, nil
}
