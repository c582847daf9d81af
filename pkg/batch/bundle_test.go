package batch_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/btftool/btftool/internal/xzdec"
	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/bundle"
)

func TestIsBundle(t *testing.T) {
	for name, want := range map[string]bool{
		"out.tar.xz": true, "out.tar.gz": true, "out.tar.zst": true, "dir/b.tar.zst": true,
		"out": false, "out.tar": false, "out.xz": false, "out.tgz": false, "out.tar.bz2": false,
	} {
		if got := batch.IsBundle(name); got != want {
			t.Errorf("IsBundle(%q) = %v, want %v", name, got, want)
		}
	}
}

var suffixes = []string{".tar.xz", ".tar.gz", ".tar.zst"}

func TestBundle(t *testing.T) {
	checkGoroutines(t)
	fx := getFixtures(t)
	in := rawTree(t)
	for _, suffix := range suffixes {
		t.Run(suffix, func(t *testing.T) {
			dir := t.TempDir()
			var bundles [][]byte
			for i, jobs := range []int{1, 2} {
				out := filepath.Join(dir, "b"+string(rune('0'+i))+suffix)
				sum, err := run(t, batch.Options{Input: in, Output: out, Jobs: jobs})
				if err != nil {
					t.Fatal(err)
				}
				data, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if !sum.Bundle || sum.BundleBytes != int64(len(data)) || sum.Processed != 3 {
					t.Errorf("summary %+v", sum)
				}
				bundles = append(bundles, data)
				// Let the clock move: nothing time-dependent may leak in.
				time.Sleep(10 * time.Millisecond)
			}
			if !bytes.Equal(bundles[0], bundles[1]) {
				t.Fatal("two runs gave different bundles")
			}
			noTemp(t, dir)

			b, err := bundle.Open(bundles[0], nil)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			want := []bundle.Entry{
				{Path: "debian/12/arm64/6.1.0-50-arm64.btf", Release: "6.1.0-50-arm64", Distro: "debian", Version: "12", Arch: "arm64"},
				{Path: "debian/12/x86_64/6.1.0-56-amd64.btf", Release: "6.1.0-56-amd64", Distro: "debian", Version: "12", Arch: "x86_64"},
				{Path: "debian/12/x86_64/6.12.117+deb12-amd64.btf", Release: "6.12.117+deb12-amd64", Distro: "debian", Version: "12", Arch: "x86_64"},
			}
			idx := b.Index()
			if idx.Format != bundle.FormatBlocks || idx.Generator != "btftool test" || len(idx.Kernels) != len(want) {
				t.Fatalf("index %+v", idx)
			}
			if len(idx.Objects) != len(fx.plan.Objects()) {
				t.Errorf("index lists %d objects, want %d", len(idx.Objects), len(fx.plan.Objects()))
			}
			for i, o := range fx.plan.Objects() {
				data, err := os.ReadFile(o.Path)
				if err != nil {
					t.Fatal(err)
				}
				if w := (bundle.Object{Name: filepath.Base(o.Path), SHA256: sha256Hex(data)}); idx.Objects[i] != w {
					t.Errorf("object %d: %+v, want %+v", i, idx.Objects[i], w)
				}
			}
			for i, w := range want {
				ref := fx.ref[w.Path]
				got := idx.Kernels[i]
				w.Size, w.Member = int64(len(ref)), "./"+w.Path
				w.Offset = got.Offset
				if got != w {
					t.Errorf("index entry %d: %+v, want %+v", i, got, w)
				}
				data, err := b.ReadEntry(&got)
				if err != nil || !bytes.Equal(data, ref) {
					t.Errorf("ReadEntry(%s): %v", w.Path, err)
				}
				m, err := b.Match(bundle.Target{Release: w.Release, Machine: w.Arch})
				if err != nil || m.Entry.Path != w.Path {
					t.Errorf("Match(%s): %v, %v", w.Release, m, err)
				}
			}
		})
	}
}

// treeOf writes files (path to content) under a new directory.
func treeOf(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for p, data := range files {
		writeFile(t, filepath.Join(dir, p), data)
	}
	return dir
}

// TestBundleLayout checks what tar sees: index.json first, each content
// once, hard links for the copies, and that tar itself lists and extracts
// the bundle as the tree it was made from.
func TestBundleLayout(t *testing.T) {
	fx := getFixtures(t)
	a, b := fx.raw["debian/12/x86_64/6.1.0-56-amd64.btf"], fx.raw["debian/12/arm64/6.1.0-50-arm64.btf"]
	long := "centos/8/x86_64/" + strings.Repeat("4.18.0-80.el8.x86_64-", 6) + "x.btf"
	in := treeOf(t, map[string][]byte{
		"ubuntu/20.04/x86_64/5.4.0-1-generic.btf": a,
		"ubuntu/20.04/x86_64/5.4.0-2-generic.btf": a, // the same BTF: stored once
		"ubuntu/20.04/arm64/5.4.0-1-generic.btf":  b,
		long:                                      a,
	})
	for _, suffix := range suffixes {
		t.Run(suffix, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "b"+suffix)
			if _, err := run(t, batch.Options{Input: in, Output: out}); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			bu, err := bundle.Open(data, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer bu.Close()
			tr := tar.NewReader(decompress(t, data))
			var names []string
			for {
				h, err := tr.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				names = append(names, h.Name)
				if h.Mode != 0o644 || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.ModTime.Unix() != 0 {
					t.Errorf("%s: header %+v", h.Name, h)
				}
				if h.Typeflag == tar.TypeLink {
					e, err := bu.Entry(h.Name)
					if err != nil || e.Member != h.Linkname || h.Linkname == h.Name {
						t.Errorf("%s: link to %s, entry %+v, %v", h.Name, h.Linkname, e, err)
					}
				} else if h.Typeflag != tar.TypeReg {
					t.Errorf("%s: type %c", h.Name, h.Typeflag)
				}
			}
			// Sorted by path, the copy of 5.4.0-1 that comes first holds
			// the bytes; the others link to it.
			want := []string{"./index.json", "./" + long, "./ubuntu/20.04/arm64/5.4.0-1-generic.btf",
				"./ubuntu/20.04/x86_64/5.4.0-1-generic.btf", "./ubuntu/20.04/x86_64/5.4.0-2-generic.btf"}
			if strings.Join(names, " ") != strings.Join(want, " ") {
				t.Errorf("members\n%s\nwant\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
			}
			for _, e := range bu.Entries() {
				got, err := bu.ReadEntry(&e)
				if err != nil {
					t.Errorf("%s: %v", e.Path, err)
					continue
				}
				if e.Path == "ubuntu/20.04/arm64/5.4.0-1-generic.btf" {
					continue
				}
				if e.Member != "./"+long {
					t.Errorf("%s: stored in %s, want %s", e.Path, e.Member, long)
				}
				if !bytes.Equal(got, fx.ref["debian/12/x86_64/6.1.0-56-amd64.btf"]) {
					t.Errorf("%s: wrong BTF", e.Path)
				}
			}
			withTar(t, out, suffix, func(dir string) {
				for _, e := range bu.Entries() {
					got, err := os.ReadFile(filepath.Join(dir, e.Path))
					want, _ := bu.ReadEntry(&e)
					if err != nil || !bytes.Equal(got, want) {
						t.Errorf("tar -x: %s: %v", e.Path, err)
					}
				}
			})
		})
	}
}

// withTar extracts bundle with the tar command, if there is one with the
// decompressor suffix needs, and calls fn with the directory.
func withTar(t *testing.T, bundlePath, suffix string, fn func(dir string)) {
	t.Helper()
	tool := map[string]string{".tar.xz": "xz", ".tar.gz": "gzip", ".tar.zst": "zstd"}[suffix]
	for _, cmd := range []string{"tar", tool} {
		if _, err := exec.LookPath(cmd); err != nil {
			t.Logf("no %s command: tar not tried", cmd)
			return
		}
	}
	dir := t.TempDir()
	if out, err := exec.Command("tar", "-xaf", bundlePath, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("tar -x: %v: %s", err, out)
	}
	fn(dir)
}

// decompress returns the tar archive of a bundle.
func decompress(t *testing.T, data []byte) io.Reader {
	t.Helper()
	var raw []byte
	var err error
	switch {
	case bytes.HasPrefix(data, []byte("\xfd7zXZ")):
		raw, err = xzdec.DecodeAll(data, 1<<30)
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(data)); err == nil {
			raw, err = io.ReadAll(zr)
		}
	default:
		var zr *zstd.Decoder
		if zr, err = zstd.NewReader(nil); err == nil {
			raw, err = zr.DecodeAll(data, nil)
			zr.Close()
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(raw)
}

// TestBundleBlocks cuts a bundle into small blocks and checks that every
// entry is read from its block alone.
func TestBundleBlocks(t *testing.T) {
	fx := getFixtures(t)
	var files []batch.BundleFile
	for i := range 40 {
		data := bytes.Clone(fx.ref["debian/12/x86_64/6.1.0-56-amd64.btf"])
		data[len(data)-1-i%100] ^= byte(i + 1)
		files = append(files, batch.BundleFile{Entry: bundle.Entry{Path: "d/1/x86_64/" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ".btf", Release: "r"}, Data: data})
	}
	for _, c := range []string{"xz", "zstd", "gzip"} {
		data, err := batch.EncodeBundle(files, batch.BundleInfo{Compression: c, BlockSize: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		b, err := bundle.Open(data, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"xz": "xz, indexed", "zstd": "zstd, indexed", "gzip": "gzip"}[c]; b.Compression() != want {
			t.Errorf("%s: compression %q, want %q", c, b.Compression(), want)
		}
		seen := map[string]bool{}
		if err := b.Walk(func(e *bundle.Entry, got []byte) error {
			seen[e.Path] = true
			return nil
		}); err != nil || len(seen) != len(files) {
			t.Errorf("%s: Walk saw %d entries: %v", c, len(seen), err)
		}
		for _, f := range files {
			got, err := b.ReadFile(f.Entry.Path)
			if err != nil || !bytes.Equal(got, f.Data) {
				t.Errorf("%s: %s: %v", c, f.Entry.Path, err)
			}
		}
		b.Close()
	}
}

func TestMatchAmbiguousRelease(t *testing.T) {
	fx := getFixtures(t)
	a, b := fx.raw["debian/12/x86_64/6.1.0-56-amd64.btf"], fx.raw["debian/12/x86_64/6.12.117+deb12-amd64.btf"]
	// The same release string on two distributions, with different BTF,
	// and the same BTF under two versions.
	in := treeOf(t, map[string][]byte{
		"a/1/x86_64/5.4.0-1-generic.btf": a, "b/1/x86_64/5.4.0-1-generic.btf": b,
		"a/1/x86_64/5.4.0-2-generic.btf": a, "a/2/x86_64/5.4.0-2-generic.btf": a,
	})
	out := filepath.Join(t.TempDir(), "b.tar.zst")
	if _, err := run(t, batch.Options{Input: in, Output: out}); err != nil {
		t.Fatal(err)
	}
	bu, err := bundle.OpenFile(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bu.Close()
	if _, err := bu.Match(bundle.Target{Release: "5.4.0-1-generic", Machine: "x86_64"}); !errors.Is(err, bundle.ErrAmbiguous) {
		t.Errorf("err %v, want ErrAmbiguous", err)
	}
	if m, err := bu.Match(bundle.Target{Release: "5.4.0-2-generic", Machine: "amd64"}); err != nil || m.Entry.Path != "a/1/x86_64/5.4.0-2-generic.btf" || len(m.Same) != 1 {
		t.Errorf("identical duplicates: %+v, %v", m, err)
	}
}

// TestBundleOutsideLayout: a flat (btfgen-style) directory and a deeper
// tree give entries with the release from the file name and the rest from
// the path; files that give no release are listed, and refused with
// Strict before any work.
func TestBundleOutsideLayout(t *testing.T) {
	fx := getFixtures(t)
	a := fx.raw["debian/12/x86_64/6.1.0-56-amd64.btf"]
	in := treeOf(t, map[string][]byte{
		"5.4.0-91-generic.btf":                        a,
		"4.18.0-80.el8.x86_64.btf":                    a,
		"x86/ubuntu/20.04/x86_64/5.4.0-1-generic.btf": a,
		"arm64/5.10.0-9-arm64.btf":                    a,
		"boot/vmlinux":                                a,
	})
	out := filepath.Join(t.TempDir(), "b.tar.xz")
	sum, err := run(t, batch.Options{Input: in, Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sum.Unmatchable, " ") != "boot/vmlinux.btf" {
		t.Errorf("unmatchable %v", sum.Unmatchable)
	}
	b, err := bundle.OpenFile(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, tt := range []struct {
		target bundle.Target
		path   string
	}{
		{bundle.Target{Release: "5.4.0-91-generic", Machine: "x86_64"}, "5.4.0-91-generic.btf"},
		{bundle.Target{Release: "4.18.0-80.el8.x86_64", Machine: "x86_64"}, "4.18.0-80.el8.x86_64.btf"},
		{bundle.Target{Release: "5.4.0-1-generic", Machine: "x86_64", OS: &bundle.OSRelease{ID: "ubuntu", VersionID: "20.04"}}, "x86/ubuntu/20.04/x86_64/5.4.0-1-generic.btf"},
		{bundle.Target{Release: "5.10.0-9-arm64", Machine: "aarch64"}, "arm64/5.10.0-9-arm64.btf"},
	} {
		m, err := b.Match(tt.target)
		if err != nil || m.Entry.Path != tt.path {
			t.Errorf("%s: %+v, %v; want %s", tt.target, m, err, tt.path)
		}
	}
	if _, err := b.Match(bundle.Target{Release: "4.18.0-80.el8.x86_64", Machine: "aarch64"}); !errors.Is(err, bundle.ErrNotFound) {
		t.Errorf("the arch of the release: %v", err)
	}
	strict := filepath.Join(t.TempDir(), "s.tar.xz")
	if _, err := run(t, batch.Options{Input: in, Output: strict, Strict: true}); !errors.Is(err, batch.ErrBadOptions) || !strings.Contains(err.Error(), "boot/vmlinux.btf") {
		t.Errorf("strict: %v", err)
	}
	if _, err := os.Stat(strict); err == nil {
		t.Error("strict wrote a bundle")
	}
}
