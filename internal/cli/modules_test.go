package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/rawbtf"
)

const (
	testModules     = "../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.modules.tar.xz"
	otherModules    = "../../testdata/kernels/debian/12/x86_64/6.12.117+deb12-amd64.modules.tar.xz"
	otherModuleKern = "../../testdata/kernels/debian/12/x86_64/6.12.117+deb12-amd64.btf.tar.xz"
)

// TestGenModules: gen --modules writes what btfgen.MinimizeModules makes,
// says which modules serve relocations, and refuses another kernel's
// modules naming both.
func TestGenModules(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "min.btf")
	code, stdout, stderr := runCLI(t, "gen", "min_core_btf", testKernel, out, obj("modules.bpf.o"), obj("modmulti.bpf.o"), "--modules", testModules, "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		FromModules int      `json:"from_modules"`
		Modules     []string `json:"modules"`
		Objects     []struct {
			Details []core.Report
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.FromModules == 0 || !strings.Contains(strings.Join(rep.Modules, ","), "nf_conntrack") {
		t.Errorf("report: %d relocations from modules %v", rep.FromModules, rep.Modules)
	}
	// The details name the module of each relocation modules serve.
	served := 0
	for _, o := range rep.Objects {
		for _, d := range o.Details {
			if len(d.Modules) > 0 {
				served++
				if d.Status != core.StatusOK {
					t.Errorf("%s: %s, served by %v", d.Path, d.Status, d.Modules)
				}
			}
		}
	}
	if served != rep.FromModules {
		t.Errorf("%d details name modules, from_modules %d", served, rep.FromModules)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := kbtf.ReadFile(testKernel, nil)
	if err != nil {
		t.Fatal(err)
	}
	vm, _ := rawbtf.Parse(data)
	mods, err := kmod.Open([]string{testModules}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var objs []*bpfobj.Object
	for _, n := range []string{"modules.bpf.o", "modmulti.bpf.o"} {
		o, err := bpfobj.Open(obj(n))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	want, err := btfgen.NewPlan(objs).MinimizeModules(vm, mods)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.BTF) {
		t.Error("gen --modules differs from MinimizeModules")
	}
	// verify --modules proves it; without the modules it is not equivalent.
	if code, stdout, stderr := runCLI(t, "verify", testKernel, out, obj("modules.bpf.o"), obj("modmulti.bpf.o"), "--modules", testModules); code != ExitOK {
		t.Errorf("verify --modules: exit %d: %s%s", code, stdout, stderr)
	}
	if code, _, _ := runCLI(t, "verify", testKernel, out, obj("modules.bpf.o"), obj("modmulti.bpf.o")); code != ExitNegative {
		t.Errorf("verify without --modules: exit %d, want %d", code, ExitNegative)
	}
	// Another kernel's modules.
	code, _, stderr = runCLI(t, "gen", "min_core_btf", testKernel, filepath.Join(dir, "x.btf"), obj("modules.bpf.o"), "--modules", otherModules)
	if code != ExitBadInput || !strings.Contains(stderr, "6.12.117+deb12-amd64.modules.tar.xz") || !strings.Contains(stderr, "6.1.0-56-amd64.btf.tar.xz") {
		t.Errorf("another kernel's modules: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.btf")); !os.IsNotExist(err) {
		t.Error("an output was written")
	}
}

// TestInspectCompatModules: with --modules, module-served relocations are
// ok and named with their modules.
func TestInspectCompatModules(t *testing.T) {
	code, stdout, stderr := runCLI(t, "inspect", "compat", obj("modmulti.bpf.o"), "--kernels", otherModuleKern, "--modules", otherModules, "-v")
	if code != ExitOK || !strings.Contains(stdout, "ok (module libertas_sdio, usb8xxx)") {
		t.Errorf("exit %d:\n%s%s", code, stdout, stderr)
	}
	// A tree: the module archives beside the x86_64 kernels are used.
	code, stdout, stderr = runCLI(t, "inspect", "compat", obj("modmulti.bpf.o"), "--kernels", testKernelTree)
	if code != ExitOK || strings.Count(stdout, "ok by module types") != 2 {
		t.Errorf("tree: exit %d:\n%s%s", code, stdout, stderr)
	}
}

// TestDiffModules: --old-modules and --new-modules decide the objects'
// relocations with each kernel's modules, and need --only-used-by.
func TestDiffModules(t *testing.T) {
	code, stdout, stderr := runCLI(t, "diff", testKernel, otherModuleKern, "--only-used-by", obj("modmulti.bpf.o"), "--old-modules", testModules, "--new-modules", otherModules, "-o", "json")
	if code != ExitOK && code != ExitNegative {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "cmd_ctrl_node") {
		t.Errorf("the module types the object reads are not compared:\n%s", stdout)
	}
	if code, _, stderr := runCLI(t, "diff", testKernel, otherModuleKern, "--old-modules", testModules); code != ExitBadInput || !strings.Contains(stderr, "--only-used-by") {
		t.Errorf("--old-modules alone: exit %d: %s", code, stderr)
	}
}
