package core

import (
	"fmt"
	"slices"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// Result is libbpf's decision for one relocation against one target.
type Result struct {
	// Local is the parsed local spec; nil when the access string is invalid.
	Local *Spec
	Outcome
	// Target is the spec of the first matching candidate, whose values
	// libbpf uses; nil when no candidate matched.
	Target *Spec
	// Matched lists every candidate that matched, in ID order.
	Matched []rawbtf.TypeID
	// Candidates is the number of candidates considered, after libbpf
	// pruned the list on earlier relocations of the same local type.
	Candidates int
	// Err is set when libbpf fails the whole object load on this
	// relocation; it wraps ErrInvalidSpec, ErrAnonymous, ErrAmbiguous or
	// ErrUnsatisfiable.
	Err error
}

// Unsatisfied reports whether no candidate matched a relocation that
// needed one: libbpf poisons its instruction (field and enum value
// relocations) or the program sees the thing as missing (existence and
// type relocations evaluate to 0).
func (r *Result) Unsatisfied() bool {
	return r.Err == nil && r.Local != nil && r.Local.Kind != TypeIDLocal && len(r.Matched) == 0
}

// Relocator decides the relocations of one object against one target the
// way libbpf does when it loads the object: relocations are processed in
// order, and the candidate list of each local type is cached and pruned to
// the matching candidates after every relocation that matched any. Create
// one per object and target; it is not safe for concurrent use.
//
// A decision depends only on the local spec and the candidate list of its
// type at that point: Relocate makes each (spec, candidate list) decision
// once and returns it again for later relocations with the same *Spec
// (records of one object with the same type, kind and access string share
// one, see pkg/bpfobj), so results may share their Target and Matched.
type Relocator struct {
	local  *rawbtf.BTF
	target *Target
	cands  map[rawbtf.TypeID]*candState
	// scratch receives target specs matched without Evaluate.
	scratch Spec
	// Evaluate, when set, replaces Evaluate against the target, so a
	// caller that has already evaluated the same specs against the same
	// target can reuse its results. It must return what Evaluate returns,
	// except that Target may be nil: Relocate then matches the candidate
	// again if it needs its spec.
	Evaluate func(local *Spec, cand rawbtf.TypeID) Evaluation
}

// Evaluation is one candidate's match against a local spec and, when it
// matched, the outcome libbpf computes from it.
type Evaluation struct {
	// Matched reports whether the candidate matches.
	Matched bool
	// BitOffset is the target spec's bit offset, when Matched.
	BitOffset uint32
	// Target is the candidate's target spec when Matched. An evaluation
	// kept for later may drop it (nil): Relocate then matches again the
	// one candidate whose spec it reports.
	Target *Spec
	// Outcome is Calc's result for the target spec.
	Outcome Outcome
	// Err means libbpf fails the relocation on this candidate, in
	// matching it (Matched is false) or computing its outcome.
	Err error
}

// Evaluate matches local against candidate cand of tb and computes the
// outcome, as libbpf does for each candidate of a relocation.
func Evaluate(local *Spec, tb *rawbtf.BTF, cand rawbtf.TypeID) Evaluation {
	return EvaluateInto(local, tb, cand, &Spec{})
}

// EvaluateInto is Evaluate with the target spec written into scratch (see
// MatchCandidateInto): Target is scratch when Matched. Clone it to keep it
// beyond the next use of scratch.
func EvaluateInto(local *Spec, tb *rawbtf.BTF, cand rawbtf.TypeID, scratch *Spec) Evaluation {
	ok, err := MatchCandidateInto(local, tb, cand, scratch)
	if err != nil || !ok {
		return Evaluation{Err: err}
	}
	out, err := Calc(local, scratch)
	return Evaluation{Matched: true, BitOffset: scratch.BitOffset, Target: scratch, Outcome: out, Err: err}
}

// candState is the candidate list of one local type as libbpf prunes it,
// with the decisions already made.
type candState struct {
	// lists holds the distinct candidate lists the type has had, the
	// initial one first; cur indexes the current one.
	lists [][]rawbtf.TypeID
	cur   int
	done  map[decisionKey]decision
}

type decisionKey struct {
	spec *Spec
	list int
}

// decision is a Relocate result and the candidate list it leaves.
type decision struct {
	res  Result
	next int
}

// NewRelocator returns a Relocator for an object's BTF and a target.
func NewRelocator(local *rawbtf.BTF, target *Target) *Relocator {
	return &Relocator{local: local, target: target, cands: make(map[rawbtf.TypeID]*candState)}
}

// Relocate decides one relocation. spec is the relocation's parsed local
// spec, or nil with specErr set when parsing failed.
func (r *Relocator) Relocate(relo Relo, spec *Spec, specErr error) Result {
	res := Result{Local: spec}
	if !r.local.Valid(relo.TypeID) {
		res.Err = fmt.Errorf("%w: local type [%d] does not exist", ErrInvalidSpec, relo.TypeID)
		return res
	}
	lt := r.local.Type(relo.TypeID)
	var st *candState
	if relo.Kind != TypeIDLocal {
		if len(lt.NameBytes()) == 0 {
			res.Err = fmt.Errorf("%w: [%d] %s", ErrAnonymous, relo.TypeID, lt.Kind().C())
			return res
		}
		if st = r.cands[relo.TypeID]; st == nil {
			st = &candState{lists: [][]rawbtf.TypeID{r.target.Candidates(lt)}, done: map[decisionKey]decision{}}
			r.cands[relo.TypeID] = st
		}
	}
	if spec == nil {
		res.Err = specErr
		if res.Err == nil {
			res.Err = ErrInvalidSpec
		}
		return res
	}
	if relo.Kind == TypeIDLocal {
		res.OrigVal, res.NewVal = uint64(relo.TypeID), uint64(relo.TypeID)
		return res
	}
	key := decisionKey{spec, st.cur}
	if d, ok := st.done[key]; ok {
		st.cur = d.next
		return d.res
	}
	res = r.Decide(spec, st.lists[st.cur])
	next := st.cur
	if res.Err == nil && len(res.Matched) > 0 {
		next = st.list(res.Matched)
	}
	st.done[key] = decision{res: res, next: next}
	st.cur = next
	return res
}

// list returns the index of candidate list l in s.lists, adding it.
func (s *candState) list(l []rawbtf.TypeID) int {
	for i, o := range s.lists {
		if slices.Equal(o, l) {
			return i
		}
	}
	s.lists = append(s.lists, l)
	return len(s.lists) - 1
}

// Decide is libbpf's decision for a relocation with local spec (neither
// nil nor of kind TypeIDLocal) against the candidate list cands, as
// Relocate makes it once it has pruned the list of spec's local type: a
// caller that tracks the pruning itself (keeping Result.Matched as the
// next list when Err is nil and it is not empty) decides as Relocate
// does. It ignores the Relocator's candidate lists and leaves them as
// they are.
func (r *Relocator) Decide(spec *Spec, cands []rawbtf.TypeID) Result {
	res := Result{Local: spec}
	res.Candidates = len(cands)
	tb := r.target.BTF
	for _, c := range cands {
		var ev Evaluation
		scratch := false
		if r.Evaluate != nil {
			ev = r.Evaluate(spec, c)
		} else {
			// Matched into the Relocator's scratch spec, cloned
			// below for the one match kept.
			ev, scratch = EvaluateInto(spec, tb, c, &r.scratch), true
		}
		if ev.Err != nil {
			res.Err = ev.Err
			return res
		}
		if !ev.Matched {
			continue
		}
		out := ev.Outcome
		if res.Target == nil {
			ts := ev.Target
			if ts == nil {
				// Dropped by the caller's memo: match again.
				if ts, _ = MatchCandidate(spec, tb, c); ts == nil {
					res.Err = fmt.Errorf("%w: candidate [%d] no longer matches", ErrInvalidSpec, c)
					return res
				}
			}
			if scratch {
				ts = ts.Clone()
			}
			res.Target, res.Outcome = ts, out
		} else if ev.BitOffset != res.Target.BitOffset {
			res.Err = fmt.Errorf("%w: field offset %d != %d", ErrAmbiguous, ev.BitOffset, res.Target.BitOffset)
			return res
		} else if out.Poison != res.Poison || out.NewVal != res.NewVal {
			res.Err = fmt.Errorf("%w: value %d != %d", ErrAmbiguous, out.NewVal, res.NewVal)
			return res
		}
		res.Matched = append(res.Matched, c)
	}
	if len(res.Matched) > 0 {
		return res
	}
	out, err := Calc(spec, nil)
	res.Outcome, res.Err = out, err
	return res
}
