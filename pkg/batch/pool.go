package batch

import (
	"context"
	"runtime"
	"sync"

	"github.com/btftool/btftool/pkg/kbtf"
)

// Each runs fn for every entry on a pool of jobs workers (zero or negative
// means runtime.NumCPU(), never more than there are entries), the pool
// [Run] processes a tree with. Each worker has its own kbtf.Reader, made
// with kopts, whose buffers grow to the largest kernel and are reused: the
// data fn reads with it is valid until fn returns.
//
// collect is called once per finished entry, from a single goroutine, in
// completion order, with the entry's index and fn's result; returning
// false stops entries not yet started. The ctx given to fn and collect is
// done when the parent is or collect has stopped the pool, so collect can
// tell an interrupted entry from a failed one. Each returns once every
// started entry is collected.
func Each[R any](ctx context.Context, entries []kbtf.Entry, jobs int, kopts *kbtf.Options,
	fn func(ctx context.Context, kr *kbtf.Reader, e *kbtf.Entry) R,
	collect func(ctx context.Context, i int, r R) bool) {
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	jobs = min(jobs, len(entries))
	ctx, stop := context.WithCancel(ctx)
	defer stop()

	type done struct {
		i int
		r R
	}
	work := make(chan int)
	out := make(chan done)
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() {
			kr := kbtf.NewReader(kopts)
			for i := range work {
				out <- done{i, fn(ctx, kr, &entries[i])} // the collector drains out until it is closed
			}
		})
	}
	go func() {
		defer close(work)
		for i := range entries {
			select {
			case work <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(out)
	}()
	for d := range out {
		if !collect(ctx, d.i, d.r) {
			stop()
		}
	}
}
