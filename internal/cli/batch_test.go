package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/btftool/btftool/internal/testfs"
	"github.com/btftool/btftool/pkg/batch"
	bundlepkg "github.com/btftool/btftool/pkg/bundle"
	"github.com/btftool/btftool/pkg/kbtf"
)

// batchTestIO returns fake streams.
func batchTestIO(tty bool) (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, ErrTTY: tty}, &out, &errOut
}

// batchTree builds a btfhub-style tree of raw kernel BTFs, decompressed
// from testdata, and returns it.
func batchTree(tb testing.TB, arches ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, rel := range []string{
		"debian/12/arm64/6.1.0-50-arm64.btf.tar.xz",
		"debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz",
	} {
		if len(arches) > 0 && !strings.Contains(rel, "/"+arches[0]+"/") {
			continue
		}
		data, _, err := kbtf.ReadFile(filepath.Join("../../testdata/kernels", rel), nil)
		if err != nil {
			tb.Fatal(err)
		}
		p := filepath.Join(dir, strings.TrimSuffix(rel, ".tar.xz"))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

var batchTestObjects = []string{"../../testdata/bpf/execsnoop.bpf.o", "../../testdata/bpf/vfs.bpf.o"}

func TestGenDirectoryMode(t *testing.T) {
	in := batchTree(t)
	bad := filepath.Join(in, "debian/12/x86_64/0.0-bad.btf")
	for _, tc := range []struct {
		name     string
		args     []string
		bad      bool
		status   int
		files    []string
		stderr   []string // substrings
		noStderr bool
	}{
		{name: "tree", status: 0,
			files:  []string{"debian/12/arm64/6.1.0-50-arm64.btf", "debian/12/x86_64/6.1.0-56-amd64.btf"},
			stderr: []string{"2/2 kernels (100%)", "2 kernel(s): 2 processed, 0 skipped, 0 failed"}},
		{name: "arch filter", args: []string{"--arch", "aarch64"}, status: 0,
			files:  []string{"debian/12/arm64/6.1.0-50-arm64.btf"},
			stderr: []string{"1 kernel(s): 1 processed", "(1 filtered out)"}},
		{name: "exclude", args: []string{"--exclude", "*/*/arm64"}, status: 0,
			files: []string{"debian/12/x86_64/6.1.0-56-amd64.btf"}},
		{name: "quiet", args: []string{"-q"}, status: 0, noStderr: true,
			files: []string{"debian/12/arm64/6.1.0-50-arm64.btf", "debian/12/x86_64/6.1.0-56-amd64.btf"}},
		{name: "bad kernel", bad: true, status: ExitNegative,
			files:  []string{"debian/12/arm64/6.1.0-50-arm64.btf", "debian/12/x86_64/6.1.0-56-amd64.btf"},
			stderr: []string{"FAILED debian/12/x86_64/0.0-bad.btf", "3 kernel(s): 2 processed, 0 skipped, 1 failed"}},
		{name: "bad kernel fail-fast", bad: true, args: []string{"--fail-fast", "-j", "1", "--include", "debian/12/x86_64"}, status: ExitNegative,
			stderr: []string{"FAILED debian/12/x86_64/0.0-bad.btf", "1 not run"}},
		{name: "bad pattern", args: []string{"--include", "["}, status: ExitBadInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.bad {
				if err := os.WriteFile(bad, []byte("garbage"), 0o644); err != nil {
					t.Fatal(err)
				}
				defer os.Remove(bad)
			}
			io, _, errOut := batchTestIO(false)
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"gen", "min_core_btf", in, out}, batchTestObjects...)
			if got := run(&Factory{IO: io}, append(args, tc.args...)); got != tc.status {
				t.Fatalf("status %d, want %d; stderr:\n%s", got, tc.status, errOut)
			}
			var got []string
			for _, f := range tc.files {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Error(err)
				}
			}
			filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && d.Name() != batch.ManifestName {
					rel, _ := filepath.Rel(out, p)
					got = append(got, filepath.ToSlash(rel))
				}
				return nil
			})
			if tc.status != ExitBadInput && strings.Join(got, " ") != strings.Join(tc.files, " ") {
				t.Errorf("outputs %v, want %v", got, tc.files)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errOut.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
			if tc.noStderr && errOut.Len() > 0 {
				t.Errorf("stderr with -q:\n%s", errOut)
			}
		})
	}
}

func TestGenDirectoryModeJSON(t *testing.T) {
	in := batchTree(t)
	io, out, _ := batchTestIO(false)
	bundle := filepath.Join(t.TempDir(), "b.tar.xz")
	args := append([]string{"gen", "min_core_btf", "-o", "json", "-q", in, bundle}, batchTestObjects...)
	if got := run(&Factory{IO: io}, args); got != 0 {
		t.Fatalf("status %d", got)
	}
	var sum batch.Summary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if !sum.Bundle || sum.Processed != 2 || len(sum.Kernels) != 2 || len(sum.Objects) != 2 || sum.BundleBytes == 0 {
		t.Errorf("summary %+v", sum)
	}
	b, err := bundlepkg.OpenFile(bundle, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Match(bundlepkg.Target{Release: "6.1.0-56-amd64", Machine: "amd64"}); err != nil {
		t.Error(err)
	}
}

func TestGenSingleFileRejectsDirectoryFlags(t *testing.T) {
	io, _, errOut := batchTestIO(false)
	args := append([]string{"gen", "min_core_btf", "--jobs", "3", "../../testdata/kernels/debian/12/arm64/6.1.0-50-arm64.btf.tar.xz", filepath.Join(t.TempDir(), "o.btf")}, batchTestObjects...)
	if got := run(&Factory{IO: io}, args); got != ExitBadInput || !strings.Contains(errOut.String(), "--jobs: only when INPUT is a directory") {
		t.Errorf("status %d, stderr %s", got, errOut)
	}
}

func TestBatchProgress(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tty    bool
		quiet  bool
		want   string
		absent string
	}{
		{name: "plain", want: "btftool: 2/2 kernels (100%)", absent: "\r"},
		{name: "tty", tty: true, want: "kernels", absent: "2/2 kernels (100%)"},
		{name: "quiet", quiet: true, absent: "kernel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			io, _, errOut := batchTestIO(tc.tty)
			_, err := runBatchEngine(&batchRunOptions{
				IO: io, Objects: batchTestObjects, Quiet: tc.quiet, Format: "text",
				Batch: batch.Options{Input: batchTree(t), Output: filepath.Join(t.TempDir(), "o"), Jobs: 2},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(errOut.String(), tc.want) || (tc.absent != "" && strings.Contains(errOut.String(), tc.absent)) {
				t.Errorf("stderr:\n%q", errOut)
			}
		})
	}
}

func TestProgressThrottle(t *testing.T) {
	io, _, errOut := batchTestIO(false)
	now := time.Unix(1000, 0)
	p := newProgress(io, func() time.Time { return now })
	for i := 1; i <= 100; i++ {
		now = now.Add(100 * time.Millisecond)
		p.event(batch.Event{Done: i, Total: 100})
	}
	// 10 ticks of 10%, no 2 s gap: one line per 10%.
	if n := strings.Count(errOut.String(), "\n"); n != 10 {
		t.Errorf("%d lines:\n%s", n, errOut)
	}
	if !strings.Contains(errOut.String(), "btftool: 50/100 kernels (50%), 10.0 kernels/s, ETA 5s") {
		t.Errorf("stderr:\n%s", errOut)
	}
}

func TestBatchCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	io, _, _ := batchTestIO(false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	_, err := runBatchEngine(&batchRunOptions{
		IO: io, Objects: batchTestObjects, Format: "text", Context: ctx,
		Batch: batch.Options{Input: batchTree(t), Output: out},
	})
	if exitCode(err) != ExitInterrupted || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("err %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 0 {
		t.Errorf("files left: %v", ents)
	}
	for i := 0; i < 100 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d before, %d after", before, n)
	}
}

// writeConfig writes a config file and returns its path.
func writeConfig(tb testing.TB, name, content string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// parseBatch runs "batch ARGS" up to the run function and returns the
// resolved options.
func parseBatch(tb testing.TB, args ...string) (*BatchOptions, error) {
	tb.Helper()
	io, _, _ := batchTestIO(false)
	var got *BatchOptions
	cmd := NewCmdBatch(&Factory{IO: io}, func(o *BatchOptions) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.ErrOut)
	cmd.SetErr(io.ErrOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return got, err
}

const twoJobs = `jobs:
  - name: one
    objects: [a/*.bpf.o]
    input: kernels
    output: out.tar.zst
    jobs: 3
    force: false
  - name: two
    objects: /abs/x.bpf.o
    input: /abs/kernels
    output: /abs/out
    arch: x86_64
    include: ["ubuntu/*"]
    exclude: ["*/*/*/4.*"]
    fail-fast: true
    verify: true
`

func TestBatchConfig(t *testing.T) {
	cfg := writeConfig(t, "btftool.yaml", twoJobs)
	dir := filepath.Dir(cfg)
	opts, err := parseBatch(t, "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []BatchJob{
		{Name: "one", Objects: []string{filepath.Join(dir, "a/*.bpf.o")}, Input: filepath.Join(dir, "kernels"), Output: filepath.Join(dir, "out.tar.zst"), Workers: 3},
		{Name: "two", Objects: []string{"/abs/x.bpf.o"}, Input: "/abs/kernels", Output: "/abs/out", Arch: []string{"x86_64"},
			Include: []string{"ubuntu/*"}, Exclude: []string{"*/*/*/4.*"}, FailFast: true, Verify: true},
	}
	if g, w := jsonString(t, opts.Jobs), jsonString(t, want); g != w {
		t.Errorf("jobs\n%s\nwant\n%s", g, w)
	}
	if opts.ConfigFile != cfg {
		t.Errorf("config file %s", opts.ConfigFile)
	}
	// Selecting jobs by name.
	opts, err = parseBatch(t, "--config", cfg, "two")
	if err != nil || len(opts.Jobs) != 1 || opts.Jobs[0].Name != "two" {
		t.Errorf("selected %+v, %v", opts, err)
	}
	if _, err := parseBatch(t, "--config", cfg, "three"); exitCode(err) != ExitBadInput || !strings.Contains(err.Error(), `no job "three"`) {
		t.Errorf("unknown job: %v", err)
	}
}

func jsonString(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestBatchPrecedence checks flag > environment > file. It sets
// environment variables, so it does not run in parallel.
func TestBatchPrecedence(t *testing.T) {
	cfg := writeConfig(t, "c.yaml", twoJobs)
	for _, tc := range []struct {
		name     string
		env      map[string]string
		args     []string
		workers  [2]int
		force    [2]bool
		failFast [2]bool
		quiet    bool
		err      string
	}{
		{name: "file", workers: [2]int{3, 0}, failFast: [2]bool{false, true}},
		{name: "env beats file", env: map[string]string{"BTFTOOL_JOBS": "5", "BTFTOOL_FAIL_FAST": "false", "BTFTOOL_FORCE": "1", "BTFTOOL_QUIET": "true"},
			workers: [2]int{5, 5}, force: [2]bool{true, true}, quiet: true},
		{name: "flag beats env", env: map[string]string{"BTFTOOL_JOBS": "5", "BTFTOOL_FAIL_FAST": "false"}, args: []string{"-j", "7", "--fail-fast"},
			workers: [2]int{7, 7}, failFast: [2]bool{true, true}},
		{name: "flag false beats env true", env: map[string]string{"BTFTOOL_FORCE": "true"}, args: []string{"--force=false"},
			workers: [2]int{3, 0}, failFast: [2]bool{false, true}},
		{name: "config from env", env: map[string]string{"BTFTOOL_CONFIG": cfg}, args: []string{"--config="},
			err: "no config file"},
		{name: "bad env value", env: map[string]string{"BTFTOOL_JOBS": "many"}, err: `BTFTOOL_JOBS: invalid value "many"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := append([]string{"--config", cfg}, tc.args...)
			if tc.name == "config from env" {
				// --config= given empty on the command line beats the
				// environment, and then nothing is found in the
				// (empty) working directory and XDG home.
				t.Chdir(t.TempDir())
				t.Setenv("XDG_CONFIG_HOME", t.TempDir())
				args = tc.args
			}
			opts, err := parseBatch(t, args...)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, j := range opts.Jobs {
				if j.Workers != tc.workers[i] || j.Force != tc.force[i] || j.FailFast != tc.failFast[i] {
					t.Errorf("job %s: workers %d force %v fail-fast %v, want %d %v %v", j.Name, j.Workers, j.Force, j.FailFast, tc.workers[i], tc.force[i], tc.failFast[i])
				}
			}
			if opts.Quiet != tc.quiet {
				t.Errorf("quiet %v", opts.Quiet)
			}
		})
	}
}

func TestBatchConfigSearch(t *testing.T) {
	cwd, xdg := t.TempDir(), t.TempDir()
	t.Chdir(cwd)
	t.Setenv("XDG_CONFIG_HOME", xdg)
	t.Setenv("BTFTOOL_CONFIG", "")
	if _, err := parseBatch(t); err == nil || !strings.Contains(err.Error(), "no config file") {
		t.Fatalf("err %v", err)
	}
	xdgCfg := filepath.Join(xdg, "btftool", "config.yaml")
	os.MkdirAll(filepath.Dir(xdgCfg), 0o755)
	os.WriteFile(xdgCfg, []byte(twoJobs), 0o644)
	if opts, err := parseBatch(t); err != nil || opts.ConfigFile != xdgCfg {
		t.Fatalf("%+v, %v", opts, err)
	}
	os.WriteFile(filepath.Join(cwd, "btftool.yaml"), []byte(twoJobs), 0o644)
	if opts, err := parseBatch(t); err != nil || opts.ConfigFile != "btftool.yaml" {
		t.Fatalf("%+v, %v", opts, err)
	}
	t.Setenv("BTFTOOL_CONFIG", xdgCfg)
	if opts, err := parseBatch(t); err != nil || opts.ConfigFile != xdgCfg {
		t.Fatalf("env: %+v, %v", opts, err)
	}
}

func TestBatchConfigErrors(t *testing.T) {
	const job = "  - name: a\n    objects: [x.o]\n    input: k\n    output: o\n"
	for _, tc := range []struct {
		name, file, content string
		want                string // substring of the error, with FILE for the path
	}{
		{"unknown job key", "c.yaml", "jobs:\n" + job + "    objcts: [y.o]\n", "FILE:6: job a: objcts: unknown key (known: name, objects, input, output, arch, include, exclude, jobs, force, fail-fast, verify, modules)"},
		{"unknown key of a job without a name", "c.yaml", "jobs:\n  - objcts: [y.o]\n", "FILE:2: jobs[0]: objcts: unknown key"},
		{"unknown top key", "c.yaml", "verbose: true\njobs:\n" + job, "FILE:1: verbose: unknown key (known: jobs, gen, batch, verify, inspect, diff, select)"},
		{"unknown nested top key", "c.yaml", "jobs:\n" + job + "cli:\n  jobs: 3\n", "FILE:6: cli: unknown key"},
		{"unknown command section key", "c.yaml", "jobs:\n" + job + "batch:\n  jobz: 3\n", "FILE:7: batch.jobz: unknown key (known: quiet, output)"},
		{"bad command section value", "c.yaml", "jobs:\n" + job + "batch:\n  output: yaml\n", `FILE:7: batch.output: invalid value "yaml": want text or json`},
		{"bad jobs value", "c.yaml", "jobs:\n" + job + "    jobs: two\n", "FILE:6: job a: jobs: invalid value two: want a whole number, 0 or more"},
		{"negative jobs", "c.yaml", "jobs:\n" + job + "    jobs: -1\n", "FILE:6: job a: jobs: invalid value -1"},
		{"bad bool", "c.yaml", "jobs:\n" + job + "    force: yes please\n", "FILE:6: job a: force: invalid value yes please: want true or false"},
		{"bad list", "c.yaml", "jobs:\n" + job + "    arch: {a: 1}\n", "FILE:6: job a: arch: invalid value (a mapping): want a list of strings"},
		{"bad arch", "c.yaml", "jobs:\n" + job + "    arch: [x86_64, sparc]\n", `FILE:6: job a: arch: invalid value "sparc": want x86_64 (amd64, x86-64), arm64 (aarch64), s390x, ppc64le (ppc64el), riscv64 or loongarch64`},
		{"bad pattern", "c.yaml", "jobs:\n" + job + "    include: '['\n", `FILE:6: job a: include: invalid pattern "[": syntax error in pattern`},
		{"second job", "c.yaml", "jobs:\n" + job + strings.Replace(job, "name: a", "name: b", 1) + "    include: [x, {y: 1}]\n", "FILE:10: job b: include: invalid value (a mapping): want a string in the list"},
		{"missing key", "c.yaml", "jobs:\n  - name: a\n    objects: [x.o]\n    input: k\n", "FILE:2: job a: missing required key output"},
		{"duplicate name", "c.yaml", "jobs:\n" + job + job, `FILE:6: job a: name: duplicate job name "a"`},
		{"key given twice", "c.yaml", "jobs:\n" + job + "    input: k2\n", "FILE:6: job a: input: given twice (first on line 4)"},
		{"no jobs", "c.yaml", "jobs: []\n", "FILE:1: jobs: empty"},
		{"jobs not a list", "c.yaml", "jobs: 3\n", "FILE:1: jobs: not a list"},
		{"syntax", "c.yaml", "jobs: [\n", "FILE: yaml: line"},
		{"toml unknown key", "c.toml", "[[jobs]]\nname = \"a\"\nobjects = [\"x.o\"]\ninput = \"k\"\noutput = \"o\"\nforse = true\n", "FILE:6: job a: forse: unknown key"},
		{"toml syntax", "c.toml", "[[jobs]]\nname = \"a\"\nobjects = [\"x.o\"\n", "FILE: toml: line 4: expected character ] but the document ended here"},
		{"json bad value", "c.json", "{\"jobs\": [{\"name\": \"a\", \"objects\": [\"x.o\"], \"input\": \"k\",\n \"output\": \"o\", \"jobs\": 1.5}]}", "FILE:2: job a: jobs: invalid value 1.5"},
		{"json syntax", "c.json", "{\"jobs\": [\n{\"name\": }]}", "FILE: line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeConfig(t, tc.file, tc.content)
			_, err := parseBatch(t, "--config", cfg)
			want := strings.ReplaceAll(tc.want, "FILE", cfg)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err %v, want %q", err, want)
			}
			if exitCode(err) != ExitBadInput {
				t.Errorf("exit status %d", exitCode(err))
			}
		})
	}
}

func TestBatchConfigFormats(t *testing.T) {
	for name, content := range map[string]string{
		"c.toml": "[[jobs]]\nname = \"a\"\nobjects = [\"x.o\"]\ninput = \"k\"\noutput = \"o.tar.gz\"\njobs = 2\nfail-fast = true\n",
		"c.json": `{"jobs": [{"name": "a", "objects": ["x.o"], "input": "k", "output": "o.tar.gz", "jobs": 2, "fail-fast": true}]}`,
	} {
		cfg := writeConfig(t, name, content)
		opts, err := parseBatch(t, "--config", cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if j := opts.Jobs[0]; j.Name != "a" || j.Workers != 2 || !j.FailFast || j.Output != filepath.Join(filepath.Dir(cfg), "o.tar.gz") {
			t.Errorf("%s: %+v", name, j)
		}
	}
}

// TestShippedConfigs runs each config of configs/ as a checkout of the
// repository would (its paths are taken from its directory, ../testdata):
// every job succeeds and writes its output. The user guide's example is
// configs/btftool.yaml, word for word.
func TestShippedConfigs(t *testing.T) {
	paths, err := filepath.Glob("../../configs/*.yaml")
	if err != nil || len(paths) < 3 {
		t.Fatalf("shipped configs: %v %v", paths, err)
	}
	testdata, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			checkout := t.TempDir()
			if err := os.Symlink(testdata, filepath.Join(checkout, "testdata")); err != nil {
				t.Fatal(err)
			}
			copyFile(t, p, filepath.Join(checkout, "configs", filepath.Base(p)))
			t.Chdir(checkout)
			io, out, errOut := batchTestIO(false)
			if code := runWith(io, "batch", "--config", "configs/"+filepath.Base(p), "-q", "-o", "json"); code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var res struct{ Jobs []batch.Summary }
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			for _, j := range res.Jobs {
				if j.Processed+j.Skipped == 0 || j.Failed > 0 {
					t.Errorf("%s: %d processed, %d failed", j.Output, j.Processed, j.Failed)
				}
				if _, err := os.Stat(j.Output); err != nil {
					t.Error(err)
				}
				if abs, _ := filepath.Abs(j.Output); !strings.HasPrefix(abs, filepath.Join(checkout, "build")+string(filepath.Separator)) {
					t.Errorf("output %s outside the checkout's build/", j.Output)
				}
			}
		})
	}
	guide, err := os.ReadFile("../../docs/user-guide.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../../configs/btftool.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(guide), "```yaml\n"+string(example)+"```") {
		t.Error("docs/user-guide.md does not show configs/btftool.yaml as it is")
	}
}

func TestBatchRun(t *testing.T) {
	in := batchTree(t)
	objs, _ := filepath.Abs("../../testdata/bpf")
	cfg := writeConfig(t, "btftool.yaml", `jobs:
  - name: dir
    objects: [`+objs+`/execsnoop.bpf.o, `+objs+`/vfs*.bpf.o]
    input: `+in+`
    output: out
    verify: true
  - name: bundle
    objects: [`+objs+`/execsnoop.bpf.o]
    input: `+in+`
    output: out.tar.gz
    arch: arm64
`)
	io, out, errOut := batchTestIO(false)
	if got := run(&Factory{IO: io}, []string{"batch", "--config", cfg, "-o", "json"}); got != 0 {
		t.Fatalf("status %d:\n%s", got, errOut)
	}
	var res struct {
		Config string
		Jobs   []struct {
			Name      string
			Processed int
			Bundle    bool
		}
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if res.Config != cfg || len(res.Jobs) != 2 || res.Jobs[0].Processed != 2 || res.Jobs[1].Processed != 1 || !res.Jobs[1].Bundle {
		t.Errorf("%+v", res)
	}
	if strings.Contains(errOut.String(), "verify") {
		t.Errorf("verify: true should verify silently when outputs are equivalent; stderr:\n%s", errOut)
	}
	for _, p := range []string{"out/debian/12/x86_64/6.1.0-56-amd64.btf", "out.tar.gz"} {
		if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), p)); err != nil {
			t.Error(err)
		}
	}
	// Unchanged: the second run skips everything.
	io, _, errOut = batchTestIO(false)
	if got := run(&Factory{IO: io}, []string{"batch", "--config", cfg, "dir"}); got != 0 || !strings.Contains(errOut.String(), "2 kernel(s): 0 processed, 2 skipped") {
		t.Errorf("status %d:\n%s", got, errOut)
	}
	// Objects that match nothing: bad input.
	io, _, errOut = batchTestIO(false)
	bad := writeConfig(t, "c.yaml", "jobs:\n  - name: a\n    objects: [nothing*.o]\n    input: "+in+"\n    output: o\n")
	if got := run(&Factory{IO: io}, []string{"batch", "--config", bad}); got != ExitBadInput || !strings.Contains(errOut.String(), "no such file") {
		t.Errorf("status %d:\n%s", got, errOut)
	}
}

// genTreeJSON runs gen min_core_btf on a tree with -o json and returns the
// status, the summary and stderr.
func genTreeJSON(tb testing.TB, args ...string) (int, batch.Summary, string) {
	tb.Helper()
	io, out, errOut := batchTestIO(false)
	code := run(&Factory{IO: io}, append([]string{"gen", "min_core_btf", "-q", "-o", "json"}, args...))
	var sum batch.Summary
	if code == ExitOK {
		if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
			tb.Fatalf("%v:\n%s", err, out)
		}
	}
	return code, sum, errOut.String()
}

// TestGenTreeNothingLost: outputs inside the input tree are not read back
// as kernels, so a rerun sees the same kernels; an output that is the tree,
// a kernel or an object, or that would replace a file of another kind, or
// whose name promises another format, is refused before any work, and no
// input changes.
func TestGenTreeNothingLost(t *testing.T) {
	tree := batchTree(t)
	objs := []string{copyFile(t, batchTestObjects[0], filepath.Join(tree, "objs", "a.bpf.o"))}
	kernel := filepath.Join(tree, "debian/12/x86_64/6.1.0-56-amd64.btf")
	inputs := testfs.ReadTree(t, tree, nil)

	// Reruns into an output directory and a bundle inside the tree.
	for _, out := range []string{filepath.Join(tree, "min"), filepath.Join(tree, "min.tar.xz"), filepath.Join(tree, "debian", "min")} {
		for run := range 3 {
			args := append([]string{tree, out}, objs...)
			if run == 2 {
				args = append(args, "--force")
			}
			code, sum, stderr := genTreeJSON(t, args...)
			if code != ExitOK || sum.Total != 2 || sum.Processed+sum.Skipped != 2 {
				t.Errorf("%s, run %d: exit %d, %d kernels (%d processed, %d skipped), want 2: %s", out, run+1, code, sum.Total, sum.Processed, sum.Skipped, stderr)
			}
		}
	}
	if changed := testfs.Changed(inputs, testfs.ReadTree(t, tree, func(rel string) bool { _, ok := inputs[rel]; return ok })); len(changed) > 0 {
		t.Errorf("inputs changed: %v", changed)
	}

	other := t.TempDir()
	copyFile(t, testKernel, filepath.Join(other, "kernel.btf.tar.xz"))
	os.MkdirAll(filepath.Join(other, "notbtf", "debian/12/x86_64"), 0o755)
	os.WriteFile(filepath.Join(other, "notbtf", "debian/12/x86_64/6.1.0-56-amd64.btf"), []byte("my notes\n"), 0o644)
	os.WriteFile(filepath.Join(other, "file"), []byte("a file\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"output is the tree", []string{tree, tree}, "output " + tree + " is also input"},
		{"output is the tree by a symbolic link", []string{tree, symlink(t, tree)}, "is the same file as input " + tree},
		{"output is a kernel", []string{kernel, kernel}, "OUTPUT " + kernel + " is also INPUT"},
		{"output is an object", []string{tree, objs[0]}, "a.bpf.o names a file, but the outputs of a tree are a directory or a .tar.xz, .tar.gz or .tar.zst bundle"},
		{"bzip2 bundle", []string{tree, filepath.Join(other, "x.tar.bz2")}, "a .tar.bz2 name, but a bundle is a .tar.xz, .tar.gz or .tar.zst file and anything else a directory: name the bundle x.tar.xz"},
		{"zip bundle", []string{tree, filepath.Join(other, "x.zip")}, "a .zip name"},
		{"btf name", []string{tree, filepath.Join(other, "x.btf")}, "names a BTF file"},
		{"bundle replacing a kernel archive", []string{tree, filepath.Join(other, "kernel.btf.tar.xz")}, "exists and is xz-compressed data, not a bundle btftool wrote (force replaces it)"},
		{"output directory is a file", []string{tree, filepath.Join(other, "file")}, "exists and is a file of another kind, not a directory"},
		{"kernel output replacing a file that is not BTF", []string{tree, filepath.Join(other, "notbtf")}, "6.1.0-56-amd64.btf exists and is a file of another kind, not BTF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, others := testfs.ReadTree(t, tree, nil), testfs.ReadTree(t, other, nil)
			code, _, stderr := genTreeJSON(t, append(tc.args, objs...)...)
			if code != ExitBadInput || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and one line saying %q", code, stderr, tc.want)
			}
			if changed := testfs.Changed(before, testfs.ReadTree(t, tree, nil)); len(changed) > 0 {
				t.Errorf("tree changed: %v", changed)
			}
			if changed := testfs.Changed(others, testfs.ReadTree(t, other, nil)); len(changed) > 0 {
				t.Errorf("files changed: %v", changed)
			}
		})
	}

	// A bundle in a directory that does not exist: its parents are made.
	nested := filepath.Join(other, "new", "dir", "b.tar.gz")
	if code, sum, stderr := genTreeJSON(t, append([]string{tree, nested}, objs...)...); code != ExitOK || sum.Processed != 2 {
		t.Errorf("bundle in a new directory: exit %d, %+v: %s", code, sum, stderr)
	}
	// --force replaces a file that is not a bundle, and kernel outputs that
	// are not BTF.
	for _, out := range []string{filepath.Join(other, "kernel.btf.tar.xz"), filepath.Join(other, "notbtf")} {
		if code, _, stderr := genTreeJSON(t, append([]string{tree, out, "--force"}, objs...)...); code != ExitOK {
			t.Errorf("%s with --force: exit %d: %s", out, code, stderr)
		}
	}
}

// symlink makes a symbolic link to target in a new directory and returns it.
func symlink(tb testing.TB, target string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "link")
	if err := os.Symlink(target, p); err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestBatchNestedTrees: jobs whose trees nest each see the same kernels on
// every run, whatever the other jobs wrote; jobs whose outputs collide or
// that read another job's output are refused, naming the jobs.
func TestBatchNestedTrees(t *testing.T) {
	tree := batchTree(t)
	objs, _ := filepath.Abs("../../testdata/bpf")
	cfg := writeConfig(t, "btftool.yaml", `jobs:
  - name: all
    objects: [`+objs+`/execsnoop.bpf.o]
    input: `+tree+`
    output: `+tree+`/min-all
  - name: debian12
    objects: [`+objs+`/execsnoop.bpf.o]
    input: `+tree+`/debian/12
    output: `+tree+`/debian/12/min.tar.gz
  - name: x86
    objects: [`+objs+`/vfs.bpf.o]
    input: `+tree+`/debian
    output: `+tree+`/debian/12/x86_64/min
    force: true
`)
	inputs := testfs.ReadTree(t, tree, nil)
	for run := range 2 {
		io, out, errOut := batchTestIO(false)
		if code := runWith(io, "batch", "--config", cfg, "-q", "-o", "json"); code != ExitOK {
			t.Fatalf("run %d: exit %d: %s", run+1, code, errOut)
		}
		var res struct{ Jobs []batch.Summary }
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		for i, s := range res.Jobs {
			if s.Total != 2 {
				t.Errorf("run %d, job %d: %d kernels, want 2", run+1, i, s.Total)
			}
		}
	}
	if changed := testfs.Changed(inputs, testfs.ReadTree(t, tree, func(rel string) bool { _, ok := inputs[rel]; return ok })); len(changed) > 0 {
		t.Errorf("inputs changed: %v", changed)
	}
	for _, tc := range []struct{ name, config, want string }{
		{"same output", `jobs:
  - {name: a, objects: [` + objs + `/vfs.bpf.o], input: ` + tree + `, output: out}
  - {name: b, objects: [` + objs + `/vfs.bpf.o], input: ` + tree + `/debian, output: ./out}
`, "jobs a and b both write"},
		{"input is another job's output", `jobs:
  - {name: a, objects: [` + objs + `/vfs.bpf.o], input: ` + tree + `, output: ` + tree + `/min-all}
  - {name: b, objects: [` + objs + `/vfs.bpf.o], input: ` + tree + `/min-all/debian, output: out-b}
`, "job b reads job a's output"},
		{"output is an input", `jobs:
  - {name: a, objects: [` + objs + `/vfs.bpf.o], input: ` + tree + `, output: ` + tree + `}
`, "job a: output " + tree + " is also input"},
	} {
		io, _, errOut := batchTestIO(false)
		if code := runWith(io, "batch", "--config", writeConfig(t, "c.yaml", tc.config)); code != ExitBadInput || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tc.name, code, errOut, tc.want)
		}
	}
}

// runWith runs btftool with io and args and returns the status.
func runWith(io *IOStreams, args ...string) int { return run(&Factory{IO: io}, args) }

// TestBatchJobErrors: problems found when a job runs name the config file,
// the key's line, the job and the key; a filter that leaves no kernel says
// so.
func TestBatchJobErrors(t *testing.T) {
	tree := batchTree(t)
	objs, _ := filepath.Abs("../../testdata/bpf")
	for _, tc := range []struct{ name, config, want string }{
		{"missing input", "jobs:\n  - name: a\n    objects: [" + objs + "/vfs.bpf.o]\n    input: nosuchdir\n    output: out\n",
			"c.yaml:4: job a: input: stat DIR/nosuchdir: no such file or directory"},
		{"objects match nothing", "jobs:\n  - name: a\n    objects: [nothing*.o]\n    input: " + tree + "\n    output: out\n",
			"c.yaml:3: job a: objects: DIR/nothing*.o: no such file"},
		{"filtered out", "jobs:\n  - name: a\n    objects: [" + objs + "/vfs.bpf.o]\n    input: " + tree + "\n    output: out\n    arch: s390x\n",
			"job a: " + tree + ": no kernel BTF files: all 2 left out by the filters (arch [s390x]"},
	} {
		cfg := writeConfig(t, "c.yaml", tc.config)
		io, _, errOut := batchTestIO(false)
		want := strings.ReplaceAll(tc.want, "DIR", filepath.Dir(cfg))
		if code := runWith(io, "batch", "--config", cfg, "-q"); code != ExitBadInput || !strings.Contains(errOut.String(), want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tc.name, code, errOut, want)
		}
	}
}
