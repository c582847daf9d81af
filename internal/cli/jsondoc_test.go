package cli

import (
	"bufio"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/btfdiff"
	"github.com/btftool/btftool/pkg/btfdump"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/inspect"
)

// jsonSchemas maps each row of docs/json.md's key tables to the Go type
// that is marshalled there.
var jsonSchemas = map[string]any{
	"gen min_core_btf":                          genReport{},
	"gen min_core_btf: objects[]":               objectReport{},
	"relocation report":                         core.Report{},
	"gen min_core_btf DIR":                      batch.Summary{},
	"gen min_core_btf DIR: objects[]":           batch.ObjectSummary{},
	"gen min_core_btf DIR: misses[]":            batch.RelocMisses{},
	"gen min_core_btf DIR: results[]":           batch.KernelResult{},
	"gen min_core_btf DIR: results[].objects[]": batch.ObjectMisses{},
	"batch":                         batchReport{},
	"batch: jobs[]":                 jobSummary{},
	"verify":                        verifyReport{},
	"verify DIR":                    verifyTreeReport{},
	"verify DIR: kernels[]":         kernelVerdict{},
	"verify BUNDLE":                 BundleCheck{},
	"inspect btf":                   btfSummaryJSON{},
	"inspect btf --types":           typesJSON{},
	"inspect btf --types: types[]":  btfdump.Type{},
	"inspect btf BUNDLE":            BundleListing{},
	"inspect object":                objectsJSON{},
	"inspect object: objects[]":     inspect.ObjectInfo{},
	"inspect object: relocations[]": inspect.Reloc{},
	"inspect compat":                compatReport{},
	"inspect compat: kernels[]":     inspect.KernelResult{},
	"inspect compat: objects[]":     inspect.ObjectResult{},
	"inspect compat: details[]":     inspect.RelocResult{},
	"diff":                          diffReport{},
	"diff: relocations[]":           btfdiff.Relocation{},
	"diff: old, new":                core.Decision{},
	"select":                        SelectReport{},
	"version":                       VersionInfo{},
	"error":                         errorReport{},
}

// jsonKeys returns the JSON keys of struct type t, embedded structs
// flattened, in field order.
func jsonKeys(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				keys = append(keys, jsonKeys(ft)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		keys = append(keys, name)
	}
	return keys
}

// TestJSONDocsMatchCode: docs/json.md's key tables list exactly the keys
// each report type marshals, and every report type is documented.
func TestJSONDocsMatchCode(t *testing.T) {
	f, err := os.Open("../../docs/json.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	documented := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 2 {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		var keys []string
		for k := range strings.SplitSeq(cells[1], ",") {
			keys = append(keys, strings.Trim(strings.TrimSpace(k), "`"))
		}
		documented[name] = keys
	}
	for name, v := range jsonSchemas {
		want := jsonKeys(reflect.TypeOf(v))
		got, ok := documented[name]
		if !ok {
			t.Errorf("docs/json.md does not document %q; its keys: %s", name, "`"+strings.Join(want, "`, `")+"`")
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("docs/json.md %q lists %q; the code marshals %q", name, got, want)
		}
	}
	for name := range documented {
		if _, ok := jsonSchemas[name]; !ok {
			t.Errorf("docs/json.md documents %q, which no test maps to a type", name)
		}
	}
}
