package xzdec

import (
	"bytes"
	"errors"
	"testing"
)

// TestBlocks decodes each Block of multi-block, multi-stream files alone
// and checks it against the matching part of the whole output.
func TestBlocks(t *testing.T) {
	needXZ(t)
	a, b := textData(300000, 21), randomData(70000, 22)
	xa := xzCompress(t, a, "--block-size=65536")
	xb := xzCompress(t, b, "--check=sha256", "--block-list=10000,20000,0")
	tests := []struct {
		name    string
		x, want []byte
		blocks  int
	}{
		{"one stream", xa, a, 5},
		{"two streams, padded", bytes.Join([][]byte{xa, make([]byte, 8), xb, make([]byte, 4)}, nil), append(append([]byte(nil), a...), b...), 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blocks, err := ReadBlocks(bytes.NewReader(tt.x), int64(len(tt.x)), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if len(blocks) != tt.blocks {
				t.Fatalf("%d blocks, want %d", len(blocks), tt.blocks)
			}
			var got []byte
			for _, bl := range blocks {
				if bl.UncompressedOffset != int64(len(got)) {
					t.Fatalf("block at %d: uncompressed offset %d, want %d", bl.Offset, bl.UncompressedOffset, len(got))
				}
				out, err := DecodeBlock(nil, tt.x[bl.Offset:bl.Offset+bl.Size], bl, 1<<20)
				if err != nil {
					t.Fatalf("block at %d: %v", bl.Offset, err)
				}
				got = append(got, out...)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatal("blocks decoded one by one differ from the input")
			}
			bl := blocks[len(blocks)-1]
			if _, err := DecodeBlock(nil, tt.x[bl.Offset:bl.Offset+bl.Size], bl, bl.UncompressedSize-1); !errors.Is(err, ErrTooLarge) {
				t.Errorf("block above the limit: %v", err)
			}
			bad := bytes.Clone(tt.x[bl.Offset : bl.Offset+bl.Size])
			bad[len(bad)/2] ^= 0x40
			if _, err := DecodeBlock(nil, bad, bl, 1<<20); !errors.Is(err, ErrCorrupt) {
				t.Errorf("corrupt block: %v", err)
			}
			if _, err := DecodeBlock(nil, tt.x[bl.Offset:bl.Offset+bl.Size-4], bl, 1<<20); !errors.Is(err, ErrCorrupt) {
				t.Errorf("short block: %v", err)
			}
			if _, err := ReadBlocks(bytes.NewReader(tt.x), int64(len(tt.x)), 8); !errors.Is(err, ErrTooLarge) {
				t.Errorf("index above the limit: %v", err)
			}
		})
	}
	for name, x := range map[string][]byte{
		"truncated": xa[:len(xa)-4], "odd size": xa[:len(xa)-1], "empty": nil, "padding only": make([]byte, 16),
	} {
		if _, err := ReadBlocks(bytes.NewReader(x), int64(len(x)), 1<<20); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

// TestDecodeBlockFunc decodes Blocks much larger than their dictionary
// through a window and checks the data handed out.
func TestDecodeBlockFunc(t *testing.T) {
	needXZ(t)
	a := textData(5<<20, 23)
	for _, args := range [][]string{
		{"--lzma2=preset=6,dict=64KiB"},
		{"--lzma2=preset=0,dict=4KiB", "--block-size=3000000"},
		{"--check=sha256", "--lzma2=dict=1MiB"},
	} {
		x := xzCompress(t, a, args...)
		blocks, err := ReadBlocks(bytes.NewReader(x), int64(len(x)), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		chunks := 0
		for _, bl := range blocks {
			if err := DecodeBlockFunc(x[bl.Offset:bl.Offset+bl.Size], bl, 1<<20, func(p []byte) {
				got = append(got, p...)
				chunks++
			}); err != nil {
				t.Fatalf("%v: %v", args, err)
			}
		}
		if !bytes.Equal(got, a) {
			t.Fatalf("%v: data differs", args)
		}
		bl := blocks[0]
		if err := DecodeBlockFunc(x[bl.Offset:bl.Offset+bl.Size], bl, 1024, func([]byte) {}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%v: window above the limit: %v", args, err)
		}
		bad := bytes.Clone(x[bl.Offset : bl.Offset+bl.Size])
		bad[len(bad)-9] ^= 1
		if err := DecodeBlockFunc(bad, bl, 1<<20, func([]byte) {}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%v: corrupt block: %v", args, err)
		}
	}
}
