package bundle_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/klauspost/compress/gzip"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/bundle"
)

// btfOf returns fake BTF content: bundles do not parse it.
func btfOf(s string, n int) []byte {
	return bytes.Repeat([]byte(s+"\x00"), n)
}

// makeBundle encodes files (path to content) as a bundle compressed with
// c, with entries described from the btfhub layout of their paths.
func makeBundle(tb testing.TB, c string, files map[string][]byte) []byte {
	tb.Helper()
	var fs []batch.BundleFile
	for p, data := range files {
		fs = append(fs, batch.BundleFile{Entry: bundle.Describe(bundle.Entry{Path: p}), Data: data})
	}
	data, err := batch.EncodeBundle(fs, batch.BundleInfo{Compression: c, Generator: "btftool test",
		Objects: []bundle.Object{{Name: "a.bpf.o", SHA256: sha256Hex([]byte("a"))}}})
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var sample = map[string][]byte{
	"debian/12/x86_64/6.1.0-56-amd64.btf":     btfOf("a", 3000),
	"debian/12/arm64/6.1.0-50-arm64.btf":      btfOf("b", 2000),
	"ubuntu/20.04/x86_64/5.4.0-1-generic.btf": btfOf("c", 100),
	"ubuntu/20.04/x86_64/5.4.0-2-generic.btf": btfOf("c", 100),
}

// TestOpen reads every entry of a bundle in every compression, and of the
// uncompressed tar, from bytes, an io.ReaderAt, a file and an fs.FS.
func TestOpen(t *testing.T) {
	for _, c := range []string{"xz", "zstd", "gzip", "none"} {
		var data []byte
		if c == "none" {
			data = tarOf(t, makeBundle(t, "gzip", sample))
		} else {
			data = makeBundle(t, c, sample)
		}
		path := filepath.Join(t.TempDir(), "b")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		opens := map[string]func() (*bundle.Bundle, error){
			"bytes": func() (*bundle.Bundle, error) { return bundle.Open(data, nil) },
			"readerat": func() (*bundle.Bundle, error) {
				return bundle.OpenReaderAt(bytes.NewReader(data), int64(len(data)), nil)
			},
			"file": func() (*bundle.Bundle, error) { return bundle.OpenFile(path, nil) },
			"fs":   func() (*bundle.Bundle, error) { return bundle.OpenFS(fstest.MapFS{"b": {Data: data}}, "b", nil) },
		}
		for how, open := range opens {
			t.Run(c+"/"+how, func(t *testing.T) {
				b, err := open()
				if err != nil {
					t.Fatal(err)
				}
				defer b.Close()
				idx := b.Index()
				if idx.Format != bundle.FormatBlocks || idx.Generator != "btftool test" || len(idx.Objects) != 1 || len(b.Entries()) != len(sample) {
					t.Fatalf("index %+v", idx)
				}
				for p, want := range sample {
					got, err := b.ReadFile(p)
					if err != nil || !bytes.Equal(got, want) {
						t.Errorf("%s: %v", p, err)
					}
				}
				if _, err := b.ReadFile("nope.btf"); !errors.Is(err, bundle.ErrNotFound) {
					t.Errorf("missing file: %v", err)
				}
			})
		}
	}
}

// tarOf decompresses a gzip bundle.
func tarOf(t *testing.T, gz []byte) []byte { return tarOfTB(t, gz) }

func tarOfTB(t testing.TB, gz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestFormat1 reads bundles written by btftool before format 2 (index
// without offsets, one compressed stream), kept in testdata.
func TestFormat1(t *testing.T) {
	for _, name := range []string{"format1.tar.xz", "format1.tar.gz", "format1.tar.zst"} {
		t.Run(name, func(t *testing.T) {
			b, err := bundle.OpenFile(filepath.Join("testdata", name), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if b.Index().Format != bundle.FormatStream || len(b.Entries()) != 3 {
				t.Fatalf("index %+v", b.Index())
			}
			for _, e := range b.Entries() {
				if _, err := b.ReadEntry(&e); err != nil {
					t.Error(err)
				}
			}
			n := 0
			if err := b.Walk(func(*bundle.Entry, []byte) error { n++; return nil }); err != nil || n != 3 {
				t.Errorf("Walk: %d entries, %v", n, err)
			}
			m, err := b.Match(bundle.Target{Release: "6.1.0-50-arm64", Machine: "aarch64"})
			if err != nil || m.Entry.Path != "debian/12/arm64/6.1.0-50-arm64.btf" {
				t.Errorf("Match: %+v, %v", m, err)
			}
		})
	}
}

// tarBundle builds an uncompressed bundle by hand: index.json with the
// given content, then the members.
func tarBundle(t *testing.T, index any, members ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	idx, ok := index.([]byte)
	if !ok {
		var err error
		if idx, err = json.Marshal(index); err != nil {
			t.Fatal(err)
		}
	}
	tw.WriteHeader(&tar.Header{Name: "./index.json", Mode: 0o644, Size: int64(len(idx)), Typeflag: tar.TypeReg})
	tw.Write(idx)
	for _, h := range members {
		data := []byte(h.Linkname)
		h.Linkname = ""
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(data))
		}
		tw.WriteHeader(h)
		tw.Write(data)
	}
	tw.Close()
	return buf.Bytes()
}

// reg is a regular member whose content is data (passed through Linkname
// to tarBundle).
func reg(name, data string) *tar.Header {
	return &tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Linkname: data}
}

func entry(path, data string, offset int64) bundle.Entry {
	e := bundle.Entry{Path: path, Release: "r", Size: int64(len(data)), SHA256: sha256Hex([]byte(data))}
	if offset > 0 {
		e.Member, e.Offset = "./"+path, offset
	}
	return e
}

// TestHostile opens bundles that lie, escape or explode: each gives an
// error wrapping ErrBadBundle or ErrTooLarge, at open or when the entry is
// read, within the limits given.
func TestHostile(t *testing.T) {
	small := &bundle.Options{MaxEntrySize: 1 << 20, MaxArchiveSize: 8 << 20}
	good := makeBundle(t, "xz", sample)
	idx := func(kernels ...bundle.Entry) bundle.Index {
		return bundle.Index{Format: 2, Kernels: kernels}
	}
	// The data of the first member after a small index.json starts at
	// 512 (its header) + 512 (its data, padded) + 512 (the header).
	const firstData = 1536
	bomb := func(n int) []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		tw := tar.NewWriter(zw)
		tw.WriteHeader(&tar.Header{Name: "./index.json", Mode: 0o644, Size: int64(n), Typeflag: tar.TypeReg})
		zeros := make([]byte, 1<<20)
		for range n >> 20 {
			tw.Write(zeros)
		}
		tw.Close()
		zw.Close()
		return buf.Bytes()
	}
	lyingSeek := makeBundle(t, "zstd", sample)
	lyingSeek[len(lyingSeek)-13]++ // the last frame's decompressed size
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, bundle.ErrBadBundle},
		{"garbage", []byte(strings.Repeat("not a bundle ", 100)), bundle.ErrBadBundle},
		{"truncated xz", good[:len(good)/2], bundle.ErrBadBundle},
		{"truncated xz, aligned", good[:len(good)-len(good)%4-8], bundle.ErrBadBundle},
		{"no index", tarBundle(t, nil)[1024:], bundle.ErrBadBundle},
		{"index not first", func() []byte {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			tw.WriteHeader(&tar.Header{Name: "./x.btf", Mode: 0o644, Typeflag: tar.TypeReg})
			tw.Close()
			return buf.Bytes()
		}(), bundle.ErrBadBundle},
		{"index not JSON", tarBundle(t, []byte("{")), bundle.ErrBadBundle},
		{"unknown format", tarBundle(t, bundle.Index{Format: 3}), bundle.ErrBadBundle},
		{"dot-dot path", tarBundle(t, idx(entry("a/../../etc/passwd", "x", firstData))), bundle.ErrBadBundle},
		{"absolute path", tarBundle(t, idx(entry("/etc/passwd", "x", firstData))), bundle.ErrBadBundle},
		{"absolute member", tarBundle(t, idx(func() bundle.Entry { e := entry("a.btf", "x", firstData); e.Member = "/a.btf"; return e }())), bundle.ErrBadBundle},
		{"control characters", tarBundle(t, idx(entry("a\x1b[2J.btf", "x", firstData))), bundle.ErrBadBundle},
		{"duplicate path", tarBundle(t, idx(entry("a.btf", "x", firstData), entry("a.btf", "x", firstData))), bundle.ErrBadBundle},
		{"bad sha256", tarBundle(t, idx(func() bundle.Entry { e := entry("a.btf", "x", firstData); e.SHA256 = "00"; return e }())), bundle.ErrBadBundle},
		{"negative size", tarBundle(t, idx(func() bundle.Entry { e := entry("a.btf", "x", firstData); e.Size = -1; return e }())), bundle.ErrTooLarge},
		{"size above the limit", tarBundle(t, idx(func() bundle.Entry { e := entry("a.btf", "x", firstData); e.Size = 1 << 30; return e }())), bundle.ErrTooLarge},
		{"offset not at a member", tarBundle(t, idx(entry("a.btf", "x", firstData+7)), reg("./a.btf", "x")), bundle.ErrBadBundle},
		{"offset beyond the archive", tarBundle(t, idx(entry("a.btf", "x", 1<<40)), reg("./a.btf", "x")), bundle.ErrBadBundle},
		{"huge index", bomb(64 << 20), bundle.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := bundle.Open(tt.data, small)
			if err == nil {
				t.Fatalf("opened: %+v", b.Index())
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}

	// Bundles that open but whose entries are not what the index says.
	readTests := []struct {
		name string
		data []byte
		want error
	}{
		{"truncated tar", tarOf(t, makeBundle(t, "gzip", sample))[:3000], bundle.ErrBadBundle},
		{"zstd seek table lies", lyingSeek, bundle.ErrBadBundle},
		{"index lies about the size", tarBundle(t, idx(func() bundle.Entry { e := entry("a.btf", "xyz", firstData); e.Size = 2; return e }()), reg("./a.btf", "xyz")), bundle.ErrBadBundle},
		{"index lies about the content", tarBundle(t, idx(func() bundle.Entry {
			e := entry("a.btf", "xyz", firstData)
			e.SHA256 = sha256Hex([]byte("abc"))
			return e
		}()), reg("./a.btf", "xyz")), bundle.ErrBadBundle},
		{"index points at another member", tarBundle(t, idx(entry("a.btf", "xyz", firstData+1024)), reg("./a.btf", "xyz"), reg("./b.btf", "abc")), bundle.ErrBadBundle},
		{"index points at another member, no sha256", tarBundle(t, idx(func() bundle.Entry { e := entry("a.btf", "xyz", firstData+1024); e.SHA256 = ""; return e }()), reg("./a.btf", "xyz"), reg("./b.btf", "abc")), bundle.ErrBadBundle},
		{"offset past the end", tarBundle(t, idx(entry("a.btf", "xyz", 64<<10)), reg("./a.btf", "xyz")), bundle.ErrBadBundle},
		{"format 1 member missing", tarBundle(t, bundle.Index{Format: 1, Kernels: []bundle.Entry{entry("a.btf", "xyz", 0)}}, reg("./b.btf", "xyz")), bundle.ErrBadBundle},
		{"format 1 member is a link", tarBundle(t, bundle.Index{Format: 1, Kernels: []bundle.Entry{entry("a.btf", "xyz", 0)}}, &tar.Header{Name: "./a.btf", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow"}), bundle.ErrBadBundle},
		{"deep in a bomb", func() []byte {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(tarBundle(t, idx(entry("a.btf", "x", 6<<20)), reg("./z", strings.Repeat("\x00", 7<<20))))
			zw.Close()
			return buf.Bytes()
		}(), bundle.ErrBadBundle},
	}
	for _, tt := range readTests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := bundle.Open(tt.data, small)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			e := b.Entries()[0]
			if _, err := b.ReadEntry(&e); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

// Example: a loader that embeds a bundle (with go:embed) picks the BTF of
// the running kernel.
func ExampleBundle_Match() {
	embedded, err := os.ReadFile("testdata/format1.tar.xz") // or a go:embed []byte
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := bundle.Open(embedded, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	// bundle.HostTarget("") describes the running machine.
	m, err := b.Match(bundle.Target{Release: "6.1.0-56-amd64", Machine: "x86_64"})
	if err != nil {
		fmt.Println(err) // errors.Is(err, bundle.ErrNotFound), bundle.ErrAmbiguous
		return
	}
	raw, err := b.ReadEntry(m.Entry) // for libbpf's btf_custom_path
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Entry.Path, len(raw), "bytes, matched by", m.Rule)
	// Output: debian/12/x86_64/6.1.0-56-amd64.btf 761 bytes, matched by release, machine
}
