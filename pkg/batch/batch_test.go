package batch_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/bundle"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// testKernels are the btfhub-layout kernels of testdata/kernels.
var testKernels = []string{
	"debian/12/arm64/6.1.0-50-arm64.btf.tar.xz",
	"debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz",
	"debian/12/x86_64/6.12.117+deb12-amd64.btf.tar.xz",
}

const kernelsDir = "../../testdata/kernels"

// fixtures holds what every test shares, loaded once: the plan for
// testdata/bpf's objects, the raw BTF of each test kernel and its
// minimized BTF (the reference single-file gen output), keyed by the
// output path.
type fixtures struct {
	plan *btfgen.Plan
	raw  map[string][]byte
	ref  map[string][]byte
}

var loadFixtures = sync.OnceValues(func() (*fixtures, error) {
	paths, err := filepath.Glob("../../testdata/bpf/*.bpf.o")
	if err != nil || len(paths) == 0 {
		return nil, errors.New("no test objects")
	}
	sort.Strings(paths)
	var objs []*bpfobj.Object
	for _, p := range paths {
		o, err := bpfobj.Open(p)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	fx := &fixtures{plan: btfgen.NewPlan(objs), raw: map[string][]byte{}, ref: map[string][]byte{}}
	for _, rel := range testKernels {
		data, _, err := kbtf.ReadFile(filepath.Join(kernelsDir, rel), nil)
		if err != nil {
			return nil, err
		}
		k, err := rawbtf.Parse(data)
		if err != nil {
			return nil, err
		}
		res, err := fx.plan.Minimize(k)
		if err != nil {
			return nil, err
		}
		out := strings.TrimSuffix(rel, ".tar.xz")
		fx.raw[out], fx.ref[out] = data, res.BTF
	}
	return fx, nil
})

func getFixtures(tb testing.TB) *fixtures {
	tb.Helper()
	fx, err := loadFixtures()
	if err != nil {
		tb.Fatal(err)
	}
	return fx
}

// rawTree writes the test kernels as raw .btf files (fast to read) into a
// new directory and returns it.
func rawTree(tb testing.TB) string {
	tb.Helper()
	fx := getFixtures(tb)
	dir := tb.TempDir()
	for rel, data := range fx.raw {
		writeFile(tb, filepath.Join(dir, rel), data)
	}
	return dir
}

// xzTree copies the test kernels' .btf.tar.xz files into a new directory.
func xzTree(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, rel := range testKernels {
		data, err := os.ReadFile(filepath.Join(kernelsDir, rel))
		if err != nil {
			tb.Fatal(err)
		}
		writeFile(tb, filepath.Join(dir, rel), data)
	}
	return dir
}

func writeFile(tb testing.TB, p string, data []byte) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// files lists the regular files under dir, relative and slash-separated.
func files(tb testing.TB, dir string) []string {
	tb.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		tb.Fatal(err)
	}
	return out
}

// noTemp fails if a temporary file is left under dir.
func noTemp(tb testing.TB, dir string) {
	tb.Helper()
	for _, f := range files(tb, dir) {
		if strings.Contains(f, ".tmp-") {
			tb.Errorf("temporary file left: %s", f)
		}
	}
}

func run(tb testing.TB, opts batch.Options) (*batch.Summary, error) {
	tb.Helper()
	if opts.Jobs == 0 {
		opts.Jobs = 2
	}
	if opts.Version == "" {
		opts.Version = "test"
	}
	return batch.Run(context.Background(), getFixtures(tb).plan, opts)
}

// checkGoroutines fails if goroutines started during the test outlive it.
func checkGoroutines(tb testing.TB) {
	tb.Helper()
	before := runtime.NumGoroutine()
	tb.Cleanup(func() {
		var n int
		for range 100 {
			if n = runtime.NumGoroutine(); n <= before {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		tb.Errorf("goroutines: %d before, %d after", before, n)
	})
}

func TestRunDirectoryMatchesGen(t *testing.T) {
	checkGoroutines(t)
	fx := getFixtures(t)
	for _, tc := range []struct {
		name string
		tree func(testing.TB) string
	}{
		{"tar.xz", xzTree},
		{"raw", rawTree},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, out := tc.tree(t), filepath.Join(t.TempDir(), "out")
			sum, err := run(t, batch.Options{Input: in, Output: out})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Processed != 3 || sum.Failed != 0 || sum.Skipped != 0 || sum.Total != 3 {
				t.Errorf("summary %+v", sum)
			}
			want := []string{batch.ManifestName}
			for rel := range fx.ref {
				want = append(want, rel)
			}
			sort.Strings(want)
			if got := files(t, out); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("files %v, want %v", got, want)
			}
			var outBytes int64
			for rel, ref := range fx.ref {
				got, err := os.ReadFile(filepath.Join(out, rel))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, ref) {
					t.Errorf("%s: differs from gen's output (%d vs %d bytes)", rel, len(got), len(ref))
				}
				outBytes += int64(len(ref))
			}
			if sum.BytesOut != outBytes {
				t.Errorf("BytesOut %d, want %d", sum.BytesOut, outBytes)
			}
			if len(sum.Objects) != len(fx.plan.Objects()) {
				t.Errorf("%d object summaries, want %d", len(sum.Objects), len(fx.plan.Objects()))
			}
		})
	}
}

func TestBadKernel(t *testing.T) {
	checkGoroutines(t)
	fx := getFixtures(t)
	in := rawTree(t)
	// Sorted first, so that with one job FailFast stops before the others.
	writeFile(t, filepath.Join(in, "debian/12/arm64/0.0.0-bad.btf"), []byte("not a kernel BTF"))
	for _, tc := range []struct {
		name     string
		failFast bool
		bundle   bool
	}{
		{"continue", false, false},
		{"continue bundle", false, true},
		{"fail fast", true, false},
		{"fail fast bundle", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			if tc.bundle {
				out += ".tar.gz"
			}
			sum, err := run(t, batch.Options{Input: in, Output: out, Jobs: 1, FailFast: tc.failFast})
			if !errors.Is(err, batch.ErrKernelFailed) {
				t.Fatalf("err %v, want ErrKernelFailed", err)
			}
			if sum.Failed != 1 || sum.Total != 4 {
				t.Errorf("summary %+v", sum)
			}
			if f := sum.Failures(); len(f) != 1 || f[0].Rel != "debian/12/arm64/0.0.0-bad.btf" || f[0].Err == nil || f[0].Error == "" {
				t.Errorf("failures %+v", f)
			}
			noTemp(t, dir)
			if tc.failFast {
				if sum.NotRun < 2 {
					t.Errorf("fail-fast ran %d kernels after the failure", 3-sum.NotRun)
				}
				if _, err := os.Stat(out); tc.bundle && err == nil {
					t.Errorf("fail-fast wrote the bundle")
				}
				return
			}
			if sum.Processed != 3 {
				t.Errorf("processed %d, want 3", sum.Processed)
			}
			if tc.bundle {
				b, err := bundle.OpenFile(out, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer b.Close()
				if n := len(b.Entries()); n != 3 {
					t.Errorf("bundle has %d kernels, want 3", n)
				}
				return
			}
			for rel := range fx.ref {
				if _, err := os.Stat(filepath.Join(out, rel)); err != nil {
					t.Error(err)
				}
			}
			if _, err := os.Stat(filepath.Join(out, "debian/12/arm64/0.0.0-bad.btf")); err == nil {
				t.Error("output written for the bad kernel")
			}
		})
	}
}

func TestIncremental(t *testing.T) {
	fx := getFixtures(t)
	for _, output := range []string{"out", "out.tar.zst"} {
		t.Run(output, func(t *testing.T) {
			in := rawTree(t)
			out := filepath.Join(t.TempDir(), output)
			opts := batch.Options{Input: in, Output: out}
			snapshot := func() []byte {
				if batch.IsBundle(out) {
					data, err := os.ReadFile(out)
					if err != nil {
						t.Fatal(err)
					}
					return data
				}
				data, err := os.ReadFile(filepath.Join(out, "debian/12/x86_64/6.1.0-56-amd64.btf"))
				if err != nil {
					t.Fatal(err)
				}
				return data
			}
			const x61 = "debian/12/x86_64/6.1.0-56-amd64.btf"
			steps := []struct {
				name               string
				before             func()
				force              bool
				version            string
				processed, skipped int
			}{
				{name: "first", processed: 3},
				{name: "unchanged", skipped: 3},
				{name: "touched", before: func() {
					future := time.Now().Add(time.Hour)
					if err := os.Chtimes(filepath.Join(in, x61), future, future); err != nil {
						t.Fatal(err)
					}
				}, skipped: 3},
				{name: "content changed", before: func() {
					writeFile(t, filepath.Join(in, x61), fx.raw["debian/12/x86_64/6.12.117+deb12-amd64.btf"])
				}, processed: 1, skipped: 2},
				{name: "force", force: true, processed: 3},
				{name: "other version", version: "test2", processed: 3},
				{name: "same version", version: "test2", skipped: 3},
			}
			if !batch.IsBundle(out) {
				steps = append(steps, struct {
					name               string
					before             func()
					force              bool
					version            string
					processed, skipped int
				}{name: "output removed", version: "test2", before: func() {
					if err := os.Remove(filepath.Join(out, x61)); err != nil {
						t.Fatal(err)
					}
				}, processed: 1, skipped: 2})
			}
			var prev []byte
			for _, st := range steps {
				if st.before != nil {
					st.before()
				}
				opts.Force, opts.Version = st.force, st.version
				sum, err := run(t, opts)
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if sum.Processed != st.processed || sum.Skipped != st.skipped {
					t.Errorf("%s: processed %d skipped %d, want %d and %d", st.name, sum.Processed, sum.Skipped, st.processed, st.skipped)
				}
				cur := snapshot()
				if st.name == "unchanged" && !bytes.Equal(cur, prev) {
					t.Errorf("%s: output changed", st.name)
				}
				prev = cur
			}
			if !batch.IsBundle(out) && !bytes.Equal(prev, fx.ref["debian/12/x86_64/6.12.117+deb12-amd64.btf"]) {
				t.Error("redone output is not the new kernel's")
			}
		})
	}
}

func TestCancel(t *testing.T) {
	checkGoroutines(t)
	in := rawTree(t)
	// More kernels than workers, so some are pending at the cancellation.
	fx := getFixtures(t)
	for i := range 6 {
		writeFile(t, filepath.Join(in, "debian/12/x86_64", "6.1.0-"+string(rune('a'+i))+"-amd64.btf"), fx.raw["debian/12/x86_64/6.1.0-56-amd64.btf"])
	}
	for _, output := range []string{"out", "out.tar.xz"} {
		t.Run(output, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, output)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			events := 0
			sum, err := batch.Run(ctx, fx.plan, batch.Options{Input: in, Output: out, Jobs: 2, Version: "test",
				Progress: func(batch.Event) {
					events++
					if events == 1 {
						cancel()
					}
					time.Sleep(20 * time.Millisecond) // let workers reach their cancellation checks
				}})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v, want context.Canceled", err)
			}
			if sum.NotRun == 0 || sum.Processed+sum.Failed+sum.NotRun != sum.Total || sum.Failed != 0 {
				t.Errorf("summary %+v", sum)
			}
			noTemp(t, dir)
			if batch.IsBundle(out) {
				if got := files(t, dir); len(got) != 0 {
					t.Errorf("files left after a cancelled bundle run: %v", got)
				}
				return
			}
			// Whatever is there is complete, and recorded.
			for _, f := range files(t, out) {
				if f == batch.ManifestName {
					continue
				}
				data, err := os.ReadFile(filepath.Join(out, f))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := rawbtf.Parse(data); err != nil {
					t.Errorf("%s: %v", f, err)
				}
			}
			// The next run skips what was done.
			sum2, err := run(t, batch.Options{Input: in, Output: out})
			if err != nil {
				t.Fatal(err)
			}
			if sum2.Skipped != sum.Processed {
				t.Errorf("skipped %d, want %d", sum2.Skipped, sum.Processed)
			}
		})
	}
}

func TestCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "out")
	_, err := batch.Run(ctx, getFixtures(t).plan, batch.Options{Input: rawTree(t), Output: out})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("output created")
	}
}

func TestVerifyHook(t *testing.T) {
	fx := getFixtures(t)
	errBad := errors.New("differs")
	var mu sync.Mutex
	calls := 0
	out := filepath.Join(t.TempDir(), "out")
	sum, err := run(t, batch.Options{Input: rawTree(t), Output: out, Verify: func(full, min []byte, mods *kmod.Set, objs []*bpfobj.Object) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if len(objs) != len(fx.plan.Objects()) || len(min) >= len(full) {
			t.Errorf("verify called with %d objects, %d and %d bytes", len(objs), len(full), len(min))
		}
		if bytes.Equal(full, fx.raw["debian/12/arm64/6.1.0-50-arm64.btf"]) {
			return errBad
		}
		return nil
	}})
	if !errors.Is(err, batch.ErrKernelFailed) || calls != 3 || sum.Failed != 1 {
		t.Fatalf("err %v, %d calls, %d failed", err, calls, sum.Failed)
	}
	if f := sum.Failures(); !errors.Is(f[0].Err, errBad) {
		t.Errorf("failure %v", f[0].Err)
	}
	if _, err := os.Stat(filepath.Join(out, "debian/12/arm64/6.1.0-50-arm64.btf")); err == nil {
		t.Error("output written for a kernel that failed verification")
	}
}

func TestNoKernels(t *testing.T) {
	_, err := run(t, batch.Options{Input: t.TempDir(), Output: filepath.Join(t.TempDir(), "o")})
	if !errors.Is(err, batch.ErrNoKernels) {
		t.Fatalf("err %v", err)
	}
}

func sha256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
