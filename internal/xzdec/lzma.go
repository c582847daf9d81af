package xzdec

import "encoding/binary"

// Layout of lzmaDecoder.probs, the adaptive bit probabilities. Trees are
// indexed from 1, as in XZ Embedded and the LZMA SDK.
const (
	numStates = 12
	litStates = 7 // states below this follow a literal

	offLiteral     = 0                            // 16 coders of 0x300: [coder*0x300 + sym]
	offIsMatch     = offLiteral + 16*0x300        // [state<<4 | posState]
	offIsRep       = offIsMatch + numStates<<4    // [state]
	offIsRep0      = offIsRep + numStates         // [state]
	offIsRep1      = offIsRep0 + numStates        // [state]
	offIsRep2      = offIsRep1 + numStates        // [state]
	offIsRep0Long  = offIsRep2 + numStates        // [state<<4 | posState]
	offDistSlot    = offIsRep0Long + numStates<<4 // [lenState<<6 | sym]
	offDistSpecial = offDistSlot + 4<<6           // reverse trees of distance slots 4-13
	offAlign       = offDistSpecial + 114         // reverse tree of the 4 low distance bits
	offMatchLen    = offAlign + 16                // length decoder of matches
	offRepLen      = offMatchLen + lenSize        // length decoder of repeated matches
	probsUsed      = offRepLen + lenSize

	// Layout of a length decoder.
	lenChoice  = 0
	lenChoice2 = 1
	lenLow     = 2              // [posState<<3 | sym]: lengths 2-9
	lenMid     = lenLow + 16<<3 // [posState<<3 | sym]: lengths 10-17
	lenHigh    = lenMid + 16<<3 // [sym]: lengths 18-273
	lenSize    = lenHigh + 256

	// probs has a power-of-two size so that a masked index needs no
	// bounds check.
	probsSize = 1 << 14
	probsMask = probsSize - 1

	// in holds a copy of one chunk's compressed data (at most 64 KiB); an
	// index masked with inMask needs no bounds check, and reading past the
	// chunk only reads stale bytes, which the final position check rejects.
	inSize = 1 << 16
	inMask = inSize - 1

	probInit = 1 << 10 // 0.5 in 11 bits
)

// Only the probabilities up to probsUsed exist; the rest pads to a power of two.
var _ [probsSize - probsUsed]struct{}

// litNext is the state after a literal.
var litNext = [16]uint8{0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 4, 5}

// lzmaDecoder holds the LZMA state kept between the chunks of an LZMA2
// stream. The hot loop (decodeChunk) copies it into local variables.
type lzmaDecoder struct {
	probs [probsSize]uint16
	in    [inSize]byte

	state                  uint32
	rep0, rep1, rep2, rep3 uint32
	lc                     uint
	lpMask, pbMask         uint
	dictSize               uint32
}

// setProps decodes the lc/lp/pb properties byte and resets the state. It
// reports false for invalid properties (lc+lp > 4 in LZMA2).
func (d *lzmaDecoder) setProps(b byte) bool {
	if b > (4*5+4)*9+8 {
		return false
	}
	pb := uint(b) / 45
	rest := uint(b) - pb*45
	lp := rest / 9
	lc := rest - lp*9
	if lc+lp > 4 {
		return false
	}
	d.lc = lc
	d.lpMask = 1<<lp - 1
	d.pbMask = 1<<pb - 1
	d.resetState()
	return true
}

func (d *lzmaDecoder) resetState() {
	d.state = 0
	d.rep0, d.rep1, d.rep2, d.rep3 = 0, 0, 0, 0
	p := d.probs[:probsUsed]
	for i := range p {
		p[i] = probInit
	}
}

// decodeLZMA2 decodes the LZMA2 data in (the whole Compressed Data of a
// Block, which starts at offset inOff of the file) into out, which must be
// filled exactly. It feeds the decoded data to c chunk by chunk.
func (d *lzmaDecoder) decodeLZMA2(in []byte, inOff int, out []byte, dictSize uint32, c *checker) error {
	d.dictSize = dictSize
	pos, o, dictStart := 0, 0, 0
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
		if ctrl >= 0x80 {
			hdr := 5
			if ctrl >= 0xc0 {
				hdr = 6
			}
			if len(in)-pos < hdr {
				return corrupt(inOff+pos, "truncated LZMA2 chunk header")
			}
			unc := int(ctrl&0x1f)<<16 | int(in[pos+1])<<8 | int(in[pos+2]) + 1
			comp := int(in[pos+3])<<8 | int(in[pos+4]) + 1
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
			if unc > len(out)-o {
				return corrupt(inOff+pos, "LZMA2 chunk decodes past the block's uncompressed size")
			}
			if !d.decodeChunk(in[pos:pos+comp], out[dictStart:o+unc], o-dictStart) {
				return corrupt(inOff+pos, "LZMA data error in chunk")
			}
			c.update(out[o : o+unc])
			o += unc
			pos += comp
		} else {
			if ctrl > 0x02 {
				return corrupt(inOff+pos, "invalid LZMA2 control byte 0x%02x", ctrl)
			}
			if len(in)-pos < 3 {
				return corrupt(inOff+pos, "truncated LZMA2 chunk header")
			}
			size := int(in[pos+1])<<8 | int(in[pos+2]) + 1
			pos += 3
			if size > len(in)-pos {
				return corrupt(inOff+pos, "uncompressed LZMA2 chunk of %d bytes exceeds the block", size)
			}
			if size > len(out)-o {
				return corrupt(inOff+pos, "LZMA2 chunk decodes past the block's uncompressed size")
			}
			copy(out[o:], in[pos:pos+size])
			c.update(out[o : o+size])
			o += size
			pos += size
		}
	}
	if pos != len(in) {
		return corrupt(inOff+pos, "LZMA2 end marker %d bytes before the end of the block", len(in)-pos)
	}
	if o != len(out) {
		return corrupt(inOff+pos, "block decodes to %d bytes, the index says %d", o, len(out))
	}
	return nil
}

// decodeChunk decodes one LZMA chunk. in is its compressed data, starting
// with the five range coder initialisation bytes. dict is the output since
// the last dictionary reset, already holding o bytes; the chunk must fill it
// to its length exactly and use all of in. It reports false on any error.
//
// The range coder (rng, code, ip) and the LZMA state (state, rep0-rep3)
// live in local variables, and every bit decode is written out inline: Go
// does not inline functions of this size, and state behind a pointer would
// be loaded and stored for every bit. Indexes into probs and in are masked
// with the arrays' power-of-two sizes, so they need no bounds checks.
func (d *lzmaDecoder) decodeChunk(in []byte, dict []byte, o int) bool {
	if len(in) < 5 {
		return false
	}
	// The first byte is ignored, as in XZ Embedded (liblzma requires 0).
	code := binary.BigEndian.Uint32(in[1:5])
	rng := uint32(0xffffffff)
	buf := &d.in
	n := copy(buf[:], in[5:])
	ip := uint(0)

	pr := &d.probs
	state := uint(d.state)
	rep0 := d.rep0
	rep1, rep2, rep3 := d.rep1, d.rep2, d.rep3
	lc := d.lc
	lpMask, pbMask := d.lpMask, d.pbMask
	dictSize := d.dictSize
	end := len(dict)
	var i, treeBase, limit, length, sym uint
	var p, bound, m, dist uint32

	for uint(o) < uint(len(dict)) {
		posState := uint(o) & pbMask

		// Every bit decode below is written out in full: normalise
		// (read a byte when the range drops under 2^24), split the
		// range at the probability, adapt the probability. Decisions
		// between kinds of symbols branch; the bits of literals, whose
		// outcomes are hard to predict, are decoded without branches:
		// m is all ones for a 0 bit and zero for a 1 bit.

		// isMatch: a literal or a match.
		i = (offIsMatch + state<<4 + posState) & probsMask
		if rng < 1<<24 {
			rng <<= 8
			code = code<<8 | uint32(buf[ip&inMask])
			ip++
		}
		p = uint32(pr[i])
		bound = (rng >> 11) * p
		if code < bound {
			rng = bound
			pr[i] = uint16(p + (2048-p)>>5)
			// Literal: an 8-bit tree chosen by the position and the
			// previous byte.
			prev := uint(0)
			if o > 0 {
				prev = uint(dict[o-1])
			}
			base := offLiteral + 0x300*((uint(o)&lpMask)<<lc+prev>>(8-lc))
			sym = 1
			if state < litStates {
				for sym < 0x100 {
					i = (base + sym) & probsMask
					if rng < 1<<24 {
						rng <<= 8
						code = code<<8 | uint32(buf[ip&inMask])
						ip++
					}
					p = uint32(pr[i])
					bound = (rng >> 11) * p
					m = uint32((uint64(code) - uint64(bound)) >> 32)
					rng = bound&m | (rng-bound)&^m
					code -= bound &^ m
					// p += (2048-p)>>5 for a 0 bit,
					// p -= p>>5 for a 1 bit.
					pr[i] = uint16(p - uint32(int32(p-2017&m)>>5))
					sym = sym<<1 + uint(m+1)
				}
			} else {
				// Matched literal (after a match): the byte at
				// distance rep0 selects the probabilities until the
				// first bit that differs from it (offs is 0x100 until
				// then, and 0 after), as in the LZMA SDK. rep0 < o,
				// since state >= litStates only after a match.
				matchByte := uint(dict[o-int(rep0)-1])
				offs := uint(0x100)
				for sym < 0x100 {
					matchByte <<= 1
					t := offs
					offs &= matchByte
					i = (base + offs + t + sym) & probsMask
					if rng < 1<<24 {
						rng <<= 8
						code = code<<8 | uint32(buf[ip&inMask])
						ip++
					}
					p = uint32(pr[i])
					bound = (rng >> 11) * p
					m = uint32((uint64(code) - uint64(bound)) >> 32)
					rng = bound&m | (rng-bound)&^m
					code -= bound &^ m
					pr[i] = uint16(p - uint32(int32(p-2017&m)>>5))
					sym = sym<<1 + uint(m+1)
					offs ^= t & uint(int32(m))
				}
			}
			dict[o] = byte(sym)
			o++
			state = uint(litNext[state&15])
			continue
		} else {
			rng -= bound
			code -= bound
			pr[i] = uint16(p - p>>5)
		}

		// isRep: a match with a new distance, or one of the last four.
		var lenBase uint
		isMatch := false
		i = (offIsRep + state) & probsMask
		if rng < 1<<24 {
			rng <<= 8
			code = code<<8 | uint32(buf[ip&inMask])
			ip++
		}
		p = uint32(pr[i])
		bound = (rng >> 11) * p
		if code < bound {
			rng = bound
			pr[i] = uint16(p + (2048-p)>>5)
			// Match with a new distance.
			if state < litStates {
				state = 7
			} else {
				state = 10
			}
			rep3, rep2, rep1 = rep2, rep1, rep0
			lenBase = offMatchLen
			isMatch = true
		} else {
			rng -= bound
			code -= bound
			pr[i] = uint16(p - p>>5)
			// isRep0: distance rep0, or another.
			i = (offIsRep0 + state) & probsMask
			if rng < 1<<24 {
				rng <<= 8
				code = code<<8 | uint32(buf[ip&inMask])
				ip++
			}
			p = uint32(pr[i])
			bound = (rng >> 11) * p
			if code < bound {
				rng = bound
				pr[i] = uint16(p + (2048-p)>>5)
				// isRep0Long: one byte, or a length follows.
				i = (offIsRep0Long + state<<4 + posState) & probsMask
				if rng < 1<<24 {
					rng <<= 8
					code = code<<8 | uint32(buf[ip&inMask])
					ip++
				}
				p = uint32(pr[i])
				bound = (rng >> 11) * p
				if code < bound {
					rng = bound
					pr[i] = uint16(p + (2048-p)>>5)
					// Short rep: one byte at distance rep0.
					if state < litStates {
						state = 9
					} else {
						state = 11
					}
					if uint(rep0) >= uint(o) || rep0 >= dictSize {
						return false
					}
					dict[o] = dict[o-int(rep0)-1]
					o++
					continue
				} else {
					rng -= bound
					code -= bound
					pr[i] = uint16(p - p>>5)
				}
			} else {
				rng -= bound
				code -= bound
				pr[i] = uint16(p - p>>5)
				// isRep1, isRep2: which of rep1-rep3 moves to rep0.
				i = (offIsRep1 + state) & probsMask
				if rng < 1<<24 {
					rng <<= 8
					code = code<<8 | uint32(buf[ip&inMask])
					ip++
				}
				p = uint32(pr[i])
				bound = (rng >> 11) * p
				if code < bound {
					rng = bound
					pr[i] = uint16(p + (2048-p)>>5)
					dist = rep1
				} else {
					rng -= bound
					code -= bound
					pr[i] = uint16(p - p>>5)
					i = (offIsRep2 + state) & probsMask
					if rng < 1<<24 {
						rng <<= 8
						code = code<<8 | uint32(buf[ip&inMask])
						ip++
					}
					p = uint32(pr[i])
					bound = (rng >> 11) * p
					if code < bound {
						rng = bound
						pr[i] = uint16(p + (2048-p)>>5)
						dist = rep2
					} else {
						rng -= bound
						code -= bound
						pr[i] = uint16(p - p>>5)
						dist = rep3
						rep3 = rep2
					}
					rep2 = rep1
				}
				rep1 = rep0
				rep0 = dist
			}
			if state < litStates {
				state = 8
			} else {
				state = 11
			}
			lenBase = offRepLen
		}

		// Length: choice bits, then a 3-bit tree (2-9, 10-17) or an
		// 8-bit tree (18-273).
		i = (lenBase + lenChoice) & probsMask
		if rng < 1<<24 {
			rng <<= 8
			code = code<<8 | uint32(buf[ip&inMask])
			ip++
		}
		p = uint32(pr[i])
		bound = (rng >> 11) * p
		if code < bound {
			rng = bound
			pr[i] = uint16(p + (2048-p)>>5)
			treeBase = lenBase + lenLow + posState<<3
			limit = 8
			length = 2
		} else {
			rng -= bound
			code -= bound
			pr[i] = uint16(p - p>>5)
			i = (lenBase + lenChoice2) & probsMask
			if rng < 1<<24 {
				rng <<= 8
				code = code<<8 | uint32(buf[ip&inMask])
				ip++
			}
			p = uint32(pr[i])
			bound = (rng >> 11) * p
			if code < bound {
				rng = bound
				pr[i] = uint16(p + (2048-p)>>5)
				treeBase = lenBase + lenMid + posState<<3
				limit = 8
				length = 10
			} else {
				rng -= bound
				code -= bound
				pr[i] = uint16(p - p>>5)
				treeBase = lenBase + lenHigh
				limit = 256
				length = 18
			}
		}
		sym = 1
		for sym < limit {
			i = (treeBase + sym) & probsMask
			if rng < 1<<24 {
				rng <<= 8
				code = code<<8 | uint32(buf[ip&inMask])
				ip++
			}
			p = uint32(pr[i])
			bound = (rng >> 11) * p
			if code < bound {
				rng = bound
				pr[i] = uint16(p + (2048-p)>>5)
				sym <<= 1
			} else {
				rng -= bound
				code -= bound
				pr[i] = uint16(p - p>>5)
				sym = sym<<1 | 1
			}
		}
		length += sym - limit

		if isMatch {
			// Distance slot: a 6-bit tree chosen by the length.
			lenState := length - 2
			if lenState > 3 {
				lenState = 3
			}
			treeBase = offDistSlot + lenState<<6
			sym = 1
			for sym < 64 {
				i = (treeBase + sym) & probsMask
				if rng < 1<<24 {
					rng <<= 8
					code = code<<8 | uint32(buf[ip&inMask])
					ip++
				}
				p = uint32(pr[i])
				bound = (rng >> 11) * p
				if code < bound {
					rng = bound
					pr[i] = uint16(p + (2048-p)>>5)
					sym <<= 1
				} else {
					rng -= bound
					code -= bound
					pr[i] = uint16(p - p>>5)
					sym = sym<<1 | 1
				}
			}
			slot := uint32(sym - 64)
			if slot < 4 {
				rep0 = slot
			} else {
				nbits := slot>>1 - 1
				dist = 2 | slot&1
				if slot < 14 {
					// Slots 4-13: a reverse tree of nbits bits.
					dist <<= nbits
					treeBase = offDistSpecial + uint(dist) - uint(slot) - 1
					sym = 1
					for k := uint32(0); k < nbits; k++ {
						i = (treeBase + sym) & probsMask
						if rng < 1<<24 {
							rng <<= 8
							code = code<<8 | uint32(buf[ip&inMask])
							ip++
						}
						p = uint32(pr[i])
						bound = (rng >> 11) * p
						if code < bound {
							rng = bound
							pr[i] = uint16(p + (2048-p)>>5)
							sym <<= 1
						} else {
							rng -= bound
							code -= bound
							pr[i] = uint16(p - p>>5)
							sym = sym<<1 | 1
							dist += 1 << k
						}
					}
				} else {
					// Slots 14-63: direct bits of probability
					// 1/2, then a reverse tree of the four low bits.
					for k := nbits - 4; k > 0; k-- {
						if rng < 1<<24 {
							rng <<= 8
							code = code<<8 | uint32(buf[ip&inMask])
							ip++
						}
						rng >>= 1
						code -= rng
						m = 0 - code>>31
						code += rng & m
						dist = dist<<1 + m + 1
					}
					dist <<= 4
					sym = 1
					for k := uint32(0); k < 4; k++ {
						i = (offAlign + sym) & probsMask
						if rng < 1<<24 {
							rng <<= 8
							code = code<<8 | uint32(buf[ip&inMask])
							ip++
						}
						p = uint32(pr[i])
						bound = (rng >> 11) * p
						if code < bound {
							rng = bound
							pr[i] = uint16(p + (2048-p)>>5)
							sym <<= 1
						} else {
							rng -= bound
							code -= bound
							pr[i] = uint16(p - p>>5)
							sym = sym<<1 | 1
							dist += 1 << k
						}
					}
				}
				rep0 = dist
			}
		}

		// Copy length bytes from distance rep0+1. The distance must be
		// within the data since the dictionary reset and the dictionary
		// size, and the match must end within the chunk.
		if uint(rep0) >= uint(o) || rep0 >= dictSize || length > uint(end-o) {
			return false
		}
		// Copy by 16 or 8 bytes when the source is at least that far
		// behind (every word read is then already written) and the
		// last word, which may write up to 15 bytes past the match,
		// stays within the chunk: later symbols overwrite those bytes.
		src := o - int(rep0) - 1
		ln := int(length)
		if rep0 >= 15 && ln+16 <= end-o {
			for k := 0; k < ln; k += 16 {
				*(*[16]byte)(dict[o+k:]) = *(*[16]byte)(dict[src+k:])
			}
		} else if rep0 >= 7 && ln+8 <= end-o {
			for k := 0; k < ln; k += 8 {
				binary.LittleEndian.PutUint64(dict[o+k:], binary.LittleEndian.Uint64(dict[src+k:]))
			}
		} else {
			for k := 0; k < ln; k++ {
				dict[o+k] = dict[src+k]
			}
		}
		o += ln
	}

	// The range coder is normalised after the last symbol.
	if rng < 1<<24 {
		code = code<<8 | uint32(buf[ip&inMask])
		ip++
	}
	if ip != uint(n) || code != 0 {
		return false
	}
	d.state = uint32(state)
	d.rep0 = rep0
	d.rep1, d.rep2, d.rep3 = rep1, rep2, rep3
	return true
}
