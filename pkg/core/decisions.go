package core

// Decisions holds libbpf's decisions for the relocations of one object on
// one kernel, each distinct decision once: a decision depends only on a
// relocation's spec and the candidate list of its local type at that
// point (see Relocator), so the tens of thousands of relocations of a
// heavy object share a few hundred decisions, and the per-relocation cost
// is an index.
type Decisions struct {
	// Distinct holds each decision once.
	Distinct []Result
	// Of holds, for relocation j, the index of its decision in Distinct.
	Of []int32
}

// DecisionsOf returns results, one decision per relocation, as
// Decisions; results is not copied.
func DecisionsOf(results []Result) Decisions {
	of := make([]int32, len(results))
	for j := range of {
		of[j] = int32(j)
	}
	return Decisions{Distinct: results, Of: of}
}

// Len returns the number of relocations.
func (d *Decisions) Len() int { return len(d.Of) }

// At returns the decision for relocation j; it is shared with the other
// relocations of the same decision and must not be changed.
func (d *Decisions) At(j int) *Result { return &d.Distinct[d.Of[j]] }
