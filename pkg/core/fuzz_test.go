package core_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// fuzzPair builds a small local/target pair: the local task_struct of
// localTask and a target that moves, retypes and duplicates its fields, so
// that the seeds reach matching, ambiguity and bitfield paths.
func fuzzPair() (local, target []byte) {
	l := btftest.New()
	li := l.Int("int", 4, true)
	lc := l.Int("char", 1, true)
	ll := l.Int("long", 8, true)
	lts := l.Next() + 2
	lp := l.Ptr(lts)
	larr := l.Array(lc, li, 16)
	l.Struct("task_struct", 48,
		btftest.M{Name: "pid", Type: li, BitOff: 0},
		btftest.M{Name: "tgid", Type: li, BitOff: 32},
		btftest.M{Name: "real_parent", Type: lp, BitOff: 64},
		btftest.M{Name: "comm", Type: larr, BitOff: 128},
		btftest.M{Name: "state", Type: ll, BitOff: 256},
	)
	l.Enum("pid_type", 4, false, btftest.E{Name: "PIDTYPE_PID", Value: 0}, btftest.E{Name: "PIDTYPE_TGID", Value: 1})
	l.Typedef("pid_t", li)

	t := btftest.New()
	ti := t.Int("int", 4, true)
	tc := t.Int("char", 1, true)
	tl := t.Int("long", 8, true)
	tu := t.Int("unsigned int", 4, false)
	tts := t.Next() + 2
	tp := t.Ptr(tts)
	tarr := t.Array(tc, ti, 16)
	t.Struct("task_struct", 64,
		btftest.M{Name: "state", Type: tl, BitOff: 0},
		btftest.M{Name: "pid", Type: ti, BitOff: 64},
		btftest.M{Name: "tgid", Type: tu, BitOff: 96, Bitfield: 20},
		btftest.M{Name: "real_parent", Type: tp, BitOff: 128},
		btftest.M{Name: "comm", Type: tarr, BitOff: 192},
	)
	t.Struct("task_struct___2", 24,
		btftest.M{Name: "pid", Type: ti, BitOff: 32},
		btftest.M{Name: "comm", Type: tarr, BitOff: 64},
	)
	t.Enum("pid_type", 4, false, btftest.E{Name: "PIDTYPE_TGID", Value: 2}, btftest.E{Name: "PIDTYPE_PID", Value: 0})
	t.Enum64("pid_type", 8, true, btftest.E{Name: "PIDTYPE_PID", Value: -1})
	t.Typedef("pid_t", ti)
	return l.Bytes(), t.Bytes()
}

// fuzzSplit packs a local BTF, a target BTF and relocation records into
// one input: a 4-byte little-endian length of the local BTF, the local
// BTF, a 4-byte length of the target BTF, the target BTF, then relocation
// records, one per line: "typeid kind access".
func fuzzSplit(local, target []byte, relos string) []byte {
	var out []byte
	out = binary.LittleEndian.AppendUint32(out, uint32(len(local)))
	out = append(out, local...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(target)))
	out = append(out, target...)
	return append(out, relos...)
}

func fuzzUnsplit(in []byte) (local, target []byte, relos []byte, ok bool) {
	next := func() ([]byte, bool) {
		if len(in) < 4 {
			return nil, false
		}
		n := binary.LittleEndian.Uint32(in)
		in = in[4:]
		if uint64(n) > uint64(len(in)) {
			return nil, false
		}
		b := in[:n]
		in = in[n:]
		return b, true
	}
	if local, ok = next(); !ok {
		return
	}
	if target, ok = next(); !ok {
		return
	}
	return local, target, in, true
}

// FuzzRelocate builds a local and a target BTF from the input, parses a
// few relocations with fuzzed root types, kinds and access strings against
// the local one, and decides them against the target in order, as libbpf
// does for one object. It must never panic, must keep its errors within
// the documented sentinels, and must finish in bounded time.
func FuzzRelocate(f *testing.F) {
	local, target := fuzzPair()
	for _, relos := range []string{
		"6 0 0:0\n6 1 0:1\n6 2 0:3:5\n6 3 0:2\n6 4 0:2\n6 5 0:1\n",
		"6 0 0:4\n6 2 0:3\n6 0 0:1\n6 4 0:1\n6 5 0:1\n",
		"6 6 0\n6 7 0\n6 8 0\n6 9 0\n6 12 0\n8 12 0\n",
		"7 10 1\n7 11 0\n7 11 1\n7 12 0\n",
		"8 8 0\n8 9 0\n3 0 0\n6 0 1:2\n6 0 0:3:15\n",
		"1 0 0\n0 0 0\n99 0 0\n6 13 0\n6 0 :\n6 0 0:99\n",
	} {
		f.Add(fuzzSplit(local, target, relos))
	}
	// Both the other way round, and big-endian.
	f.Add(fuzzSplit(target, local, "6 0 0:1\n6 8 0\n"))
	f.Add(fuzzSplit(local, local, "6 0 0:3:1\n6 12 0\n"))

	f.Fuzz(func(t *testing.T, in []byte) {
		lraw, traw, relos, ok := fuzzUnsplit(in)
		if !ok {
			return
		}
		lb, err := rawbtf.Parse(lraw)
		if err != nil {
			return
		}
		tb, err := rawbtf.Parse(traw)
		if err != nil {
			return
		}
		rl := core.NewRelocator(lb, core.NewTarget(tb))
		start := time.Now()
		for i, line := range strings.SplitN(string(relos), "\n", 9) {
			if i == 8 {
				break
			}
			var id, kind uint32
			var access string
			if n, _ := fmt.Sscan(line, &id, &kind, &access); n < 2 {
				continue
			}
			r := core.Relo{TypeID: rawbtf.TypeID(id), Kind: core.Kind(kind), Access: access}
			spec, serr := core.ParseLocal(lb, r)
			if serr != nil && !errors.Is(serr, core.ErrInvalidSpec) {
				t.Errorf("ParseLocal(%d %d %q): error %v does not wrap ErrInvalidSpec", id, kind, access, serr)
			}
			if spec != nil {
				_ = spec.String()
				_ = spec.Path()
			}
			res := rl.Relocate(r, spec, serr)
			if res.Err != nil {
				if !errors.Is(res.Err, core.ErrInvalidSpec) && !errors.Is(res.Err, core.ErrAnonymous) &&
					!errors.Is(res.Err, core.ErrAmbiguous) && !errors.Is(res.Err, core.ErrUnsatisfiable) {
					t.Errorf("Relocate(%d %d %q): error %v wraps no documented sentinel", id, kind, access, res.Err)
				}
				continue
			}
			_ = res.Unsatisfied()
			if res.Target != nil {
				_ = res.Target.String()
			}
			for _, c := range res.Matched {
				if !tb.Valid(c) {
					t.Errorf("Relocate(%d %d %q): matched invalid target type [%d]", id, kind, access, c)
				}
			}
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("8 relocations took %v", d)
		}
	})
}
