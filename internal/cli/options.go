package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	yaml "go.yaml.in/yaml/v3"
)

// Options are declared once, as data (flagDef), and bound to a field of a
// command's Options struct (optionSet). Each has a flag, an environment
// variable derived from its name and a key, its name, in its command's
// section of the config file; resolve fills the field flag > environment >
// file > default, once, before the command runs. Adding an option to a
// command is one line: set.Strings(&opts.Modules, optModules).

// flagDef declares an option.
type flagDef struct {
	// Name is the flag's long name, and the option's key in a config file.
	Name string
	// Short is the one-letter flag, if any.
	Short string
	// Usage is the flag's help.
	Usage string
	// Allowed lists the values of an enumerated option; others are refused
	// with a message listing these.
	Allowed []string
	// Aliases maps other accepted spellings to allowed values.
	Aliases map[string]string
	// Check, when set, validates each value.
	Check func(string) error
	// Path marks options naming files: relative values from a config file
	// are taken from the file's directory.
	Path bool
	// FlagOnly keeps an option out of config files (--config itself, the
	// kinvolk/btfgen flags that stand for arguments).
	FlagOnly bool
	// NoEnv keeps an option out of the environment too.
	NoEnv bool
	// ValueName names the value in help ("PATH"); the allowed values or the
	// type by default.
	ValueName string
}

// env returns the option's environment variable: BTFTOOL_ and its name in
// capitals, "-" as "_".
func (d flagDef) env() string {
	return "BTFTOOL_" + strings.ToUpper(strings.ReplaceAll(d.Name, "-", "_"))
}

// canonical returns the allowed value v stands for, or an error listing
// the allowed values.
func (d flagDef) canonical(v string) (string, error) {
	if d.Check != nil {
		if err := d.Check(v); err != nil {
			return "", err
		}
	}
	if len(d.Allowed) == 0 {
		return v, nil
	}
	if a, ok := d.Aliases[v]; ok {
		v = a
	}
	if slices.Contains(d.Allowed, v) {
		return v, nil
	}
	return "", fmt.Errorf("invalid value %q: want %s", v, orList(d.allowedHelp()))
}

// allowedHelp lists the allowed values with their aliases: "x86_64
// (amd64)".
func (d flagDef) allowedHelp() []string {
	var out []string
	for _, a := range d.Allowed {
		var al []string
		for k, v := range d.Aliases {
			if v == a {
				al = append(al, k)
			}
		}
		slices.Sort(al)
		if len(al) > 0 {
			a += " (" + strings.Join(al, ", ") + ")"
		}
		out = append(out, a)
	}
	return out
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// optValue is a pflag.Value that can also be set from the environment and
// from a config file.
type optValue interface {
	pflag.Value
	// setEnv sets the value from an environment variable.
	setEnv(s string) error
	// setNode sets the value from a config file node; dir is the file's
	// directory, for path options.
	setNode(n *yaml.Node, dir string) error
}

// option is a declared option bound to a field.
type option struct {
	def   flagDef
	value optValue
}

// optionSet binds a command's options and resolves them.
type optionSet struct {
	cmd *cobra.Command
	// section is the path of the command's section in a config file
	// ("gen", "min_core_btf"); nil for options kept out of files.
	section []string
	opts    []*option
}

// newOptionSet returns the option set of cmd, whose config file section
// is at section.
func newOptionSet(cmd *cobra.Command, section ...string) *optionSet {
	return &optionSet{cmd: cmd, section: section}
}

func (s *optionSet) add(d flagDef, v optValue, isBool bool) {
	usage := d.Usage
	if len(d.Allowed) > 0 && !strings.Contains(usage, d.Allowed[0]) {
		usage += ": " + orList(d.allowedHelp())
	}
	if !d.NoEnv {
		usage += " [" + d.env() + "]"
	}
	s.opts = append(s.opts, &option{def: d, value: v})
	if s.cmd == nil {
		return // a job's keys: no flags
	}
	f := s.cmd.Flags().VarPF(v, d.Name, d.Short, usage)
	if isBool {
		f.NoOptDefVal = "true"
	}
}

// lookup returns the option named name.
func (s *optionSet) lookup(name string) *option {
	for _, o := range s.opts {
		if o.def.Name == name {
			return o
		}
	}
	return nil
}

// fileKeys returns the keys the command's config file section takes.
func (s *optionSet) fileKeys() []string {
	var keys []string
	for _, o := range s.opts {
		if !o.def.FlagOnly {
			keys = append(keys, o.def.Name)
		}
	}
	return keys
}

// Bool binds a boolean option.
func (s *optionSet) Bool(p *bool, d flagDef) { s.add(d, &boolValue{d: d, p: p}, true) }

// Int binds an integer option that is 0 or more.
func (s *optionSet) Int(p *int, d flagDef) { s.add(d, &intValue{d: d, p: p}, false) }

// String binds a string option (an enumerated one when d.Allowed is set).
func (s *optionSet) String(p *string, d flagDef) { s.add(d, &stringValue{d: d, p: p}, false) }

// Strings binds a repeatable option: every flag adds one value (values
// are never split at commas, which paths and patterns may hold); the
// environment variable holds a comma-separated list, a file a list or one
// value. Values given as flags replace those from the environment or file.
func (s *optionSet) Strings(p *[]string, d flagDef) { s.add(d, &stringsValue{d: d, p: p}, false) }

// Append binds a repeatable flag that adds to *p, which other flags may
// share ("--object a --obj b" keeps both, in order); for flags kept out of
// the environment and files.
func (s *optionSet) Append(p *[]string, d flagDef) {
	s.add(d, &stringsValue{d: d, p: p, set: true}, false)
}

// help says where the command's options come from, for its help.
func (s *optionSet) help() string {
	var b strings.Builder
	b.WriteString("Settings: an option not given as a flag is taken from its environment\n" +
		"variable, shown after its help, ")
	if keys := s.fileKeys(); len(keys) > 0 && s.section != nil {
		fmt.Fprintf(&b, "else from the %q section of the config file (--config), else its default. "+
			"The section's keys are the flags' names: %s. Relative paths in the file are taken from its directory.",
			sectionName(s.section), strings.Join(keys, ", "))
	} else {
		b.WriteString("else its default.")
	}
	return "\n\n" + wrap(b.String(), 76)
}

// sectionName spells a config file section as YAML nests it:
// "gen: min_core_btf:".
func sectionName(path []string) string { return strings.Join(path, ": ") + ":" }

// wrap breaks s into lines of at most width columns, at spaces; existing
// line breaks are kept as spaces.
func wrap(s string, width int) string {
	var b strings.Builder
	col := 0
	for i, w := range strings.Fields(s) {
		if i > 0 {
			if col+1+len(w) > width {
				b.WriteByte('\n')
				col = 0
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

// enumVar binds an enumerated option of a string type.
func enumVar[T ~string](s *optionSet, p *T, d flagDef) {
	s.add(d, &enumValue[T]{d: d, p: p}, false)
}

// resolve fills the options not given as flags from the environment, then
// from file's section (nil when there is no file). It runs once, before the
// command.
func (s *optionSet) resolve(file *configFile) error {
	var section *yaml.Node
	if file != nil && s.section != nil {
		n, err := file.section(s.section, s.fileKeys())
		if err != nil {
			return err
		}
		section = n
	}
	for _, o := range s.opts {
		if o.def.Name == optConfig.Name || s.cmd.Flags().Changed(o.def.Name) {
			continue // load resolved --config
		}
		if !o.def.NoEnv {
			if v, ok := lookupEnv(o.def.env()); ok {
				if err := o.value.setEnv(v); err != nil {
					return usageErrorf("%s: %v", o.def.env(), err)
				}
				continue
			}
		}
		if section == nil || o.def.FlagOnly {
			continue
		}
		if k, v := mappingValue(section, o.def.Name); v != nil {
			if err := o.value.setNode(v, file.dir()); err != nil {
				return file.errorf(k.Line, strings.Join(append(slices.Clone(s.section), o.def.Name), "."), "%v", err)
			}
		}
	}
	return nil
}

// fromFlagOrEnv reports whether the option named name was given as a flag
// or in the environment (batch's flags override every job's setting only
// then).
func (s *optionSet) fromFlagOrEnv(name string) bool {
	o := s.lookup(name)
	if o == nil {
		return false
	}
	if s.cmd.Flags().Changed(name) {
		return true
	}
	_, ok := lookupEnv(o.def.env())
	return ok && !o.def.NoEnv
}

// lookupEnv returns an environment variable's value; a variable set to ""
// counts as not set.
func lookupEnv(name string) (string, bool) {
	v := os.Getenv(name)
	return v, v != ""
}

// nodeScalar returns the scalar value of n, or an error saying what was
// wanted.
func nodeScalar(n *yaml.Node, want string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", fmt.Errorf("invalid value %s: want %s", describeNode(n), want)
	}
	return n.Value, nil
}

// describeNode shows a config value in an error.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "(a mapping)"
	case yaml.SequenceNode:
		return "(a list)"
	case yaml.AliasNode:
		if n.Alias != nil {
			return describeNode(n.Alias)
		}
	}
	if n.Tag == "!!null" {
		return "(nothing)"
	}
	return n.Value
}

type boolValue struct {
	d flagDef
	p *bool
}

func (v *boolValue) String() string {
	if v.p == nil {
		return "false"
	}
	return strconv.FormatBool(*v.p)
}
func (v *boolValue) Type() string     { return "bool" }
func (v *boolValue) IsBoolFlag() bool { return true }
func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("invalid value %q: want true or false", s)
	}
	*v.p = b
	return nil
}
func (v *boolValue) setEnv(s string) error { return v.Set(s) }
func (v *boolValue) setNode(n *yaml.Node, _ string) error {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return fmt.Errorf("invalid value %s: want true or false", describeNode(n))
	}
	return v.Set(n.Value)
}

type intValue struct {
	d flagDef
	p *int
}

func (v *intValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.Itoa(*v.p)
}
func (v *intValue) Type() string {
	if v.d.ValueName != "" {
		return v.d.ValueName
	}
	return "int"
}
func (v *intValue) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 {
		return fmt.Errorf("invalid value %q: want a whole number, 0 or more", s)
	}
	*v.p = int(n)
	return nil
}
func (v *intValue) setEnv(s string) error { return v.Set(s) }
func (v *intValue) setNode(n *yaml.Node, _ string) error {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return fmt.Errorf("invalid value %s: want a whole number, 0 or more", describeNode(n))
	}
	// JSON numbers arrive as floats: 2.0 is a whole number.
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || f != float64(int64(f)) || f < 0 || f > 1<<31-1 {
		if i, ierr := strconv.ParseInt(n.Value, 0, 64); ierr == nil && i >= 0 && i <= 1<<31-1 {
			*v.p = int(i)
			return nil
		}
		return fmt.Errorf("invalid value %s: want a whole number, 0 or more", n.Value)
	}
	*v.p = int(f)
	return nil
}

type stringValue struct {
	d flagDef
	p *string
}

func (v *stringValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}
func (v *stringValue) Type() string { return valueName(v.d, "string") }
func (v *stringValue) Set(s string) error {
	c, err := v.d.canonical(s)
	if err != nil {
		return err
	}
	*v.p = c
	return nil
}
func (v *stringValue) setEnv(s string) error { return v.Set(s) }
func (v *stringValue) setNode(n *yaml.Node, dir string) error {
	s, err := nodeString(deref(n))
	if err != nil {
		return err
	}
	if err := v.Set(s); err != nil {
		return err
	}
	if v.d.Path {
		*v.p = fileRelative(dir, *v.p)
	}
	return nil
}

// nodeString returns a config scalar as a string: strings and numbers (a
// job named 2024), not booleans or nothing.
func nodeString(n *yaml.Node) (string, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		return "", fmt.Errorf("invalid value %s: want a string", n.Value)
	}
	s, err := nodeScalar(n, "a string")
	if err == nil && s == "" {
		return "", errors.New("invalid value \"\": want a non-empty string")
	}
	return s, err
}

// fileRelative makes a path read from a config file in dir relative to
// that directory.
func fileRelative(dir, p string) string {
	if p == "" || p == "-" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// valueName names an option's value in help.
func valueName(d flagDef, def string) string {
	switch {
	case d.ValueName != "":
		return d.ValueName
	case len(d.Allowed) > 0:
		return strings.Join(d.Allowed, "|")
	}
	return def
}

type enumValue[T ~string] struct {
	d flagDef
	p *T
}

func (v *enumValue[T]) String() string {
	if v.p == nil {
		return ""
	}
	return string(*v.p)
}
func (v *enumValue[T]) Type() string { return valueName(v.d, "string") }
func (v *enumValue[T]) Set(s string) error {
	c, err := v.d.canonical(s)
	if err != nil {
		return err
	}
	*v.p = T(c)
	return nil
}
func (v *enumValue[T]) setEnv(s string) error { return v.Set(s) }
func (v *enumValue[T]) setNode(n *yaml.Node, _ string) error {
	s, err := nodeString(deref(n))
	if err != nil {
		return err
	}
	return v.Set(s)
}

type stringsValue struct {
	d flagDef
	p *[]string
	// set is whether a flag has set the value: the first flag replaces
	// the default, the next ones add to it.
	set bool
}

func (v *stringsValue) String() string {
	if v.p == nil || len(*v.p) == 0 {
		return "" // no "(default [])" in help
	}
	return "[" + strings.Join(*v.p, ",") + "]"
}
func (v *stringsValue) Type() string { return valueName(v.d, "string") }
func (v *stringsValue) Set(s string) error {
	c, err := v.d.canonical(s)
	if err != nil {
		return err
	}
	if !v.set {
		*v.p = nil
		v.set = true
	}
	*v.p = append(*v.p, c)
	return nil
}
func (v *stringsValue) setEnv(s string) error {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		c, err := v.d.canonical(e)
		if err != nil {
			return err
		}
		out = append(out, c)
	}
	*v.p = out
	return nil
}
func (v *stringsValue) setNode(n *yaml.Node, dir string) error {
	n = deref(n)
	var items []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		items = []*yaml.Node{n}
	case yaml.SequenceNode:
		items = n.Content
	default:
		return fmt.Errorf("invalid value %s: want a list of strings", describeNode(n))
	}
	var out []string
	for _, it := range items {
		s, err := nodeString(deref(it))
		if err != nil {
			return fmt.Errorf("%w in the list", err)
		}
		c, err := v.d.canonical(s)
		if err != nil {
			return err
		}
		if v.d.Path {
			c = fileRelative(dir, c)
		}
		out = append(out, c)
	}
	*v.p = out
	return nil
}

// deref follows a YAML alias.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// mappingValue returns the key and value nodes of key in mapping m.
func mappingValue(m *yaml.Node, key string) (k, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}
