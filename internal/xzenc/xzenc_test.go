package xzenc

import (
	"bytes"
	"math/rand"
	"os/exec"
	"testing"

	"github.com/btftool/btftool/internal/xzdec"
)

// testData returns n bytes with literals, long and short matches.
func testData(n int, seed int64) []byte {
	r := rand.New(rand.NewSource(seed))
	out := make([]byte, 0, n)
	for len(out) < n {
		switch r.Intn(3) {
		case 0:
			for range r.Intn(20) + 1 {
				out = append(out, byte(r.Intn(256)))
			}
		default:
			if len(out) > 0 {
				start := r.Intn(len(out))
				l := min(r.Intn(300)+2, len(out)-start)
				out = append(out, out[start:start+l]...)
			}
		}
	}
	return out[:n]
}

func TestBlocks(t *testing.T) {
	blocks := [][]byte{testData(100000, 1), testData(1, 2), testData(5000, 3), bytes.Repeat([]byte{0}, 3<<20), testData(70000, 4)}
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		if err := w.WriteBlock(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteBlock(nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	x := buf.Bytes()
	all := bytes.Join(blocks, nil)
	got, err := xzdec.DecodeAll(x, 1<<30)
	if err != nil || !bytes.Equal(got, all) {
		t.Fatalf("xzdec.DecodeAll: %v", err)
	}
	infos, err := xzdec.ReadBlocks(bytes.NewReader(x), int64(len(x)), 1<<20)
	if err != nil || len(infos) != len(blocks) {
		t.Fatalf("ReadBlocks: %d blocks, %v", len(infos), err)
	}
	for i, b := range infos {
		out, err := xzdec.DecodeBlock(nil, x[b.Offset:b.Offset+b.Size], b, 1<<30)
		if err != nil || !bytes.Equal(out, blocks[i]) {
			t.Fatalf("block %d: %v", i, err)
		}
	}
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("no xz command")
	}
	cmd := exec.Command("xz", "-dc")
	cmd.Stdin = bytes.NewReader(x)
	out, err := cmd.Output()
	if err != nil || !bytes.Equal(out, all) {
		t.Fatalf("xz -dc: %v", err)
	}
}

// roundTrip compresses data as one Block and checks that xzdec decodes it
// back.
func roundTrip(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteBlock(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := xzdec.DecodeAll(buf.Bytes(), 1<<30)
	if err != nil {
		t.Fatalf("%d bytes: %v", len(data), err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("%d bytes: decoded data differs", len(data))
	}
	return buf.Bytes()
}

// TestRoundTrip covers LZMA2's chunk limits (2 MiB uncompressed, 64 KiB
// compressed), stored chunks for incompressible data and the changes
// between them.
func TestRoundTrip(t *testing.T) {
	random := make([]byte, 300<<10)
	rand.New(rand.NewSource(5)).Read(random)
	mixed := append(append(append([]byte(nil), testData(200<<10, 6)...), random[:150<<10]...), testData(100<<10, 7)...)
	tests := map[string][]byte{
		"one byte":         {42},
		"two bytes":        {1, 2},
		"short":            []byte("abcabcabcabcabc"),
		"random":           random,
		"mixed":            mixed,
		"zeros, 5 MiB":     make([]byte, 5<<20),
		"matches, 3 MiB":   testData(3<<20, 8),
		"random then data": append(append([]byte(nil), random[:70<<10]...), testData(70<<10, 9)...),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			x := roundTrip(t, data)
			t.Logf("%d -> %d bytes", len(data), len(x))
		})
	}
	if x := roundTrip(t, make([]byte, 5<<20)); len(x) > 2000 {
		t.Errorf("5 MiB of zeros take %d bytes", len(x))
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("abcabcabcabcabc"))
	f.Add(testData(3000, 10))
	f.Add(make([]byte, 600))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		roundTrip(t, data)
	})
}
