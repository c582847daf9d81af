package xzenc

import (
	"math"
)

// The LZMA encoder: the model mirrors xzdec's decoder (lc=3, lp=0, pb=2),
// symbols are chosen by an optimal parse over up to numOpts bytes at a time
// that prices every literal, repeated match and match the match finder
// offers, as the LZMA SDK's normal mode does, and the output is cut into
// LZMA2 chunks.

const (
	numStates   = 12
	litStates   = 7
	lcBits      = 3
	pbBits      = 2
	posStates   = 1 << pbBits
	minMatch    = 2
	maxMatch    = 273
	numOpts     = 1 << 12
	probInit    = 1024
	lzmaProps   = (pbBits*5+0)*9 + lcBits // lc=3, lp=0, pb=2: 0x5d
	endPosModel = 14                      // distance slots below this use reverse trees
	fullDists   = 128                     // distances below this are priced exactly
	alignSize   = 16

	// chunkMaxUnc and chunkMaxComp are LZMA2's chunk limits, less room for
	// one more symbol and the range coder's flush.
	chunkMaxUnc  = 2<<20 - maxMatch
	chunkMaxComp = 1<<16 - 64

	infinity = math.MaxUint32 / 2
)

var (
	litNext   = [numStates]uint8{0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 4, 5}
	matchNext = [numStates]uint8{7, 7, 7, 7, 7, 7, 7, 10, 10, 10, 10, 10}
	repNext   = [numStates]uint8{8, 8, 8, 8, 8, 8, 8, 11, 11, 11, 11, 11}
	shortNext = [numStates]uint8{9, 9, 9, 9, 9, 9, 9, 11, 11, 11, 11, 11}
)

// bitPrices[p>>4] is the cost, in 1/16 bits, of coding a 0 with
// probability p (of 2048).
var bitPrices = func() (t [128]uint32) {
	for i := range t {
		t[i] = uint32(math.Round(-math.Log2((float64(i)+0.5)/128) * 16))
	}
	return
}()

func price0(p uint16) uint32 { return bitPrices[p>>4] }
func price1(p uint16) uint32 { return bitPrices[(2048-p)>>4] }
func priceBit(p uint16, bit uint32) uint32 {
	if bit == 0 {
		return price0(p)
	}
	return price1(p)
}

// rangeEncoder is LZMA's range coder, writing to out.
type rangeEncoder struct {
	low       uint64
	rng       uint32
	cache     byte
	cacheSize int
	out       []byte
}

func (rc *rangeEncoder) reset() {
	rc.low, rc.rng, rc.cache, rc.cacheSize, rc.out = 0, 0xffffffff, 0, 1, rc.out[:0]
}

func (rc *rangeEncoder) shiftLow() {
	if uint32(rc.low) < 0xff000000 || rc.low >= 1<<32 {
		carry := byte(rc.low >> 32)
		b := rc.cache
		for {
			rc.out = append(rc.out, b+carry)
			b = 0xff
			rc.cacheSize--
			if rc.cacheSize == 0 {
				break
			}
		}
		rc.cache = byte(rc.low >> 24)
	}
	rc.cacheSize++
	rc.low = (rc.low & 0x00ffffff) << 8
}

func (rc *rangeEncoder) bit(p *uint16, bit uint32) {
	bound := (rc.rng >> 11) * uint32(*p)
	if bit == 0 {
		rc.rng = bound
		*p += (2048 - *p) >> 5
	} else {
		rc.low += uint64(bound)
		rc.rng -= bound
		*p -= *p >> 5
	}
	for rc.rng < 1<<24 {
		rc.rng <<= 8
		rc.shiftLow()
	}
}

func (rc *rangeEncoder) direct(v uint32, n uint32) {
	for n > 0 {
		n--
		rc.rng >>= 1
		if v>>n&1 != 0 {
			rc.low += uint64(rc.rng)
		}
		for rc.rng < 1<<24 {
			rc.rng <<= 8
			rc.shiftLow()
		}
	}
}

func (rc *rangeEncoder) flush() {
	for range 5 {
		rc.shiftLow()
	}
}

// pending is the size the output will have once flushed.
func (rc *rangeEncoder) pending() int { return len(rc.out) + rc.cacheSize + 4 }

// tree codes the n low bits of v, most significant first, in the bit tree
// probs (indexed from 1).
func (rc *rangeEncoder) tree(probs []uint16, n uint32, v uint32) {
	m := uint32(1)
	for n > 0 {
		n--
		b := v >> n & 1
		rc.bit(&probs[m], b)
		m = m<<1 | b
	}
}

// reverseTree codes the n low bits of v, least significant first.
func (rc *rangeEncoder) reverseTree(probs []uint16, n uint32, v uint32) {
	m := uint32(1)
	for range n {
		b := v & 1
		v >>= 1
		rc.bit(&probs[m], b)
		m = m<<1 | b
	}
}

func treePrice(probs []uint16, n uint32, v uint32) uint32 {
	var price uint32
	m := uint32(1)
	for n > 0 {
		n--
		b := v >> n & 1
		price += priceBit(probs[m], b)
		m = m<<1 | b
	}
	return price
}

func reverseTreePrice(probs []uint16, n uint32, v uint32) uint32 {
	var price uint32
	m := uint32(1)
	for range n {
		b := v & 1
		v >>= 1
		price += priceBit(probs[m], b)
		m = m<<1 | b
	}
	return price
}

// lenCoder codes match lengths 2-273.
type lenCoder struct {
	choice, choice2 uint16
	low, mid        [posStates][8]uint16
	high            [256]uint16
	prices          [posStates][maxMatch - minMatch + 1]uint32
}

func (lc *lenCoder) reset() {
	lc.choice, lc.choice2 = probInit, probInit
	for s := range posStates {
		for i := range 8 {
			lc.low[s][i], lc.mid[s][i] = probInit, probInit
		}
	}
	for i := range lc.high {
		lc.high[i] = probInit
	}
}

func (lc *lenCoder) encode(rc *rangeEncoder, l uint32, posState uint32) {
	l -= minMatch
	switch {
	case l < 8:
		rc.bit(&lc.choice, 0)
		rc.tree(lc.low[posState][:], 3, l)
	case l < 16:
		rc.bit(&lc.choice, 1)
		rc.bit(&lc.choice2, 0)
		rc.tree(lc.mid[posState][:], 3, l-8)
	default:
		rc.bit(&lc.choice, 1)
		rc.bit(&lc.choice2, 1)
		rc.tree(lc.high[:], 8, l-16)
	}
}

func (lc *lenCoder) updatePrices() {
	for s := range uint32(posStates) {
		for l := range uint32(maxMatch - minMatch + 1) {
			var p uint32
			switch {
			case l < 8:
				p = price0(lc.choice) + treePrice(lc.low[s][:], 3, l)
			case l < 16:
				p = price1(lc.choice) + price0(lc.choice2) + treePrice(lc.mid[s][:], 3, l-8)
			default:
				p = price1(lc.choice) + price1(lc.choice2) + treePrice(lc.high[:], 8, l-16)
			}
			lc.prices[s][l] = p
		}
	}
}

// model is the LZMA state the decoder keeps too.
type model struct {
	isMatch, isRep0Long              [numStates][posStates]uint16
	isRep, isRepG0, isRepG1, isRepG2 [numStates]uint16
	literal                          [1 << lcBits][0x300]uint16
	distSlot                         [4][64]uint16
	distSpecial                      [fullDists - endPosModel + 1]uint16 // [base-slot+m]: one more than the decoder's layout
	align                            [alignSize]uint16
	matchLen, repLen                 lenCoder
	state                            uint32
	reps                             [4]uint32
}

func (m *model) reset() {
	for s := range numStates {
		for p := range posStates {
			m.isMatch[s][p], m.isRep0Long[s][p] = probInit, probInit
		}
		m.isRep[s], m.isRepG0[s], m.isRepG1[s], m.isRepG2[s] = probInit, probInit, probInit, probInit
	}
	for i := range m.literal {
		for j := range m.literal[i] {
			m.literal[i][j] = probInit
		}
	}
	for i := range m.distSlot {
		for j := range m.distSlot[i] {
			m.distSlot[i][j] = probInit
		}
	}
	for i := range m.distSpecial {
		m.distSpecial[i] = probInit
	}
	for i := range m.align {
		m.align[i] = probInit
	}
	m.matchLen.reset()
	m.repLen.reset()
	m.state = 0
	m.reps = [4]uint32{}
}

// distSlot returns the slot of distance d (the coded value, distance-1).
func distSlot(d uint32) uint32 {
	if d < 4 {
		return d
	}
	n := uint32(31)
	for d>>n == 0 {
		n--
	}
	return n<<1 | d>>(n-1)&1
}

func lenState(l uint32) uint32 { return min(l-minMatch, 3) }

// optNode is a position of the optimal parse: the cheapest way found to
// reach it, and the state there.
type optNode struct {
	price uint32
	prev  int32  // the node this one is reached from
	dist  int32  // the distance of the symbol reaching it, -1 for a literal
	state uint32 // set when the node is expanded
	reps  [4]uint32
}

// encoder compresses one buffer (an xz Block) into LZMA2.
type encoder struct {
	data []byte
	mf   *matchFinder
	m    model
	rc   rangeEncoder

	opts      [numOpts]optNode
	steps     []step // decisions not yet coded
	cached    []match
	hasCached bool

	slotPrices  [4][64]uint32
	distPrices  [4][fullDists]uint32
	alignPrices [alignSize]uint32
	sincePrices int

	// The LZMA2 chunk being coded.
	out         []byte
	chunkStart  int
	firstChunk  bool
	needProps   bool
	needReset   bool
	chunkSymbol int
	nice        int // a match this long is taken without looking further
}

// step is one coded symbol: length 1 with dist -1 is a literal.
type step struct {
	length uint32
	dist   int32
}

// Tuning: matches of niceLen end the search; depth bounds the tree walk
// (xz -9e: 273 and 16 + 273/2).
const (
	niceLen = 273
	mfDepth = 16 + niceLen/2
)

// compressLZMA2 appends data to out as raw LZMA2 with an end marker,
// matches reaching at most window bytes back.
func compressLZMA2(out, data []byte, window int) []byte {
	e := &encoder{data: data, mf: newMatchFinder(data, window, niceLen, mfDepth), out: out, firstChunk: true, needProps: true, nice: niceLen}
	return e.run()
}

func (e *encoder) run() []byte {
	data := e.data
	e.m.reset()
	e.rc.reset()
	e.updatePrices()
	pos := 0
	for pos < len(data) {
		if len(e.steps) == 0 {
			e.optimum(pos)
		}
		s := e.steps[0]
		e.steps = e.steps[1:]
		e.code(pos, s)
		pos += int(s.length)
		if e.rc.pending() > chunkMaxComp || pos-e.chunkStart > chunkMaxUnc {
			e.endChunk(pos)
		}
	}
	e.endChunk(pos)
	return append(e.out, 0)
}

// code codes the symbol s at pos, as a repeated match when its distance
// is one of the last four.
func (e *encoder) code(pos int, s step) {
	m, rc := &e.m, &e.rc
	ps := uint32(pos) & (posStates - 1)
	st := m.state
	e.chunkSymbol++
	if e.sincePrices++; e.sincePrices >= 256 {
		e.updatePrices()
	}
	if s.dist < 0 || (s.length == 1 && uint32(s.dist) != m.reps[0]) {
		rc.bit(&m.isMatch[st][ps], 0)
		e.codeLiteral(pos)
		m.state = uint32(litNext[st])
		return
	}
	d := uint32(s.dist)
	rc.bit(&m.isMatch[st][ps], 1)
	rep := -1
	for i, r := range m.reps {
		if r == d {
			rep = i
			break
		}
	}
	if rep < 0 {
		rc.bit(&m.isRep[st], 0)
		m.matchLen.encode(rc, s.length, ps)
		slot := distSlot(d)
		rc.tree(m.distSlot[lenState(s.length)][:], 6, slot)
		if slot >= 4 {
			nbits := slot>>1 - 1
			base := (2 | slot&1) << nbits
			if slot < endPosModel {
				rc.reverseTree(m.distSpecial[base-slot:], nbits, d-base)
			} else {
				rc.direct((d-base)>>4, nbits-4)
				rc.reverseTree(m.align[:], 4, d&15)
			}
		}
		m.reps = [4]uint32{d, m.reps[0], m.reps[1], m.reps[2]}
		m.state = uint32(matchNext[st])
		return
	}
	rc.bit(&m.isRep[st], 1)
	if rep == 0 {
		rc.bit(&m.isRepG0[st], 0)
		if s.length == 1 {
			rc.bit(&m.isRep0Long[st][ps], 0)
			m.state = uint32(shortNext[st])
			return
		}
		rc.bit(&m.isRep0Long[st][ps], 1)
	} else {
		rc.bit(&m.isRepG0[st], 1)
		if rep == 1 {
			rc.bit(&m.isRepG1[st], 0)
		} else {
			rc.bit(&m.isRepG1[st], 1)
			rc.bit(&m.isRepG2[st], uint32(rep-2))
		}
		copy(m.reps[1:rep+1], m.reps[:rep])
		m.reps[0] = d
	}
	m.repLen.encode(rc, s.length, ps)
	m.state = uint32(repNext[st])
}

func (e *encoder) codeLiteral(pos int) {
	m, rc := &e.m, &e.rc
	probs := m.literal[e.litContext(pos)][:]
	b := uint32(e.data[pos])
	if m.state < litStates {
		rc.tree(probs, 8, b)
		return
	}
	matchByte := uint32(e.data[pos-int(m.reps[0])-1])
	offs, sym := uint32(0x100), uint32(1)
	for i := 7; i >= 0; i-- {
		matchByte <<= 1
		t := offs
		offs &= matchByte
		bit := b >> uint(i) & 1
		rc.bit(&probs[offs+t+sym], bit)
		sym = sym<<1 | bit
		if bit == 0 {
			offs ^= t
		}
	}
}

func (e *encoder) litContext(pos int) int {
	if pos == 0 {
		return 0
	}
	return int(e.data[pos-1]) >> (8 - lcBits)
}

// literalPrice is the cost of coding data[pos] as a literal in state st
// with rep0.
func (e *encoder) literalPrice(pos int, st, rep0 uint32) uint32 {
	probs := e.m.literal[e.litContext(pos)][:]
	b := uint32(e.data[pos])
	if st < litStates {
		return treePrice(probs, 8, b)
	}
	matchByte := uint32(e.data[pos-int(rep0)-1])
	var price uint32
	offs, sym := uint32(0x100), uint32(1)
	for i := 7; i >= 0; i-- {
		matchByte <<= 1
		t := offs
		offs &= matchByte
		bit := b >> uint(i) & 1
		price += priceBit(probs[offs+t+sym], bit)
		sym = sym<<1 | bit
		if bit == 0 {
			offs ^= t
		}
	}
	return price
}

func (e *encoder) updatePrices() {
	m := &e.m
	e.sincePrices = 0
	m.matchLen.updatePrices()
	m.repLen.updatePrices()
	for ls := range 4 {
		for slot := range uint32(64) {
			p := treePrice(m.distSlot[ls][:], 6, slot)
			if slot >= endPosModel {
				p += (slot>>1 - 1 - 4) << 4
			}
			e.slotPrices[ls][slot] = p
		}
		for d := range uint32(fullDists) {
			slot := distSlot(d)
			p := e.slotPrices[ls][slot]
			if slot >= 4 {
				nbits := slot>>1 - 1
				base := (2 | slot&1) << nbits
				p += reverseTreePrice(m.distSpecial[base-slot:], nbits, d-base)
			}
			e.distPrices[ls][d] = p
		}
	}
	for i := range uint32(alignSize) {
		e.alignPrices[i] = reverseTreePrice(m.align[:], 4, i)
	}
}

func (e *encoder) distPrice(d, l uint32) uint32 {
	ls := lenState(l)
	if d < fullDists {
		return e.distPrices[ls][d]
	}
	return e.slotPrices[ls][distSlot(d)] + e.alignPrices[d&15]
}

// repPrice is the cost of choosing rep i (length > 1) in state st.
func (e *encoder) repPrice(i int, st, ps uint32) uint32 {
	m := &e.m
	if i == 0 {
		return price0(m.isRepG0[st]) + price1(m.isRep0Long[st][ps])
	}
	p := price1(m.isRepG0[st])
	if i == 1 {
		return p + price0(m.isRepG1[st])
	}
	return p + price1(m.isRepG1[st]) + priceBit(m.isRepG2[st], uint32(i-2))
}

// matchLen returns how many bytes at pos equal those dist+1 before, up to
// limit.
func (e *encoder) matchLen(pos int, dist uint32, limit int) int {
	src := pos - int(dist) - 1
	if src < 0 {
		return 0
	}
	return extend(e.data, src, pos, 0, limit)
}

// matchesAt returns the matches at pos, from the match finder or from the
// last look-ahead that stopped there.
func (e *encoder) matchesAt(pos int) []match {
	if e.hasCached {
		e.hasCached = false
		return e.cached
	}
	return e.mf.find(pos)
}

// optimum chooses the symbols from pos on, up to numOpts bytes ahead, and
// queues them in e.steps.
func (e *encoder) optimum(pos int) {
	m := &e.m
	data := e.data
	matches := e.matchesAt(pos)
	avail := min(len(data)-pos, maxMatch)
	if avail < minMatch {
		e.steps = append(e.steps[:0], step{1, -1})
		return
	}
	var repLens [4]int
	best := 0
	for i := range repLens {
		repLens[i] = e.matchLen(pos, m.reps[i], avail)
		if repLens[i] > repLens[best] {
			best = i
		}
	}
	mainLen := 0
	if len(matches) > 0 {
		mainLen = int(matches[len(matches)-1].length)
	}
	if repLens[best] >= e.nice {
		e.skipAhead(pos, repLens[best])
		e.steps = append(e.steps[:0], step{uint32(repLens[best]), int32(m.reps[best])})
		return
	}
	if mainLen >= e.nice {
		e.skipAhead(pos, mainLen)
		e.steps = append(e.steps[:0], step{uint32(mainLen), int32(matches[len(matches)-1].dist)})
		return
	}
	if mainLen < minMatch && repLens[best] < minMatch && (pos <= int(m.reps[0]) || data[pos] != data[pos-int(m.reps[0])-1]) {
		e.steps = append(e.steps[:0], step{1, -1})
		return
	}

	opts := &e.opts
	opts[0] = optNode{state: m.state, reps: m.reps}
	lenEnd := max(mainLen, repLens[best], 1)
	for i := 1; i <= lenEnd; i++ {
		opts[i].price = infinity
	}
	e.expand(pos, 0, matches, &lenEnd, repLens)

	for cur := 1; ; cur++ {
		if cur == lenEnd {
			e.backtrack(cur)
			return
		}
		// The state at cur, from the symbol that reaches it.
		n := &opts[cur]
		prev := &opts[n.prev]
		st, reps := prev.state, prev.reps
		l := uint32(cur - int(n.prev))
		switch {
		case n.dist < 0:
			st = uint32(litNext[st])
		case l == 1 && uint32(n.dist) == reps[0]:
			st = uint32(shortNext[st])
		default:
			d := uint32(n.dist)
			rep := -1
			for i, r := range reps {
				if r == d {
					rep = i
					break
				}
			}
			if rep < 0 {
				st = uint32(matchNext[st])
				reps = [4]uint32{d, reps[0], reps[1], reps[2]}
			} else {
				st = uint32(repNext[st])
				copy(reps[1:rep+1], reps[:rep])
				reps[0] = d
			}
		}
		n.state, n.reps = st, reps

		ms := e.mf.find(pos + cur)
		if len(ms) > 0 && int(ms[len(ms)-1].length) >= e.nice {
			// A long match: stop here, and start from it next time.
			e.cached = append(e.cached[:0], ms...)
			e.hasCached = true
			e.backtrack(cur)
			return
		}
		availHere := min(len(data)-pos-cur, numOpts-1-cur, maxMatch)
		var rl [4]int
		if availHere >= minMatch {
			for i := range rl {
				rl[i] = e.matchLen(pos+cur, reps[i], availHere)
			}
		}
		e.expand(pos, cur, ms, &lenEnd, rl)
	}
}

// expand prices the symbols that start at node cur (position pos+cur):
// literal, short rep, repeated matches of lengths repLens and the matches
// ms.
func (e *encoder) expand(pos, cur int, ms []match, lenEnd *int, repLens [4]int) {
	m := &e.m
	opts := &e.opts
	data := e.data
	n := &opts[cur]
	st, reps := n.state, n.reps
	p := pos + cur
	ps := uint32(p) & (posStates - 1)
	base := n.price

	grow := func(to int) {
		for *lenEnd < to {
			*lenEnd++
			opts[*lenEnd].price = infinity
		}
	}
	set := func(to int, price uint32, dist int32) {
		if price < opts[to].price {
			opts[to] = optNode{price: price, prev: int32(cur), dist: dist}
		}
	}
	grow(cur + 1)
	set(cur+1, base+price0(m.isMatch[st][ps])+e.literalPrice(p, st, reps[0]), -1)
	matchPrice := base + price1(m.isMatch[st][ps])
	repMatchPrice := matchPrice + price1(m.isRep[st])
	if p > int(reps[0]) && data[p] == data[p-int(reps[0])-1] {
		set(cur+1, repMatchPrice+price0(m.isRepG0[st])+price0(m.isRep0Long[st][ps]), int32(reps[0]))
	}
	avail := min(len(data)-p, numOpts-1-cur, maxMatch)
	if avail < minMatch {
		return
	}
	start := minMatch
	for i, rl := range repLens {
		rl = min(rl, avail)
		if rl < minMatch {
			continue
		}
		grow(cur + rl)
		price := repMatchPrice + e.repPrice(i, st, ps)
		for l := rl; l >= minMatch; l-- {
			set(cur+l, price+m.repLen.prices[ps][l-minMatch], int32(reps[i]))
		}
		if i == 0 {
			start = rl + 1
		}
	}
	if len(ms) == 0 {
		return
	}
	normal := matchPrice + price0(m.isRep[st])
	k := 0
	for l := start; ; l++ {
		for k < len(ms) && int(ms[k].length) < l {
			k++
		}
		if k == len(ms) || l > avail {
			return
		}
		grow(cur + l)
		d := ms[k].dist
		set(cur+l, normal+m.matchLen.prices[ps][l-minMatch]+e.distPrice(d, uint32(l)), int32(d))
	}
}

// backtrack queues the symbols of the cheapest path to node cur.
func (e *encoder) backtrack(cur int) {
	e.steps = e.steps[:0]
	for cur > 0 {
		n := &e.opts[cur]
		e.steps = append(e.steps, step{uint32(cur - int(n.prev)), n.dist})
		cur = int(n.prev)
	}
	for i, j := 0, len(e.steps)-1; i < j; i, j = i+1, j-1 {
		e.steps[i], e.steps[j] = e.steps[j], e.steps[i]
	}
}

// skipAhead inserts the positions after pos covered by a match of length
// l into the match finder.
func (e *encoder) skipAhead(pos, l int) {
	for i := 1; i < l; i++ {
		e.mf.skip(pos + i)
	}
}

// endChunk writes the symbols coded since the last chunk, which end at
// pos, as an LZMA2 chunk: compressed, or stored when that is smaller, in
// which case the next chunk resets the state.
func (e *encoder) endChunk(pos int) {
	unc := pos - e.chunkStart
	if unc == 0 {
		return
	}
	e.rc.flush()
	comp := e.rc.out
	if len(comp) >= unc || e.chunkSymbol == 0 {
		// Stored: uncompressed chunks of at most 64 KiB.
		for s := e.chunkStart; s < pos; {
			n := min(pos-s, 1<<16)
			ctrl := byte(2)
			if e.firstChunk {
				ctrl = 1
			}
			e.out = append(e.out, ctrl, byte((n-1)>>8), byte(n-1))
			e.out = append(e.out, e.data[s:s+n]...)
			s += n
			if e.firstChunk {
				e.firstChunk = false
				e.needProps = true
			}
		}
		// The decoder's state did not follow: start it afresh, and
		// forget the choices made with the old one.
		e.m.reset()
		e.updatePrices()
		e.needReset = true
	} else {
		ctrl := byte(0x80)
		switch {
		case e.firstChunk:
			ctrl = 0xe0
		case e.needProps:
			ctrl = 0xc0
		case e.needReset:
			ctrl = 0xa0
		}
		ctrl |= byte((unc - 1) >> 16)
		e.out = append(e.out, ctrl, byte((unc-1)>>8), byte(unc-1), byte((len(comp)-1)>>8), byte(len(comp)-1))
		if ctrl >= 0xc0 {
			e.out = append(e.out, lzmaProps)
		}
		e.out = append(e.out, comp...)
		e.firstChunk, e.needProps, e.needReset = false, false, false
	}
	e.chunkStart, e.chunkSymbol = pos, 0
	e.rc.reset()
}
