package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/btftool/btftool/internal/verifytest"
	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

const verifyKernel = "../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz"

// verifyFixture is the test objects and the test kernel minimized for all
// of them and for all but execsnoop, generated once.
type verifyFixture struct {
	objects  []string
	min      []byte
	fewerMin []byte
}

var loadVerifyFixture = sync.OnceValues(func() (*verifyFixture, error) {
	objects, err := filepath.Glob("../../testdata/bpf/*.bpf.o")
	if err != nil || len(objects) == 0 {
		return nil, errors.Join(err, os.ErrNotExist)
	}
	full, _, err := kbtf.ReadFile(verifyKernel, nil)
	if err != nil {
		return nil, err
	}
	k, err := rawbtf.Parse(full)
	if err != nil {
		return nil, err
	}
	var all, fewer []*bpfobj.Object
	for _, p := range objects {
		o, err := bpfobj.Open(p)
		if err != nil {
			return nil, err
		}
		all = append(all, o)
		if filepath.Base(p) != "execsnoop.bpf.o" {
			fewer = append(fewer, o)
		}
	}
	fx := &verifyFixture{objects: objects}
	for _, c := range []struct {
		objs []*bpfobj.Object
		out  *[]byte
	}{{all, &fx.min}, {fewer, &fx.fewerMin}} {
		res, err := btfgen.NewPlan(c.objs).Minimize(k)
		if err != nil {
			return nil, err
		}
		*c.out = res.BTF
	}
	return fx, nil
})

func getVerifyFixture(tb testing.TB) *verifyFixture {
	tb.Helper()
	fx, err := loadVerifyFixture()
	if errors.Is(err, os.ErrNotExist) {
		tb.Skipf("test data missing: %v", err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return fx
}

func writeTemp(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestNewCmdVerify(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    VerifyOptions
		wantErr bool
	}{
		{name: "minimal", args: []string{"in", "min", "a.o"},
			want: VerifyOptions{Input: "in", Minimized: "min", Objects: []string{"a.o"}, Format: "text"}},
		{name: "all flags", args: []string{"in", "min", "a.o", "b.o", "--load", "-v", "-o", "json"},
			want: VerifyOptions{Input: "in", Minimized: "min", Objects: []string{"a.o", "b.o"}, Format: "json", Verbose: true, Load: true}},
		{name: "no object", args: []string{"in", "min"}, wantErr: true},
		{name: "bad format", args: []string{"in", "min", "a.o", "-o", "yaml"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseOptions(t, NewCmdVerify, tt.args)
			if tt.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Input != tt.want.Input || got.Minimized != tt.want.Minimized ||
				strings.Join(got.Objects, ",") != strings.Join(tt.want.Objects, ",") ||
				got.Format != tt.want.Format || got.Verbose != tt.want.Verbose || got.Load != tt.want.Load {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	fx := getVerifyFixture(t)
	edited := func(e verifytest.Edit) string {
		out, err := verifytest.Apply(fx.min, e)
		if err != nil {
			t.Fatal(err)
		}
		return writeTemp(t, "edited.btf", out)
	}
	minPath := writeTemp(t, "min.btf", fx.min)
	truncated := writeTemp(t, "truncated.btf", fx.min[:len(fx.min)-100])
	tests := []struct {
		name     string
		min      string
		extra    []string
		wantCode int
		// wantOut matches stdout; wantErr matches stderr.
		wantOut, wantErr string
	}{
		{name: "btfgen output", min: minPath, wantCode: ExitOK,
			// The engine disagreements are cilium/ebpf's poison where libbpf
			// writes 0: type_size and target_type_id of a type no kernel
			// has (features.bpf.o), type_size of a module-only type
			// (modules.bpf.o, no modules given).
			wantOut: fmt.Sprintf(`(?m)\Averify: \d{3,} relocations in %d objects: all equivalent \(3 engine disagreements, 1 note; --verbose lists them\)\n\z`, len(fx.objects))},
		{name: "verbose", min: minPath, extra: []string{"-v"}, wantCode: ExitOK,
			wantOut: `(?m)^ok\texecsnoop.bpf.o trace_execve insn \d+: byte_off struct task_struct.real_parent: full \d+, minimized \d+$`},
		{name: "fewer objects", min: writeTemp(t, "fewer.btf", fx.fewerMin), wantCode: ExitNegative,
			wantOut: `\AMISMATCH\texecsnoop.bpf.o trace_execve insn \d+: byte_off struct trace_event_raw_sys_enter.id: full 8, minimized poison\n(?s:.*)verify: .*NOT equivalent: \d+ mismatches`},
		{name: "member deleted", min: edited(verifytest.Edit{Type: "task_struct", Member: "real_parent", Drop: true}), wantCode: ExitNegative,
			wantOut: `(?m)^MISMATCH\texecsnoop.bpf.o trace_execve insn \d+: byte_off struct task_struct.real_parent: full \d+, minimized poison$`},
		{name: "member moved", min: edited(verifytest.Edit{Type: "task_struct", Member: "pid", ShiftBits: 32}), wantCode: ExitNegative,
			wantOut: `(?m)^MISMATCH\t\S+ \S+ insn \d+: byte_off struct task_struct.pid: full (\d+), minimized (\d+)$`},
		{name: "enumerator dropped", min: edited(verifytest.Edit{Type: "skb_drop_reason", Member: "SKB_DROP_REASON_NETFILTER_DROP", Drop: true}), wantCode: ExitNegative,
			wantOut: `(?m)^MISMATCH\tnetdrop.bpf.o kfree_skb insn \d+: enumval_exists enum skb_drop_reason::SKB_DROP_REASON_NETFILTER_DROP: full 1, minimized 0$`},
		{name: "truncated", min: truncated, wantCode: ExitBadInput,
			wantErr: `\Abtftool: \S*truncated.btf: truncated BTF: header describes \d+ bytes, file has \d+\n\z`},
		{name: "missing", min: filepath.Join(t.TempDir(), "nope.btf"), wantCode: ExitBadInput,
			wantErr: `\Abtftool: .*nope.btf.*\n\z`},
		{name: "json", min: minPath, extra: []string{"-o", "json"}, wantCode: ExitOK, wantOut: `"equivalent": true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			f := &Factory{IO: &IOStreams{Out: &out, ErrOut: &errOut}}
			args := append([]string{"verify", verifyKernel, tt.min}, fx.objects...)
			code := run(f, append(args, tt.extra...))
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out.String(), errOut.String())
			}
			if tt.wantOut != "" && !regexp.MustCompile(tt.wantOut).MatchString(out.String()) {
				t.Errorf("stdout does not match %s:\n%s", tt.wantOut, out.String())
			}
			if tt.wantErr != "" && !regexp.MustCompile(tt.wantErr).MatchString(errOut.String()) {
				t.Errorf("stderr does not match %s:\n%s", tt.wantErr, errOut.String())
			}
			if tt.wantErr == "" && errOut.Len() > 0 {
				t.Errorf("unexpected stderr:\n%s", errOut.String())
			}
		})
	}
}

func TestVerifyJSON(t *testing.T) {
	fx := getVerifyFixture(t)
	var out bytes.Buffer
	f := &Factory{IO: &IOStreams{Out: &out, ErrOut: &bytes.Buffer{}}}
	bad, err := verifytest.Apply(fx.min, verifytest.Edit{Type: "task_struct", Member: "real_parent", Drop: true})
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"verify", verifyKernel, writeTemp(t, "bad.btf", bad), "-o", "json"}, fx.objects...)
	if code := run(f, args); code != ExitNegative {
		t.Fatalf("exit %d, want %d", code, ExitNegative)
	}
	var rep struct {
		Equivalent  bool `json:"equivalent"`
		Mismatches  int  `json:"mismatches"`
		Relocations []struct {
			Object string `json:"object"`
			Path   string `json:"path"`
			Status string `json:"status"`
		} `json:"relocations"`
		WellFormed []struct{ Name, Status string } `json:"well_formed"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if rep.Equivalent || rep.Mismatches == 0 || len(rep.Relocations) < 100 || len(rep.WellFormed) < 2 {
		t.Errorf("report: equivalent %v, %d mismatches, %d relocations, %d checks", rep.Equivalent, rep.Mismatches, len(rep.Relocations), len(rep.WellFormed))
	}
}

// TestVerifyLoad runs --load on the running kernel with its own BTF.
func TestVerifyLoad(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root")
	}
	fx := getVerifyFixture(t)
	const vmlinux = "/sys/kernel/btf/vmlinux"
	full, _, err := kbtf.ReadFile(vmlinux, nil)
	if err != nil {
		t.Skipf("no kernel BTF: %v", err)
	}
	k, err := rawbtf.Parse(full)
	if err != nil {
		t.Fatal(err)
	}
	var objs []*bpfobj.Object
	for _, p := range fx.objects {
		o, err := bpfobj.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	res, err := btfgen.NewPlan(objs).Minimize(k)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	f := &Factory{IO: &IOStreams{Out: &out, ErrOut: &errOut}}
	args := append([]string{"verify", vmlinux, writeTemp(t, "host.btf", res.BTF), "--load"}, fx.objects...)
	if code := run(f, args); code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if !regexp.MustCompile(`all equivalent, \d+ programs loaded alike`).MatchString(out.String()) {
		t.Skipf("no program loaded: %s", out.String())
	}
}
