package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/btftool/btftool/internal/cli"
	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/bundle"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// signalKernels is the number of kernels in the tree the signal tests
// interrupt: enough that a run with --jobs 2 is still going when the first
// outputs appear.
const signalKernels = 40

// signalObject is the object the signal tests minimize for.
var signalObject = filepath.Join(root, "testdata/bpf/execsnoop.bpf.o")

// sigBinary builds cmd/btftool into the test's temporary directory.
func sigBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "btftool")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/btftool")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// signalTree makes a btfhub-style tree of signalKernels kernels, symbolic
// links to the test kernels under new release names, and returns it with
// the source kernel of each output path (relative, ".btf").
func signalTree(tb testing.TB) (string, map[string]string) {
	tb.Helper()
	srcs, _ := filepath.Glob(filepath.Join(root, "testdata/kernels/*/*/*/*.btf.tar.xz"))
	if len(srcs) == 0 {
		tb.Fatal("no test kernels")
	}
	sort.Strings(srcs)
	dir := tb.TempDir()
	src := map[string]string{}
	for i := range signalKernels {
		s, err := filepath.Abs(srcs[i%len(srcs)])
		if err != nil {
			tb.Fatal(err)
		}
		arch := filepath.Base(filepath.Dir(s))
		rel := fmt.Sprintf("debian/12/%s/6.1.0-%02d-sig.btf.tar.xz", arch, i)
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.Symlink(s, p); err != nil {
			tb.Fatal(err)
		}
		src[strings.TrimSuffix(rel, ".tar.xz")] = s
	}
	return dir, src
}

// sigSingleGen returns what "gen min_core_btf KERNEL OUT OBJECT" writes.
func sigSingleGen(tb testing.TB, bin, kernel string) []byte {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "min.btf")
	cmd := exec.Command(bin, "gen", "min_core_btf", "-q", kernel, out, signalObject)
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("gen %s: %v\n%s", kernel, err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// sigRun is a running btftool whose stderr progress lines are watched.
type sigRun struct {
	cmd      *exec.Cmd
	stdout   bytes.Buffer
	mu       sync.Mutex
	stderr   strings.Builder
	progress chan int // kernels done, from each progress line
	done     chan struct{}
	err      error
}

var sigProgressLine = regexp.MustCompile(`^btftool: (\d+)/(\d+) kernels`)

// sigStart starts btftool with args; it is killed at the end of the test
// if still running.
func sigStart(tb testing.TB, bin string, args ...string) *sigRun {
	tb.Helper()
	r := &sigRun{progress: make(chan int, 1000), done: make(chan struct{})}
	r.cmd = exec.Command(bin, args...)
	r.cmd.Stdout = &r.stdout
	pipe, err := r.cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			r.mu.Lock()
			r.stderr.WriteString(line + "\n")
			r.mu.Unlock()
			if m := sigProgressLine.FindStringSubmatch(line); m != nil {
				n, _ := strconv.Atoi(m[1])
				select {
				case r.progress <- n:
				default:
				}
			}
		}
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	tb.Cleanup(func() {
		select {
		case <-r.done:
		default:
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

func (r *sigRun) finished() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to exit and returns its exit status.
func (r *sigRun) wait(tb testing.TB, timeout time.Duration) int {
	tb.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		tb.Fatalf("btftool still running after %v\nstderr:\n%s", timeout, r.stderrText())
	}
	var ee *exec.ExitError
	switch {
	case r.err == nil:
		return 0
	case errors.As(r.err, &ee):
		return ee.ExitCode()
	}
	tb.Fatal(r.err)
	return -1
}

func (r *sigRun) stderrText() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

// sigOutputs returns the regular files under dir, relative and
// slash-separated, with temporary files (".tmp-" in the name) apart.
func sigOutputs(tb testing.TB, dir string) (files, temps []string) {
	tb.Helper()
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if de.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if strings.Contains(de.Name(), ".tmp-") {
			temps = append(temps, rel)
		} else {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		tb.Fatal(err)
	}
	return files, temps
}

// sigSummary is the part of the -o json summary the tests read.
type sigSummary struct {
	Total     int `json:"kernels"`
	Processed int `json:"processed"`
	Skipped   int `json:"skipped"`
	Failed    int `json:"failed"`
	NotRun    int `json:"not_run"`
	Results   []struct {
		Output string `json:"output"`
		Status string `json:"status"`
	} `json:"results"`
}

func sigParseSummary(tb testing.TB, out []byte) sigSummary {
	tb.Helper()
	var s sigSummary
	if err := json.Unmarshal(out, &s); err != nil {
		tb.Fatalf("-o json summary: %v\n%s", err, out)
	}
	return s
}

// sigInterruptedExit is the exit status of an interrupted run, cli.ExitInterrupted
// ("interrupted: outputs already complete are kept").
const sigInterruptedExit = cli.ExitInterrupted

// TestSignalDirectory interrupts "gen min_core_btf TREE OUT" with SIGINT
// (and SIGTERM) once outputs appear: what is in OUT must be complete and
// identical to a single-file gen of its kernel, nothing temporary may be
// left, and a rerun must skip what was done and write the rest.
func TestSignalDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds btftool and minimizes 80 kernels")
	}
	// SIGINT as soon as one output is there, SIGTERM a few kernels later.
	for _, c := range []struct {
		sig  syscall.Signal
		wait int
	}{{syscall.SIGINT, 1}, {syscall.SIGTERM, 5}} {
		t.Run(c.sig.String(), func(t *testing.T) { signalDirectory(t, c.sig, c.wait) })
	}
}

// signalDirectory sends sig once at least wait outputs are written.
func signalDirectory(t *testing.T, sig syscall.Signal, wait int) {
	bin := sigBinary(t)
	tree, src := signalTree(t)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"gen", "min_core_btf", "--jobs", "2", "-o", "json", tree, out, signalObject}

	r := sigStart(t, bin, args...)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if r.finished() {
			t.Fatalf("the run finished before any output was seen\nstderr:\n%s", r.stderrText())
		}
		files, _ := sigOutputs(t, out)
		btfs := 0
		for _, f := range files {
			if strings.HasSuffix(f, ".btf") {
				btfs++
			}
		}
		if btfs >= wait {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no output after 5 minutes\nstderr:\n%s", r.stderrText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	code := r.wait(t, 2*time.Minute)
	stderr := r.stderrText()
	if code != sigInterruptedExit {
		t.Errorf("exit status %d after the signal, want %d\nstderr:\n%s", code, sigInterruptedExit, stderr)
	}
	if !strings.Contains(stderr, "interrupted") {
		t.Errorf("stderr does not say the run was interrupted:\n%s", stderr)
	}
	sum := sigParseSummary(t, r.stdout.Bytes())
	if sum.Processed+sum.Skipped+sum.Failed+sum.NotRun != signalKernels || sum.NotRun == 0 || sum.Failed != 0 {
		t.Errorf("interrupted run's summary: %d kernels, %d processed, %d skipped, %d failed, %d not run",
			sum.Total, sum.Processed, sum.Skipped, sum.Failed, sum.NotRun)
	}

	files, temps := sigOutputs(t, out)
	if len(temps) > 0 {
		t.Errorf("temporary files left after %v: %v", sig, temps)
	}
	refs := map[string][]byte{} // by source kernel
	done := map[string]bool{}
	for _, f := range files {
		if f == batch.ManifestName {
			continue
		}
		s, ok := src[f]
		if !ok {
			t.Errorf("unexpected file %s in the output", f)
			continue
		}
		done[f] = true
		data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rawbtf.Parse(data); err != nil {
			t.Errorf("%s after %v: %v", f, sig, err)
			continue
		}
		if refs[s] == nil {
			refs[s] = sigSingleGen(t, bin, s)
		}
		if !bytes.Equal(data, refs[s]) {
			t.Errorf("%s after %v: %d bytes differ from the single-file gen of %s (%d bytes)", f, sig, len(data), s, len(refs[s]))
		}
	}
	if len(done) == 0 || len(done) == signalKernels {
		t.Fatalf("%d of %d outputs after %v: not an interrupted run", len(done), signalKernels, sig)
	}
	if len(done) != sum.Processed {
		t.Errorf("%d outputs after %v, the summary says %d processed", len(done), sig, sum.Processed)
	}
	t.Logf("%v after %d of %d kernels", sig, len(done), signalKernels)

	// The rerun skips what is done and completes the rest.
	r2 := sigStart(t, bin, args...)
	if code := r2.wait(t, 10*time.Minute); code != 0 {
		t.Fatalf("rerun: exit status %d\nstderr:\n%s", code, r2.stderrText())
	}
	sum2 := sigParseSummary(t, r2.stdout.Bytes())
	if sum2.Total != signalKernels || sum2.Skipped != len(done) || sum2.Processed != signalKernels-len(done) || sum2.Failed != 0 || sum2.NotRun != 0 {
		t.Errorf("rerun summary: %d kernels, %d processed, %d skipped, %d failed, %d not run; want %d skipped",
			sum2.Total, sum2.Processed, sum2.Skipped, sum2.Failed, sum2.NotRun, len(done))
	}
	for _, k := range sum2.Results {
		if want := map[bool]string{true: "skipped", false: "done"}[done[k.Output]]; k.Status != want {
			t.Errorf("rerun: %s is %s, want %s", k.Output, k.Status, want)
		}
	}
	files, temps = sigOutputs(t, out)
	if len(temps) > 0 {
		t.Errorf("temporary files left after the rerun: %v", temps)
	}
	got := 0
	for _, f := range files {
		if f == batch.ManifestName {
			continue
		}
		s, ok := src[f]
		if !ok {
			t.Errorf("unexpected file %s in the output", f)
			continue
		}
		got++
		data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		if refs[s] == nil {
			refs[s] = sigSingleGen(t, bin, s)
		}
		if !bytes.Equal(data, refs[s]) {
			t.Errorf("%s after the rerun differs from the single-file gen of %s", f, s)
		}
	}
	if got != signalKernels {
		t.Errorf("%d outputs after the rerun, want %d", got, signalKernels)
	}
}

// TestSignalBundle interrupts "gen min_core_btf TREE OUT.tar.zst" with
// SIGINT once kernels are done: no bundle, no manifest and no temporary
// file may be left; the rerun writes the bundle with every kernel.
func TestSignalBundle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds btftool and minimizes 80 kernels")
	}
	bin := sigBinary(t)
	tree, src := signalTree(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.tar.zst")
	args := []string{"gen", "min_core_btf", "--jobs", "2", "-o", "json", tree, out, signalObject}

	r := sigStart(t, bin, args...)
	select {
	case n := <-r.progress:
		if n >= signalKernels {
			t.Fatalf("first progress line at %d of %d kernels", n, signalKernels)
		}
	case <-r.done:
		t.Fatalf("the run finished before any progress was reported\nstderr:\n%s", r.stderrText())
	case <-time.After(5 * time.Minute):
		t.Fatalf("no progress after 5 minutes\nstderr:\n%s", r.stderrText())
	}
	if r.finished() {
		t.Fatal("the run finished before SIGINT")
	}
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t, 2*time.Minute); code != sigInterruptedExit {
		t.Errorf("exit status %d after SIGINT, want %d\nstderr:\n%s", code, sigInterruptedExit, r.stderrText())
	}
	sum := sigParseSummary(t, r.stdout.Bytes())
	if sum.NotRun == 0 {
		t.Errorf("interrupted run's summary says every kernel ran: %+v", sum)
	}
	if files, temps := sigOutputs(t, dir); len(files)+len(temps) != 0 {
		t.Errorf("files left after SIGINT of a bundle run: %v %v", files, temps)
	}

	r2 := sigStart(t, bin, args...)
	if code := r2.wait(t, 10*time.Minute); code != 0 {
		t.Fatalf("rerun: exit status %d\nstderr:\n%s", code, r2.stderrText())
	}
	sum2 := sigParseSummary(t, r2.stdout.Bytes())
	if sum2.Processed != signalKernels || sum2.Failed != 0 || sum2.NotRun != 0 {
		t.Errorf("rerun summary: %d processed, %d skipped, %d failed, %d not run; want %d processed",
			sum2.Processed, sum2.Skipped, sum2.Failed, sum2.NotRun, signalKernels)
	}
	files, temps := sigOutputs(t, dir)
	if len(temps) > 0 {
		t.Errorf("temporary files left after the rerun: %v", temps)
	}
	if !sigContains(files, "out.tar.zst") {
		t.Fatalf("no bundle after the rerun: %v", files)
	}
	b, err := bundle.OpenFile(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	refs := map[string][]byte{}
	for rel, s := range src {
		data, err := b.ReadFile(rel)
		if err != nil {
			t.Errorf("bundle: %s: %v", rel, err)
			continue
		}
		if refs[s] == nil {
			refs[s] = sigSingleGen(t, bin, s)
		}
		if !bytes.Equal(data, refs[s]) {
			t.Errorf("bundle: %s differs from the single-file gen of %s", rel, s)
		}
	}
}

func sigContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCancelledRunLeaksNoGoroutines cancels batch.Run while kernels are in
// flight, in directory and bundle mode, and requires every goroutine it
// started to be gone once it returns.
func TestCancelledRunLeaksNoGoroutines(t *testing.T) {
	obj, err := bpfobj.Open(signalObject)
	if err != nil {
		t.Fatal(err)
	}
	plan := btfgen.NewPlan([]*bpfobj.Object{obj})
	tree, _ := signalTree(t)
	for _, output := range []string{"out", "out.tar.zst"} {
		t.Run(output, func(t *testing.T) {
			before := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sum, err := batch.Run(ctx, plan, batch.Options{
				Input: tree, Output: filepath.Join(t.TempDir(), output), Jobs: 2, Version: "test",
				Progress: func(ev batch.Event) {
					if ev.Done == 2 {
						cancel()
					}
				},
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v, want context.Canceled", err)
			}
			if sum == nil || sum.NotRun == 0 {
				t.Errorf("summary %+v: nothing left unrun", sum)
			}
			var n int
			for range 200 {
				if n = runtime.NumGoroutine(); n <= before {
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
			buf := make([]byte, 1<<20)
			t.Errorf("goroutines: %d before, %d after the cancelled run\n%s", before, n, buf[:runtime.Stack(buf, true)])
		})
	}
}
