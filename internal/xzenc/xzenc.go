// Package xzenc writes .xz files made of Blocks compressed separately, so
// that a reader can decompress one Block without the others (see
// xzdec.ReadBlocks and xzdec.DecodeBlock). The Blocks hold LZMA2 data and
// a CRC64 check; the Index at the end of the Stream records their sizes,
// and xz -d, tar -J and any other .xz reader read the file as one stream.
package xzenc

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"hash/crc64"
	"io"
)

const (
	headerMagic = "\xfd7zXZ\x00"
	footerMagic = "YZ"
	checkCRC64  = 0x04
	filterLZMA2 = 0x21
)

var crc64Table = crc64.MakeTable(crc64.ECMA)

// Writer writes one .xz Stream, a Block per WriteBlock call.
type Writer struct {
	w       io.Writer
	records [][2]uint64 // unpadded, uncompressed sizes
	err     error
	closed  bool
}

// NewWriter writes the Stream Header to w and returns a Writer for the
// Blocks.
func NewWriter(w io.Writer) (*Writer, error) {
	x := &Writer{w: w}
	flags := []byte{0, checkCRC64}
	h := append([]byte(headerMagic), flags...)
	h = binary.LittleEndian.AppendUint32(h, crc32.ChecksumIEEE(flags))
	if _, err := w.Write(h); err != nil {
		return nil, err
	}
	return x, nil
}

// Block is a compressed Block, ready to be written by WriteEncoded.
type Block struct {
	bytes                  []byte // header, data, padding and check
	unpadded, uncompressed uint64
}

// EncodeBlock compresses data into a Block whose matches reach at most
// window bytes back (the LZMA2 dictionary size a decoder needs, rounded up
// to one xz can name; at most the data's size; zero for the data's size).
// It may run concurrently with other calls and with a Writer.
func EncodeBlock(data []byte, window int) Block {
	if window <= 0 || window > len(data) {
		window = len(data)
	}
	dict := dictSize(window)
	// Block Header: size, flags (one filter, no optional sizes), the
	// LZMA2 filter with its dictionary size property, padding, CRC32.
	h := []byte{0, 0x00, filterLZMA2, 1, dictProp(dict)}
	for (len(h)+4)%4 != 0 {
		h = append(h, 0)
	}
	h[0] = byte((len(h)+4)/4 - 1)
	h = binary.LittleEndian.AppendUint32(h, crc32.ChecksumIEEE(h))
	blk := compressLZMA2(h, data, int(dict))
	unpadded := len(blk) + 8
	for len(blk)%4 != 0 {
		blk = append(blk, 0)
	}
	blk = binary.LittleEndian.AppendUint64(blk, crc64.Checksum(data, crc64Table))
	return Block{bytes: blk, unpadded: uint64(unpadded), uncompressed: uint64(len(data))}
}

// WriteBlock compresses data into a Block of its own. An empty data
// writes no Block.
func (x *Writer) WriteBlock(data []byte) error {
	if len(data) == 0 {
		return x.err
	}
	return x.WriteEncoded(EncodeBlock(data, 0))
}

// WriteEncoded writes a Block made by EncodeBlock.
func (x *Writer) WriteEncoded(b Block) error {
	if x.err != nil {
		return x.err
	}
	if x.closed {
		return errors.New("xzenc: write after Close")
	}
	if b.uncompressed == 0 {
		return nil
	}
	if _, err := x.w.Write(b.bytes); err != nil {
		x.err = err
		return err
	}
	x.records = append(x.records, [2]uint64{b.unpadded, b.uncompressed})
	return nil
}

// Close writes the Index and the Stream Footer. It does not close the
// underlying writer.
func (x *Writer) Close() error {
	if x.err != nil || x.closed {
		return x.err
	}
	x.closed = true
	idx := []byte{0}
	idx = binary.AppendUvarint(idx, uint64(len(x.records)))
	for _, r := range x.records {
		idx = binary.AppendUvarint(idx, r[0])
		idx = binary.AppendUvarint(idx, r[1])
	}
	for len(idx)%4 != 0 {
		idx = append(idx, 0)
	}
	idx = binary.LittleEndian.AppendUint32(idx, crc32.ChecksumIEEE(idx))
	f := binary.LittleEndian.AppendUint32(nil, uint32(len(idx)/4-1))
	f = append(f, 0, checkCRC64)
	foot := binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(f))
	foot = append(append(foot, f...), footerMagic...)
	if _, err := x.w.Write(append(idx, foot...)); err != nil {
		x.err = err
	}
	return x.err
}

// dictSize is the dictionary size for a window of n bytes: the smallest
// size xz can name that holds it, at least 4 KiB and at most 64 MiB.
func dictSize(n int) uint32 {
	for p := byte(0); p < 40; p++ {
		if d := dictFromProp(p); d >= uint32(min(n, 64<<20)) {
			return d
		}
	}
	return 64 << 20
}

func dictFromProp(p byte) uint32 { return (2 | uint32(p)&1) << (p/2 + 11) }

func dictProp(d uint32) byte {
	for p := byte(0); p < 40; p++ {
		if dictFromProp(p) >= d {
			return p
		}
	}
	return 40
}
