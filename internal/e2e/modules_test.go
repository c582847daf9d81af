package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// moduleKernel is a test kernel with module BTF.
type moduleKernel struct {
	kbtf.Entry
	modules string // the module archive used
}

// moduleKernels returns the test kernels that have module BTF: with every
// module of ../shared/modules when it is there (local runs), else with the
// few modules committed beside them in testdata.
func moduleKernels(tb testing.TB) []moduleKernel {
	tb.Helper()
	ks, err := kbtf.Walk(filepath.Join(root, "testdata/kernels"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []moduleKernel
	for _, k := range ks {
		if k.Modules == "" {
			continue
		}
		mk := moduleKernel{Entry: k, modules: k.Modules}
		dir, _ := filepath.Split(k.Rel)
		shared := filepath.Join(root, "../shared/modules", filepath.FromSlash(dir), k.Release+kbtf.ModulesSuffix+".tar.xz")
		if _, err := os.Stat(shared); err == nil {
			mk.modules = shared
		}
		out = append(out, mk)
	}
	if len(out) == 0 {
		tb.Fatal("no kernel with modules in testdata/kernels")
	}
	return out
}

// reloKey matches the start of the oracle's per-relocation lines.
var reloKey = regexp.MustCompile(`^prog '([^']*)': relo #(\d+): `)

// byRelocation groups the oracle's lines by relocation ("prog 'P': relo
// #N"), in order.
func byRelocation(out string) (map[string]string, []string) {
	m := map[string]string{}
	var order []string
	for _, l := range strings.Split(out, "\n") {
		sub := reloKey.FindStringSubmatch(l)
		if sub == nil {
			continue
		}
		key := sub[0]
		if _, ok := m[key]; !ok {
			order = append(order, key)
		}
		m[key] += l + "\n"
	}
	return m, order
}

// TestDifferentialLibbpfModules checks, for every test kernel with module
// BTF and every test object, that libbpf decides every relocation with the
// BTF btftool generates (with the modules, for all objects together) as
// libbpf decides on the running kernel with its vmlinux and module BTF.
//
// libbpf reads module BTF from a running kernel only, and this machine's
// kernel is another one, so the reference is built from libbpf's rule
// (bpf_core_find_cands): the candidates of a local type are vmlinux's when
// vmlinux has any, else every module's. So a relocation whose local type
// vmlinux has a candidate for is decided as libbpf decides with vmlinux
// alone as btf_custom_path (reference V: exactly the running kernel's
// search, which stops at vmlinux); any other is decided as libbpf decides
// with vmlinux and the modules' types in one BTF (reference M): vmlinux
// offers nothing for it there, and every module's type of that name is a
// candidate, with its members, names and types as the module has them. M
// also offers the modules' types that vmlinux shadows to the relocations V
// serves, which may make libbpf fail the load early; reference R is M with
// those types anonymous (typedefs elided), which serves both kinds of
// relocations, and is checked to agree with V and M wherever they say.
func TestDifferentialLibbpfModules(t *testing.T) {
	orc := oracle(t)
	objPaths := testObjects(t)
	objs := loadObjects(t, objPaths)
	plan := btfgen.NewPlan(objs)
	tmp := t.TempDir()
	var mu sync.Mutex
	compared, fromModules := 0, 0
	for ki, k := range moduleKernels(t) {
		t.Run(k.Rel, func(t *testing.T) {
			data, vm := readKernel(t, k.Path)
			set, err := kmod.Open([]string{k.modules}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d modules from %s", set.Len(), k.modules)
			res, err := plan.MinimizeModules(vm, set)
			if err != nil {
				t.Fatal(err)
			}
			// The references hold every module that defines a type named
			// like any local type of any object.
			all := map[string]struct{}{}
			for _, o := range objs {
				for _, r := range o.Relocations {
					if n := o.BTF.Type(r.TypeID).NameBytes(); len(n) > 0 {
						all[string(rawbtf.EssentialName(n))] = struct{}{}
					}
				}
			}
			ref, err := set.Extend(vm, all)
			if err != nil {
				t.Fatal(err)
			}
			merged, err := ref.Flatten(false)
			if err != nil {
				t.Fatal(err)
			}
			hidden, err := ref.Flatten(true)
			if err != nil {
				t.Fatal(err)
			}
			paths := map[string]string{}
			for name, b := range map[string][]byte{
				"V":   data,
				"M":   merged,
				"R":   hidden,
				"min": res.BTF,
			} {
				paths[name] = filepath.Join(tmp, fmt.Sprintf("%s-%d.btf", name, ki))
				if err := os.WriteFile(paths[name], b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			vmTarget := core.NewTarget(vm)
			var failures []string
			parallel(len(objPaths), func(oi int) {
				f, n, nm := compareModuleObject(orc, objPaths[oi], objs[oi], vmTarget, paths)
				mu.Lock()
				defer mu.Unlock()
				failures = append(failures, f...)
				compared += n
				fromModules += nm
			})
			sort.Strings(failures)
			for _, f := range failures {
				t.Error(f)
			}
		})
	}
	t.Logf("%d libbpf relocation decisions compared, %d of them served by modules", compared, fromModules)
	if compared == 0 || fromModules == 0 {
		t.Errorf("compared %d decisions, %d served by modules: the test checked nothing", compared, fromModules)
	}
}

// compareModuleObject runs the oracle on one object against the
// references and the minimized BTF of paths and returns the differences,
// the number of relocations compared and how many of them modules serve.
func compareModuleObject(orc, path string, o *bpfobj.Object, vmTarget *core.Target, paths map[string]string) (failures []string, compared, fromModules int) {
	runs := map[string]map[string]string{}
	var keys []string
	seen := map[string]bool{}
	for _, name := range []string{"V", "M", "R", "min"} {
		out, err := decisions(orc, path, paths[name])
		if err != nil {
			return []string{err.Error()}, 0, 0
		}
		var order []string
		runs[name], order = byRelocation(out)
		for _, k := range order {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	// Whether a module serves a relocation: vmlinux has no candidate for
	// its local type. libbpf names a relocation by its (sub)program and
	// its index in the section.
	served := map[string]bool{}
	for i := range o.Relocations {
		r := &o.Relocations[i]
		if r.Kind == core.TypeIDLocal || r.Spec == nil {
			continue
		}
		key := fmt.Sprintf("prog '%s': relo #%d: ", r.Program, r.Index)
		served[key] = len(vmTarget.Candidates(o.BTF.Type(r.TypeID))) == 0
	}
	name := filepath.Base(path)
	for _, key := range keys {
		mod := served[key]
		want, wantFrom := runs["V"][key], "V"
		if mod {
			want, wantFrom = runs["M"][key], "M"
			if want == "" {
				// M stopped (a load failure) before: R decides it.
				want, wantFrom = runs["R"][key], "R"
			}
		}
		if r, ok := runs["R"][key]; ok && wantFrom != "R" && want != "" && r != want {
			failures = append(failures, fmt.Sprintf("%s: %sthe reference R decides unlike %s:\n%s", name, key, wantFrom, lineDiff(want, r)))
		}
		if got := runs["min"][key]; got != want {
			failures = append(failures, fmt.Sprintf("%s: %slibbpf decides differently with the minimized BTF than with %s:\n%s", name, key, wantFrom, lineDiff(want, got)))
			continue
		}
		compared++
		if mod {
			fromModules++
		}
	}
	return failures, compared, fromModules
}
