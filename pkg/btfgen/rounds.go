package btfgen

import (
	"fmt"
	"strings"

	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// rounds is the emit-and-check loop of a minimization (Plan.minimize,
// MinimizeEach) whose marks hold what every relocation needs: emit the
// kept types, read the result back, let adjust fix what the minimized BTF
// does differently, and once nothing changes, check every decision.
type rounds struct {
	// adjust changes the marks for what the minimized BTF mb decides
	// differently from the full one, and reports whether it changed any
	// (then another round is emitted).
	adjust func(mb *rawbtf.BTF, newToOld []rawbtf.TypeID) (bool, error)
	// check returns the relocations whose decision on mb differs from
	// the full BTF's, after a round adjust left alone.
	check func(mb *rawbtf.BTF, newToOld []rawbtf.TypeID) ([]string, error)
	// keepAll marks every matching candidate of every relocation: the
	// fallback when check finds differences (not expected).
	keepAll func() error
}

// run runs the rounds on kernel's marks m and returns the minimized BTF.
func (r rounds) run(kernel *rawbtf.BTF, m *marks) (*Result, error) {
	if kernel.PtrSize() != 8 {
		// libbpf sizes pointers by the first "long" and assumes the host's
		// pointer size without one: keep it for 32-bit kernels.
		m.typ(kernel.LongType(), false)
	}
	keptLong := kernel.PtrSize() != 8
	for round := 0; ; round++ {
		m.fixFlexArrays()
		out, newToOld, err := emit(kernel, m)
		if err != nil {
			return nil, err
		}
		mb, err := rawbtf.Parse(out)
		if err != nil {
			return nil, fmt.Errorf("%w: re-reading output: %w", ErrSelfCheck, err)
		}
		if mb.PtrSize() != kernel.PtrSize() && !keptLong {
			// A kept "long" of another size now comes first: keep the
			// kernel's first one too.
			m.typ(kernel.LongType(), false)
			keptLong = true
			continue
		}
		changed, err := r.adjust(mb, newToOld)
		if err != nil {
			return nil, err
		}
		if changed {
			continue
		}
		bad, err := r.check(mb, newToOld)
		if err != nil {
			return nil, err
		}
		if len(bad) == 0 && len(m.unhideable) == 0 {
			res := &Result{BTF: out, Types: len(newToOld) - 1}
			for _, id := range newToOld[1:] {
				if !kernel.Type(id).Kind().Known() {
					res.Unknown = append(res.Unknown, id)
				}
			}
			return res, nil
		}
		if len(m.hidden) > 0 || len(m.unhideable) > 0 {
			return nil, fmt.Errorf("%w: %s; decisions would differ: %s", ErrUnrepresentable, m.shadowReport(), strings.Join(bad, "; "))
		}
		if round >= 8 {
			return nil, fmt.Errorf("%w: %s", ErrSelfCheck, strings.Join(bad, "; "))
		}
		if err := r.keepAll(); err != nil {
			return nil, err
		}
	}
}

// keepAllMatches marks, for every relocation of object i, every candidate
// it matches on target.
func (p *Plan) keepAllMatches(m *marks, target *core.Target, i int) {
	o := p.objects[i]
	for _, g := range p.groups[i] {
		for _, c := range target.Candidates(o.BTF.Type(g.local)) {
			for _, spec := range g.specs {
				if ts, err := core.MatchCandidate(spec, target.BTF, c); ts != nil && err == nil {
					m.relocation(ts)
				}
			}
		}
	}
}
