package cli

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestMain makes the tests independent of the machine's settings: no
// BTFTOOL_* variable, no NO_COLOR, and a config search that finds nothing
// (an empty XDG_CONFIG_HOME; the package directory holds no btftool.yaml).
func TestMain(m *testing.M) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "BTFTOOL_") || k == "NO_COLOR" {
			os.Unsetenv(k)
		}
	}
	xdg, err := os.MkdirTemp("", "btftool-xdg")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CONFIG_HOME", xdg)
	code := m.Run()
	os.RemoveAll(xdg)
	os.Exit(code)
}

// optionsDiff compares two Options structs field by field, ignoring the IO
// streams, functions and contexts (they are not options), and returns
// "Field: got X, want Y" for each exported field that differs.
func optionsDiff(got, want any) string {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	if g.Kind() == reflect.Pointer {
		if g.IsNil() {
			return "no options (the command did not run)"
		}
		g, w = g.Elem(), w.Elem()
	}
	var diffs []string
	for i := range g.NumField() {
		f := g.Type().Field(i)
		if !f.IsExported() || f.Name == "IO" || f.Name == "Context" || f.Type.Kind() == reflect.Func {
			continue
		}
		gv, wv := g.Field(i).Interface(), w.Field(i).Interface()
		if !reflect.DeepEqual(gv, wv) {
			diffs = append(diffs, fmt.Sprintf("%s: got %#v, want %#v", f.Name, gv, wv))
		}
	}
	return strings.Join(diffs, "; ")
}
