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
