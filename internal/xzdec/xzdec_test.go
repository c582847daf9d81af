package xzdec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mikelolasagasti/xz"
)

// needXZ skips the test when the xz command is not installed.
func needXZ(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("xz command not installed")
	}
}

// xzCompress runs xz -zc with args on data.
func xzCompress(t testing.TB, data []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("xz", append([]string{"-zc", "-q"}, args...)...)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xz %v: %v: %s", args, err, stderr.Bytes())
	}
	return out
}

// randomData is incompressible: xz stores it in uncompressed LZMA2 chunks.
func randomData(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// textData is text-like: words from a small vocabulary, numbers and
// punctuation, so that it has literals, matches and repeated matches of
// all lengths.
func textData(n int, seed int64) []byte {
	r := rand.New(rand.NewSource(seed))
	words := strings.Fields(`the of and to in is was for that with as on by be at
		struct kernel btf type func int long char const volatile union enum
		pointer array typedef member offset size bits name section data
		decode encode stream block index footer header check padding range`)
	var b bytes.Buffer
	for b.Len() < n {
		switch r.Intn(20) {
		case 0:
			fmt.Fprintf(&b, "%d", r.Intn(100000))
		case 1:
			b.WriteString(".\n")
		case 2:
			b.WriteByte(byte(r.Intn(256))) // some binary noise
		case 3:
			// A long repeat of recent text.
			if b.Len() > 300 {
				start := b.Len() - 1 - r.Intn(300)
				b.Write(append([]byte(nil), b.Bytes()[start:start+r.Intn(b.Len()-start)]...))
			}
		default:
			b.WriteString(words[r.Intn(len(words))])
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

// mixedData alternates text and random runs, so that one Block has LZMA
// chunks, uncompressed chunks and LZMA chunks with state resets.
func mixedData(n int, seed int64) []byte {
	var b []byte
	for i := int64(0); len(b) < n; i++ {
		if i%2 == 0 {
			b = append(b, textData(150<<10, seed+i)...)
		} else {
			b = append(b, randomData(100<<10, seed+i)...)
		}
	}
	return b[:n]
}

// checkDecode decodes x and compares the result with want.
func checkDecode(t *testing.T, x, want []byte) {
	t.Helper()
	got, err := DecodeAll(x, int64(len(want)))
	if err != nil {
		t.Fatalf("DecodeAll: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("DecodeAll: output differs (%d bytes, want %d)", len(got), len(want))
	}
	// Into a reused buffer full of other bytes: every byte is written.
	dst := bytes.Repeat([]byte{0xa5}, len(want)+7)
	got, err = DecodeAllInto(dst, x, int64(len(want)))
	if err != nil {
		t.Fatalf("DecodeAllInto: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("DecodeAllInto: output differs (%d bytes, want %d)", len(got), len(want))
	}
	if len(want) > 0 && &got[0] != &dst[0] {
		t.Fatal("DecodeAllInto did not use dst")
	}
	if len(want) > 0 {
		if _, err := DecodeAll(x, int64(len(want))-1); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("DecodeAll with maxSize one byte short: %v, want ErrTooLarge", err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	needXZ(t)
	type tc struct {
		name string
		data []byte
		args []string
	}
	var cases []tc
	sizes := []int{0, 1, 2, 3, 100, 4097, 65536 + 17, 300000}
	for _, n := range sizes {
		for _, kind := range []string{"text", "random"} {
			var data []byte
			if kind == "text" {
				data = textData(n, int64(n))
			} else {
				data = randomData(n, int64(n))
			}
			for _, check := range []string{"none", "crc32", "crc64", "sha256"} {
				cases = append(cases, tc{fmt.Sprintf("%s-%d-6-%s", kind, n, check), data, []string{"-6", "--check=" + check}})
			}
			cases = append(cases,
				tc{fmt.Sprintf("%s-%d-0", kind, n), data, []string{"-0"}},
				tc{fmt.Sprintf("%s-%d-9e", kind, n), data, []string{"-9e", "--check=crc32"}},
			)
		}
	}
	big := textData(5<<20, 1)
	cases = append(cases,
		tc{"text-2.5MiB-6", big[:5<<19], []string{"-6"}},
		tc{"text-5MiB-0", big, []string{"-0", "--check=sha256"}},
		tc{"text-1MiB-9e", big[:1<<20], []string{"-9e"}},
		tc{"random-1MiB", randomData(1<<20, 2), []string{"-6"}},
		tc{"mixed-2.5MiB-6", mixedData(5<<19, 3), []string{"-6", "--check=crc32"}},
		tc{"mixed-3MiB-0", mixedData(3<<20, 4), []string{"-0"}},
		tc{"zeros-3MiB", make([]byte, 3<<20), []string{"-6"}},
		tc{"blocks-T2", big[:1<<20], []string{"-T2", "--block-size=100KiB"}},
		tc{"blocks-T1", big[:1<<20], []string{"-T1", "--block-size=100KiB", "--check=sha256"}},
		tc{"blocks-list", mixedData(1<<20, 5), []string{"-T1", "--block-list=1,100KiB,1000,300KiB", "--check=crc32"}},
		tc{"dict-4KiB", big[:1<<20], []string{"--lzma2=preset=6,dict=4KiB"}},
		tc{"nice-273", bytes.Repeat(textData(5000, 6), 300), []string{"--lzma2=preset=9,nice=273,depth=0"}},
	)
	for _, lclppb := range []string{"lc=4,lp=0,pb=0", "lc=0,lp=4,pb=4", "lc=1,lp=3,pb=2", "lc=2,lp=2,pb=1", "lc=0,lp=0,pb=0", "lc=3,lp=1,pb=3", "lc=0,lp=1,pb=4"} {
		data := append(textData(200000, 7), mixedData(400000, 8)...)
		cases = append(cases, tc{"lzma2-" + lclppb, data, []string{"--lzma2=preset=6," + lclppb}})
		cases = append(cases, tc{"lzma2-0-" + lclppb, data[:100000], []string{"--lzma2=preset=0," + lclppb}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			checkDecode(t, xzCompress(t, c.data, c.args...), c.data)
		})
	}
}

// TestConcatenated decodes Streams concatenated with and without Stream
// Padding, including empty Streams and different checks.
func TestConcatenated(t *testing.T) {
	needXZ(t)
	a, b, c := textData(70000, 10), randomData(5000, 11), textData(300, 12)
	xa := xzCompress(t, a, "--check=crc32")
	xb := xzCompress(t, b, "--check=sha256")
	xc := xzCompress(t, c, "--check=none", "-0")
	xe := xzCompress(t, nil)
	pad := func(n int) []byte { return make([]byte, n) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name    string
		x, want []byte
	}{
		{"two", cat(xa, xb), cat(a, b)},
		{"three-padded", cat(xa, pad(4), xb, pad(8), xc, pad(12)), cat(a, b, c)},
		{"empty-streams", cat(xe, xa, pad(4), xe, xe, xc), cat(a, c)},
		{"only-empty", cat(xe, pad(4), xe), nil},
		{"trailing-padding", cat(xa, pad(1024)), a},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDecode(t, tt.x, tt.want)
			// xz -dc must agree that it is valid.
			cmd := exec.Command("xz", "-dc")
			cmd.Stdin = bytes.NewReader(tt.x)
			if out, err := cmd.Output(); err != nil || !bytes.Equal(out, tt.want) {
				t.Fatalf("xz -dc disagrees: %v", err)
			}
		})
	}
	for _, bad := range []struct {
		name string
		x    []byte
	}{
		{"odd-padding", cat(xa, pad(3), xb)},
		{"odd-trailing-padding", cat(xa, pad(5))},
		{"leading-padding", cat(pad(4), xa)},
		{"only-padding", pad(16)},
		{"garbage-between", cat(xa, []byte("junk"), xb)},
		{"trailing-garbage", cat(xa, []byte("junk"))},
		{"truncated-second", cat(xa, xb[:len(xb)-4])},
	} {
		t.Run(bad.name, func(t *testing.T) {
			if _, err := DecodeAll(bad.x, 1<<30); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestUnsupportedFilters: filters xz can write but this package does not
// implement give ErrUnsupported.
func TestUnsupportedFilters(t *testing.T) {
	needXZ(t)
	data := textData(20000, 20)
	for _, args := range [][]string{
		{"--x86", "--lzma2"},
		{"--delta=dist=4", "--lzma2"},
		{"--arm", "--lzma2=preset=0"},
		{"--sparc", "--x86", "--lzma2"},
	} {
		t.Run(strings.Join(args, ""), func(t *testing.T) {
			x := xzCompress(t, data, args...)
			if _, err := DecodeAll(x, 1<<30); !errors.Is(err, ErrUnsupported) {
				t.Fatalf("got %v, want ErrUnsupported", err)
			}
		})
	}
}

// TestXZUtilsFiles decodes the test files of XZ Utils (public domain): good
// files must decode as the reference decoder does, bad ones give
// ErrCorrupt, unsupported ones and those with BCJ or Delta filters
// ErrUnsupported.
func TestXZUtilsFiles(t *testing.T) {
	paths, err := filepath.Glob("testdata/xz-utils/*.xz")
	if err != nil || len(paths) < 60 {
		t.Fatalf("testdata/xz-utils: %d files, %v", len(paths), err)
	}
	for _, p := range paths {
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			x, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeAll(x, 1<<20)
			switch {
			case strings.Contains(name, "delta") || strings.Contains(name, "x86") || strings.Contains(name, "sparc"):
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("got %v, want ErrUnsupported", err)
				}
			case strings.HasPrefix(name, "good-"):
				if err != nil {
					t.Fatal(err)
				}
				want, err := referenceDecode(x, 1<<20)
				if err != nil {
					t.Fatalf("reference decoder: %v", err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("output differs from the reference decoder")
				}
			case strings.HasPrefix(name, "bad-"):
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("got %v, want ErrCorrupt", err)
				}
			case strings.HasPrefix(name, "unsupported-"):
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("got %v, want ErrUnsupported", err)
				}
			default:
				t.Fatalf("unknown kind of test file")
			}
			if err != nil {
				t.Log(err)
				if got != nil {
					t.Fatalf("output returned with an error")
				}
			}
		})
	}
}

// referenceDecode decodes x with github.com/mikelolasagasti/xz, reading
// at most limit bytes.
func referenceDecode(x []byte, limit int64) ([]byte, error) {
	r, err := xz.NewReader(bytes.NewReader(x), 1<<20)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(out)) > limit {
		return nil, errTooLong
	}
	return out, nil
}

var errTooLong = errors.New("reference output exceeds the limit")

// checkCorrupt decodes a damaged file: the result must be ErrCorrupt, or
// exactly the original data without error, and never a panic.
func checkCorrupt(t *testing.T, x, want []byte, what string) {
	t.Helper()
	got, err := DecodeAll(x, 1<<30)
	if err == nil {
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: wrong output without error", what)
		}
		return
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("%s: got %v, want ErrCorrupt", what, err)
	}
	if got != nil {
		t.Fatalf("%s: output returned with an error", what)
	}
}

func TestCorruption(t *testing.T) {
	needXZ(t)
	small := textData(600, 30)
	medium := textData(200<<10, 31)
	type file struct {
		name     string
		x, want  []byte
		everyBit bool
		prefixes map[int][]byte // valid prefixes of x and their output
	}
	concat1 := xzCompress(t, small[:300], "--check=crc32")
	concat := append(append(bytes.Clone(concat1), 0, 0, 0, 0), xzCompress(t, small[300:], "--check=crc64")...)
	files := []file{
		{"crc64-bits", xzCompress(t, small, "--check=crc64"), small, true, nil},
		{"crc32-bits", xzCompress(t, small[:200], "--check=crc32", "-0"), small[:200], true, nil},
		{"sha256", xzCompress(t, small, "--check=sha256"), small, false, nil},
		{"blocks", xzCompress(t, textData(5000, 32), "-T2", "--block-size=1000", "--check=crc32"), textData(5000, 32), false, nil},
		{"concat", concat, small, false, map[int][]byte{len(concat1): small[:300], len(concat1) + 4: small[:300]}},
		{"uncompressed-chunks", xzCompress(t, randomData(3000, 33), "--check=crc32"), randomData(3000, 33), false, nil},
		{"medium", xzCompress(t, medium, "-0", "--check=crc32"), medium, false, nil},
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			checkDecode(t, f.x, f.want)
			x := bytes.Clone(f.x)
			step := 1
			if f.name == "medium" {
				step = 211 // every byte would take too long
			}
			for i := 0; i < len(x); i += step {
				if f.everyBit {
					for bit := 0; bit < 8; bit++ {
						x[i] ^= 1 << bit
						checkCorrupt(t, x, f.want, fmt.Sprintf("bit %d of byte %d flipped", bit, i))
						x[i] ^= 1 << bit
					}
				} else {
					for _, v := range []byte{0x00, 0xff, x[i] ^ 0x80, x[i] + 1} {
						if v == f.x[i] {
							continue
						}
						x[i] = v
						checkCorrupt(t, x, f.want, fmt.Sprintf("byte %d set to 0x%02x", i, v))
					}
					x[i] = f.x[i]
				}
			}
			for n := 0; n < len(x); n += step {
				want, ok := f.prefixes[n]
				if ok {
					checkDecode(t, x[:n], want)
					continue
				}
				checkCorrupt(t, x[:n], f.want, fmt.Sprintf("truncated to %d bytes", n))
			}
		})
	}
}

// xzIndex is a single-Stream .xz file split around its Index, for tests
// that craft files whose Index says something else.
func rewriteIndex(t *testing.T, x []byte, edit func(unpadded, uncompressed []uint64)) []byte {
	t.Helper()
	footer := x[len(x)-12:]
	backward := (int(binary.LittleEndian.Uint32(footer[4:])) + 1) * 4
	start := len(x) - 12 - backward
	index := x[start : len(x)-12]
	p := 1
	count, n := readVLI(index[p:])
	p += n
	var unp, unc []uint64
	for range count {
		v, n := readVLI(index[p:])
		p += n
		w, m := readVLI(index[p:])
		p += m
		unp, unc = append(unp, v), append(unc, w)
	}
	edit(unp, unc)
	putVLI := func(b []byte, v uint64) []byte {
		for v >= 0x80 {
			b = append(b, byte(v)|0x80)
			v >>= 7
		}
		return append(b, byte(v))
	}
	ni := putVLI([]byte{0}, uint64(len(unp)))
	for i := range unp {
		ni = putVLI(ni, unp[i])
		ni = putVLI(ni, unc[i])
	}
	for len(ni)%4 != 0 {
		ni = append(ni, 0)
	}
	ni = binary.LittleEndian.AppendUint32(ni, crc32.ChecksumIEEE(ni))
	nf := bytes.Clone(footer)
	binary.LittleEndian.PutUint32(nf[4:], uint32(len(ni)/4-1))
	binary.LittleEndian.PutUint32(nf, crc32.ChecksumIEEE(nf[4:10]))
	return append(append(bytes.Clone(x[:start]), ni...), nf...)
}

func TestIndexMismatch(t *testing.T) {
	needXZ(t)
	data := textData(100000, 40)
	x := xzCompress(t, data)
	if y := rewriteIndex(t, x, func([]uint64, []uint64) {}); !bytes.Equal(x, y) {
		t.Fatal("rewriteIndex does not reproduce the file")
	}
	for _, tc := range []struct {
		name string
		edit func(unp, unc []uint64)
	}{
		{"smaller", func(unp, unc []uint64) { unc[0]-- }},
		{"larger", func(unp, unc []uint64) { unc[0]++ }},
		{"unpadded+4", func(unp, unc []uint64) { unp[0] += 4 }},
		{"unpadded-1", func(unp, unc []uint64) { unp[0]-- }},
		{"huge", func(unp, unc []uint64) { unc[0] = 1 << 60 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := rewriteIndex(t, x, tc.edit)
			_, err := DecodeAll(y, math.MaxInt64)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
			t.Log(err)
		})
	}
}

// TestMaxSize: a file declaring more than maxSize is refused before the
// output is allocated.
func TestMaxSize(t *testing.T) {
	needXZ(t)
	data := make([]byte, 64<<20) // compresses to about 10 KB
	x := xzCompress(t, data, "-0")
	for _, max := range []int64{0, -1, 1, 64<<20 - 1} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := DecodeAll(x, max)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("maxSize %d: got %v, want ErrTooLarge", max, err)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Fatalf("maxSize %d: %d bytes allocated before refusing", max, n)
		}
	}
	// Also when the Index is crafted to declare much more than the data.
	y := rewriteIndex(t, xzCompress(t, data[:1000]), func(unp, unc []uint64) { unc[0] = 5 << 20 })
	if _, err := DecodeAll(y, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("crafted index: got %v, want ErrTooLarge", err)
	}
	checkDecode(t, x, data)
	if _, err := DecodeAll(xzCompress(t, nil), -1); err != nil {
		t.Fatalf("empty output with negative maxSize: %v", err)
	}
}

// TestOutputNotAliased: a decoded buffer is the caller's alone (decoders are
// pooled; their state must not leak into or share the output).
func TestOutputNotAliased(t *testing.T) {
	needXZ(t)
	a, b := textData(50000, 50), textData(50000, 51)
	xa, xb := xzCompress(t, a), xzCompress(t, b)
	ga, _ := DecodeAll(xa, 1<<20)
	gb, _ := DecodeAll(xb, 1<<20)
	if !bytes.Equal(ga, a) || !bytes.Equal(gb, b) {
		t.Fatal("outputs differ")
	}
}

// TestCrafted edits fields that CRC32s protect (and recomputes the CRC32s,
// as FuzzDecodeAll does with fix set): each must give the right error.
func TestCrafted(t *testing.T) {
	empty, err := os.ReadFile("testdata/empty.xz")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := os.ReadFile("testdata/blocks.xz") // xz -T2: sizes in the Block Headers
	if err != nil {
		t.Fatal(err)
	}
	if blocks[12+1] != 0xc0 || blocks[12+2]&0x80 == 0 {
		t.Fatalf("blocks.xz: first Block Header has flags 0x%02x", blocks[13])
	}
	// First Block Header: size, flags 0xc0, compressed size (2-byte VLI),
	// uncompressed size (VLI), filter 0x21, properties size 1, dictionary.
	uncPos := 12 + 2 + 2
	_, n := readVLI(blocks[uncPos:])
	filterPos := uncPos + n
	if blocks[filterPos] != filterLZMA2 {
		t.Fatalf("blocks.xz: no LZMA2 filter at %d", filterPos)
	}
	tests := []struct {
		name string
		base []byte
		edit func(x []byte)
		want error
	}{
		{"backward-size-4", empty, func(x []byte) { binary.LittleEndian.PutUint32(x[len(x)-8:], 0) }, ErrCorrupt},
		{"backward-size-huge", empty, func(x []byte) { binary.LittleEndian.PutUint32(x[len(x)-8:], 1<<30) }, ErrCorrupt},
		{"stream-flags-reserved", empty, func(x []byte) { x[6], x[len(x)-4] = 1, 1 }, ErrUnsupported},
		{"check-id-2", empty, func(x []byte) { x[7], x[len(x)-3] = 2, 2 }, ErrUnsupported},
		{"check-id-differs", empty, func(x []byte) { x[7] = 1 }, ErrCorrupt},
		{"index-count-huge", empty, func(x []byte) {
			copy(x[12:], []byte{0, 0xff, 0xff, 0x7f}) // 2^21-1 records in 8 bytes
		}, ErrCorrupt},
		{"block-flags-reserved", blocks, func(x []byte) { x[13] |= 0x04 }, ErrUnsupported},
		{"block-compressed-size", blocks, func(x []byte) { x[14]++ }, ErrCorrupt},
		{"block-uncompressed-size", blocks, func(x []byte) { x[uncPos]++ }, ErrCorrupt},
		{"block-filter-id", blocks, func(x []byte) { x[filterPos] = 0x03 }, ErrUnsupported},
		{"block-filters-2", blocks, func(x []byte) { x[13] |= 1 }, ErrUnsupported},
		{"lzma2-props-size", blocks, func(x []byte) { x[filterPos+1] = 2 }, ErrUnsupported},
		{"lzma2-dict-41", blocks, func(x []byte) { x[filterPos+2] = 41 }, ErrUnsupported},
		{"lzma2-dict-4KiB", blocks, func(x []byte) { x[filterPos+2] = 0 }, nil}, // the data is 3000 bytes
		{"lzma2-dict-4GiB", blocks, func(x []byte) { x[filterPos+2] = 40 }, nil},
		{"header-padding", blocks, func(x []byte) { x[filterPos+3] = 1 }, ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := bytes.Clone(tc.base)
			tc.edit(x)
			x = fixCRCs(x)
			_, err := DecodeAll(x, 1<<20)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
}

// TestDictionarySize: a match may not reach farther back than the
// dictionary size of the Block Header, even though the whole output is at
// hand.
func TestDictionarySize(t *testing.T) {
	needXZ(t)
	data := textData(200000, 70)
	x := xzCompress(t, data, "--lzma2=preset=6,dict=64KiB")
	checkDecode(t, x, data)
	// Block Header: size, flags, filter 0x21, properties size, dictionary.
	if x[12+2] != filterLZMA2 || x[12+4] != 8 { // 8: 64 KiB
		t.Fatalf("unexpected Block Header % x", x[12:12+8])
	}
	x[12+4] = 0 // 4 KiB
	x = fixCRCs(x)
	if _, err := DecodeAll(x, 1<<20); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
	if _, err := referenceDecode(x, 1<<20); err == nil {
		t.Fatal("the reference decoder accepts it")
	}
}

// TestConcurrent decodes in several goroutines at once (decoders are pooled).
func TestConcurrent(t *testing.T) {
	needXZ(t)
	var inputs, outputs [][]byte
	for i := range 4 {
		data := textData(100000+i*30000, int64(80+i))
		inputs = append(inputs, xzCompress(t, data, "-0"))
		outputs = append(outputs, data)
	}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for k := range 20 {
				i := (g + k) % len(inputs)
				got, err := DecodeAll(inputs[i], 1<<20)
				if err == nil && !bytes.Equal(got, outputs[i]) {
					err = fmt.Errorf("input %d: wrong output", i)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestParallelBlocks checks that Blocks decoded in parallel give the same
// output as one after the other, and that of two corrupt Blocks the first
// in file order is reported, whatever finishes first.
func TestParallelBlocks(t *testing.T) {
	want := textData(200000, 64)
	src := xzCompress(t, want, "-T2", "--block-size=16KiB", "--check=crc64")
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		got, err := DecodeAll(src, int64(len(want)))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("GOMAXPROCS %d: %d bytes, %v", procs, len(got), err)
		}
	}
	streams, _, err := locateStreams(src)
	if err != nil || len(streams) != 1 || len(streams[0].records) < 3 {
		t.Fatalf("want one stream of several blocks: %d streams, %d bytes, %v", len(streams), len(want), err)
	}
	// Flip a byte in the compressed data of the second and the last Block.
	pos := streams[0].start + headerSize
	var offs []int
	for _, r := range streams[0].records {
		offs = append(offs, pos+int(r.unpadded)/2)
		pos += int(r.unpadded+3) &^ 3
	}
	bad := bytes.Clone(src)
	bad[offs[1]] ^= 0x55
	bad[offs[len(offs)-1]] ^= 0x55
	_, seqErr := func() ([]byte, error) { runtime.GOMAXPROCS(1); return DecodeAll(bad, int64(len(want))) }()
	runtime.GOMAXPROCS(4)
	_, parErr := DecodeAll(bad, int64(len(want)))
	if seqErr == nil || parErr == nil || seqErr.Error() != parErr.Error() {
		t.Errorf("corrupt blocks: sequential %v, parallel %v", seqErr, parErr)
	}
}
