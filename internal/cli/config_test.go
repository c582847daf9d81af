package cli

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestConfigSectionsMatchCommands: the config file has a section for every
// command (and group) and for nothing else.
func TestConfigSectionsMatchCommands(t *testing.T) {
	io, _, _ := testIO()
	root := NewCmdRoot(&Factory{IO: io})
	var walk func(c *cobra.Command, path string)
	walk = func(c *cobra.Command, path string) {
		var want []string
		if path == "" {
			want = append(want, "jobs")
		}
		for _, sub := range c.Commands() {
			if sub.Name() == "version" || sub.Name() == "completion" || sub.Name() == "help" {
				continue
			}
			want = append(want, sub.Name())
			if sub.HasSubCommands() {
				walk(sub, strings.TrimPrefix(path+"."+sub.Name(), "."))
			}
		}
		got := slices.Clone(configSections[path])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("configSections[%q] = %v, want %v", path, got, want)
		}
	}
	walk(root, "")
}

// TestConfigFormats: YAML, JSON and TOML files give the same settings,
// with the lines of their keys.
func TestConfigFormats(t *testing.T) {
	for name, text := range map[string]string{
		"c.yaml": "gen:\n  min_core_btf:\n    jobs: 3\n    arch: [x86_64, aarch64]\n    fail-on-poison: true\n",
		"c.yml":  "gen: {min_core_btf: {jobs: 3, arch: [x86_64, aarch64], fail-on-poison: true}}\n",
		"c.json": "{\"gen\": {\"min_core_btf\": {\n\"jobs\": 3, \"arch\": [\"x86_64\", \"aarch64\"],\n\"fail-on-poison\": true}}}",
		"c.toml": "[gen.min_core_btf]\njobs = 3\narch = [\"x86_64\", \"aarch64\"]\nfail-on-poison = true\n",
		"d.toml": "gen.min_core_btf = { jobs = 3, arch = [\"x86_64\", \"aarch64\"], fail-on-poison = true }\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := writeConfig(t, name, text)
			got, err := parseOptions(t, NewCmdMinCoreBTF, []string{"--config", cfg, "k", "o", "x.o"})
			if err != nil {
				t.Fatal(err)
			}
			want := &MinCoreBTFOptions{ConfigFile: cfg, Input: "k", Output: "o", Objects: []string{"x.o"}, Format: "text",
				Jobs: 3, Arch: []string{"x86_64", "arm64"}, FailOnPoison: true}
			if d := optionsDiff(got, want); d != "" {
				t.Error(d)
			}
		})
	}
}

// TestConfigErrors: mistakes in a command's section name the file, the
// line and the key, with exit status 2.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"unknown key", "gen:\n  min_core_btf:\n    jbos: 3\n", "FILE:3: gen.min_core_btf.jbos: unknown key (known: output, verbose, quiet"},
		{"unknown subcommand", "gen:\n  min_core:\n    jobs: 3\n", "FILE:2: gen.min_core: unknown key (known: min_core_btf)"},
		{"flag-only key", "gen:\n  min_core_btf:\n    inputdir: x\n", "FILE:3: gen.min_core_btf.inputdir: unknown key"},
		{"bad value", "gen:\n  min_core_btf:\n    jobs: -2\n", "FILE:3: gen.min_core_btf.jobs: invalid value -2: want a whole number, 0 or more"},
		{"bad enum", "gen:\n  min_core_btf:\n    output: yaml\n", `FILE:3: gen.min_core_btf.output: invalid value "yaml": want text or json`},
		{"not a mapping", "gen: 3\n", "FILE:1: gen: not a mapping of settings"},
		{"not a mapping below", "gen:\n  min_core_btf: [a]\n", "FILE:2: gen.min_core_btf: not a mapping of settings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeConfig(t, "c.yaml", tc.text)
			_, err := parseOptions(t, NewCmdMinCoreBTF, []string{"--config", cfg, "k", "o", "x.o"})
			if want := strings.ReplaceAll(tc.want, "FILE", cfg); err == nil || !strings.Contains(err.Error(), want) || exitCode(err) != ExitBadInput {
				t.Errorf("error %v, want exit 2 and %q", err, want)
			}
		})
	}
	// An explicit config file that does not exist is an error; the default
	// ones may be missing.
	if _, err := parseOptions(t, NewCmdMinCoreBTF, []string{"--config", filepath.Join(t.TempDir(), "none.yaml"), "k", "o", "x.o"}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing --config: %v", err)
	}
	if _, err := parseOptions(t, NewCmdMinCoreBTF, []string{"k", "o", "x.o"}); err != nil {
		t.Errorf("no config file: %v", err)
	}
}

// TestPrecedence: each option comes from its flag, else its environment
// variable, else the config file, else its default; for gen min_core_btf
// and inspect compat, comparing the whole Options structs. Relative paths
// from the file are taken from its directory, those from flags and the
// environment as given.
func TestPrecedence(t *testing.T) {
	cfg := writeConfig(t, "btftool.yaml", `gen:
  min_core_btf:
    jobs: 3
    arch: [aarch64]
    fail-on-poison: true
    output: json
inspect:
  compat:
    kernels: trees/k
    fail-on: load
    verbose: true
`)
	dir := filepath.Dir(cfg)
	env := map[string]string{"BTFTOOL_JOBS": "5", "BTFTOOL_ARCH": "x86_64, s390x", "BTFTOOL_KERNELS": "envk", "BTFTOOL_FAIL_ON": "unsatisfied"}
	steps := []struct {
		name        string
		env         map[string]string
		gen, compat []string // flags
		wantGen     *MinCoreBTFOptions
		wantCompat  *InspectCompatOptions
	}{
		{name: "default",
			wantGen:    &MinCoreBTFOptions{},
			wantCompat: &InspectCompatOptions{Kernels: runningKernel, DefaultKernels: true, FailOn: "never"}},
		{name: "file", gen: []string{"--config", cfg}, compat: []string{"--config", cfg},
			wantGen:    &MinCoreBTFOptions{ConfigFile: cfg, Jobs: 3, Arch: []string{"arm64"}, FailOnPoison: true, Format: "json"},
			wantCompat: &InspectCompatOptions{ConfigFile: cfg, Kernels: filepath.Join(dir, "trees/k"), FailOn: "load", Verbose: true}},
		{name: "environment beats file", env: env, gen: []string{"--config", cfg}, compat: []string{"--config", cfg},
			wantGen:    &MinCoreBTFOptions{ConfigFile: cfg, Jobs: 5, Arch: []string{"x86_64", "s390x"}, FailOnPoison: true, Format: "json"},
			wantCompat: &InspectCompatOptions{ConfigFile: cfg, Kernels: "envk", Jobs: 5, FailOn: "unsatisfied", Verbose: true}},
		{name: "flag beats environment", env: env,
			gen:        []string{"--config", cfg, "-j", "7", "--arch", "riscv64", "--fail-on-poison=false"},
			compat:     []string{"--config", cfg, "--kernels", "flagk", "--fail-on", "never", "-j", "1", "--verbose=false"},
			wantGen:    &MinCoreBTFOptions{ConfigFile: cfg, Jobs: 7, Arch: []string{"riscv64"}, FailOnPoison: false, Format: "json"},
			wantCompat: &InspectCompatOptions{ConfigFile: cfg, Kernels: "flagk", Jobs: 1, FailOn: "never"}},
		{name: "config file from the environment", env: map[string]string{"BTFTOOL_CONFIG": cfg},
			wantGen:    &MinCoreBTFOptions{ConfigFile: cfg, Jobs: 3, Arch: []string{"arm64"}, FailOnPoison: true, Format: "json"},
			wantCompat: &InspectCompatOptions{ConfigFile: cfg, Kernels: filepath.Join(dir, "trees/k"), FailOn: "load", Verbose: true}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			for k, v := range st.env {
				t.Setenv(k, v)
			}
			w := st.wantGen
			w.Input, w.Output, w.Objects = "k", "o", []string{"x.o"}
			if w.Format == "" {
				w.Format = "text"
			}
			got, err := parseOptions(t, NewCmdMinCoreBTF, append(st.gen, "k", "o", "x.o"))
			if err != nil {
				t.Fatal(err)
			}
			if d := optionsDiff(got, w); d != "" {
				t.Errorf("gen min_core_btf: %s", d)
			}
			wc := st.wantCompat
			wc.Objects, wc.Format = []string{"a.o"}, "text"
			gotc, err := parseOptions(t, NewCmdInspectCompat, append(st.compat, "a.o"))
			if err != nil {
				t.Fatal(err)
			}
			if d := optionsDiff(gotc, wc); d != "" {
				t.Errorf("inspect compat: %s", d)
			}
		})
	}
}
