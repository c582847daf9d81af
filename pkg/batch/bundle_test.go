package batch_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/btftool/btftool/pkg/batch"
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

func TestBundle(t *testing.T) {
	checkGoroutines(t)
	fx := getFixtures(t)
	in := rawTree(t)
	for _, suffix := range []string{".tar.xz", ".tar.gz", ".tar.zst"} {
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

			b, err := batch.ReadBundle(bytes.NewReader(bundles[0]))
			if err != nil {
				t.Fatal(err)
			}
			want := []batch.IndexEntry{
				{Path: "debian/12/arm64/6.1.0-50-arm64.btf", Release: "6.1.0-50-arm64", Distro: "debian", Version: "12", Arch: "arm64"},
				{Path: "debian/12/x86_64/6.1.0-56-amd64.btf", Release: "6.1.0-56-amd64", Distro: "debian", Version: "12", Arch: "x86_64"},
				{Path: "debian/12/x86_64/6.12.117+deb12-amd64.btf", Release: "6.12.117+deb12-amd64", Distro: "debian", Version: "12", Arch: "x86_64"},
			}
			idx := b.Index()
			if idx.Format != 1 || len(idx.Kernels) != len(want) {
				t.Fatalf("index %+v", idx)
			}
			for i, w := range want {
				ref := fx.ref[w.Path]
				w.Size = int64(len(ref))
				w.SHA256 = sha256Hex(ref)
				if idx.Kernels[i] != w {
					t.Errorf("index entry %d: %+v, want %+v", i, idx.Kernels[i], w)
				}
				data, e, err := b.Lookup(w.Release, w.Arch)
				if err != nil || e.Path != w.Path || !bytes.Equal(data, ref) {
					t.Errorf("Lookup(%s): %v, %v", w.Release, e, err)
				}
			}
			if _, _, err := b.Lookup("6.1.0-50-arm64", "aarch64"); err != nil {
				t.Errorf("Lookup with uname -m arch: %v", err)
			}
			if _, _, err := b.Lookup("6.1.0-50-arm64", "x86_64"); !errors.Is(err, batch.ErrNotFound) {
				t.Errorf("Lookup on another arch: %v", err)
			}
			if _, _, err := b.Lookup("5.4.0-91-generic", ""); !errors.Is(err, batch.ErrNotFound) {
				t.Errorf("Lookup of a missing release: %v", err)
			}
		})
	}
}

func TestBundleHeaders(t *testing.T) {
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := run(t, batch.Options{Input: rawTree(t), Output: out}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if !zr.ModTime.IsZero() || zr.Name != "" {
		t.Errorf("gzip header has time %v, name %q", zr.ModTime, zr.Name)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Typeflag != tar.TypeReg || h.Mode != 0o644 || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.ModTime.Unix() != 0 {
			t.Errorf("%s: header %+v", h.Name, h)
		}
	}
	want := "./index.json ./debian/12/arm64/6.1.0-50-arm64.btf ./debian/12/x86_64/6.1.0-56-amd64.btf ./debian/12/x86_64/6.12.117+deb12-amd64.btf"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("members %s, want %s", got, want)
	}
}

func TestReadBundleErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := run(t, batch.Options{Input: rawTree(t), Output: out}); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// A tar with a BTF file that does not match the index.
	var tampered bytes.Buffer
	zr, _ := gzip.NewReader(bytes.NewReader(good))
	tr := tar.NewReader(zr)
	tw := tar.NewWriter(&tampered)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		data, _ := io.ReadAll(tr)
		if strings.HasSuffix(h.Name, ".btf") {
			data[len(data)-1] ^= 1
		}
		tw.WriteHeader(h)
		tw.Write(data)
	}
	tw.Close()
	var noIndex bytes.Buffer
	tw = tar.NewWriter(&noIndex)
	tw.WriteHeader(&tar.Header{Name: "x.btf", Mode: 0o644, Size: 1})
	tw.Write([]byte{0})
	tw.Close()

	for name, data := range map[string][]byte{
		"garbage":    []byte("not a bundle at all, certainly not a tar archive of any kind, no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no no"),
		"truncated":  good[:len(good)/2],
		"tampered":   tampered.Bytes(),
		"no index":   noIndex.Bytes(),
		"empty tar":  make([]byte, 1024),
		"empty file": nil,
	} {
		if _, err := batch.ReadBundle(bytes.NewReader(data)); !errors.Is(err, batch.ErrBadBundle) {
			t.Errorf("%s: err %v, want ErrBadBundle", name, err)
		}
	}
}

func TestLookupAmbiguous(t *testing.T) {
	fx := getFixtures(t)
	in := t.TempDir()
	// The same release string on two distributions, with different BTF,
	// and the same BTF under two versions.
	writeFile(t, filepath.Join(in, "a/1/x86_64/5.4.0-1-generic.btf"), fx.raw["debian/12/x86_64/6.1.0-56-amd64.btf"])
	writeFile(t, filepath.Join(in, "b/1/x86_64/5.4.0-1-generic.btf"), fx.raw["debian/12/x86_64/6.12.117+deb12-amd64.btf"])
	writeFile(t, filepath.Join(in, "a/1/x86_64/5.4.0-2-generic.btf"), fx.raw["debian/12/x86_64/6.1.0-56-amd64.btf"])
	writeFile(t, filepath.Join(in, "a/2/x86_64/5.4.0-2-generic.btf"), fx.raw["debian/12/x86_64/6.1.0-56-amd64.btf"])
	out := filepath.Join(t.TempDir(), "b.tar.zst")
	if _, err := run(t, batch.Options{Input: in, Output: out}); err != nil {
		t.Fatal(err)
	}
	b, err := batch.OpenBundle(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Lookup("5.4.0-1-generic", "x86_64"); !errors.Is(err, batch.ErrAmbiguous) {
		t.Errorf("err %v, want ErrAmbiguous", err)
	}
	if _, e, err := b.Lookup("5.4.0-2-generic", "amd64"); err != nil || e.Path != "a/1/x86_64/5.4.0-2-generic.btf" {
		t.Errorf("identical duplicates: %v, %v", e, err)
	}
}
