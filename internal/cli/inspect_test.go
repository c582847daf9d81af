package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/btftool/btftool/pkg/inspect"
	"github.com/btftool/btftool/pkg/kbtf"
)

const testKernelTree = "../../testdata/kernels"

func TestInspectFlags(t *testing.T) {
	btf := func(f func(*InspectBTFOptions)) *InspectBTFOptions {
		o := &InspectBTFOptions{Input: "k.btf", DumpFormat: "raw", Format: "text"}
		f(o)
		return o
	}
	compat := func(f func(*InspectCompatOptions)) *InspectCompatOptions {
		o := &InspectCompatOptions{Objects: []string{"a.o"}, Kernels: "dir", FailOn: "never", Format: "text"}
		f(o)
		return o
	}
	none := func(*InspectBTFOptions) {}
	for _, tc := range []struct {
		cmd     string
		args    []string
		wantErr string
		want    any
	}{
		{"btf", []string{"k.btf"}, "", btf(none)},
		{"btf", []string{"k.btf", "--types", "-o", "json", "-q"}, "", btf(func(o *InspectBTFOptions) { o.Types, o.Format, o.Quiet = true, "json", true })},
		{"btf", []string{"k.btf", "--type", "task_*", "--type", "sk_buff", "--format", "c"}, "", btf(func(o *InspectBTFOptions) {
			o.Names, o.DumpFormat = []string{"task_*", "sk_buff"}, "c"
		})},
		// No FILE: the running kernel's BTF.
		{"btf", []string{}, "", btf(func(o *InspectBTFOptions) { o.Input, o.DefaultInput = runningKernel, true })},
		{"btf", []string{"-"}, "", btf(func(o *InspectBTFOptions) { o.Input = "-" })},
		{"btf", []string{"k.btf", "--format", "c", "-o", "json"}, "--format c and -o json do not go together", nil},
		{"btf", []string{"k.btf", "--format", "go"}, `invalid value "go": want raw or c`, nil},
		{"btf", []string{"a", "b"}, "inspect btf takes one FILE, got 2 arguments", nil},
		{"object", []string{"a.o", "b.o", "-o", "json"}, "", &InspectObjectOptions{Objects: []string{"a.o", "b.o"}, Format: "json"}},
		{"object", []string{}, "inspect object needs at least one OBJECT", nil},
		{"compat", []string{"a.o", "--kernels", "dir", "-j", "3", "-v", "--fail-on", "unsatisfied"}, "", compat(func(o *InspectCompatOptions) {
			o.Jobs, o.Verbose, o.FailOn = 3, true, "unsatisfied"
		})},
		{"compat", []string{"a.o", "--kernels", "dir"}, "", compat(func(*InspectCompatOptions) {})},
		// No --kernels: the running kernel's BTF.
		{"compat", []string{"a.o"}, "", compat(func(o *InspectCompatOptions) { o.Kernels, o.DefaultKernels = runningKernel, true })},
		{"compat", []string{"--kernels", "dir"}, "inspect compat needs at least one OBJECT", nil},
		{"compat", []string{"a.o", "--kernels", "dir", "--fail-on", "sometimes"}, `invalid value "sometimes": want never, unsatisfied or load`, nil},
		{"compat", []string{"a.o", "--kernels", "dir", "--jobs", "-1"}, `invalid value "-1": want a whole number, 0 or more`, nil},
	} {
		var got any
		var err error
		switch tc.cmd {
		case "btf":
			got, err = parseOptions(t, NewCmdInspectBTF, tc.args)
		case "object":
			got, err = parseOptions(t, NewCmdInspectObject, tc.args)
		case "compat":
			got, err = parseOptions(t, NewCmdInspectCompat, tc.args)
		}
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || exitCode(err) != ExitBadInput {
				t.Errorf("%s %v: error %v, want a usage error saying %q", tc.cmd, tc.args, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%s %v: %v", tc.cmd, tc.args, err)
		default:
			if d := optionsDiff(got, tc.want); d != "" {
				t.Errorf("%s %v: %s", tc.cmd, tc.args, d)
			}
		}
	}
}

func TestInspectBTF(t *testing.T) {
	dir := t.TempDir()
	raw := rawKernelFile(t, dir)
	for _, tc := range []struct {
		name string
		args []string
		want []string // substrings of stdout
		json bool
	}{
		{"summary", []string{raw}, []string{"shape:", "full", "byte order:", "little-endian", "types:", "100750", "STRUCT", "largest types:", "struct rcu_state"}, false},
		{"summary compressed", []string{testKernel}, []string{"(tar.xz)", "full"}, false},
		{"summary json", []string{raw, "-o", "json"}, []string{`"shape": "full"`, `"kind": "FUNC"`}, true},
		{"one type", []string{raw, "--type", "trace_event_raw_sys_enter"}, []string{"STRUCT 'trace_event_raw_sys_enter' size=64 vlen=4\n\t'ent' type_id=", "STRUCT 'trace_entry'"}, false},
		{"types json", []string{raw, "--type", "atomic_t", "-o", "json"}, []string{`"kind":"TYPEDEF","name":"atomic_t"`}, true},
		{"c header", []string{raw, "--type", "task_struct", "--format", "c"}, []string{"#ifndef __VMLINUX_H__", "struct task_struct {", "preserve_access_index"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"inspect", "btf"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if tc.json {
				var v map[string]any
				if err := json.Unmarshal([]byte(stdout), &v); err != nil {
					t.Errorf("bad JSON: %v", err)
				}
			}
		})
	}

	// --types is bpftool's listing: one header line per type.
	code, stdout, _ := runCLI(t, "inspect", "btf", raw, "--types")
	if code != 0 {
		t.Fatal(code)
	}
	n := 0
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "[") {
			n++
		}
	}
	if n != 100750 {
		t.Errorf("--types listed %d types, want 100750", n)
	}
	code, stdout, _ = runCLI(t, "inspect", "btf", raw, "--types", "-o", "json")
	var dump struct{ Types []map[string]any }
	if code != 0 || json.Unmarshal([]byte(stdout), &dump) != nil || len(dump.Types) != 100750 {
		t.Errorf("--types -o json: exit %d, %d types", code, len(dump.Types))
	}
}

func TestInspectObject(t *testing.T) {
	code, stdout, stderr := runCLI(t, "inspect", "object", obj("taskstate.bpf.o"), obj("plain.bpf.o"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"license: GPL", "raw_tp/sched_switch", "handle_switch", "field_exists", "struct task_struct___old.state", "CO-RE relocations: 0"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
	code, stdout, _ = runCLI(t, "inspect", "object", obj("taskstate.bpf.o"), "-o", "json")
	var rep struct{ Objects []inspect.ObjectInfo }
	if code != 0 || json.Unmarshal([]byte(stdout), &rep) != nil {
		t.Fatalf("exit %d, output %s", code, stdout)
	}
	infos := rep.Objects
	if len(infos) != 1 || len(infos[0].Relocations) != 17 || len(infos[0].Programs) == 0 || infos[0].License != "GPL" {
		t.Errorf("JSON %+v", infos)
	}
	if n := infos[0].NeedsKernelBTF; len(n) != 1 || n[0].Name != "handle_switch_btf" || n[0].Needs[0].Name != "tp_btf" {
		t.Errorf("JSON needs_kernel_btf %+v, want handle_switch_btf (tp_btf)", n)
	}
}

func TestInspectObjectNeedsKernelBTF(t *testing.T) {
	code, stdout, stderr := runCLI(t, "inspect", "object", obj("kernbtf.bpf.o"), obj("plain.bpf.o"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "7 program(s) need the kernel's own BTF at load time: read_entry (fentry), read_exit (fexit), dump_task (iter), " +
		"fsync_kfunc (kfunc bpf_rcu_read_lock, kfunc bpf_rcu_read_unlock), write_ksym (ksym bpf_prog_active), open_lsm (lsm), exec_btf (tp_btf)\n"
	if !strings.Contains(stdout, want) || strings.Count(stdout, "need the kernel's own BTF") != 1 {
		t.Errorf("output lacks %q once:\n%s", want, stdout)
	}
}

func TestInspectCompat(t *testing.T) {
	objs := []string{obj("taskstate.bpf.o"), obj("netdrop.bpf.o"), obj("features.bpf.o"), obj("guards.bpf.o")}
	args := append([]string{"inspect", "compat", "--kernels", testKernelTree}, objs...)
	code, stdout, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Count(stdout, ".btf.tar.xz") != 3 || !strings.Contains(stdout, "debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz") {
		t.Errorf("want one line per kernel:\n%s", stdout)
	}

	code, stdout, _ = runCLI(t, append(args, "--verbose")...)
	if code != 0 {
		t.Errorf("--verbose: exit %d", code)
	}
	for _, w := range []string{
		// The other flavor's read and the poisoned enum value sit behind
		// their existence checks: dead code.
		"byte_off struct task_struct___old.state: guard", "field_exists struct task_struct___old.state: guard",
		"enumval_value enum btftool_no_such_enum::BTFTOOL_NO_SUCH_VALUE: guard",
		"kprobe/vfs_read unguarded insn 1 relo #0: byte_off struct task_struct___btftool.btftool_no_such_field: will-fail",
		"fentry/vfs_fsync_range fsync_fentry insn 1 relo #0: byte_off struct task_struct___btftool.btftool_no_such_field: alternative",
		"program fsync_fentry (fentry/vfs_fsync_range): needs-variant-disabled (variant fsync_kprobe loads)",
		"program unguarded (kprobe/vfs_read): fails: reaches poisoned relo #0",
	} {
		if !strings.Contains(stdout, w) {
			t.Errorf("--verbose lacks %q", w)
		}
	}

	code, _, _ = runCLI(t, append(args, "--fail-on", "unsatisfied")...)
	if code != 1 {
		t.Errorf("--fail-on unsatisfied: exit %d, want 1", code)
	}
	code, _, _ = runCLI(t, append(args, "--fail-on", "load")...)
	if code != 0 {
		t.Errorf("--fail-on load: exit %d, want 0", code)
	}
	// features.bpf.o only probes: nothing is poisoned; taskstate's and
	// netdrop's poisoned reads are dead code.
	code, _, _ = runCLI(t, "inspect", "compat", "--kernels", testKernel, obj("features.bpf.o"), obj("taskstate.bpf.o"), obj("netdrop.bpf.o"), "--fail-on", "unsatisfied")
	if code != 0 {
		t.Errorf("features, taskstate, netdrop --fail-on unsatisfied: exit %d, want 0", code)
	}

	code, stdout, _ = runCLI(t, append(args, "-o", "json", "-j", "1")...)
	var rep compatReport
	if code != 0 || json.Unmarshal([]byte(stdout), &rep) != nil {
		t.Fatalf("exit %d: %s", code, stdout)
	}
	if len(rep.NeedsKernelBTF) != 2 {
		t.Errorf("needs_kernel_btf %+v, want taskstate.bpf.o and guards.bpf.o", rep.NeedsKernelBTF)
	}
	if len(rep.Kernels) != 3 || rep.Failing != 3 || rep.Total.Relocations != 3*(17+35+22+6) || rep.Total.WillFail != 3 || rep.Total.Alternative != 3 {
		t.Errorf("report: %d kernels, %d failing, %+v", len(rep.Kernels), rep.Failing, rep.Total)
	}
	for _, k := range rep.Kernels {
		if k.Distro != "debian" || k.Version != "12" || len(k.Objects) != 4 {
			t.Errorf("kernel %+v", k.Kernel)
		}
	}
}

// TestInspectCompatGroups: more than 20 kernels are summarized per
// distribution, version and architecture.
func TestInspectCompatGroups(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 21 kernels")
	}
	dir := t.TempDir()
	abs, err := filepath.Abs(testKernel)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 21 {
		d := filepath.Join(dir, "debian", "12", "x86_64")
		os.MkdirAll(d, 0o755)
		if err := os.Symlink(abs, filepath.Join(d, fmt.Sprintf("6.1.0-%d-amd64.btf.tar.xz", i))); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runCLI(t, "inspect", "compat", "--kernels", dir, obj("taskstate.bpf.o"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "debian/12/x86_64  21") || strings.Count(stdout, "\n") != 4 ||
		!strings.HasSuffix(stdout, "\n"+obj("taskstate.bpf.o")+": 1 program(s) need the kernel's own BTF at load time: handle_switch_btf (tp_btf)\n") {
		t.Errorf("want one group line, then the programs that need the kernel's BTF:\n%s", stdout)
	}
}

func TestInspectBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kdata, err := rawKernel()
	if err != nil {
		t.Fatal(err)
	}
	truncated := write("truncated.btf", kdata[:len(kdata)/2])
	notBTF := write("notbtf.bin", []byte("hello, world, this is not BTF"))
	good := obj("taskstate.bpf.o")
	empty := filepath.Join(dir, "emptydir")
	os.Mkdir(empty, 0o755)
	badTree := filepath.Join(dir, "tree", "debian", "12", "x86_64")
	os.MkdirAll(badTree, 0o755)
	os.WriteFile(filepath.Join(badTree, "broken.btf"), []byte("garbage"), 0o644)
	for _, tc := range []struct {
		name    string
		args    []string
		mention string
	}{
		{"btf missing", []string{"inspect", "btf", filepath.Join(dir, "nope.btf")}, "nope.btf"},
		{"btf not BTF", []string{"inspect", "btf", notBTF}, "notbtf.bin"},
		{"btf truncated", []string{"inspect", "btf", truncated}, "truncated.btf"},
		{"btf directory", []string{"inspect", "btf", dir}, dir},
		{"btf no such type", []string{"inspect", "btf", testKernel, "--type", "btftool_nope"}, "btftool_nope"},
		{"object missing", []string{"inspect", "object", filepath.Join(dir, "nope.o")}, "nope.o"},
		{"object not ELF", []string{"inspect", "object", notBTF}, "notbtf.bin"},
		{"compat object missing", []string{"inspect", "compat", "--kernels", testKernel, filepath.Join(dir, "nope.o")}, "nope.o"},
		{"compat kernels missing", []string{"inspect", "compat", "--kernels", filepath.Join(dir, "nokernels"), good}, "nokernels"},
		{"compat kernel not BTF", []string{"inspect", "compat", "--kernels", notBTF, good}, "notbtf.bin"},
		{"compat empty tree", []string{"inspect", "compat", "--kernels", empty, good}, "emptydir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.mention) {
				t.Errorf("stderr %q: want one line naming %s", stderr, tc.mention)
			}
			if strings.HasPrefix(tc.name, "compat") {
				return
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
	// An unreadable kernel in a tree is reported in its line and fails the
	// run with status 2, naming it.
	code, stdout, stderr := runCLI(t, "inspect", "compat", "--kernels", filepath.Join(dir, "tree"), good)
	if code != 2 || !strings.Contains(stdout, "UNREADABLE") || !strings.Contains(stderr, "broken.btf") {
		t.Errorf("bad kernel in tree: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

// TestInspectCompatMatchesLibbpf: the relocations compat reports as
// unsatisfied (guard, alternative, will-fail) and as failing the load are
// exactly those libbpf itself reports ("no matching targets found", and
// relocation errors), on every test object and Debian kernel.
func TestInspectCompatMatchesLibbpf(t *testing.T) {
	if testing.Short() {
		t.Skip("runs libbpf")
	}
	if os.Geteuid() != 0 {
		t.Skip("the libbpf oracle needs root")
	}
	if out, err := exec.Command("make", "-C", "../../tools/oracle").CombinedOutput(); err != nil {
		t.Skipf("cannot build the oracle: %v\n%s", err, out)
	}
	oracle, _ := filepath.Abs("../../tools/oracle/relo_oracle")
	objs, _ := filepath.Glob(filepath.Join(testObjs, "*.bpf.o"))
	tools, _ := filepath.Glob("../../testdata/libbpf-tools/*.bpf.o")
	objs = append(objs, tools...)
	entries, err := kbtf.Walk(testKernelTree)
	if err != nil || len(entries) != 3 {
		t.Fatalf("kernels: %v %v", entries, err)
	}
	dir := t.TempDir()
	totalUnsat := 0
	defer func() {
		if totalUnsat == 0 {
			t.Error("libbpf found every relocation satisfied: the comparison proves nothing")
		}
		t.Logf("%d unsatisfied relocations agree with libbpf", totalUnsat)
	}()
	for _, e := range entries {
		data, _, err := kbtf.ReadFile(e.Path, nil)
		if err != nil {
			t.Fatal(err)
		}
		rawPath := filepath.Join(dir, e.Release+".btf")
		if err := os.WriteFile(rawPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runCLI(t, append([]string{"inspect", "compat", "--kernels", e.Path, "-o", "json"}, objs...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var rep compatReport
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		for _, o := range rep.Kernels[0].Objects {
			t.Run(e.Release+"/"+filepath.Base(o.Path), func(t *testing.T) {
				out, _ := exec.Command(oracle, o.Path, rawPath).Output()
				wantUnsat, wantFail, seen := oracleSets(string(out))
				// libbpf stops at the first relocation it fails on;
				// otherwise it relocates everything (and the verifier
				// may then reject a program, which is not our concern).
				if len(wantFail) == 0 && len(seen) != o.Relocations {
					t.Fatalf("libbpf processed %d relocations, btftool %d:\n%s", len(seen), o.Relocations, out)
				}
				totalUnsat += len(wantUnsat)
				gotUnsat, gotFail := map[string]bool{}, map[string]bool{}
				for _, d := range o.Details {
					key := fmt.Sprintf("%s#%d", d.Program, d.Index)
					switch d.Compat {
					case inspect.LoadFails:
						gotFail[key] = true
					case inspect.Guard, inspect.Alternative, inspect.WillFail:
						if seen[key] {
							gotUnsat[key] = true
						}
					}
				}
				if a, b := keys(gotUnsat), keys(wantUnsat); a != b {
					t.Errorf("unsatisfied:\n btftool %s\n  libbpf %s", a, b)
				}
				if a, b := keys(gotFail), keys(wantFail); a != b {
					t.Errorf("load failures:\n btftool %s\n  libbpf %s", a, b)
				}
			})
		}
	}
}

var oracleLine = regexp.MustCompile(`^prog '([^']*)': relo #(\d+): (.*)$`)

// oracleSets parses relo_oracle output: relocations libbpf found no
// target for, relocations it failed on, and all it processed.
func oracleSets(out string) (unsat, fail, seen map[string]bool) {
	unsat, fail, seen = map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		m := oracleLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		key := m[1] + "#" + m[2]
		seen[key] = true
		switch msg := m[3]; {
		case strings.Contains(msg, "no matching targets found"):
			unsat[key] = true
		case strings.Contains(msg, "ambiguity"), strings.Contains(msg, "failed"):
			fail[key] = true
		}
	}
	return unsat, fail, seen
}

func keys(m map[string]bool) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

// TestInspectBTFTypesJSONIsBpftools: "inspect btf --types -o json" prints
// what 'bpftool -j btf dump file' prints, type for type, so that jq
// scripts written for bpftool ('.types[]') keep working. bpftool 7.1
// sign-extends unsigned 32-bit enumerator values of 2^31 and more; btftool
// prints them as they are, and the comparison allows for that.
func TestInspectBTFTypesJSONIsBpftools(t *testing.T) {
	bt, err := exec.LookPath("bpftool")
	if err != nil {
		t.Skip("bpftool not installed")
	}
	files, _ := filepath.Glob(filepath.Join(testObjs, "*.bpf.o"))
	files = append(files, rawKernelFile(t, t.TempDir()))
	for _, f := range files {
		out, err := exec.Command(bt, "-j", "btf", "dump", "file", f).Output()
		if err != nil {
			t.Fatalf("bpftool %s: %v", f, err)
		}
		var want, got struct{ Types []map[string]any }
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("bpftool %s: %v", f, err)
		}
		code, stdout, stderr := runCLI(t, "inspect", "btf", f, "--types", "-o", "json")
		dec = json.NewDecoder(strings.NewReader(stdout))
		dec.UseNumber()
		if code != 0 || dec.Decode(&got) != nil {
			t.Fatalf("%s: exit %d: %s", f, code, stderr)
		}
		if len(got.Types) != len(want.Types) || len(want.Types) == 0 {
			t.Fatalf("%s: %d types, bpftool %d", f, len(got.Types), len(want.Types))
		}
		bad := 0
		for i, w := range want.Types {
			if w["kind"] == "ENUM" {
				for _, v := range w["values"].([]any) {
					m := v.(map[string]any)
					if n, err := strconv.ParseUint(string(m["val"].(json.Number)), 10, 64); err == nil && n >= 1<<32 && w["encoding"] == "UNSIGNED" {
						m["val"] = json.Number(strconv.FormatUint(n&0xffffffff, 10))
					}
				}
			}
			if !reflect.DeepEqual(got.Types[i], w) {
				if bad++; bad <= 3 {
					t.Errorf("%s: type %d:\n btftool %v\n bpftool %v", filepath.Base(f), i+1, got.Types[i], w)
				}
			}
		}
		if bad > 3 {
			t.Errorf("%s: %d types differ", filepath.Base(f), bad)
		}
	}
}

// TestInspectCompatModulesText: without --verbose, inspect compat lists
// the relocations only kernel modules satisfy, with the module and, over
// a tree, the kernels; JSON details carry the modules.
func TestInspectCompatModulesText(t *testing.T) {
	const k = testKernelTree + "/debian/12/x86_64/6.1.0-56-amd64"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--kernels", k + ".btf.tar.xz", "--modules", k + ".modules.tar.xz"},
			"relocations only kernel modules satisfy:\n  " + obj("modules.bpf.o") + ":\n    kprobe/nf_ct_acct_add conntrack_acct insn 1 relo #1: byte_off struct nf_conn_acct.counter[1].packets.counter: module nf_conntrack\n"},
		{[]string{"--kernels", testKernelTree},
			"kprobe/__update_selected bond_port insn 1 relo #1: byte_off struct port.actor_system.mac_addr_value[2]: module bonding on 1 of 3 kernel(s): debian/12/x86_64: 6.1.0-56-amd64.btf.tar.xz\n"},
	} {
		code, stdout, stderr := runCLI(t, append([]string{"inspect", "compat", obj("modules.bpf.o"), "-j", "1"}, tc.args...)...)
		if code != 0 || !strings.Contains(stdout, tc.want) {
			t.Errorf("%q: exit %d, stdout lacks %q:\n%s%s", tc.args, code, tc.want, stdout, stderr)
		}
	}
	// Without modules nothing is served by them.
	if _, stdout, _ := runCLI(t, "inspect", "compat", obj("modules.bpf.o"), "--kernels", k+".btf.tar.xz"); strings.Contains(stdout, "modules satisfy") {
		t.Errorf("modules listed without modules:\n%s", stdout)
	}
}

// --no-kernel-btf: the programs that need the kernel's own BTF fail, or
// need their variant disabled, and make the kernel failing.
func TestInspectCompatNoKernelBTF(t *testing.T) {
	code, stdout, stderr := runCLI(t, "inspect", "compat", "--kernels", testKernel, obj("taskstate.bpf.o"), "--verbose", "--fail-on", "unsatisfied")
	if code != 0 || strings.Contains(stdout, "program handle_switch_btf") {
		t.Fatalf("with kernel BTF: exit %d, stderr %s\n%s", code, stderr, stdout)
	}
	code, stdout, _ = runCLI(t, "inspect", "compat", "--no-kernel-btf", "--kernels", testKernel, obj("taskstate.bpf.o"), "--verbose", "--fail-on", "unsatisfied")
	if code != 0 || !strings.Contains(stdout, "program handle_switch_btf (tp_btf/sched_switch): needs-variant-disabled (variant handle_switch loads): the kernel has no BTF to attach handle_switch_btf (tp_btf)") {
		t.Errorf("taskstate --no-kernel-btf: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runCLI(t, "inspect", "compat", "--no-kernel-btf", "--kernels", testKernel, obj("kernbtf.bpf.o"), "--fail-on", "unsatisfied")
	if code != 1 || !strings.Contains(stdout, "WILL FAIL") || !strings.Contains(stdout, "8 program(s) fail") {
		t.Errorf("kernbtf --no-kernel-btf: exit %d, want 1 with 8 failing programs\n%s", code, stdout)
	}
}
