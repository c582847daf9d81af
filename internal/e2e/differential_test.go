// Package e2e holds end-to-end tests that compare btftool with libbpf and
// bpftool on real objects and kernels.
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
	"github.com/btftool/btftool/pkg/verify"
)

const root = "../.."

// testObjects returns the project's corpus and, when extracted (make
// testdata-libbpf-tools), the libbpf-tools objects Debian ships.
func testObjects(tb testing.TB) []string {
	tb.Helper()
	own, _ := filepath.Glob(filepath.Join(root, "testdata/bpf/*.bpf.o"))
	if len(own) == 0 {
		tb.Fatal("no objects in testdata/bpf")
	}
	extra, _ := filepath.Glob(filepath.Join(root, "testdata/libbpf-tools/*.bpf.o"))
	if len(extra) == 0 {
		tb.Log("testdata/libbpf-tools is empty: run 'make testdata-libbpf-tools' to include Debian's libbpf-tools objects")
	}
	return append(own, extra...)
}

// testKernels returns the kernel BTFs in testdata and, when present, in
// ../shared/kernels (pahole-generated 4.18/4.19 kernels, local runs only).
func testKernels(tb testing.TB) []kbtf.Entry {
	tb.Helper()
	ks, err := kbtf.Walk(filepath.Join(root, "testdata/kernels"))
	if err != nil || len(ks) == 0 {
		tb.Fatalf("no kernels in testdata/kernels: %v", err)
	}
	shared := filepath.Join(root, "../shared/kernels")
	if _, err := os.Stat(shared); err == nil {
		more, err := kbtf.Walk(shared)
		if err != nil {
			tb.Fatal(err)
		}
		have := map[string]bool{}
		for _, k := range ks {
			have[k.Rel] = true
		}
		for _, k := range more {
			if !have[k.Rel] {
				ks = append(ks, k)
			}
		}
	} else {
		tb.Log("../shared/kernels absent: testing the kernels in testdata only")
	}
	return ks
}

// oracle builds tools/oracle/relo_oracle, or skips the test when this
// machine cannot run it (it needs root, gcc and libbpf-dev).
func oracle(tb testing.TB) string {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("the libbpf oracle loads BPF programs: needs root")
	}
	dir := filepath.Join(root, "tools/oracle")
	if out, err := exec.Command("make", "-s", "-C", dir, "relo_oracle").CombinedOutput(); err != nil {
		tb.Skipf("cannot build the libbpf oracle (needs gcc and libbpf-dev): %v\n%s", err, out)
	}
	return filepath.Join(dir, "relo_oracle")
}

func loadObjects(tb testing.TB, paths []string) []*bpfobj.Object {
	tb.Helper()
	var objs []*bpfobj.Object
	for _, p := range paths {
		o, err := bpfobj.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		objs = append(objs, o)
	}
	return objs
}

// specLine starts the oracle's lines about one relocation: libbpf's local
// spec, "relo #N: <kind> ...", then its outcome.
var specLine = regexp.MustCompile(`(?m)relo #\d+: <`)

// decisions runs the oracle and returns its relocation lines.
func decisions(oracle, obj, btf string) (string, error) {
	out, err := exec.Command(oracle, obj, btf).Output()
	if err != nil {
		return "", fmt.Errorf("relo_oracle %s %s: %w", obj, btf, err)
	}
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && !strings.HasPrefix(l, "LOAD") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n"), nil
}

// TestDifferentialLibbpf checks, for every test kernel, that libbpf makes
// the same CO-RE decision for every relocation of every object with the BTF
// btftool generates (for all objects together) as with the full BTF, and
// that the generated BTF is never larger than bpftool's.
func TestDifferentialLibbpf(t *testing.T) {
	orc := oracle(t)
	objPaths := testObjects(t)
	objs := loadObjects(t, objPaths)
	plan := btfgen.NewPlan(objs)
	kernels := testKernels(t)
	_, haveBpftool := exec.LookPath("bpftool")
	tmp := t.TempDir()

	var mu sync.Mutex
	compared := 0
	for ki, k := range kernels {
		t.Run(k.Rel, func(t *testing.T) {
			data, _, err := kbtf.ReadFile(k.Path, nil)
			if err != nil {
				t.Fatal(err)
			}
			kernel, err := rawbtf.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			res, err := plan.Minimize(kernel)
			if err != nil {
				t.Fatal(err)
			}
			full := filepath.Join(tmp, fmt.Sprintf("full-%d.btf", ki))
			min := filepath.Join(tmp, fmt.Sprintf("min-%d.btf", ki))
			if err := os.WriteFile(full, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(min, res.BTF, 0o644); err != nil {
				t.Fatal(err)
			}

			// libbpf: every object against the full and the minimized BTF.
			sem := make(chan struct{}, 4)
			var wg sync.WaitGroup
			var failures []string
			here := 0
			for _, o := range objPaths {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					a, errA := decisions(orc, o, full)
					b, errB := decisions(orc, o, min)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case errA != nil || errB != nil:
						failures = append(failures, fmt.Sprintf("%v %v", errA, errB))
					case a != b:
						failures = append(failures, fmt.Sprintf("%s: libbpf decides differently:\n%s", filepath.Base(o), lineDiff(a, b)))
					default:
						here += len(specLine.FindAllStringIndex(a, -1))
					}
				}()
			}
			wg.Wait()
			sort.Strings(failures)
			for _, f := range failures {
				t.Error(f)
			}
			// The objects have relocations on every kernel: none compared
			// means the oracle's output is not what this test parses.
			if here == 0 && len(failures) == 0 {
				t.Errorf("libbpf made no relocation decision for any of the %d objects: did relo_oracle's output change?", len(objPaths))
			}
			mu.Lock()
			compared += here
			mu.Unlock()

			if haveBpftool != nil {
				t.Log("bpftool not installed: size comparison skipped")
				return
			}
			// bpftool aborts on some inputs (FWD, TYPE_TAG...): compare
			// sizes on the objects it accepts.
			var accepted []*bpfobj.Object
			var acceptedPaths []string
			for i, o := range objPaths {
				if exec.Command("bpftool", "gen", "min_core_btf", full, filepath.Join(tmp, "probe.btf"), o).Run() == nil {
					accepted = append(accepted, objs[i])
					acceptedPaths = append(acceptedPaths, o)
				}
			}
			if len(accepted) == 0 {
				t.Log("bpftool accepts none of the objects on this kernel")
				return
			}
			theirs := filepath.Join(tmp, fmt.Sprintf("bpftool-%d.btf", ki))
			args := append([]string{"gen", "min_core_btf", full, theirs}, acceptedPaths...)
			if out, err := exec.Command("bpftool", args...).CombinedOutput(); err != nil {
				t.Logf("bpftool failed on the accepted objects together: %v: %s", err, out)
				return
			}
			fi, err := os.Stat(theirs)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := btfgen.NewPlan(accepted).Minimize(kernel)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d objects: btftool %d bytes, bpftool %d bytes (%d of %d objects accepted by bpftool)", len(accepted), len(ours.BTF), fi.Size(), len(accepted), len(objs))
			if int64(len(ours.BTF)) > fi.Size() {
				// Larger is right only where bpftool's output changes a
				// decision: of cilium/ebpf, which considers candidates
				// libbpf has pruned (see btfgen's markGroup).
				theirBTF, err := os.ReadFile(theirs)
				if err != nil {
					t.Fatal(err)
				}
				rep, err := verify.Check(data, theirBTF, accepted, verify.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if rep.Equivalent() {
					t.Errorf("btftool output %d bytes > bpftool's %d bytes, and bpftool's changes no decision", len(ours.BTF), fi.Size())
				} else {
					t.Logf("btftool output %d bytes > bpftool's %d bytes: bpftool's changes %d cilium/ebpf decisions", len(ours.BTF), fi.Size(), rep.Count(verify.StatusMismatch))
				}
			}
		})
	}
	if compared == 0 {
		t.Fatal("no libbpf relocation decision compared")
	}
	t.Logf("%d libbpf relocation decisions compared (%d objects, %d kernels)", compared, len(objPaths), len(kernels))
}

// lineDiff returns the lines of a and b that differ, marked - and +.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var buf bytes.Buffer
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			fmt.Fprintf(&buf, "- %s\n+ %s\n", x, y)
		}
	}
	return buf.String()
}
