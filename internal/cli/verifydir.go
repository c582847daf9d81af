package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/bundle"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/verify"
)

// kernelVerdict is the result of verifying one kernel of a tree.
type kernelVerdict struct {
	Kernel     string `json:"kernel"`
	Minimized  string `json:"minimized"`
	Equivalent bool   `json:"equivalent"`
	// Problem says what is wrong: a missing or unreadable file, or the
	// first broken relocation.
	Problem string `json:"problem,omitempty"`
	// btfBytes is the size of the kernel's BTF, read.
	btfBytes int64
}

// verifyTreeReport is the JSON report of a directory verification.
type verifyTreeReport struct {
	Input      string          `json:"input"`
	Minimized  string          `json:"minimized"`
	Kernels    []kernelVerdict `json:"kernels"`
	Equivalent int             `json:"equivalent"`
	Failed     int             `json:"failed"`
	Seconds    float64         `json:"seconds"`
}

// minimizedSource finds the minimized BTF of a kernel of the tree: a file
// of the mirrored tree, or a member of a bundle.
type minimizedSource func(e kbtf.Entry) (data []byte, name string, err error)

func openMinimized(path string) (minimizedSource, error) {
	if batch.IsBundle(path) {
		b, err := bundle.OpenFile(path, nil)
		if err != nil {
			return nil, inputError(err)
		}
		return func(e kbtf.Entry) ([]byte, string, error) {
			data, err := b.ReadFile(e.OutRel)
			return data, path + ":" + e.OutRel, err
		}, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, inputError(err)
	}
	if !fi.IsDir() {
		return nil, inputError(fmt.Errorf("%s: INPUT is a directory, so MINIMIZED must be a directory or a bundle", path))
	}
	return func(e kbtf.Entry) ([]byte, string, error) {
		p := filepath.Join(path, filepath.FromSlash(e.OutRel))
		data, _, err := kbtf.ReadFile(p, nil)
		return data, p, err
	}, nil
}

// runVerifyDir verifies every kernel of the btfhub-style tree INPUT
// against its counterpart in MINIMIZED (the tree or bundle gen wrote).
func runVerifyDir(opts *VerifyOptions) error {
	start := opts.Now()
	objs, err := loadObjects(opts.Objects)
	if err != nil {
		return err
	}
	// A MINIMIZED tree inside INPUT is not read as kernels.
	entries, err := kbtf.WalkExcluding(opts.Input, []string{opts.Minimized})
	if err != nil {
		return inputError(err)
	}
	if len(entries) == 0 {
		return inputError(fmt.Errorf("%s: no kernel BTF files found", opts.Input))
	}
	minimized, err := openMinimized(opts.Minimized)
	if err != nil {
		return err
	}
	modTree, err := checkModulesTree(opts.Modules)
	if err != nil {
		return err
	}
	plan := verify.NewPlan(objs)
	rep := &verifyTreeReport{Input: opts.Input, Minimized: opts.Minimized, Kernels: make([]kernelVerdict, len(entries))}
	bar := newTreeProgress(opts.IO, opts.Quiet, len(entries))
	// The kernels are verified on gen's worker pool: each worker reads a
	// kernel into its own reused buffers and checks it against the plan,
	// which all workers share.
	verifyKernel := func(_ context.Context, kr *kbtf.Reader, e *kbtf.Entry) (v kernelVerdict) {
		v.Kernel = e.Rel
		defer func() {
			// A bug fails its kernel, not the process: a worker's panic
			// is out of reach of execute's recover.
			if r := recover(); r != nil {
				v.Problem = fmt.Sprintf("internal error: panic: %v", r)
			}
		}()
		min, name, err := minimized(*e)
		v.Minimized = name
		if err != nil {
			v.Problem = "minimized BTF: " + oneLine(err)
			return v
		}
		mp := e.Modules
		if modTree != "" {
			if p := kbtf.FindModules(modTree, e.OutRel); p != "" {
				mp = p
			}
		}
		v.Problem, v.btfBytes = verifyOne(plan, kr, e, mp, min, opts.Load)
		return v
	}
	// As gen's tree runs: free heap handed back regularly, or peak RSS
	// creeps up with the kernels (cilium/ebpf inflates much of each).
	mem := &memoryReturner{every: 24 << 20}
	order := largestFirst(entries)
	queue := make([]kbtf.Entry, len(entries))
	for i, j := range order {
		queue[i] = entries[j]
	}
	batch.Each(context.Background(), queue, 0, nil, verifyKernel, func(_ context.Context, i int, v kernelVerdict) bool {
		v.Equivalent = v.Problem == ""
		if v.Equivalent {
			rep.Equivalent++
		} else {
			rep.Failed++
		}
		rep.Kernels[order[i]] = v
		bar.kernelDone(!v.Equivalent)
		mem.done(v.btfBytes)
		return true
	})
	bar.finish()
	rep.Seconds = opts.Now().Sub(start).Seconds()
	if err := printReport(opts.IO.Out, opts.Format, rep, func() { rep.writeText(opts.IO.Out, opts.Verbose) }); err != nil {
		return err
	}
	if rep.Failed > 0 {
		return &SilentError{Code: ExitNegative}
	}
	return nil
}

// largestFirst returns the indices of entries, largest file first: the
// verification of a kernel takes time in proportion to its BTF, and a
// large kernel started last would finish long after the others.
// Unreadable files come last, in their order.
func largestFirst(entries []kbtf.Entry) []int {
	order := make([]int, len(entries))
	size := make([]int64, len(entries))
	for i, e := range entries {
		order[i] = i
		if fi, err := os.Stat(e.Path); err == nil {
			size[i] = fi.Size()
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return size[order[a]] > size[order[b]] })
	return order
}

// verifyOne checks one kernel; it returns "" when the minimized BTF is
// equivalent, else the problem, and the size of the kernel's BTF read (0
// when it could not be).
func verifyOne(plan *verify.Plan, kr *kbtf.Reader, e *kbtf.Entry, modules string, min []byte, load bool) (problem string, btfBytes int64) {
	full, _, err := kr.ReadFile(e.Path) // valid until kr's next call, after k.Close
	btfBytes = int64(len(full))
	if err != nil {
		return "kernel BTF: " + oneLine(err), btfBytes
	}
	var k *verify.Kernel
	if modules != "" {
		mods, merr := kmod.Open([]string{modules}, nil)
		if merr == nil {
			merr = mods.CheckRelease(e.Release)
		}
		if merr != nil {
			return "module BTF " + modules + ": " + oneLine(merr), btfBytes
		}
		k, err = verify.NewKernelModules(full, mods)
	} else {
		k, err = verify.NewKernel(full)
	}
	if err != nil {
		return "kernel BTF: " + oneLine(err), btfBytes
	}
	defer k.Close()
	r, err := plan.Check(k, min, verify.Options{Load: load})
	if errors.Is(err, verify.ErrFullBTF) {
		return "kernel BTF: " + oneLine(err), btfBytes
	}
	if err != nil {
		return "minimized BTF: " + oneLine(err), btfBytes
	}
	if !r.Equivalent() {
		return firstProblem(r), btfBytes
	}
	return "", btfBytes
}

func oneLine(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Op + " " + pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

func (r *verifyTreeReport) writeText(w io.Writer, verbose bool) {
	for _, v := range r.Kernels {
		switch {
		case !v.Equivalent:
			fmt.Fprintf(w, "FAIL %s: %s\n", v.Kernel, v.Problem)
		case verbose:
			fmt.Fprintf(w, "ok   %s\n", v.Kernel)
		}
	}
	verdict := "all equivalent"
	if r.Failed > 0 {
		verdict = fmt.Sprintf("%d not equivalent", r.Failed)
	}
	fmt.Fprintf(w, "verify: %d kernels: %s (%.1fs)\n", len(r.Kernels), verdict, r.Seconds)
}
