package xzdec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/mikelolasagasti/xz"
)

// fuzzLimit bounds the output of both decoders in FuzzDecodeAll.
const fuzzLimit = 1 << 22

// FuzzDecodeAll compares DecodeAll with github.com/mikelolasagasti/xz (a
// port of XZ Embedded, set to accept dictionaries of up to 1 MiB): when
// both succeed the outputs must be equal; when DecodeAll succeeds the
// reference must too; when the reference succeeds on a single-Stream file
// of LZMA2 Blocks with a supported check, DecodeAll must succeed too.
func FuzzDecodeAll(f *testing.F) {
	for _, pattern := range []string{"testdata/*.xz", "testdata/xz-utils/*.xz"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			x, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(x, false)
			f.Add(x, true)
		}
	}
	f.Fuzz(func(t *testing.T, x []byte, fix bool) {
		if fix {
			// Let mutations reach past the CRC32s of the headers
			// and the Index.
			x = fixCRCs(x)
		}
		got, err := DecodeAll(x, fuzzLimit)
		if err != nil {
			if got != nil {
				t.Fatalf("output returned with error %v", err)
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
		}
		want, refErr := referenceDecode(x, fuzzLimit)
		switch {
		case err == nil && refErr == nil:
			if !bytes.Equal(got, want) {
				t.Fatalf("outputs differ: %d bytes, reference %d", len(got), len(want))
			}
		case err == nil:
			// The reference's only extra limit is its dictionary size.
			if !errors.Is(refErr, xz.ErrMemlimit) {
				t.Fatalf("DecodeAll accepts what the reference rejects: %v", refErr)
			}
		case refErr == nil:
			if errors.Is(err, ErrTooLarge) {
				break // the reference's limit counts differently
			}
			if singleStreamLZMA2(x) {
				t.Fatalf("reference decodes it, DecodeAll: %v", err)
			}
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("reference decodes it, DecodeAll: %v", err)
			}
		}
	})
}

// fixCRCs returns a copy of x with the CRC32s of the first Stream Header,
// the last Stream Footer, the Index before it and the Block Headers that
// Index describes recomputed, as far as x has them.
func fixCRCs(x []byte) []byte {
	x = bytes.Clone(x)
	if len(x) < 24 {
		return x
	}
	binary.LittleEndian.PutUint32(x[8:], crc32.ChecksumIEEE(x[6:8]))
	footer := x[len(x)-12:]
	binary.LittleEndian.PutUint32(footer, crc32.ChecksumIEEE(footer[4:10]))
	backward := (int(binary.LittleEndian.Uint32(footer[4:])) + 1) * 4
	start := len(x) - 12 - backward
	if start < 12 {
		return x
	}
	index := x[start : len(x)-12]
	binary.LittleEndian.PutUint32(index[len(index)-4:], crc32.ChecksumIEEE(index[:len(index)-4]))
	p := 1
	count, n := readVLI(index[p:])
	if n <= 0 {
		return x
	}
	p += n
	pos := 12
	for range min(count, 1000) {
		unpadded, n := readVLI(index[p:])
		if n <= 0 {
			return x
		}
		p += n
		if _, n = readVLI(index[p:]); n <= 0 {
			return x
		}
		p += n
		if pos >= start || x[pos] == 0 {
			return x
		}
		hsize := (int(x[pos]) + 1) * 4
		if pos+hsize > start {
			return x
		}
		binary.LittleEndian.PutUint32(x[pos+hsize-4:], crc32.ChecksumIEEE(x[pos:pos+hsize-4]))
		if unpadded > uint64(start) {
			return x
		}
		pos += int(unpadded+3) &^ 3
	}
	return x
}

// singleStreamLZMA2 reports whether x (which the reference decoder
// accepted) is one Stream, with no Stream Padding, with a check DecodeAll
// supports, whose Blocks all have the LZMA2 filter alone. It finds the
// Blocks from the Index independently of the package's own parser.
func singleStreamLZMA2(x []byte) bool {
	if len(x) < 24 {
		return false
	}
	switch x[7] {
	case checkNone, checkCRC32, checkCRC64, checkSHA256:
	default:
		return false
	}
	footer := x[len(x)-12:]
	if string(footer[10:]) != "YZ" {
		return false // Stream Padding or another Stream after it
	}
	backward := (int(binary.LittleEndian.Uint32(footer[4:])) + 1) * 4
	start := len(x) - 12 - backward
	if start < 12 {
		return false
	}
	index := x[start : len(x)-12]
	p := 1
	count, n := readVLI(index[p:])
	if n <= 0 {
		return false
	}
	p += n
	pos := 12
	for range count {
		unpadded, n := readVLI(index[p:])
		if n <= 0 {
			return false
		}
		p += n
		if _, n = readVLI(index[p:]); n <= 0 {
			return false
		}
		p += n
		if pos+2 >= len(x) {
			return false
		}
		// Block Header: one filter (flags & 3 == 0), ID 0x21, no
		// reserved bits; the ID is the first byte after the sizes.
		flags := x[pos+1]
		if flags&0x3f != 0 {
			return false
		}
		q := pos + 2
		for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} {
			if present {
				_, n := readVLI(x[q:])
				if n <= 0 {
					return false
				}
				q += n
			}
		}
		if q+2 >= len(x) || x[q] != filterLZMA2 || x[q+1] != 1 || x[q+2] > 40 {
			return false
		}
		for r := q + 3; r < pos+(int(x[pos])+1)*4-4; r++ {
			if x[r] != 0 {
				return false
			}
		}
		pos += int(unpadded+3) &^ 3
	}
	// And it is the only Stream: its header is at the start.
	return pos == start && bytes.HasPrefix(x, []byte(headerMagic))
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/*.xz with the xz command")

// seedFiles are the fuzz seeds of testdata/, made by xz from the test data
// generators. They use small dictionaries, which the reference decoder of
// FuzzDecodeAll accepts.
func seedFiles() map[string]struct {
	data []byte
	args []string
} {
	type seed = struct {
		data []byte
		args []string
	}
	text := textData(3000, 60)
	return map[string]seed{
		"empty.xz":            {nil, nil},
		"one-byte.xz":         {[]byte{'x'}, []string{"-0"}},
		"text-crc64.xz":       {text, []string{"--lzma2=preset=6,dict=64KiB"}},
		"text-crc32-0.xz":     {text[:1000], []string{"-0", "--check=crc32"}},
		"text-sha256.xz":      {text[:500], []string{"--lzma2=preset=6,dict=4KiB", "--check=sha256"}},
		"text-none.xz":        {text[:500], []string{"-0", "--check=none"}},
		"blocks.xz":           {text, []string{"-T2", "--block-size=1000", "--lzma2=preset=6,dict=64KiB", "--check=crc32"}},
		"random.xz":           {randomData(2000, 61), []string{"-0", "--check=crc32"}},
		"mixed.xz":            {append(append(textData(700, 62), randomData(600, 63)...), textData(700, 64)...), []string{"--lzma2=preset=6,dict=64KiB"}},
		"lc0-lp4-pb4.xz":      {text[:1500], []string{"--lzma2=preset=6,dict=64KiB,lc=0,lp=4,pb=4"}},
		"lc4-lp0-pb0.xz":      {text[:1500], []string{"--lzma2=preset=6,dict=64KiB,lc=4,lp=0,pb=0", "--check=crc32"}},
		"zeros-two-chunks.xz": {make([]byte, 5<<19), []string{"--lzma2=preset=6,dict=64KiB", "--check=crc32"}},
		"x86.xz":              {text[:1000], []string{"--x86", "--lzma2=preset=0,dict=64KiB"}},
	}
}

// TestSeeds checks the fuzz seeds of testdata/ (and rewrites them with
// -update-seeds): each decodes to its data, or is unsupported for x86.
func TestSeeds(t *testing.T) {
	for name, s := range seedFiles() {
		path := filepath.Join("testdata", name)
		if *updateSeeds {
			needXZ(t)
			if err := os.WriteFile(path, xzCompress(t, s.data, s.args...), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		x, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeAll(x, fuzzLimit)
		if name == "x86.xz" {
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("%s: got %v, want ErrUnsupported", name, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, s.data) {
			t.Fatalf("%s: wrong output, error %v", name, err)
		}
		if want, err := referenceDecode(x, fuzzLimit); err != nil || !bytes.Equal(want, s.data) {
			t.Fatalf("%s: the reference decoder fails: %v", name, err)
		}
		if !singleStreamLZMA2(x) {
			t.Fatalf("%s: singleStreamLZMA2 is false", name)
		}
	}
	// A concatenation with Stream Padding, made from two seeds.
	a, _ := os.ReadFile("testdata/text-crc32-0.xz")
	b, _ := os.ReadFile("testdata/random.xz")
	cat := append(append(append(a, 0, 0, 0, 0), b...), 0, 0, 0, 0)
	if *updateSeeds {
		if err := os.WriteFile("testdata/concat-padded.xz", cat, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	x, err := os.ReadFile("testdata/concat-padded.xz")
	if err != nil {
		t.Fatal(err)
	}
	want := append(bytes.Clone(seedFiles()["text-crc32-0.xz"].data), seedFiles()["random.xz"].data...)
	if got, err := DecodeAll(x, fuzzLimit); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("concat-padded.xz: wrong output, error %v", err)
	}
	if singleStreamLZMA2(x) {
		t.Fatalf("concat-padded.xz: singleStreamLZMA2 is true")
	}
}
