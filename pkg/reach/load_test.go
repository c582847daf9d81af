package reach

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btftool/btftool/internal/bpfprog"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/rawbtf"
)

const hostBTF = "/sys/kernel/btf/vmlinux"

// decideHost decides the object at path against the kernel BTF vmlinux.
func decideHost(tb testing.TB, vmlinux *rawbtf.BTF, path string) (*bpfobj.Object, *Object) {
	tb.Helper()
	return decideOn(tb, vmlinux, path, Kernel{})
}

// decideHostKernel is decideHost with what is known of the kernel.
func decideHostKernel(tb testing.TB, vmlinux *rawbtf.BTF, path string, k Kernel) *Object {
	tb.Helper()
	_, v := decideOn(tb, vmlinux, path, k)
	return v
}

func decideOn(tb testing.TB, vmlinux *rawbtf.BTF, path string, k Kernel) (*bpfobj.Object, *Object) {
	tb.Helper()
	obj, err := bpfobj.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	prog, err := bpfprog.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	d := core.DecisionsOf(relocate(obj, vmlinux))
	v, err := Decide(obj, prog, &d, k)
	if err != nil {
		tb.Fatal(err)
	}
	return obj, v
}

// buildLoader compiles testdata/progload.c against libbpf, or skips.
func buildLoader(tb testing.TB) string {
	tb.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		tb.Skip("no C compiler to build the libbpf loader")
	}
	bin := filepath.Join(tb.TempDir(), "progload")
	if out, err := exec.Command(cc, "-O2", "-o", bin, "testdata/progload.c", "-lbpf").CombinedOutput(); err != nil {
		tb.Skipf("cannot build the libbpf loader (libbpf-dev?): %v\n%s", err, out)
	}
	return bin
}

// The outcomes of loading one program with libbpf.
const (
	loaded   = "loaded"
	poisoned = "poisoned"
	refused  = "refused"
	noTarget = "no-target"
	other    = "other"
)

// loadProgram loads one program of the object at path with libbpf, the
// object's other programs disabled, and says what happened.
func loadProgram(loader, path, name string) (string, string) {
	out, err := exec.Command(loader, path, name).CombinedOutput()
	s := string(out)
	switch {
	case err == nil:
		return loaded, ""
	case strings.Contains(s, "unknown#195896080") || strings.Contains(s, "<invalid CO-RE relocation>"):
		return poisoned, s
	case strings.Contains(s, "failed to relocate") || strings.Contains(s, "relocation decision ambiguity"):
		return refused, s
	case strings.Contains(s, "failed to prepare load attributes: -3"): // ESRCH: no attach target
		return noTarget, s
	}
	return other, s
}

// TestVerdictsMatchLoading checks that for every program of the committed
// test objects (and of libbpf-tools, when extracted) the verdict on the
// running kernel is what libbpf observes when it loads the program alone:
// a program predicted to load loads, and a program predicted to reach a
// poisoned instruction (or one whose attach target the kernel's BTF lacks)
// is rejected for it. Programs that fail to load for other reasons (a
// helper, a map type or a kernel symbol this kernel lacks or refuses) are
// counted apart.
func TestVerdictsMatchLoading(t *testing.T) {
	data, err := os.ReadFile(hostBTF)
	if err != nil {
		t.Skipf("no kernel BTF: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("loading BPF programs needs root")
	}
	loader := buildLoader(t)
	vmlinux, err := rawbtf.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	objs, _ := filepath.Glob("../../testdata/bpf/*.bpf.o")
	tools, _ := filepath.Glob("../../testdata/libbpf-tools/*.bpf.o")
	objs = append(objs, tools...)
	var compared, fails, loads, others int
	var progs []*bpfprog.Object
	for _, path := range objs {
		p, err := bpfprog.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		progs = append(progs, p)
	}
	kern := Kernel{Attachable: AttachTargets(vmlinux, progs...)}
	for _, path := range objs {
		v := decideHostKernel(t, vmlinux, path, kern)
		for _, p := range v.Programs {
			got, log := loadProgram(loader, path, p.Name)
			predicted := p.Status != Loads
			switch {
			case got == loaded && !predicted:
				loads++
			case (got == poisoned || got == refused || got == noTarget) && predicted:
				fails++
				t.Logf("%s %s: %s, as predicted: %v", filepath.Base(path), p.Name, got, p.Why)
			case got == other:
				others++
				t.Logf("%s %s: fails to load for another reason: %s", filepath.Base(path), p.Name, lastLines(log))
				continue
			default:
				t.Errorf("%s %s: verdict %s %v, libbpf: %s %s", filepath.Base(path), p.Name, p.Status, p.Why, got, lastLines(log))
			}
			compared++
		}
	}
	t.Logf("%d programs compared: %d load, %d fail as predicted; %d fail for other reasons", compared, loads, fails, others)
	if compared == 0 {
		t.Fatal("no program compared")
	}
}

func lastLines(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > 4 {
		l = l[len(l)-4:]
	}
	return strings.Join(l, " | ")
}
