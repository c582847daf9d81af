package core

import (
	"fmt"

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
type Relocator struct {
	local  *rawbtf.BTF
	target *Target
	cands  map[rawbtf.TypeID][]rawbtf.TypeID
	// Match, when set, replaces MatchCandidate against the target, so a
	// caller that has already matched the same specs against the same
	// target can reuse its results. It must return what MatchCandidate
	// returns.
	Match func(local *Spec, cand rawbtf.TypeID) (*Spec, error)
}

// NewRelocator returns a Relocator for an object's BTF and a target.
func NewRelocator(local *rawbtf.BTF, target *Target) *Relocator {
	return &Relocator{local: local, target: target, cands: make(map[rawbtf.TypeID][]rawbtf.TypeID)}
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
	var cands []rawbtf.TypeID
	if relo.Kind != TypeIDLocal {
		if len(lt.NameBytes()) == 0 {
			res.Err = fmt.Errorf("%w: [%d] %s", ErrAnonymous, relo.TypeID, lt.Kind().C())
			return res
		}
		var ok bool
		if cands, ok = r.cands[relo.TypeID]; !ok {
			cands = r.target.Candidates(lt)
			r.cands[relo.TypeID] = cands
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
	res.Candidates = len(cands)
	tb := r.target.BTF
	for _, c := range cands {
		var ts *Spec
		var err error
		if r.Match != nil {
			ts, err = r.Match(spec, c)
		} else {
			ts, err = MatchCandidate(spec, tb, c)
		}
		if err != nil {
			res.Err = err
			return res
		}
		if ts == nil {
			continue
		}
		out, err := Calc(spec, ts)
		if err != nil {
			res.Err = err
			return res
		}
		if res.Target == nil {
			res.Target, res.Outcome = ts, out
		} else if ts.BitOffset != res.Target.BitOffset {
			res.Err = fmt.Errorf("%w: field offset %d != %d", ErrAmbiguous, ts.BitOffset, res.Target.BitOffset)
			return res
		} else if out.Poison != res.Poison || out.NewVal != res.NewVal {
			res.Err = fmt.Errorf("%w: value %d != %d", ErrAmbiguous, out.NewVal, res.NewVal)
			return res
		}
		res.Matched = append(res.Matched, c)
	}
	if len(res.Matched) > 0 {
		r.cands[relo.TypeID] = res.Matched
		return res
	}
	out, err := Calc(spec, nil)
	res.Outcome, res.Err = out, err
	return res
}
