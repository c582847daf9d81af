package kbtf

import (
	"bytes"
	"os"
	"testing"

	"github.com/btftool/btftool/internal/xzdec"
)

// TestTarMemInPlace: a BTF member of a tar archive held in memory is
// returned in place, not copied.
func TestTarMemInPlace(t *testing.T) {
	src, err := os.ReadFile("testdata/tiny.btf.tar.xz")
	if err != nil {
		t.Fatal(err)
	}
	mem, err := xzdec.DecodeAll(src, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/tiny.btf")
	if err != nil {
		t.Fatal(err)
	}
	d := newDecoder(nil)
	data, err := d.tarMem(mem)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("data = %x, want %x", data, want)
	}
	// Aliasing: changing the archive changes the member.
	i := bytes.Index(mem, want)
	mem[i+len(want)-2] ^= 0xff
	if bytes.Equal(data, want) {
		t.Error("the member was copied")
	}
	if cap(data) != len(data) {
		t.Errorf("cap %d: appending would overwrite the archive", cap(data))
	}
	if d.format() != "tar" {
		t.Errorf("format %q", d.format())
	}
}
