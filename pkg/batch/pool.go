package batch

import (
	"context"
	"os"
	"runtime"
	"slices"
	"sync"

	"github.com/btftool/btftool/pkg/kbtf"
)

// Each runs fn for every entry on a pool of jobs workers (zero or negative
// means runtime.NumCPU(), never more than there are entries), the pool
// [Run] processes a tree with. Each worker has its own kbtf.Reader, made
// with kopts, whose buffers grow to the largest kernel and are reused: the
// data fn reads with it is valid until fn returns.
//
// Entries are started in order, except that two entries whose files are
// large beside the others are not processed at once: the memory a kernel
// takes grows with its BTF, and two of the largest in flight set a tree's
// peak (see fitsBudget).
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
	size := fileSizes(entries)
	freed := make(chan int64, len(entries)) // never blocks a worker
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() {
			kr := kbtf.NewReader(kopts)
			for i := range work {
				r := fn(ctx, kr, &entries[i])
				freed <- size[i]
				out <- done{i, r} // the collector drains out until it is closed
			}
		})
	}
	go func() {
		defer close(work)
		budget := sizeBudget(size, jobs)
		pending := make([]int, len(entries))
		for i := range pending {
			pending[i] = i
		}
		var inFlight int64
		for len(pending) > 0 {
			k := -1
			for j, i := range pending {
				if inFlight == 0 || inFlight+size[i] <= budget {
					k = j
					break
				}
			}
			if k < 0 { // nothing fits beside what runs: wait for it
				select {
				case f := <-freed:
					inFlight -= f
				case <-ctx.Done():
					return
				}
				continue
			}
			select {
			case work <- pending[k]:
				inFlight += size[pending[k]]
				pending = append(pending[:k], pending[k+1:]...)
			case f := <-freed:
				inFlight -= f
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

// fileSizes returns the size of each entry's file, 0 when it cannot be
// read (its error comes from processing it).
func fileSizes(entries []kbtf.Entry) []int64 {
	size := make([]int64, len(entries))
	for i, e := range entries {
		if fi, err := os.Stat(e.Path); err == nil {
			size[i] = fi.Size()
		}
	}
	return size
}

// sizeBudget is the total size of the files Each processes at once: room
// for jobs files of the median size, and for the largest beside half of
// itself, but not for two of the largest when they are several times the
// median (the 27 MB pahole kernels of CentOS 8 among 5 MB Debian ones).
// A tree of files of one size runs jobs at a time, as before.
func sizeBudget(size []int64, jobs int) int64 {
	if len(size) == 0 {
		return 0
	}
	sorted := slices.Clone(size)
	slices.Sort(sorted)
	largest, median := sorted[len(sorted)-1], sorted[len(sorted)/2]
	return max(int64(jobs)*median, largest+largest/2)
}
