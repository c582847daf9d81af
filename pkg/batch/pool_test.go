package batch_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/kbtf"
)

func entries(n int) []kbtf.Entry {
	es := make([]kbtf.Entry, n)
	for i := range es {
		es[i].Rel = fmt.Sprintf("k%d", i)
	}
	return es
}

// TestEachRunsEveryEntryOnce: every entry is processed once, on at most
// jobs workers, and collected with its own index.
func TestEachRunsEveryEntryOnce(t *testing.T) {
	es := entries(50)
	var running, peak atomic.Int32
	seen := make([]int, len(es))
	batch.Each(context.Background(), es, 3, nil, func(_ context.Context, kr *kbtf.Reader, e *kbtf.Entry) string {
		if kr == nil {
			t.Error("no reader")
		}
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		defer running.Add(-1)
		return e.Rel
	}, func(_ context.Context, i int, rel string) bool {
		if rel != es[i].Rel {
			t.Errorf("entry %d collected with the result of %s", i, rel)
		}
		seen[i]++
		return true
	})
	for i, n := range seen {
		if n != 1 {
			t.Errorf("entry %d collected %d times", i, n)
		}
	}
	if p := peak.Load(); p > 3 {
		t.Errorf("%d entries at once with 3 jobs", p)
	}
}

// TestEachStops: once collect returns false no new entry starts, and the
// context fn sees is done.
func TestEachStops(t *testing.T) {
	es := entries(100)
	var started atomic.Int32
	collected := 0
	batch.Each(context.Background(), es, 1, nil, func(ctx context.Context, _ *kbtf.Reader, e *kbtf.Entry) error {
		started.Add(1)
		return ctx.Err()
	}, func(ctx context.Context, i int, err error) bool {
		collected++
		return i < 4
	})
	if n := started.Load(); n > 7 || int(n) != collected {
		t.Errorf("%d entries started and %d collected after a stop at the fifth; want about 5, all collected", n, collected)
	}
}

// TestEachNoEntries returns at once.
func TestEachNoEntries(t *testing.T) {
	batch.Each(context.Background(), nil, 0, nil, func(context.Context, *kbtf.Reader, *kbtf.Entry) int {
		t.Error("fn called without entries")
		return 0
	}, func(context.Context, int, int) bool { return true })
}
