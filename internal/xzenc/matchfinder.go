package xzenc

import (
	"encoding/binary"
	"math/bits"
)

// match is a match found at a position: length and distance minus one
// (the value LZMA codes, and keeps in rep0).
type match struct {
	length, dist uint32
}

// matchFinder finds, at each position of a buffer held whole, the matches
// of increasing length that start before it: an exact table for 2-byte
// matches, then a binary tree of the earlier positions with the same 3-byte
// hash, sorted by the strings that start there (as xz's bt4 does). Every
// position must be visited once, in order, by find or skip.
type matchFinder struct {
	data  []byte
	head2 []int32 // last position of each 2-byte hash
	head3 []int32 // root of the tree of each 3-byte hash
	bits  uint    // hash size
	son   []int32 // son[2(p%cyc)], son[2(p%cyc)+1]: smaller and larger subtrees of p
	cyc   int     // positions kept in the tree: matches reach back less than this
	depth int     // tree nodes visited per position at most
	nice  int     // a match this long ends the search
	out   []match
}

func newMatchFinder(data []byte, window, nice, depth int) *matchFinder {
	// Hash tables about as large as the data, from 1 Ki to 64 Ki entries.
	bits := uint(10)
	for bits < 16 && 1<<bits < len(data) {
		bits++
	}
	cyc := min(window, len(data)) + 1
	mf := &matchFinder{data: data, nice: nice, depth: depth, bits: bits, cyc: cyc,
		head2: make([]int32, 1<<bits), head3: make([]int32, 1<<bits), son: make([]int32, 2*cyc)}
	for i := range mf.head2 {
		mf.head2[i] = -1
	}
	for i := range mf.head3 {
		mf.head3[i] = -1
	}
	return mf
}

// extend returns how far the strings at a and b (a < b) agree, from l on,
// up to limit, comparing eight bytes at a time.
func extend(d []byte, a, b, l, limit int) int {
	for l+8 <= limit {
		if x := binary.LittleEndian.Uint64(d[a+l:]) ^ binary.LittleEndian.Uint64(d[b+l:]); x != 0 {
			return l + bits.TrailingZeros64(x)>>3
		}
		l += 8
	}
	for l < limit && d[a+l] == d[b+l] {
		l++
	}
	return l
}

func (mf *matchFinder) hash2(b []byte) uint32 {
	return (uint32(b[0]) | uint32(b[1])<<8) * 2654435761 >> (32 - mf.bits)
}

func (mf *matchFinder) hash3(b []byte) uint32 {
	return (uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16) * 2246822519 >> (32 - mf.bits)
}

// find returns the matches at pos, of increasing length (and so of
// increasing distance), at most nice bytes long; the slice is reused by
// the next call.
func (mf *matchFinder) find(pos int) []match {
	mf.out = mf.out[:0]
	mf.insert(pos, true)
	return mf.out
}

// skip inserts pos without collecting its matches.
func (mf *matchFinder) skip(pos int) { mf.insert(pos, false) }

func (mf *matchFinder) insert(pos int, collect bool) {
	data := mf.data
	avail := len(data) - pos
	if avail < 2 {
		return
	}
	limit := min(mf.nice, avail)
	maxLen := 1
	h2 := mf.hash2(data[pos:])
	if c := mf.head2[h2]; c >= 0 && pos-int(c) < mf.cyc && collect && data[c] == data[pos] && data[c+1] == data[pos+1] {
		l := extend(data, int(c), pos, 2, limit)
		maxLen = l
		mf.out = append(mf.out, match{uint32(l), uint32(pos - int(c) - 1)})
	}
	mf.head2[h2] = int32(pos)
	if avail < 3 {
		return
	}
	h3 := mf.hash3(data[pos:])
	cur := mf.head3[h3]
	mf.head3[h3] = int32(pos)

	// Walk the tree from its root, splitting it around the string at
	// pos, which becomes the new root: nodes smaller than it go to its
	// left subtree, larger ones to its right.
	cyc := mf.cyc
	left, right := 2*(pos%cyc), 2*(pos%cyc)+1 // the links to fill next
	lenLeft, lenRight := 0, 0
	son := mf.son
	for depth := mf.depth; ; depth-- {
		if cur < 0 || depth == 0 || pos-int(cur) >= cyc {
			son[left], son[right] = -1, -1
			return
		}
		c := int(cur)
		l := min(lenLeft, lenRight)
		if data[c+l] == data[pos+l] {
			l = extend(data, c, pos, l+1, limit)
			if l > maxLen {
				maxLen = l
				if collect {
					mf.out = append(mf.out, match{uint32(l), uint32(pos - c - 1)})
				}
			}
			if l == limit {
				// As long as the limit: pos replaces c in the tree.
				son[left], son[right] = son[2*(c%cyc)], son[2*(c%cyc)+1]
				return
			}
		}
		if data[c+l] < data[pos+l] {
			son[left] = cur
			left = 2*(c%cyc) + 1
			cur = son[left]
			lenLeft = l
		} else {
			son[right] = cur
			right = 2 * (c % cyc)
			cur = son[right]
			lenRight = l
		}
	}
}
