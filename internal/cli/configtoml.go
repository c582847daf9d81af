package cli

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
	yaml "go.yaml.in/yaml/v3"
)

// tomlNode parses TOML into the node tree YAML gives, with lines: tables
// and dotted keys become nested mappings, arrays of tables sequences of
// mappings.
func tomlNode(data []byte) (n *yaml.Node, err error) {
	defer func() {
		// The parser is go-toml's unstable API: a panic on input it does
		// not expect is a parse error, not a crash.
		if r := recover(); r != nil {
			n, err = nil, fmt.Errorf("toml: %v", r)
		}
	}()
	t := &tomlBuilder{data: data, root: &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1}}
	t.p.Reset(data)
	t.table = t.root
	for t.p.NextExpression() {
		if err := t.expression(t.p.Expression()); err != nil {
			return nil, err
		}
	}
	if err := t.p.Error(); err != nil {
		if pe, ok := err.(*unstable.ParserError); ok {
			return nil, fmt.Errorf("toml: line %d: %s", t.lineOf(pe.Highlight), pe.Message)
		}
		return nil, fmt.Errorf("toml: %w", err)
	}
	return t.root, nil
}

type tomlBuilder struct {
	p     unstable.Parser
	data  []byte
	root  *yaml.Node
	table *yaml.Node // the mapping of the current [table]
}

// lineOf returns the line of b, a part of the input, or 0.
func (t *tomlBuilder) lineOf(b []byte) int {
	off := cap(t.data) - cap(b)
	if off < 0 || off+len(b) > len(t.data) || !bytes.Equal(t.data[off:off+len(b)], b) {
		return 0
	}
	return bytes.Count(t.data[:off], []byte("\n")) + 1
}

// nodeLine returns the line of a parsed node.
func (t *tomlBuilder) nodeLine(n *unstable.Node) int {
	if n.Raw.Length > 0 {
		return t.p.Shape(n.Raw).Start.Line
	}
	return t.lineOf(n.Data)
}

func (t *tomlBuilder) keys(it unstable.Iterator) (keys []string, line int) {
	for it.Next() {
		k := it.Node()
		if line == 0 {
			line = t.nodeLine(k)
		}
		keys = append(keys, string(k.Data))
	}
	return keys, line
}

func (t *tomlBuilder) expression(e *unstable.Node) error {
	switch e.Kind {
	case unstable.Table:
		keys, line := t.keys(e.Key())
		m, err := t.descend(t.root, keys, line)
		if err != nil {
			return err
		}
		t.table = m
	case unstable.ArrayTable:
		keys, line := t.keys(e.Key())
		parent, err := t.descend(t.root, keys[:len(keys)-1], line)
		if err != nil {
			return err
		}
		last := keys[len(keys)-1]
		_, seq := mappingValue(parent, last)
		if seq == nil {
			seq = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: line}
			parent.Content = append(parent.Content, scalarKey(last, line), seq)
		} else if seq.Kind != yaml.SequenceNode {
			return fmt.Errorf("toml: line %d: %s is not an array of tables", line, strings.Join(keys, "."))
		}
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
		seq.Content = append(seq.Content, m)
		t.table = m
	case unstable.KeyValue:
		return t.keyValue(t.table, e)
	}
	return nil
}

// descend returns the mapping at keys below m, made when missing; through
// an array of tables it takes the last table.
func (t *tomlBuilder) descend(m *yaml.Node, keys []string, line int) (*yaml.Node, error) {
	for _, k := range keys {
		_, v := mappingValue(m, k)
		switch {
		case v == nil:
			v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
			m.Content = append(m.Content, scalarKey(k, line), v)
		case v.Kind == yaml.SequenceNode && len(v.Content) > 0 && v.Content[len(v.Content)-1].Kind == yaml.MappingNode:
			v = v.Content[len(v.Content)-1]
		case v.Kind != yaml.MappingNode:
			return nil, fmt.Errorf("toml: line %d: %s is not a table", line, k)
		}
		m = v
	}
	return m, nil
}

func (t *tomlBuilder) keyValue(m *yaml.Node, kv *unstable.Node) error {
	keys, line := t.keys(kv.Key())
	parent, err := t.descend(m, keys[:len(keys)-1], line)
	if err != nil {
		return err
	}
	v, err := t.value(kv.Value())
	if err != nil {
		return err
	}
	// A key given twice is left in: the caller reports it with its line.
	parent.Content = append(parent.Content, scalarKey(keys[len(keys)-1], line), v)
	return nil
}

func (t *tomlBuilder) value(v *unstable.Node) (*yaml.Node, error) {
	line := t.nodeLine(v)
	scalar := func(tag, s string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: s, Line: line}
	}
	switch v.Kind {
	case unstable.String:
		return scalar("!!str", string(v.Data)), nil
	case unstable.Bool:
		return scalar("!!bool", string(v.Data)), nil
	case unstable.Integer:
		s := strings.ReplaceAll(string(v.Data), "_", "")
		i, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("toml: line %d: integer %s: %w", line, v.Data, err)
		}
		return scalar("!!int", strconv.FormatInt(i, 10)), nil
	case unstable.Float:
		return scalar("!!float", strings.ReplaceAll(string(v.Data), "_", "")), nil
	case unstable.LocalDate, unstable.LocalTime, unstable.LocalDateTime, unstable.DateTime:
		return scalar("!!str", string(v.Data)), nil
	case unstable.Array:
		s := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: line}
		it := v.Children()
		for it.Next() {
			e, err := t.value(it.Node())
			if err != nil {
				return nil, err
			}
			s.Content = append(s.Content, e)
		}
		return s, nil
	case unstable.InlineTable:
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
		it := v.Children()
		for it.Next() {
			if err := t.keyValue(m, it.Node()); err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("toml: line %d: unexpected %s", line, v.Kind)
}

func scalarKey(k string, line int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k, Line: line}
}
