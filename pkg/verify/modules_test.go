package verify_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/rawbtf"
	"github.com/btftool/btftool/pkg/verify"
)

// TestCheckModules: cilium/ebpf, relocating what vmlinux serves against
// vmlinux and the rest against the modules' types, decides every
// relocation of the module test objects with the BTF minimized with the
// modules as with the full kernel and its modules; the BTF minimized
// without them is not equivalent.
func TestCheckModules(t *testing.T) {
	for _, release := range []string{"6.1.0-56-amd64", "6.12.117+deb12-amd64"} {
		t.Run(release, func(t *testing.T) {
			dir := "../../testdata/kernels/debian/12/x86_64/"
			full, _, err := kbtf.ReadFile(dir+release+".btf.tar.xz", nil)
			if err != nil {
				t.Fatal(err)
			}
			vm, err := rawbtf.Parse(full)
			if err != nil {
				t.Fatal(err)
			}
			mods, err := kmod.Open([]string{dir + release + ".modules.tar.xz"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var objs []*bpfobj.Object
			for _, n := range []string{"modules", "modmulti"} {
				o, err := bpfobj.Open(filepath.Join("../../testdata/bpf", n+".bpf.o"))
				if err != nil {
					t.Fatal(err)
				}
				objs = append(objs, o)
			}
			res, err := btfgen.NewPlan(objs).MinimizeModules(vm, mods)
			if err != nil {
				t.Fatal(err)
			}
			without, err := btfgen.NewPlan(objs).Minimize(vm)
			if err != nil {
				t.Fatal(err)
			}
			k, err := verify.NewKernelModules(full, mods)
			if err != nil {
				t.Fatal(err)
			}
			plan := verify.NewPlan(objs)
			rep, err := plan.Check(k, res.BTF, verify.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Equivalent() {
				t.Errorf("with modules: not equivalent: %+v", firstMismatch(rep))
			}
			// Module-served relocations were relocated, not poisoned.
			relocated := 0
			for _, r := range rep.Relocations {
				if strings.Contains(r.Path, "nf_conn_acct") && r.Full.Value != nil && !r.Full.Poison {
					relocated++
				}
			}
			if relocated == 0 {
				t.Error("nf_conn_acct was not relocated against the module")
			}
			if os.Geteuid() == 0 {
				rep, err := plan.Check(k, res.BTF, verify.Options{Load: true})
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.Loads) == 0 || rep.LoadMismatches() != 0 {
					t.Errorf("load check with modules: %d loads, %d mismatches: %+v %v", len(rep.Loads), rep.LoadMismatches(), rep.Loads, rep.Notes)
				}
			}
			rep, err = plan.Check(k, without.BTF, verify.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Equivalent() {
				t.Error("the BTF minimized without modules passes")
			}
		})
	}
}
