package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// newKernelBar returns the progress bar of a run over total kernels,
// written on w (stderr).
func newKernelBar(w io.Writer, total int) *progressbar.ProgressBar {
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("kernels"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("kernel"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
}

// treeProgress is the progress bar of "verify" and "inspect compat" over a
// tree of kernels, by gen's rules: on stderr, only when stderr is a
// terminal, not with -q, and only for more than one kernel. A nil
// *treeProgress (no bar) does nothing. It is safe for concurrent use.
type treeProgress struct {
	mu          sync.Mutex
	bar         *progressbar.ProgressBar
	done, fails int
}

// newTreeProgress returns the bar of a run over total kernels, or nil when
// there is none to show.
func newTreeProgress(io *IOStreams, quiet bool, total int) *treeProgress {
	if !io.ErrTTY || quiet || total <= 1 {
		return nil
	}
	return &treeProgress{bar: newKernelBar(io.ErrOut, total)}
}

// kernelDone counts one kernel, failed or not.
func (p *treeProgress) kernelDone(failed bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if failed {
		p.fails++
		p.bar.Describe(fmt.Sprintf("kernels (%d failed)", p.fails))
	}
	p.bar.Set(p.done)
}

// finish removes the bar.
func (p *treeProgress) finish() {
	if p == nil {
		return
	}
	p.bar.Finish()
	p.bar.Clear()
}
