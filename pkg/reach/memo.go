package reach

import (
	"bytes"
	"encoding/binary"
	"sync"

	"github.com/btftool/btftool/pkg/core"
)

// memoSize is how many kernels' verdicts a Prepared remembers: kernels
// of one tree come in families whose decisions give the same verdicts.
const memoSize = 4

// memo remembers the last verdicts of a Prepared by the inputs they were
// computed from (memoKey), most recent first.
type memo struct {
	mu      sync.Mutex
	entries []memoEntry
}

type memoEntry struct {
	key []byte
	out *Object
}

// get returns the verdicts remembered for key, or nil.
func (m *memo) get(key []byte) *Object {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, e := range m.entries {
		if bytes.Equal(e.key, key) {
			copy(m.entries[1:i+1], m.entries[:i])
			m.entries[0] = e
			return e.out
		}
	}
	return nil
}

// put remembers out as the verdicts for key (copied), forgetting the
// least recent entry when full.
func (m *memo) put(key []byte, out *Object) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.entries {
		if bytes.Equal(e.key, key) {
			return // decided meanwhile by another call
		}
	}
	if len(m.entries) < memoSize {
		m.entries = append(m.entries, memoEntry{})
	}
	copy(m.entries[1:], m.entries[:len(m.entries)-1])
	m.entries[0] = memoEntry{key: bytes.Clone(key), out: out}
}

// memoKey encodes, in s.key, everything the verdicts depend on: the
// object's load failure, whether the kernel has BTF, each attach
// program's answer, the error and unsatisfied flags of every relocation,
// the poison flag of every patched instruction and the relocated value of
// those whose value can decide a branch (Prepared.relevant). Two kernels
// with the same key get the same verdicts: the walks see the same
// poisoned instructions and decide every branch the same way.
func (p *Prepared) memoKey(s *scratch, results *core.Decisions, in inputs) []byte {
	k := s.key[:0]
	k = binary.AppendUvarint(k, uint64(len(in.loadErr)))
	k = append(k, in.loadErr...)
	if in.noBTF {
		k = append(k, 1)
	} else {
		k = append(k, 0)
	}
	k = append(k, in.attach...)
	var acc byte
	n := 0
	bit := func(b bool) {
		if b {
			acc |= 1 << n
		}
		if n++; n == 8 {
			k = append(k, acc)
			acc, n = 0, 0
		}
	}
	for _, d := range results.Of {
		f := s.flags[d]
		bit(f&flagErr != 0)
		bit(f&flagUnsat != 0)
	}
	for _, poisoned := range s.poison {
		bit(poisoned)
	}
	if n > 0 {
		k = append(k, acc)
	}
	for _, l := range p.relevantLocs() {
		k = binary.LittleEndian.AppendUint64(k, s.value[l])
	}
	s.key = k
	return k
}
