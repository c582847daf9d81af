package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// The config file: --config FILE (BTFTOOL_CONFIG), else ./btftool.yaml,
// else $XDG_CONFIG_HOME/btftool/config.yaml. YAML, JSON or TOML by its
// extension, read once into a tree of yaml.Nodes that keeps every key's
// line. Its top-level keys are "jobs" (batch's jobs) and one section per
// command, nested as the command path is (gen: min_core_btf: ...), whose
// keys are the names of the command's flags.

// configFile is a parsed config file.
type configFile struct {
	path string
	root *yaml.Node // the top-level mapping
	// known lists the top-level keys: "jobs" and the commands.
	known []string
}

// configSearch lists the config files tried, in order, when --config is
// not given.
func configSearch() []string {
	paths := []string{"btftool.yaml"}
	xdg := os.Getenv("XDG_CONFIG_HOME")
	if xdg == "" {
		if home, err := os.UserHomeDir(); err == nil {
			xdg = filepath.Join(home, ".config")
		}
	}
	if xdg != "" {
		paths = append(paths, filepath.Join(xdg, "btftool", "config.yaml"))
	}
	return paths
}

// findConfig returns the config file to use: explicit when given, else the
// first of configSearch that exists, else "" (an error when required).
func findConfig(explicit string, required bool) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	for _, p := range configSearch() {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	if required {
		return "", usageErrorf("no config file: give --config FILE or create %s", strings.Join(configSearch(), " or "))
	}
	return "", nil
}

// readConfig reads and parses the config file at path; known lists the
// top-level keys it may have.
func readConfig(path string, known []string) (*configFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, inputError(err)
	}
	var root *yaml.Node
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		root, err = jsonNode(data)
	case ".toml":
		root, err = tomlNode(data)
	default:
		var doc yaml.Node
		if err = yaml.Unmarshal(data, &doc); err == nil && len(doc.Content) > 0 {
			root = doc.Content[0]
		}
	}
	if err != nil {
		return nil, inputError(fmt.Errorf("%s: %w", path, err))
	}
	f := &configFile{path: path, root: root, known: known}
	if root == nil {
		f.root = &yaml.Node{Kind: yaml.MappingNode, Line: 1}
	} else if root.Kind != yaml.MappingNode {
		return nil, f.errorf(root.Line, "", "not a mapping of settings")
	}
	if err := f.checkKeys(f.root, "", known); err != nil {
		return nil, err
	}
	return f, nil
}

// dir is the directory relative paths in the file are taken from.
func (f *configFile) dir() string { return filepath.Dir(f.path) }

// errorf returns an input error naming the file, the line (when known)
// and the key.
func (f *configFile) errorf(line int, key, format string, args ...any) error {
	loc := f.path
	if line > 0 {
		loc = fmt.Sprintf("%s:%d", f.path, line)
	}
	if key != "" {
		loc += ": " + key
	}
	return inputError(fmt.Errorf("%s: %s", loc, fmt.Sprintf(format, args...)))
}

// checkKeys refuses keys of mapping m that are not in known, and keys given
// twice; prefix names m in messages ("gen.").
func (f *configFile) checkKeys(m *yaml.Node, prefix string, known []string) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if line, dup := seen[k.Value]; dup {
			return f.errorf(k.Line, prefix+k.Value, "given twice (first on line %d)", line)
		}
		seen[k.Value] = k.Line
		if !slices.Contains(known, k.Value) {
			return f.errorf(k.Line, prefix+k.Value, "unknown key (known: %s)", strings.Join(known, ", "))
		}
	}
	return nil
}

// section returns the mapping at path (nil when the file has none) after
// checking that it holds only keys.
func (f *configFile) section(path, keys []string) (*yaml.Node, error) {
	n := f.root
	for i, p := range path {
		_, v := mappingValue(n, p)
		if v == nil {
			return nil, nil
		}
		v = deref(v)
		name := strings.Join(path[:i+1], ".")
		if v.Kind != yaml.MappingNode {
			return nil, f.errorf(v.Line, name, "not a mapping of settings")
		}
		n = v
	}
	if err := f.checkKeys(n, strings.Join(path, ".")+".", keys); err != nil {
		return nil, err
	}
	return n, nil
}

// configSections are the keys of the config file's levels: the top level
// ("") holds batch's jobs and a section per command with options, each
// command group a section per subcommand. TestConfigSectionsMatchCommands
// keeps it in step with the command tree.
var configSections = map[string][]string{
	"":        {"jobs", "gen", "batch", "verify", "inspect", "diff", "select"},
	"gen":     {"min_core_btf"},
	"inspect": {"btf", "object", "compat"},
}

// load resolves the command's options: --config (flag, then BTFTOOL_CONFIG),
// then every other option, flag > environment > the file's section >
// default. It returns the file read (nil when there is none). With
// required, a missing file is an error.
func (s *optionSet) load(required bool) (*configFile, error) {
	explicit := ""
	if o := s.lookup(optConfig.Name); o != nil {
		if !s.cmd.Flags().Changed(o.def.Name) {
			if v, ok := lookupEnv(o.def.env()); ok {
				if err := o.value.setEnv(v); err != nil {
					return nil, err
				}
			}
		}
		explicit = o.value.String()
	}
	path, err := findConfig(explicit, required)
	if err != nil || path == "" {
		if err == nil {
			err = s.resolve(nil)
		}
		return nil, err
	}
	file, err := readConfig(path, configSections[""])
	if err != nil {
		return nil, err
	}
	// Each level of a group's section names a subcommand.
	n := file.root
	for i, p := range s.section[:max(0, len(s.section)-1)] {
		_, v := mappingValue(n, p)
		if v == nil {
			break
		}
		name := strings.Join(s.section[:i+1], ".")
		if v = deref(v); v.Kind != yaml.MappingNode {
			return nil, file.errorf(v.Line, name, "not a mapping of settings")
		}
		if err := file.checkKeys(v, name+".", configSections[name]); err != nil {
			return nil, err
		}
		n = v
	}
	if o := s.lookup(optConfig.Name); o != nil {
		if err := o.value.Set(path); err != nil {
			return nil, err
		}
	}
	return file, s.resolve(file)
}

// jsonNode parses JSON into the node tree YAML gives, with lines.
func jsonNode(data []byte) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	line := func() int { return bytes.Count(data[:dec.InputOffset()], []byte("\n")) + 1 }
	var value func() (*yaml.Node, error)
	value = func() (*yaml.Node, error) {
		l := line()
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: l}
				for dec.More() {
					kl := line()
					kt, err := dec.Token()
					if err != nil {
						return nil, err
					}
					k, _ := kt.(string)
					v, err := value()
					if err != nil {
						return nil, err
					}
					m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k, Line: kl}, v)
				}
				_, err := dec.Token()
				return m, err
			case '[':
				s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: l}
				for dec.More() {
					v, err := value()
					if err != nil {
						return nil, err
					}
					s.Content = append(s.Content, v)
				}
				_, err := dec.Token()
				return s, err
			}
		case string:
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t, Line: l}, nil
		case json.Number:
			tag := "!!int"
			if strings.ContainsAny(t.String(), ".eE") {
				tag = "!!float"
			}
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String(), Line: l}, nil
		case bool:
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t), Line: l}, nil
		case nil:
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null", Line: l}, nil
		}
		return nil, fmt.Errorf("unexpected %v", tok)
	}
	n, err := value()
	if errors.Is(err, io.EOF) {
		return nil, nil // an empty file
	}
	if err != nil {
		return nil, fmt.Errorf("line %d: %w", line(), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("line %d: data after the JSON value", line())
	}
	return n, nil
}
