package xzdec

import "fmt"

// maxChunk is the most an LZMA2 chunk decodes to.
const maxChunk = 2 << 20

// DecodeBlockFunc decodes the Block b that [ReadBlocks] located, whose
// bytes src holds, and hands its uncompressed data to fn in order, a chunk
// at a time, holding only the part of it that matches may still copy
// from: the LZMA2 dictionary plus one chunk (at most 2 MiB), however large
// the Block. A reader that wants some bytes of a large Block so needs no
// more memory than the dictionary. fn must not keep p. The Block's check is
// verified at the end. A dictionary larger than maxWindow gives an error
// wrapping ErrTooLarge, before anything is allocated.
func DecodeBlockFunc(src []byte, b BlockInfo, maxWindow int64, fn func(p []byte)) error {
	if int64(len(src)) != b.Size || b.unpadded == 0 {
		return corrupt(0, "block of %d bytes, index says %d", len(src), b.Size)
	}
	blk, err := parseBlockHeader(src, 0, record{b.unpadded, uint64(b.UncompressedSize)}, b.check)
	if err != nil {
		return err
	}
	window := min(int64(blk.dictSize), b.UncompressedSize)
	if window > max(maxWindow, 0) {
		return fmt.Errorf("%w: dictionary of %d bytes, limit %d", ErrTooLarge, window, maxWindow)
	}
	buf := make([]byte, window+16+min(maxChunk, b.UncompressedSize))
	var c checker
	c.init(blk.check)
	d := decoderPool.Get().(*lzmaDecoder)
	defer decoderPool.Put(d)
	in := src[blk.data : blk.data+blk.compressed]
	if err := d.decodeLZMA2Window(in, blk.data, b.UncompressedSize, blk.dictSize, buf, int(window), &c, fn); err != nil {
		return err
	}
	for p := blk.data + blk.compressed; p < blk.checkPos; p++ {
		if src[p] != 0 {
			return corrupt(p, "non-null block padding")
		}
	}
	if !c.verify(src[blk.checkPos : blk.checkPos+checkSizes[blk.check]]) {
		return corrupt(blk.checkPos, "%s mismatch", checkName(blk.check))
	}
	return nil
}

// decodeLZMA2Window is decodeLZMA2 through buf, which holds the last
// window bytes decoded and the chunk being decoded: before a chunk that
// would not fit, the window slides to the start of buf.
func (d *lzmaDecoder) decodeLZMA2Window(in []byte, inOff int, total int64, dictSize uint32, buf []byte, window int, c *checker, fn func([]byte)) error {
	d.dictSize = dictSize
	pos, o, dictStart := 0, 0, 0
	var done int64
	needDictReset, needProps := true, true
	for {
		if pos >= len(in) {
			return corrupt(inOff+pos, "LZMA2 data has no end marker")
		}
		ctrl := in[pos]
		if ctrl == 0 {
			pos++
			break
		}
		if ctrl >= 0xe0 || ctrl == 0x01 {
			needProps = true
			needDictReset = false
			dictStart = o
		} else if needDictReset {
			return corrupt(inOff+pos, "first LZMA2 chunk does not reset the dictionary")
		}
		var unc, comp, hdr int
		if ctrl >= 0x80 {
			hdr = 5
			if ctrl >= 0xc0 {
				hdr = 6
			}
			if len(in)-pos < hdr {
				return corrupt(inOff+pos, "truncated LZMA2 chunk header")
			}
			unc = int(ctrl&0x1f)<<16 | int(in[pos+1])<<8 | int(in[pos+2]) + 1
			comp = int(in[pos+3])<<8 | int(in[pos+4]) + 1
		} else {
			if ctrl > 0x02 {
				return corrupt(inOff+pos, "invalid LZMA2 control byte 0x%02x", ctrl)
			}
			hdr = 3
			if len(in)-pos < hdr {
				return corrupt(inOff+pos, "truncated LZMA2 chunk header")
			}
			unc = int(in[pos+1])<<8 | int(in[pos+2]) + 1
			comp = unc
		}
		if int64(unc) > total-done {
			return corrupt(inOff+pos, "LZMA2 chunk decodes past the block's uncompressed size")
		}
		if o+unc > len(buf) {
			// Slide: keep the last window bytes (those since the
			// dictionary reset, at most), dropping a multiple of 16
			// so that the position's low bits, which select
			// probabilities, stay the same.
			drop := o - dictStart
			if drop > window {
				drop = (drop - window) &^ 15
			} else {
				drop = 0
			}
			drop += dictStart
			copy(buf, buf[drop:o])
			o -= drop
			dictStart = 0
		}
		if ctrl >= 0x80 {
			if ctrl >= 0xc0 {
				if !d.setProps(in[pos+5]) {
					return corrupt(inOff+pos+5, "invalid LZMA properties 0x%02x", in[pos+5])
				}
				needProps = false
			} else if needProps {
				return corrupt(inOff+pos, "LZMA2 chunk without properties after a dictionary reset")
			} else if ctrl >= 0xa0 {
				d.resetState()
			}
			pos += hdr
			if comp > len(in)-pos {
				return corrupt(inOff+pos, "LZMA2 chunk of %d bytes exceeds the block", comp)
			}
			if !d.decodeChunk(in[pos:pos+comp], buf[dictStart:o+unc], o-dictStart) {
				return corrupt(inOff+pos, "LZMA data error in chunk")
			}
		} else {
			pos += hdr
			if comp > len(in)-pos {
				return corrupt(inOff+pos, "uncompressed LZMA2 chunk of %d bytes exceeds the block", comp)
			}
			copy(buf[o:], in[pos:pos+comp])
		}
		c.update(buf[o : o+unc])
		fn(buf[o : o+unc])
		o += unc
		done += int64(unc)
		pos += comp
	}
	if pos != len(in) {
		return corrupt(inOff+pos, "LZMA2 end marker %d bytes before the end of the block", len(in)-pos)
	}
	if done != total {
		return corrupt(inOff+pos, "block decodes to %d bytes, the index says %d", done, total)
	}
	return nil
}
