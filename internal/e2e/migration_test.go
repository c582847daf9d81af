package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/btftool/btftool/internal/testfs"
	"github.com/btftool/btftool/pkg/bpfobj"
	bundlepkg "github.com/btftool/btftool/pkg/bundle"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/verify"
)

// The recipes of docs/migrating.md: each old recipe (bpftool driven by a
// shell loop, as btfhub's tools/btfgen.sh and bcc libbpf-tools'
// Makefile.btfgen do it) and its btftool replacement run on
// testdata/kernels; every kernel must be in both outputs, and btftool's
// outputs must verify and be no larger than bpftool's.

// oldLoop is the btfhub tools/btfgen.sh style loop: every .btf.tar.xz of
// $IN is extracted to a temporary directory and minimized with bpftool for
// all objects into the same place under $OUT.
const oldLoop = `set -eu
cd "$IN"
find . -name '*.btf.tar.xz' | sort | while read -r f; do
	rel=${f#./}
	name=$(basename "$rel" .tar.xz)
	tmp=$(mktemp -d)
	tar -xJf "$f" -C "$tmp"
	mkdir -p "$OUT/$(dirname "$rel")"
	bpftool gen min_core_btf "$tmp/$name" "$OUT/$(dirname "$rel")/$name" $OBJS
	rm -rf "$tmp"
done
`

// oldMakefileBtfgen is what bcc libbpf-tools' Makefile.btfgen does: one
// bpftool run per kernel into $WORK/min_core_btfs/..., the tree packed as
// min_core_btfs.tar.gz (members "./DISTRO/VERSION/ARCH/RELEASE.btf"), and
// the archive turned into an object to link into the tool.
const oldMakefileBtfgen = `set -eu
cd "$IN"
for f in $(find . -name '*.btf.tar.xz' | sort); do
	rel=${f#./}
	d="$WORK/min_core_btfs/$(dirname "$rel")"
	mkdir -p "$d"
	tar -xJf "$f" -C "$d"
	bpftool gen min_core_btf "$d/$(basename "$rel" .tar.xz)" "$d/$(basename "$rel" .tar.xz)" $OBJS
done
cd "$WORK"
tar -c --gz -f min_core_btfs.tar.gz -C min_core_btfs .
ld -r -b binary -o btfs.o min_core_btfs.tar.gz
`

// embedStep is the link step, unchanged, run on btftool's bundle.
const embedStep = `set -eu
cd "$WORK"
ld -r -b binary -o btfs.o min_core_btfs.tar.gz
`

// migNeedTools skips the test when a command it needs is missing.
func migNeedTools(tb testing.TB, names ...string) {
	tb.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			tb.Skipf("%s not installed", n)
		}
	}
}

// migBuildBtftool builds the command into dir.
func migBuildBtftool(tb testing.TB, dir string) string {
	tb.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		tb.Skip("go not in PATH: cannot build btftool")
	}
	bin := filepath.Join(dir, "btftool")
	cmd := exec.Command(goCmd, "build", "-o", bin, "./cmd/btftool")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// migShell runs script with bash and the given environment additions.
func migShell(tb testing.TB, script string, env ...string) {
	tb.Helper()
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("%v\n%s", err, out)
	}
}

// migRunBtftool runs btftool and requires success with nothing on stdout.
func migRunBtftool(tb testing.TB, bin string, args ...string) {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("btftool %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if stdout.Len() > 0 {
		tb.Errorf("btftool %s wrote on stdout: %q", strings.Join(args, " "), stdout.String())
	}
}

// migCompareOutputs checks that theirs (bpftool's) and ours (btftool's)
// hold the same kernels, that each of ours verifies against the full BTF,
// and that none is larger than theirs.
func migCompareOutputs(t *testing.T, kernels []kbtf.Entry, objs []*bpfobj.Object, theirs, ours map[string][]byte) {
	t.Helper()
	if len(theirs) != len(kernels) {
		t.Errorf("bpftool recipe wrote %d kernels, want %d", len(theirs), len(kernels))
	}
	plan := verify.NewPlan(objs)
	for _, k := range kernels {
		o, inOld := theirs[k.OutRel]
		n, inNew := ours[k.OutRel]
		if !inOld || !inNew {
			t.Errorf("%s: in bpftool's output %v, in btftool's %v", k.OutRel, inOld, inNew)
			continue
		}
		full, _, err := kbtf.ReadFile(k.Path, nil)
		if err != nil {
			t.Fatal(err)
		}
		kv, err := verify.NewKernel(full)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := plan.Check(kv, n, verify.Options{})
		switch {
		case err != nil:
			t.Errorf("%s: verify: %v", k.OutRel, err)
		case !rep.Equivalent():
			t.Errorf("%s: btftool's output does not verify: %d mismatches, well-formed %v", k.OutRel, rep.Count(verify.StatusMismatch), rep.IsWellFormed())
		}
		t.Logf("%s: bpftool %d bytes, btftool %d bytes", k.OutRel, len(o), len(n))
		if len(n) > len(o) {
			t.Errorf("%s: btftool's output (%d bytes) larger than bpftool's (%d bytes)", k.OutRel, len(n), len(o))
		}
	}
	for rel := range ours {
		if _, ok := theirs[rel]; !ok {
			t.Errorf("btftool wrote %s, the bpftool recipe did not", rel)
		}
	}
}

// migTarMembers lists the members of a tar.gz.
func migTarMembers(tb testing.TB, archive string) []string {
	tb.Helper()
	out, err := exec.Command("tar", "-tzf", archive).Output()
	if err != nil {
		tb.Fatalf("tar -tzf %s: %v", archive, err)
	}
	return strings.Fields(string(out))
}

func TestMigrationRecipes(t *testing.T) {
	migNeedTools(t, "bpftool", "tar", "xz", "bash")
	tmp := t.TempDir()
	bin := migBuildBtftool(t, tmp)
	// The old recipes know no module BTF: btftool gets the kernels alone,
	// without the module archives testdata has beside some of them.
	src, err := kbtf.Walk(filepath.Join(root, "testdata/kernels"))
	if err != nil || len(src) == 0 {
		t.Fatalf("no kernels in testdata/kernels: %v", err)
	}
	in := filepath.Join(tmp, "kernels")
	for _, k := range src {
		data, err := os.ReadFile(k.Path)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(in, filepath.FromSlash(k.Rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kernels, err := kbtf.Walk(in)
	if err != nil || len(kernels) != len(src) {
		t.Fatalf("copying the kernels: %v", err)
	}
	// bpftool aborts on btfdump.bpf.o on some kernels: both tools get the
	// objects bpftool accepts.
	objPaths, _ := filepath.Glob(filepath.Join(root, "testdata/bpf/*.bpf.o"))
	objPaths = slices.DeleteFunc(objPaths, func(p string) bool { return filepath.Base(p) == "btfdump.bpf.o" })
	for i, p := range objPaths {
		if objPaths[i], err = filepath.Abs(p); err != nil {
			t.Fatal(err)
		}
	}
	objs := loadObjects(t, objPaths)
	objsEnv := "OBJS=" + strings.Join(objPaths, " ")

	t.Run("btfhub-loop", func(t *testing.T) {
		oldOut, newOut := filepath.Join(tmp, "a-bpftool"), filepath.Join(tmp, "a-btftool")
		migShell(t, oldLoop, "IN="+in, "OUT="+oldOut, objsEnv)
		migRunBtftool(t, bin, append([]string{"gen", "min_core_btf", in, newOut}, objPaths...)...)
		migCompareOutputs(t, kernels, objs, testfs.ReadTree(t, oldOut, isBTF), testfs.ReadTree(t, newOut, isBTF))
	})

	t.Run("libbpf-tools-bundle", func(t *testing.T) {
		migNeedTools(t, "ld", "nm")
		oldWork, newWork := filepath.Join(tmp, "b-bpftool"), filepath.Join(tmp, "b-btftool")
		for _, d := range []string{oldWork, newWork} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		migShell(t, oldMakefileBtfgen, "IN="+in, "WORK="+oldWork, objsEnv)
		bundle := filepath.Join(newWork, "min_core_btfs.tar.gz")
		migRunBtftool(t, bin, append([]string{"gen", "min_core_btf", in, bundle}, objPaths...)...)
		migShell(t, embedStep, "WORK="+newWork)

		// The link step gives the symbols btf_helpers.c declares.
		for _, work := range []string{oldWork, newWork} {
			out, err := exec.Command("nm", filepath.Join(work, "btfs.o")).Output()
			if err != nil {
				t.Fatal(err)
			}
			for _, sym := range []string{"_binary_min_core_btfs_tar_gz_start", "_binary_min_core_btfs_tar_gz_end"} {
				if !strings.Contains(string(out), sym) {
					t.Errorf("%s/btfs.o has no symbol %s", filepath.Base(work), sym)
				}
			}
		}

		// btf_helpers.c looks up "./ID/VERSION_ID/ARCH/RELEASE.btf":
		// every member of the old archive is in the bundle, which adds
		// only ./index.json.
		oldMembers, newMembers := migTarMembers(t, filepath.Join(oldWork, "min_core_btfs.tar.gz")), migTarMembers(t, bundle)
		for _, m := range oldMembers {
			if strings.HasSuffix(m, ".btf") && !slices.Contains(newMembers, m) {
				t.Errorf("bundle has no member %s", m)
			}
		}
		for _, m := range newMembers {
			if m != "./index.json" && !slices.Contains(oldMembers, m) {
				t.Errorf("bundle has member %s, the old archive not", m)
			}
		}

		b, err := bundlepkg.OpenFile(bundle, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		newFiles := map[string][]byte{}
		for _, e := range b.Index().Kernels {
			data, err := b.ReadFile(e.Path)
			if err != nil {
				t.Fatal(err)
			}
			newFiles[e.Path] = data
			if m, err := b.Match(bundlepkg.Target{Release: e.Release, Machine: e.Arch}); err != nil || m.Entry.Member != e.Member {
				t.Errorf("Match(%s, %s): %v", e.Release, e.Arch, err)
			}
		}
		migCompareOutputs(t, kernels, objs, testfs.ReadTree(t, filepath.Join(oldWork, "min_core_btfs"), isBTF), newFiles)
	})

	t.Run("compare-script", func(t *testing.T) {
		// scripts/compare-bpftool.sh: one line per kernel, btftool never
		// larger, the same libbpf decisions (when the oracle can run).
		cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts/compare-bpftool.sh"), in}, objPaths...)...)
		cmd.Env = append(os.Environ(), "BTFTOOL="+bin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("compare-bpftool.sh: %v\n%s", err, out)
		}
		t.Logf("compare-bpftool.sh:\n%s", out)
		for _, k := range kernels {
			if !strings.Contains(string(out), k.Rel) {
				t.Errorf("compare-bpftool.sh does not report %s", k.Rel)
			}
		}
		if strings.Contains(string(out), "DIFFERENT") {
			t.Error("compare-bpftool.sh reports different libbpf decisions")
		}
	})

	t.Run("btfgen-flags", func(t *testing.T) {
		// kinvolk/btfgen's command line gives the directory mode's output.
		a, b := filepath.Join(tmp, "c-btfgen"), filepath.Join(tmp, "c-dir")
		args := []string{"gen", "min_core_btf", "--inputdir", in, "--outputdir", a}
		for _, o := range objPaths {
			args = append(args, "--object", o)
		}
		migRunBtftool(t, bin, args...)
		migRunBtftool(t, bin, append([]string{"gen", "min_core_btf", "-q", in, b}, objPaths...)...)
		x, y := testfs.ReadTree(t, a, isBTF), testfs.ReadTree(t, b, isBTF)
		for rel := range y {
			if !bytes.Equal(x[rel], y[rel]) {
				t.Errorf("%s differs between the btfgen form and directory mode", rel)
			}
		}
		if len(x) != len(y) || len(y) != len(kernels) {
			t.Errorf("btfgen form wrote %d kernels, directory mode %d, want %d", len(x), len(y), len(kernels))
		}
	})
}

// isBTF selects the *.btf files of an output tree.
func isBTF(rel string) bool { return strings.HasSuffix(rel, ".btf") }
