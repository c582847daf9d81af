package kbtf

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSplitName(t *testing.T) {
	tests := []struct {
		name, stem, suffix string
		ok                 bool
	}{
		{"5.4.0-91-generic.btf.tar.xz", "5.4.0-91-generic", ".btf.tar.xz", true},
		{"5.4.btf.tar.gz", "5.4", ".btf.tar.gz", true},
		{"5.4.btf.tar.zst", "5.4", ".btf.tar.zst", true},
		{"5.4.btf.tar", "5.4", ".btf.tar", true},
		{"5.4.btf", "5.4", ".btf", true},
		{"5.4.btf.xz", "5.4", ".btf.xz", true},
		{"5.4.btf.gz", "5.4", ".btf.gz", true},
		{"5.4.btf.zst", "5.4", ".btf.zst", true},
		{"5.4.tar.xz", "5.4", ".tar.xz", true},
		{"5.4.tgz", "5.4", ".tgz", true},
		{"vmlinux", "vmlinux", "", true},
		{"vmlinux-5.4.0-91-generic", "vmlinux-5.4.0-91-generic", "", true},
		{"vmlinux.xz", "vmlinux", ".xz", true},
		{".btf", "", "", false},
		{".tar.xz", "", "", false},
		{"5.4.xz", "", "", false},
		{"README.md", "", "", false},
		{"vmlinuz", "", "", false},
		{"notes.btf.txt", "", "", false},
	}
	for _, tc := range tests {
		stem, suffix, ok := splitName(tc.name)
		if stem != tc.stem || suffix != tc.suffix || ok != tc.ok {
			t.Errorf("splitName(%q) = %q, %q, %v; want %q, %q, %v", tc.name, stem, suffix, ok, tc.stem, tc.suffix, tc.ok)
		}
	}
}

func mkfile(t *testing.T, root, rel string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWalk(t *testing.T) {
	root := t.TempDir()
	for _, rel := range []string{
		"ubuntu/20.04/x86_64/5.4.0-91-generic.btf.tar.xz",
		"centos/8/aarch64/4.18.0.btf",
		"fedora/34/x86_64/5.11.btf.gz",
		"misc/vmlinux",
		"a/b/c/d/e.btf.xz",
		"top.btf.tar.zst",
		"x/y/z/kernel.tar.xz", // a tar, but not named like btfhub
		"README.md",
		"ubuntu/notes.txt",
		"ubuntu/20.04/x86_64/5.4.0-91-generic.xz",
	} {
		mkfile(t, root, rel)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(root, "ubuntu"), filepath.Join(root, "linkdir")))                        // not followed
	must(os.Symlink(filepath.Join(root, "centos/8/aarch64/4.18.0.btf"), filepath.Join(root, "alias.btf"))) // listed
	must(os.Symlink(filepath.Join(root, "missing"), filepath.Join(root, "broken.btf")))                    // skipped
	must(os.Mkdir(filepath.Join(root, "dir.btf"), 0o755))                                                  // a directory: skipped

	got, err := Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	j := func(rel string) string { return filepath.Join(root, filepath.FromSlash(rel)) }
	want := []Entry{
		{Path: j("a/b/c/d/e.btf.xz"), Rel: "a/b/c/d/e.btf.xz", OutRel: "a/b/c/d/e.btf"},
		{Path: j("alias.btf"), Rel: "alias.btf", OutRel: "alias.btf"},
		{Path: j("centos/8/aarch64/4.18.0.btf"), Rel: "centos/8/aarch64/4.18.0.btf", OutRel: "centos/8/aarch64/4.18.0.btf",
			Distro: "centos", Version: "8", Arch: "aarch64", Release: "4.18.0"},
		{Path: j("fedora/34/x86_64/5.11.btf.gz"), Rel: "fedora/34/x86_64/5.11.btf.gz", OutRel: "fedora/34/x86_64/5.11.btf",
			Distro: "fedora", Version: "34", Arch: "x86_64", Release: "5.11"},
		{Path: j("misc/vmlinux"), Rel: "misc/vmlinux", OutRel: "misc/vmlinux.btf"},
		{Path: j("top.btf.tar.zst"), Rel: "top.btf.tar.zst", OutRel: "top.btf"},
		{Path: j("ubuntu/20.04/x86_64/5.4.0-91-generic.btf.tar.xz"), Rel: "ubuntu/20.04/x86_64/5.4.0-91-generic.btf.tar.xz",
			OutRel: "ubuntu/20.04/x86_64/5.4.0-91-generic.btf", Distro: "ubuntu", Version: "20.04", Arch: "x86_64", Release: "5.4.0-91-generic"},
		{Path: j("x/y/z/kernel.tar.xz"), Rel: "x/y/z/kernel.tar.xz", OutRel: "x/y/z/kernel.btf"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Walk:\n got %+v\nwant %+v", got, want)
	}

	// A symbolic link given as root is followed; paths stay under it.
	link := filepath.Join(t.TempDir(), "root")
	must(os.Symlink(root, link))
	viaLink, err := Walk(link)
	if err != nil {
		t.Fatal(err)
	}
	if len(viaLink) != len(want) || viaLink[0].Path != filepath.Join(link, "a/b/c/d/e.btf.xz") {
		t.Errorf("Walk(link) = %+v", viaLink)
	}

	// A file given as root.
	one, err := Walk(j("centos/8/aarch64/4.18.0.btf"))
	if err != nil || len(one) != 1 || one[0].Rel != "4.18.0.btf" || one[0].OutRel != "4.18.0.btf" {
		t.Errorf("Walk(file) = %+v, %v", one, err)
	}
}

func TestWalkErrors(t *testing.T) {
	if _, err := Walk(filepath.Join(t.TempDir(), "missing")); !os.IsNotExist(err) {
		t.Errorf("Walk(missing) error = %v", err)
	}
	root := t.TempDir()
	mkfile(t, root, "d/5.4.btf")
	mkfile(t, root, "d/5.4.btf.tar.xz")
	_, err := Walk(root)
	if err == nil || !strings.Contains(err.Error(), "d/5.4.btf and d/5.4.btf.tar.xz both give d/5.4.btf") {
		t.Errorf("Walk with colliding outputs: error = %v", err)
	}
}

// TestWalkModules: RELEASE.modules.tar.xz beside RELEASE.btf.tar.xz is
// that kernel's module BTF, not a kernel; one with no kernel is ignored.
func TestWalkModules(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{
		"debian/12/x86_64/6.1.0-9-amd64.btf.tar.xz",
		"debian/12/x86_64/6.1.0-9-amd64.modules.tar.xz",
		"debian/12/x86_64/6.12.1-amd64.btf.tar.xz",
		"debian/12/x86_64/6.13.0-orphan.modules.tar.zst",
		"flat/5.4.btf",
		"flat/5.4.modules.tar",
		"flat/5.10.btf",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := Walk(root)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		got[e.Rel] = strings.TrimPrefix(e.Modules, root+string(filepath.Separator))
	}
	want := map[string]string{
		"debian/12/x86_64/6.1.0-9-amd64.btf.tar.xz": filepath.FromSlash("debian/12/x86_64/6.1.0-9-amd64.modules.tar.xz"),
		"debian/12/x86_64/6.12.1-amd64.btf.tar.xz":  "",
		"flat/5.4.btf":  filepath.FromSlash("flat/5.4.modules.tar"),
		"flat/5.10.btf": "",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entries and their modules:\n got %v\nwant %v", got, want)
	}
	for _, name := range []string{"6.1.0-9-amd64.modules.tar.xz", "x.modules.tar", "x.modules.tar.gz"} {
		if _, _, ok := splitName(name); ok {
			if _, isMod := modulesStem(name); !isMod {
				t.Errorf("%s: taken as a kernel", name)
			}
		}
		if _, ok := newEntry(name, name); ok {
			t.Errorf("%s: newEntry makes a kernel of it", name)
		}
	}
}

// TestWalkExcluding: excluded directories and files are left out however
// they are named (relative, through a symbolic link, with a trailing
// slash); a path that does not exist excludes nothing.
func TestWalkExcluding(t *testing.T) {
	root := t.TempDir()
	for _, rel := range []string{"debian/12/x86_64/6.1.btf.tar.xz", "out/debian/12/x86_64/6.1.btf", "debian/12/min/x.btf", "btfs.tar.xz"} {
		mkfile(t, root, rel)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(root, link); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	for _, tc := range []struct {
		name    string
		root    string
		exclude []string
		want    []string
	}{
		{"nothing", root, nil, []string{"btfs.tar.xz", "debian/12/min/x.btf", "debian/12/x86_64/6.1.btf.tar.xz", "out/debian/12/x86_64/6.1.btf"}},
		{"absolute", root, []string{filepath.Join(root, "out"), filepath.Join(root, "btfs.tar.xz")}, []string{"debian/12/min/x.btf", "debian/12/x86_64/6.1.btf.tar.xz"}},
		{"relative", ".", []string{"out/", "./debian/12/min"}, []string{"btfs.tar.xz", "debian/12/x86_64/6.1.btf.tar.xz"}},
		{"through a link", link, []string{filepath.Join(root, "out"), filepath.Join(link, "btfs.tar.xz")}, []string{"debian/12/min/x.btf", "debian/12/x86_64/6.1.btf.tar.xz"}},
		{"missing", root, []string{filepath.Join(root, "nope"), "also/nope.tar.xz"}, []string{"btfs.tar.xz", "debian/12/min/x.btf", "debian/12/x86_64/6.1.btf.tar.xz", "out/debian/12/x86_64/6.1.btf"}},
	} {
		entries, err := WalkExcluding(tc.root, tc.exclude)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Rel)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestReleaseOf(t *testing.T) {
	for name, want := range map[string]string{
		"debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz": "6.1.0-56-amd64",
		"5.4.0-91-generic.btf":                       "5.4.0-91-generic",
		"/boot/vmlinux-6.12.9":                       "6.12.9",
		"/sys/kernel/btf/vmlinux":                    "",
		"min.btf":                                    "",
		"kernel.tar.xz":                              "",
	} {
		if got := ReleaseOf(name); got != want {
			t.Errorf("ReleaseOf(%q) = %q, want %q", name, got, want)
		}
	}
}
