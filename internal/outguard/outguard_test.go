package outguard

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/ulikunitz/xz"
)

func write(tb testing.TB, path string, data []byte) string {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// tarOf returns a tar archive of the named files, in order.
func tarOf(tb testing.TB, names ...string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: 2, Typeflag: tar.TypeReg}); err != nil {
			tb.Fatal(err)
		}
		tw.Write([]byte("{}"))
	}
	tw.Close()
	return buf.Bytes()
}

func xzOf(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := xz.NewWriter(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

func gzOf(data []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

var rawBTF = []byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0}

func TestInputsCheck(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	kernel := write(t, filepath.Join(dir, "k.btf"), rawBTF)
	obj := write(t, filepath.Join(dir, "prog.bpf.o"), []byte("\x7fELF"))
	if err := os.Symlink(kernel, filepath.Join(dir, "link.btf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(obj, filepath.Join(dir, "hard.o")); err != nil {
		t.Fatal(err)
	}
	var in Inputs
	in.Add("INPUT", kernel)
	in.Add("OBJECT", "prog.bpf.o") // relative
	in.Add("OBJECT", "missing.o")  // left out
	if in.Len() != 2 {
		t.Fatalf("%d inputs, want 2", in.Len())
	}
	for _, tc := range []struct {
		out  string
		want string // "" when allowed
	}{
		{kernel, "OUTPUT " + kernel + " is also INPUT"},
		{"./k.btf", "OUTPUT ./k.btf is the same file as INPUT " + kernel},
		{"link.btf", "is the same file as INPUT"},
		{filepath.Join(dir, "prog.bpf.o"), "is the same file as OBJECT prog.bpf.o"},
		{"hard.o", "is the same file as OBJECT prog.bpf.o"},
		{"new.btf", ""},
		{"missing.o", ""},
	} {
		err := in.Check("OUTPUT", tc.out, "write elsewhere")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.out, err)
		case tc.want != "" && (!errors.Is(err, ErrOutputIsInput) || !strings.Contains(err.Error(), tc.want) || !strings.HasSuffix(err.Error(), ": write elsewhere")):
			t.Errorf("%s: error %v, want ErrOutputIsInput saying %q", tc.out, err, tc.want)
		}
	}
}

func TestCheckReplace(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	write(t, p("raw.btf"), rawBTF)
	write(t, p("raw-be.btf"), []byte{0xeb, 0x9f, 1, 0})
	write(t, p("empty"), nil)
	write(t, p("prog.o"), []byte("\x7fELF\x02\x01"))
	write(t, p("notes.txt"), []byte("hello\n"))
	write(t, p("bundle.tar.xz"), xzOf(t, tarOf(t, "./index.json", "./a.btf")))
	write(t, p("bundle.tar.gz"), gzOf(tarOf(t, "index.json")))
	write(t, p("kernel.btf.tar.xz"), xzOf(t, tarOf(t, "./5.4.0.btf")))
	os.Mkdir(p("dir"), 0o755)
	for _, tc := range []struct {
		name string
		kind Kind
		want string // "" when allowed
	}{
		{"raw.btf", RawBTF, ""},
		{"raw-be.btf", RawBTF, ""},
		{"empty", RawBTF, ""},
		{"missing", RawBTF, ""},
		{"dir", RawBTF, ""}, // writing fails with its own message
		{"prog.o", RawBTF, "exists and is an ELF file, not BTF"},
		{"notes.txt", RawBTF, "exists and is a file of another kind, not BTF"},
		{"bundle.tar.xz", RawBTF, "exists and is xz-compressed data, not BTF"},
		{"bundle.tar.xz", Bundle, ""},
		{"bundle.tar.gz", Bundle, ""},
		{"kernel.btf.tar.xz", Bundle, "exists and is xz-compressed data, not a bundle btftool wrote"},
		{"raw.btf", Bundle, "exists and is raw BTF, not a bundle"},
		{"dir", Directory, ""},
		{"missing", Directory, ""},
		{"raw.btf", Directory, "exists and is raw BTF, not a directory"},
	} {
		err := CheckReplace("OUTPUT", p(tc.name), tc.kind)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s as %d: %v", tc.name, tc.kind, err)
		case tc.want != "" && (!errors.Is(err, ErrWouldReplace) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s as %d: error %v, want ErrWouldReplace saying %q", tc.name, tc.kind, err, tc.want)
		}
	}
}

func TestArchiveSuffix(t *testing.T) {
	for name, want := range map[string]string{
		"x.tar.gz":          ".tar.gz",
		"x.tar.bz2":         ".tar.bz2",
		"out/x.tar":         ".tar",
		"k.btf.tar.xz":      ".tar.xz",
		"x.tgz":             ".tgz",
		"x.zip":             ".zip",
		"x.btf.xz":          ".xz",
		"x.btf":             "",
		"x.bpf.o":           "",
		"out":               "",
		".gz":               "",
		"a.tar/b":           "",
		"5.4.0-91.gz.d/out": "",
	} {
		if got := ArchiveSuffix(name); got != want {
			t.Errorf("ArchiveSuffix(%q) = %q, want %q", name, got, want)
		}
	}
	for name, want := range map[string]bool{"x.o": true, "dir/prog.bpf.o": true, ".o": false, "x.btf": false, "x.oo": false} {
		if got := IsELFName(name); got != want {
			t.Errorf("IsELFName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestResolveWithin(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.MkdirAll(filepath.Join(dir, "tree", "sub"), 0o755)
	os.Symlink(filepath.Join(dir, "tree"), filepath.Join(dir, "link"))
	real := Resolve(filepath.Join(dir, "tree"))
	for _, tc := range []struct {
		path, dir string
		within    bool
	}{
		{"tree/sub", "tree", true},
		{"link/sub/new/deeper", "./tree", true},
		{"tree", "link", true},
		{"tree-other", "tree", false},
		{"..", "tree", false},
		{"tree", "tree/sub", false},
	} {
		if got := Within(tc.path, tc.dir); got != tc.within {
			t.Errorf("Within(%q, %q) = %v, want %v", tc.path, tc.dir, got, tc.within)
		}
	}
	if got := Resolve("link/new/x"); got != filepath.Join(real, "new", "x") {
		t.Errorf("Resolve(link/new/x) = %s, want below %s", got, real)
	}
}
