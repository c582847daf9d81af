package batch_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
)

func TestZZMem(t *testing.T) {
	n := os.Getenv("ZZN")
	if n == "" { t.Skip() }
	debug.SetGCPercent(50)
	files, _ := filepath.Glob("../../testdata/bpf/*.bpf.o")
	more, _ := filepath.Glob("../../testdata/libbpf-tools/*.bpf.o")
	var objs []*bpfobj.Object
	for _, f := range append(files, more...) {
		if filepath.Base(f) == "btfdump.bpf.o" { continue }
		o, _ := bpfobj.Open(f)
		objs = append(objs, o)
	}
	plan := btfgen.NewPlan(objs)
	out := t.TempDir()
	if _, err := batch.Run(context.Background(), plan, batch.Options{Input: "/tmp/rss/t" + n, Output: out, Jobs: 2}); err != nil { t.Fatal(err) }
	names := []string{"/memory/classes/total:bytes", "/memory/classes/heap/released:bytes", "/memory/classes/heap/free:bytes", "/memory/classes/heap/objects:bytes", "/memory/classes/heap/stacks:bytes", "/memory/classes/heap/unused:bytes", "/memory/classes/os-stacks:bytes", "/memory/classes/other:bytes", "/memory/classes/metadata/other:bytes"}
	s := make([]metrics.Sample, len(names))
	for i := range names { s[i].Name = names[i] }
	metrics.Read(s)
	for _, x := range s { t.Logf("%s %d MB", x.Name, x.Value.Uint64()>>20) }
	st, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(st), "\n") { if strings.HasPrefix(l, "VmHWM") || strings.HasPrefix(l, "VmRSS") { t.Log(l) } }
}
