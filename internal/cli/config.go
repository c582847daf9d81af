package cli

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cast"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	yaml "go.yaml.in/yaml/v3"
)

// flagSpec declares a flag once, as data: its environment variable and
// viper key are derived from its name.
type flagSpec struct {
	Name, Short, Usage string
	// Default is a bool, an int or a string, and sets the flag's type.
	Default any
}

// env returns the flag's environment variable: BTFTOOL_ and the name in
// capitals with "-" as "_".
func (fs flagSpec) env() string {
	return "BTFTOOL_" + strings.ToUpper(strings.ReplaceAll(fs.Name, "-", "_"))
}

// key returns the flag's viper key. It lives under "cli." so that it
// cannot collide with the config file's keys ("jobs" is both the file's
// list of jobs and the --jobs flag).
func (fs flagSpec) key() string { return "cli." + fs.Name }

func (fs flagSpec) add(cmd *cobra.Command) {
	usage := fs.Usage + " [" + fs.env() + "]"
	switch d := fs.Default.(type) {
	case bool:
		cmd.Flags().BoolP(fs.Name, fs.Short, d, usage)
	case int:
		cmd.Flags().IntP(fs.Name, fs.Short, d, usage)
	case string:
		cmd.Flags().StringP(fs.Name, fs.Short, d, usage)
	default:
		panic("flagSpec " + fs.Name + ": unsupported default type")
	}
}

// batchFlags are the flags of "batch" that the environment can set too.
var batchFlags = []flagSpec{
	{Name: "config", Usage: "config file (default ./btftool.yaml, then $XDG_CONFIG_HOME/btftool/config.yaml)", Default: ""},
	{Name: "jobs", Short: "j", Usage: "kernels processed in parallel, overriding every job's setting (default: the job's, else one per CPU)", Default: 0},
	{Name: "force", Usage: "redo kernels whose inputs are unchanged since the last run", Default: false},
	{Name: "fail-fast", Usage: "stop at the first kernel that fails", Default: false},
	{Name: "verify", Usage: "prove every output equivalent with cilium/ebpf before writing it", Default: false},
	{Name: "quiet", Short: "q", Usage: "no progress or summary on stderr, only errors", Default: false},
}

func batchFlag(name string) flagSpec {
	for _, fs := range batchFlags {
		if fs.Name == name {
			return fs
		}
	}
	panic("no batch flag " + name)
}

// jobKeys are the keys a job of the config file may have.
var jobKeys = []string{"name", "objects", "input", "output", "arch", "include", "exclude", "jobs", "force", "fail-fast", "verify"}

// configError is a config file problem, naming the file, the key and, for
// YAML, the line.
func configError(file string, line int, key, format string, args ...any) error {
	loc := file
	if line > 0 {
		loc = fmt.Sprintf("%s:%d", file, line)
	}
	if key != "" {
		loc += ": " + key
	}
	return inputError(fmt.Errorf("%s: %s", loc, fmt.Sprintf(format, args...)))
}

// resolveBatchOptions fills opts from the config file, the environment
// and the flags (flag > environment > file), once; the run function never
// sees viper.
func resolveBatchOptions(cmd *cobra.Command, v *viper.Viper, args []string, opts *BatchOptions) error {
	// The config file's own location comes from the flag or the
	// environment only.
	cfgFlag := batchFlag("config")
	explicit, _ := cmd.Flags().GetString(cfgFlag.Name)
	if !cmd.Flags().Changed(cfgFlag.Name) {
		explicit = os.Getenv(cfgFlag.env())
	}
	file, err := findConfig(explicit)
	if err != nil {
		return err
	}
	jobs, err := loadConfig(v, file)
	if err != nil {
		return err
	}
	// Now that the file's keys are checked, layer flags and environment
	// over it.
	for _, fs := range batchFlags {
		if err := v.BindPFlag(fs.key(), cmd.Flags().Lookup(fs.Name)); err != nil {
			return err
		}
		if err := v.BindEnv(fs.key(), fs.env()); err != nil {
			return err
		}
	}
	override := func(name string) (any, bool, error) {
		fs := batchFlag(name)
		if !v.IsSet(fs.key()) {
			return nil, false, nil
		}
		var val any
		var err error
		switch fs.Default.(type) {
		case bool:
			val, err = cast.ToBoolE(v.Get(fs.key()))
		case int:
			var n int
			n, err = cast.ToIntE(v.Get(fs.key()))
			if err == nil && n < 0 {
				err = errors.New("negative")
			}
			val = n
		}
		if err != nil {
			src := "--" + fs.Name
			if !cmd.Flags().Changed(fs.Name) {
				src = fs.env()
			}
			return nil, false, usageErrorf("%s: invalid value %q", src, fmt.Sprint(v.Get(fs.key())))
		}
		return val, true, nil
	}
	for _, name := range []string{"jobs", "force", "fail-fast", "verify"} {
		val, ok, err := override(name)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		for i := range jobs {
			j := &jobs[i]
			switch name {
			case "jobs":
				j.Workers = val.(int)
			case "force":
				j.Force = val.(bool)
			case "fail-fast":
				j.FailFast = val.(bool)
			case "verify":
				j.Verify = val.(bool)
			}
		}
	}
	if val, ok, err := override("quiet"); err != nil {
		return err
	} else if ok {
		opts.Quiet = val.(bool)
	}

	if len(args) > 0 {
		var sel []BatchJob
		for _, a := range args {
			i := slices.IndexFunc(jobs, func(j BatchJob) bool { return j.Name == a })
			if i < 0 {
				var names []string
				for _, j := range jobs {
					names = append(names, j.Name)
				}
				return usageErrorf("no job %q in %s (jobs: %s)", a, file, strings.Join(names, ", "))
			}
			if !slices.ContainsFunc(sel, func(j BatchJob) bool { return j.Name == a }) {
				sel = append(sel, jobs[i])
			}
		}
		jobs = sel
	}
	opts.ConfigFile, opts.Jobs = file, jobs
	return nil
}

// loadConfig reads the config file into v and returns its jobs, with
// relative paths made relative to the file's directory. Unknown keys,
// missing required keys and values of the wrong type are errors naming the
// file, the key and, for YAML, the line.
func loadConfig(v *viper.Viper, file string) ([]BatchJob, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, inputError(err)
	}
	v.SetConfigFile(file)
	if err := v.ReadInConfig(); err != nil {
		return nil, configError(file, 0, "", "%v", err)
	}
	var lines *yamlLines
	if ext := filepath.Ext(file); ext == ".yaml" || ext == ".yml" {
		lines = newYAMLLines(data)
	}
	for _, k := range v.AllKeys() { // the file's keys only: nothing is bound yet
		// viper splits keys at dots, so a key "jobs.extra" arrives as
		// jobs.extra: only "jobs" itself (a list, never flattened) is known.
		if k != "jobs" {
			top, _, _ := strings.Cut(k, ".")
			name := top
			if top == "jobs" {
				name = k
			}
			return nil, configError(file, lines.line(top), name, "unknown key (the file has one key, jobs)")
		}
	}
	var items []map[string]any
	switch raw := v.Get("jobs").(type) {
	case nil:
		return nil, configError(file, 0, "jobs", "missing: no jobs")
	case []map[string]any:
		items = raw
	case []any:
		for i, it := range raw {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, configError(file, lines.line("jobs", i), fmt.Sprintf("jobs[%d]", i), "not a mapping of job settings")
			}
			items = append(items, m)
		}
	default:
		return nil, configError(file, lines.line("jobs"), "jobs", "not a list of jobs")
	}
	if len(items) == 0 {
		return nil, configError(file, lines.line("jobs"), "jobs", "empty: no jobs")
	}
	dir := filepath.Dir(file)
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	seen := map[string]bool{}
	var jobs []BatchJob
	for i, m := range items {
		var j BatchJob
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			val := m[k]
			name := fmt.Sprintf("jobs[%d].%s", i, k)
			bad := func(want string) error {
				return configError(file, lines.line("jobs", i, k), name, "invalid value %v: want %s", val, want)
			}
			var err error
			switch k {
			case "name":
				j.Name, err = configString(val, bad)
			case "input":
				j.Input, err = configString(val, bad)
			case "output":
				j.Output, err = configString(val, bad)
			case "objects":
				j.Objects, err = configStrings(val, bad)
			case "arch":
				j.Arch, err = configStrings(val, bad)
			case "include":
				j.Include, err = configStrings(val, bad)
			case "exclude":
				j.Exclude, err = configStrings(val, bad)
			case "jobs":
				j.Workers, err = configInt(val, bad)
			case "force":
				j.Force, err = configBool(val, bad)
			case "fail-fast":
				j.FailFast, err = configBool(val, bad)
			case "verify":
				j.Verify, err = configBool(val, bad)
			default:
				return nil, configError(file, lines.line("jobs", i, k), name, "unknown key (known: %s)", strings.Join(jobKeys, ", "))
			}
			if err != nil {
				return nil, err
			}
		}
		label := fmt.Sprintf("jobs[%d]", i)
		for _, req := range []struct {
			key string
			ok  bool
		}{{"name", j.Name != ""}, {"objects", len(j.Objects) > 0}, {"input", j.Input != ""}, {"output", j.Output != ""}} {
			if !req.ok {
				return nil, configError(file, lines.line("jobs", i), label, "missing required key %s", req.key)
			}
		}
		if seen[j.Name] {
			return nil, configError(file, lines.line("jobs", i, "name"), label+".name", "duplicate job name %q", j.Name)
		}
		seen[j.Name] = true
		j.Input, j.Output = abs(j.Input), abs(j.Output)
		for n := range j.Objects {
			j.Objects[n] = abs(j.Objects[n])
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

func configString(v any, bad func(string) error) (string, error) {
	s, ok := v.(string)
	if !ok || s == "" {
		return "", bad("a non-empty string")
	}
	return s, nil
}

// configStrings accepts a list of strings or a single string.
func configStrings(v any, bad func(string) error) ([]string, error) {
	if s, ok := v.(string); ok && s != "" {
		return []string{s}, nil
	}
	var out []string
	switch l := v.(type) {
	case []any:
		for _, e := range l {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, bad("a list of non-empty strings")
			}
			out = append(out, s)
		}
	case []string:
		out = l
	default:
		return nil, bad("a list of strings")
	}
	return out, nil
}

func configInt(v any, bad func(string) error) (int, error) {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case float64: // JSON
		if x != math.Trunc(x) || x > math.MaxInt32 {
			return 0, bad("a whole number")
		}
		n = int64(x)
	default:
		return 0, bad("a whole number")
	}
	if n < 0 || n > math.MaxInt32 {
		return 0, bad("a number, 0 or more")
	}
	return int(n), nil
}

func configBool(v any, bad func(string) error) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, bad("true or false")
	}
	return b, nil
}

// yamlLines finds the line of a key in a YAML document. A nil *yamlLines
// (not YAML, or unparsable) knows no lines.
type yamlLines struct{ root *yaml.Node }

func newYAMLLines(data []byte) *yamlLines {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	return &yamlLines{root: doc.Content[0]}
}

// line returns the line of the node at path (mapping keys as strings,
// compared without case as viper does, sequence indices as ints): the key's
// line for a mapping entry. Zero when unknown.
func (y *yamlLines) line(path ...any) int {
	if y == nil {
		return 0
	}
	n, line := y.root, 0
	for _, p := range path {
		switch p := p.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if strings.EqualFold(n.Content[i].Value, p) {
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
		case int:
			if n.Kind != yaml.SequenceNode || p >= len(n.Content) {
				return line
			}
			n = n.Content[p]
			line = n.Line
		}
	}
	return line
}
