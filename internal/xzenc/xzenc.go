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
	buf     []byte
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

// WriteBlock compresses data into a Block of its own. An empty data
// writes no Block.
func (x *Writer) WriteBlock(data []byte) error {
	if x.err != nil {
		return x.err
	}
	if x.closed {
		return errors.New("xzenc: write after Close")
	}
	if len(data) == 0 {
		return nil
	}
	dict := dictSize(len(data))
	x.buf = compressLZMA2(x.buf[:0], data)
	// Block Header: size, flags (one filter, no optional sizes), the
	// LZMA2 filter with its dictionary size property, padding, CRC32.
	h := []byte{0, 0x00, filterLZMA2, 1, dictProp(dict)}
	for (len(h)+4)%4 != 0 {
		h = append(h, 0)
	}
	h[0] = byte((len(h)+4)/4 - 1)
	h = binary.LittleEndian.AppendUint32(h, crc32.ChecksumIEEE(h))
	unpadded := len(h) + len(x.buf) + 8
	blk := append(h, x.buf...)
	for len(blk)%4 != 0 {
		blk = append(blk, 0)
	}
	blk = binary.LittleEndian.AppendUint64(blk, crc64.Checksum(data, crc64Table))
	if _, err := x.w.Write(blk); err != nil {
		x.err = err
		return err
	}
	x.records = append(x.records, [2]uint64{uint64(unpadded), uint64(len(data))})
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

// dictSize is the dictionary size for n bytes of data: the smallest size
// xz can name that holds all of it (a larger one cannot find more), at
// least 4 KiB and at most 64 MiB.
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
