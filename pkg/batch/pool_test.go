package batch_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// TestEachKeepsLargeApart: two files several times the median size are
// never processed at once, while others run beside them; files of one
// size run jobs at a time.
func TestEachKeepsLargeApart(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) kbtf.Entry {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
		return kbtf.Entry{Path: p, Rel: name}
	}
	var es []kbtf.Entry
	for i := range 3 {
		es = append(es, write(fmt.Sprintf("large%d", i), 30000))
	}
	for i := range 9 {
		es = append(es, write(fmt.Sprintf("small%d", i), 5000))
	}
	var large, all, peakLarge, peakAll atomic.Int32
	raise := func(p *atomic.Int32, n int32) {
		for {
			if v := p.Load(); n <= v || p.CompareAndSwap(v, n) {
				return
			}
		}
	}
	n := 0
	batch.Each(context.Background(), es, 3, nil, func(_ context.Context, _ *kbtf.Reader, e *kbtf.Entry) bool {
		isLarge := strings.HasPrefix(e.Rel, "large")
		if isLarge {
			raise(&peakLarge, large.Add(1))
			defer large.Add(-1)
		}
		raise(&peakAll, all.Add(1))
		defer all.Add(-1)
		time.Sleep(5 * time.Millisecond)
		return true
	}, func(context.Context, int, bool) bool { n++; return true })
	if n != len(es) {
		t.Errorf("%d entries collected, want %d", n, len(es))
	}
	if p := peakLarge.Load(); p != 1 {
		t.Errorf("%d large files at once, want 1", p)
	}
	if p := peakAll.Load(); p < 2 {
		t.Errorf("at most %d files at once with 3 jobs: small ones do not run beside large ones", p)
	}

	// One size: 3 at a time.
	es = es[3:]
	peakAll.Store(0)
	batch.Each(context.Background(), es, 3, nil, func(context.Context, *kbtf.Reader, *kbtf.Entry) bool {
		raise(&peakAll, all.Add(1))
		defer all.Add(-1)
		time.Sleep(5 * time.Millisecond)
		return true
	}, func(context.Context, int, bool) bool { return true })
	if p := peakAll.Load(); p != 3 {
		t.Errorf("%d files of one size at once with 3 jobs, want 3", p)
	}
}
