package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/btfdump"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// TestNewFormatOutputReadByOldTools minimizes a kernel BTF in the 2026
// format (layout section, types of kinds that Debian 12's libbpf 1.1 and
// bpftool 7.1 do not know, a 24-bit vlen) and checks that those tools
// read the result: bpftool dumps it as btftool does, and libbpf makes
// every CO-RE decision with it as with the kernel's BTF in the classic
// format, which is all they can read of that kernel.
func TestNewFormatOutputReadByOldTools(t *testing.T) {
	bpftool, bpftoolErr := exec.LookPath("bpftool")
	const kernel = "testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz"
	data, _, err := kbtf.ReadFile(filepath.Join(root, kernel), nil)
	if err != nil {
		t.Fatal(err)
	}
	classic, err := rawbtf.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	newFormat, err := rawbtf.Parse(btftest.NewFormatOf(classic, 70000, 70000))
	if err != nil {
		t.Fatal(err)
	}
	objPaths, _ := filepath.Glob(filepath.Join(root, "testdata/bpf/*.bpf.o"))
	res, err := btfgen.NewPlan(loadObjects(t, objPaths)).Minimize(newFormat)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	full, min := filepath.Join(tmp, "full.btf"), filepath.Join(tmp, "min.btf")
	if err := os.WriteFile(full, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(min, res.BTF, 0o644); err != nil {
		t.Fatal(err)
	}

	if bpftoolErr != nil {
		t.Log("bpftool not installed: its check is skipped")
	} else {
		out, err := exec.Command(bpftool, "btf", "dump", "file", min).Output()
		if err != nil {
			t.Fatalf("bpftool btf dump file: %v", err)
		}
		mb, err := rawbtf.Parse(res.BTF)
		if err != nil {
			t.Fatal(err)
		}
		var ours strings.Builder
		if err := btfdump.WriteRaw(&ours, mb, nil); err != nil {
			t.Fatal(err)
		}
		if string(out) != ours.String() {
			t.Errorf("bpftool dumps the minimized BTF differently:\n%s", lineDiff(ours.String(), string(out)))
		}
	}

	orc := oracle(t) // skips without root, gcc or libbpf-dev
	compared := 0
	for _, o := range objPaths {
		a, errA := decisions(orc, o, full)
		b, errB := decisions(orc, o, min)
		switch {
		case errA != nil || errB != nil:
			t.Errorf("%v %v", errA, errB)
		case a != b:
			t.Errorf("%s: libbpf decides differently:\n%s", filepath.Base(o), lineDiff(a, b))
		default:
			compared += strings.Count(a, "relo #")
		}
	}
	if compared == 0 {
		t.Fatal("no libbpf decision compared")
	}
	t.Logf("%d libbpf relocation decisions compared", compared)
}
