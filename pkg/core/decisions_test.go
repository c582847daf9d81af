package core

import "testing"

func TestDecisionsOf(t *testing.T) {
	results := []Result{{Outcome: Outcome{NewVal: 1}}, {Outcome: Outcome{NewVal: 2}}}
	d := DecisionsOf(results)
	if d.Len() != 2 {
		t.Fatalf("Len = %d, want 2", d.Len())
	}
	for j := range results {
		if d.At(j) != &results[j] {
			t.Errorf("At(%d) is not results[%d]", j, j)
		}
	}
	shared := Decisions{Distinct: results[:1], Of: []int32{0, 0, 0}}
	if shared.Len() != 3 || shared.At(2).NewVal != 1 {
		t.Errorf("shared decisions: Len %d, At(2).NewVal %d; want 3, 1", shared.Len(), shared.At(2).NewVal)
	}
}
