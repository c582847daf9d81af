package btfdump

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// mustCheck are structs the compile test always checks.
var mustCheck = []string{"task_struct", "sk_buff", "file", "trace_event_raw_sys_enter", "inode", "sock", "mm_struct", "page", "bpf_prog", "net_device"}

// sampleStructs picks the structs the compile test checks: mustCheck and
// every n-th other struct with a unique name, about want of them.
func sampleStructs(b *rawbtf.BTF, want int) []rawbtf.TypeID {
	count := map[string]int{}
	var named []rawbtf.TypeID
	for id := 1; id < b.NumTypes(); id++ {
		t := b.Type(rawbtf.TypeID(id))
		if t.Kind() == rawbtf.KindStruct && t.NameOff() != 0 {
			count[t.Name()]++
			named = append(named, rawbtf.TypeID(id))
		}
	}
	must := map[string]bool{}
	for _, n := range mustCheck {
		must[n] = true
	}
	var out []rawbtf.TypeID
	step := max(1, len(named)/want)
	for i, id := range named {
		n := b.Type(id).Name()
		if count[n] == 1 && (must[n] || i%step == 0) {
			out = append(out, id)
		}
	}
	return out
}

// checkProgram returns a BPF C file that includes vmlinux.h, asserts the
// size and member offsets of the structs at compile time, and defines a
// global of each so that their layouts land in the object's BTF.
func checkProgram(b *rawbtf.BTF, ids []rawbtf.TypeID) []byte {
	var buf bytes.Buffer
	buf.WriteString("#include \"vmlinux.h\"\n\n")
	for i, id := range ids {
		t := b.Type(id)
		n := t.Name()
		fmt.Fprintf(&buf, "_Static_assert(sizeof(struct %s) == %d, \"size of %s\");\n", n, t.Size(), n)
		for j := range t.Vlen() {
			m := t.Member(j)
			if m.NameOff == 0 || m.BitfieldSize != 0 {
				continue
			}
			mn := b.String(m.NameOff)
			fmt.Fprintf(&buf, "_Static_assert(__builtin_offsetof(struct %s, %s) == %d, \"%s.%s\");\n", n, mn, m.BitOffset/8, n, mn)
		}
		fmt.Fprintf(&buf, "struct %s g%d;\n", n, i)
	}
	buf.WriteString("char LICENSE[] __attribute__((section(\"license\"))) = \"GPL\";\n")
	return buf.Bytes()
}

func TestWriteCCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles kernel headers")
	}
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skip("clang-19 not installed")
	}
	for i, k := range loadKernels(t) {
		t.Run(filepath.Base(debianKernels[i]), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			var h bytes.Buffer
			if err := WriteC(&h, k.btf, nil); err != nil {
				t.Fatal(err)
			}
			ids := sampleStructs(k.btf, 200)
			if len(ids) < 150 {
				t.Fatalf("only %d structs sampled", len(ids))
			}
			if err := os.WriteFile(filepath.Join(dir, "vmlinux.h"), h.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(dir, "check.bpf.c")
			if err := os.WriteFile(src, checkProgram(k.btf, ids), 0o644); err != nil {
				t.Fatal(err)
			}
			obj := filepath.Join(dir, "check.bpf.o")
			out, err := exec.Command(clang, "-target", "bpf", "-g", "-O2", "-c", src, "-o", obj).CombinedOutput()
			if err != nil {
				t.Fatalf("clang: %v\n%s", err, firstLines(out, 30))
			}
			data, _, err := kbtf.ReadFile(obj, nil)
			if err != nil {
				t.Fatal(err)
			}
			ob, err := rawbtf.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			compareLayouts(t, k.btf, ob, ids)
		})
	}
}

func firstLines(b []byte, n int) []byte {
	lines := bytes.SplitN(b, []byte("\n"), n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return bytes.Join(lines, []byte("\n"))
}

// compareLayouts checks that every struct of ids has, in the compiled
// object's BTF, the same size and members (names, offsets, bitfield
// widths) as in the kernel BTF.
func compareLayouts(t *testing.T, kb, ob *rawbtf.BTF, ids []rawbtf.TypeID) {
	t.Helper()
	byName := map[string]rawbtf.Type{}
	for id := 1; id < ob.NumTypes(); id++ {
		ot := ob.Type(rawbtf.TypeID(id))
		if ot.Kind() == rawbtf.KindStruct && ot.NameOff() != 0 {
			byName[ot.Name()] = ot
		}
	}
	checked := 0
	for _, id := range ids {
		kt := kb.Type(id)
		ot, ok := byName[kt.Name()]
		if !ok {
			t.Errorf("struct %s missing from the compiled object's BTF", kt.Name())
			continue
		}
		if kt.Size() != ot.Size() || kt.Vlen() != ot.Vlen() {
			t.Errorf("struct %s: size %d vlen %d, kernel has size %d vlen %d", kt.Name(), ot.Size(), ot.Vlen(), kt.Size(), kt.Vlen())
			continue
		}
		for j := range kt.Vlen() {
			km, om := kt.Member(j), ot.Member(j)
			if kb.String(km.NameOff) != ob.String(om.NameOff) || km.BitOffset != om.BitOffset || km.BitfieldSize != om.BitfieldSize {
				t.Errorf("struct %s member %d: %q at bit %d (bitfield %d), kernel has %q at bit %d (bitfield %d)",
					kt.Name(), j, ob.String(om.NameOff), om.BitOffset, om.BitfieldSize, kb.String(km.NameOff), km.BitOffset, km.BitfieldSize)
			}
		}
		checked++
	}
	for _, n := range mustCheck {
		if _, ok := byName[n]; !ok {
			t.Errorf("struct %s not checked", n)
		}
	}
	t.Logf("%d struct layouts identical to the kernel's", checked)
}
