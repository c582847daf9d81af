package kbtf

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// FuzzRead checks that Read never panics, returns only BTF, respects
// MaxSize and keeps its allocations bounded, whatever the input.
func FuzzRead(f *testing.F) {
	le := tinyBTF(binary.LittleEndian)
	f.Add(le)
	f.Add(tinyBTF(binary.BigEndian))
	f.Add(gz(f, le))
	f.Add(zst(f, le))
	f.Add(zstdWindowFrame(le, 13))
	f.Add(makeTar(f, tarEntry{name: "d/", typ: tar.TypeDir}, tarEntry{name: "d/k.btf", typ: tar.TypeReg, data: le}))
	f.Add(gz(f, makeTar(f, tarEntry{name: "l", typ: tar.TypeSymlink, linkname: "x"}, tarEntry{name: "k.btf", typ: tar.TypeReg, data: le})))
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, p := range files {
		if strings.HasSuffix(p, ".sh") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}

	const maxSize = 1 << 20
	// What one call may allocate: a few buffers bounded by MaxSize, and a
	// decoder window (at most minWindow, since MaxSize is below it) for each
	// nesting level, with slack.
	const allocBound = 16*maxSize + 2*maxDepth*minWindow
	opts := &Options{MaxSize: maxSize}
	f.Fuzz(func(t *testing.T, in []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		data, src, err := Read(bytes.NewReader(in), "fuzz", opts)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > allocBound {
			t.Errorf("allocated %d bytes for a %d-byte input", alloc, len(in))
		}
		if err != nil {
			if data != nil {
				t.Error("data returned with an error")
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "fuzz: ") {
				t.Errorf("bad error message %q", msg)
			}
			return
		}
		if len(data) > maxSize {
			t.Errorf("returned %d bytes, over MaxSize", len(data))
		}
		if !isBTF(data) {
			t.Errorf("returned data without BTF magic (format %q)", src.Format)
		}
		if src.Format == "" {
			t.Error("empty Format")
		}
	})
}
