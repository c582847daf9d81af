package btfdump

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

var debianKernels = []string{
	"../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz",
	"../../testdata/kernels/debian/12/x86_64/6.12.117+deb12-amd64.btf.tar.xz",
	"../../testdata/kernels/debian/12/arm64/6.1.0-50-arm64.btf.tar.xz",
}

type kernel struct {
	raw []byte
	btf *rawbtf.BTF
}

var kernels = sync.OnceValues(func() ([]kernel, error) {
	var ks []kernel
	for _, p := range debianKernels {
		data, _, err := kbtf.ReadFile(p, nil)
		if err != nil {
			return nil, err
		}
		b, err := rawbtf.Parse(data)
		if err != nil {
			return nil, err
		}
		ks = append(ks, kernel{data, b})
	}
	return ks, nil
})

func loadKernels(tb testing.TB) []kernel {
	tb.Helper()
	ks, err := kernels()
	if err != nil {
		tb.Fatal(err)
	}
	return ks
}

// allKinds builds a BTF with one type of every kind and the odd encodings
// (signed enums, union forward declarations, tags, bitfields).
func allKinds() []byte {
	b := btftest.New()
	i32 := b.Int("int", 4, true)                                                                                                                                  // 1
	u8 := b.Int("unsigned char", 1, false)                                                                                                                        // 2
	p := b.Ptr(i32)                                                                                                                                               // 3
	arr := b.Array(u8, i32, 16)                                                                                                                                   // 4
	s := b.Struct("s", 8, btftest.M{Name: "a", Type: i32}, btftest.M{Name: "b", Type: u8, BitOff: 32, Bitfield: 3}, btftest.M{Type: u8, BitOff: 35, Bitfield: 5}) // 5
	b.Union("u", 16, btftest.M{Name: "x", Type: arr}, btftest.M{Name: "y", Type: p})                                                                              // 6
	b.Enum("e", 4, true, btftest.E{Name: "NEG", Value: -1}, btftest.E{Name: "POS", Value: 7})                                                                     // 7
	b.Enum("ue", 4, false, btftest.E{Name: "BIG", Value: 0xffffffff})                                                                                             // 8
	b.Enum64("e64", 8, true, btftest.E{Name: "M", Value: -5})                                                                                                     // 9
	b.Enum64("u64", 8, false, btftest.E{Name: "H", Value: 1 << 40})                                                                                               // 10
	b.Fwd("fs", false)                                                                                                                                            // 11
	b.Fwd("fu", true)                                                                                                                                             // 12
	b.Typedef("td", s)                                                                                                                                            // 13
	b.Ref(rawbtf.KindVolatile, "", i32)                                                                                                                           // 14
	b.Const(i32)                                                                                                                                                  // 15
	b.Ref(rawbtf.KindRestrict, "", p)                                                                                                                             // 16
	fp := b.FuncProto(i32, btftest.P{Name: "x", Type: i32}, btftest.P{Type: 0})                                                                                   // 17
	b.Func("f", fp)                                                                                                                                               // 18
	v := b.Raw("var", btftest.Info(rawbtf.KindVar, 0, false), uint32(i32), 1)                                                                                     // 19
	b.Raw(".data", btftest.Info(rawbtf.KindDatasec, 1, false), 4, uint32(v), 0, 4)                                                                                // 20
	b.Float("double", 8)                                                                                                                                          // 21
	b.Raw("tag", btftest.Info(rawbtf.KindDeclTag, 0, false), uint32(s), 1)                                                                                        // 22
	b.Raw("tag2", btftest.Info(rawbtf.KindDeclTag, 0, false), uint32(s), 0xffffffff)                                                                              // 23
	b.Raw("user", btftest.Info(rawbtf.KindTypeTag, 0, false), uint32(i32))                                                                                        // 24
	b.Raw("", btftest.Info(rawbtf.KindFunc, 2, false), uint32(fp))                                                                                                // 25
	return b.Bytes()
}

func bpftoolDump(tb testing.TB, raw []byte, args ...string) []byte {
	tb.Helper()
	bt, err := exec.LookPath("bpftool")
	if err != nil {
		tb.Skip("bpftool not installed")
	}
	p := filepath.Join(tb.TempDir(), "x.btf")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command(bt, append([]string{"btf", "dump", "file", p}, args...)...).Output()
	if err != nil {
		tb.Fatalf("bpftool: %v", err)
	}
	return out
}

func TestWriteRawMatchesBpftool(t *testing.T) {
	type input struct {
		name string
		raw  []byte
	}
	inputs := []input{{"all-kinds", allKinds()}}
	if !testing.Short() {
		for i, k := range loadKernels(t) {
			inputs = append(inputs, input{filepath.Base(debianKernels[i]), k.raw})
		}
	}
	objs, _ := filepath.Glob("../../testdata/bpf/*.bpf.o")
	for _, o := range objs {
		data, _, err := kbtf.ReadFile(o, nil)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, input{filepath.Base(o), data})
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			b, err := rawbtf.Parse(in.raw)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := WriteRaw(&got, b, nil); err != nil {
				t.Fatal(err)
			}
			want := bpftoolDump(t, in.raw)
			diffLines(t, got.Bytes(), want)
		})
	}
}

func diffLines(t *testing.T, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Fatalf("line %d differs:\n got: %q\nwant: %q", i+1, gl, wl)
		}
	}
}

func TestWriteCMatchesBpftool(t *testing.T) {
	if testing.Short() {
		t.Skip("kernel BTFs in -short mode")
	}
	for i, k := range loadKernels(t) {
		t.Run(filepath.Base(debianKernels[i]), func(t *testing.T) {
			var got bytes.Buffer
			if err := WriteC(&got, k.btf, nil); err != nil {
				t.Fatal(err)
			}
			want := bpftoolDump(t, k.raw, "format", "c")
			// bpftool 7.1 (libbpf 1.1) predates mode(byte) for one-byte
			// enums, which later libbpf emits and btftool keeps, since
			// without it the enum is 4 bytes and the layout is wrong.
			g := bytes.ReplaceAll(got.Bytes(), []byte("} __attribute__((mode(byte)));"), []byte("};"))
			diffLines(t, g, want)
		})
	}
}

func TestWriteRawSelected(t *testing.T) {
	b, err := rawbtf.Parse(allKinds())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		patterns []string
		want     []rawbtf.TypeID
		err      error
	}{
		{[]string{"td"}, []rawbtf.TypeID{1, 2, 5, 13}, nil},
		{[]string{"u"}, []rawbtf.TypeID{1, 2, 3, 4, 6}, nil},
		{[]string{"f?"}, []rawbtf.TypeID{11, 12}, nil},
		{[]string{"var", "e"}, []rawbtf.TypeID{1, 7, 19}, nil},
		{[]string{"nope"}, nil, ErrNoMatch},
	} {
		roots, err := Match(b, tc.patterns)
		if !errors.Is(err, tc.err) {
			t.Fatalf("%v: err %v, want %v", tc.patterns, err, tc.err)
		}
		if err != nil {
			continue
		}
		got := Closure(b, roots)
		if !equalIDs(got, tc.want) {
			t.Errorf("%v: closure %v, want %v", tc.patterns, got, tc.want)
		}
	}
	if _, err := Match(b, []string{"[x"}); err == nil {
		t.Error("bad pattern accepted")
	}
}

func equalIDs(a, b []rawbtf.TypeID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDescribeJSON(t *testing.T) {
	b, err := rawbtf.Parse(allKinds())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   rawbtf.TypeID
		want string
	}{
		{1, `{"id":1,"kind":"INT","name":"int","size":4,"bits_offset":0,"nr_bits":32,"encoding":"SIGNED"}`},
		{5, `{"id":5,"kind":"STRUCT","name":"s","size":8,"vlen":3,"members":[{"name":"a","type_id":1,"bits_offset":0},{"name":"b","type_id":2,"bits_offset":32,"bitfield_size":3},{"name":"(anon)","type_id":2,"bits_offset":35,"bitfield_size":5}]}`},
		{7, `{"id":7,"kind":"ENUM","name":"e","size":4,"vlen":2,"encoding":"SIGNED","values":[{"name":"NEG","val":-1},{"name":"POS","val":7}]}`},
		{10, `{"id":10,"kind":"ENUM64","name":"u64","size":8,"vlen":1,"encoding":"UNSIGNED","values":[{"name":"H","val":1099511627776}]}`},
		{12, `{"id":12,"kind":"FWD","name":"fu","fwd_kind":"union"}`},
		{17, `{"id":17,"kind":"FUNC_PROTO","name":"(anon)","ret_type_id":1,"vlen":2,"params":[{"name":"x","type_id":1},{"name":"(anon)","type_id":0}]}`},
		{23, `{"id":23,"kind":"DECL_TAG","name":"tag2","type_id":5,"component_idx":-1}`},
	} {
		got, err := json.Marshal(Describe(b, tc.id))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("[%d]:\n got %s\nwant %s", tc.id, got, tc.want)
		}
	}
}

func BenchmarkWriteRaw(b *testing.B) {
	k := loadKernels(b)[0]
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteRaw(discard{}, k.btf, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteC(b *testing.B) {
	k := loadKernels(b)[0]
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteC(discard{}, k.btf, nil); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
