package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// configFuzzExts are the config formats FuzzConfig writes, chosen by the
// input's first byte; readConfig picks its parser from the extension.
var configFuzzExts = []string{".yaml", ".toml", ".json", ".yml"}

// FuzzConfig feeds arbitrary bytes to the batch config loader as a YAML,
// TOML or JSON file (the first byte picks the format): readJobs must
// return jobs or an input error naming the file (printed on one line by
// the command), never panic; the jobs it returns have every required key,
// with paths made absolute.
func FuzzConfig(f *testing.F) {
	seeds := []struct {
		ext  byte
		text string
	}{
		{0, "jobs:\n  - name: debian\n    objects: [a.bpf.o, b.bpf.o]\n    input: kernels\n    output: out\n    arch: [x86_64]\n    include: ['debian/*']\n    exclude: '*/11/*'\n    jobs: 2\n    force: true\n    fail-fast: false\n    verify: true\n"},
		{0, "jobs:\n  - name: a\n    objects: x.o\n    input: /in\n    output: /out.tar.zst\n  - name: a\n    objects: y.o\n    input: in\n    output: o\n"},
		{0, "jobs: 3\n"},
		{0, "jobs: []\nother: 1\n"},
		{0, "jobs:\n  - 7\n  - {name: b}\n"},
		{0, "jobs:\n  - name: n\n    objects: [1, '']\n    input: i\n    output: o\n    jobs: -1\n    bogus: x\n"},
		{0, "jobs: [{name: &a n, objects: *a, input: *a, output: *a}]\n"},
		{0, "JOBS:\n  - NAME: n\n    Objects: [o]\n    Input: i\n    Output: o\n"},
		{1, "[[jobs]]\nname = \"debian\"\nobjects = [\"a.bpf.o\"]\ninput = \"kernels\"\noutput = \"out\"\njobs = 4\nverify = true\n"},
		{1, "[[jobs]]\nname = 1\n[jobs.x]\n"},
		{1, "jobs = \"x\"\n[cli]\njobs = 3\n"},
		{2, `{"jobs":[{"name":"debian","objects":["a.bpf.o"],"input":"kernels","output":"out","jobs":2.0,"force":false}]}`},
		{2, `{"jobs":[{"name":"n","objects":"o","input":"i","output":"o","jobs":1e300}]}`},
		{2, `{"jobs":{"name":"n"}}`},
		{2, `[1,2,3]`},
		{2, `{"jobs":[{"name":"n","objects":["o"],"input":"i","output":"o","jobs":2.5}]}`},
	}
	for _, s := range seeds {
		f.Add(append([]byte{s.ext}, s.text...))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		file := filepath.Join(dir, "btftool"+configFuzzExts[int(in[0])%len(configFuzzExts)])
		if err := os.WriteFile(file, in[1:], 0o644); err != nil {
			t.Fatal(err)
		}
		jobs, err := loadJobs(file)
		if err != nil {
			// The command prints errors on one line, newlines turned
			// into spaces: YAML errors may span several lines, and TOML
			// errors may quote raw bytes of the file.
			msg := err.Error()
			if !strings.HasPrefix(msg, file) {
				t.Errorf("error %q does not name the file", msg)
			}
			var ie *InputError
			if !errors.As(err, &ie) || exitCode(err) != ExitBadInput {
				t.Errorf("error %q is not an input error", msg)
			}
			if jobs != nil {
				t.Error("jobs returned with an error")
			}
			return
		}
		if len(jobs) == 0 {
			t.Fatal("no jobs and no error")
		}
		names := map[string]bool{}
		for i, j := range jobs {
			if j.Name == "" || len(j.Objects) == 0 || j.Input == "" || j.Output == "" {
				t.Errorf("jobs[%d] lacks a required key: %+v", i, j)
			}
			if names[j.Name] {
				t.Errorf("duplicate job name %q accepted", j.Name)
			}
			names[j.Name] = true
			if j.Workers < 0 {
				t.Errorf("jobs[%d]: negative jobs %d", i, j.Workers)
			}
			for _, p := range append([]string{j.Input, j.Output}, j.Objects...) {
				if !filepath.IsAbs(p) {
					t.Errorf("jobs[%d]: path %q not made absolute", i, p)
				}
			}
		}
	})
}

// TestConfigDottedKeyIsUnknown is a regression test for a gap FuzzConfig's
// exploration showed (when viper read the file): a top-level key spelled
// "jobs.<something>" passed the unknown-key check and was silently
// ignored, although unknown keys are documented to be errors.
func TestConfigDottedKeyIsUnknown(t *testing.T) {
	for name, text := range map[string]string{
		"btftool.json": `{"jobs":[{"name":"n","objects":["o"],"input":"i","output":"o"}],"jobs.extra":5}`,
		"btftool.yaml": "jobs:\n  - name: n\n    objects: [o]\n    input: i\n    output: o\njobs.extra: 5\n",
		"btftool.toml": "[[jobs]]\nname = \"n\"\nobjects = [\"o\"]\ninput = \"i\"\noutput = \"o\"\n[\"jobs.extra\"]\ny = 1\n",
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			jobs, err := loadJobs(file)
			if err == nil {
				t.Fatalf("accepted, with jobs %+v: the top-level key jobs.extra is ignored instead of reported", jobs)
			}
			if !strings.Contains(err.Error(), "unknown key") {
				t.Errorf("error %q does not report an unknown key", err)
			}
		})
	}
}

// loadJobs reads the jobs of the config file at path, as batch does.
func loadJobs(path string) ([]BatchJob, error) {
	file, err := readConfig(path, configSections[""])
	if err != nil {
		return nil, err
	}
	return file.readJobs()
}
