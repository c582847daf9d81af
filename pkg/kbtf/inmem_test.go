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

// TestReaderReusesBuffers: a Reader decodes into the same storage from one
// file to the next, and each result is right.
func TestReaderReusesBuffers(t *testing.T) {
	want, err := os.ReadFile("testdata/tiny.btf")
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(nil)
	var first []byte
	for i, name := range []string{"tiny.btf.tar.xz", "tiny.btf.xz", "tiny.btf.tar.xz", "tiny.btf", "tiny.btf.x86.xz"} {
		data, src, err := r.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, want) {
			t.Fatalf("%s: data = %x", name, data)
		}
		if i == 0 {
			first = data
			continue
		}
		if name == "tiny.btf.tar.xz" && &data[0] != &first[0] {
			t.Errorf("%s (%s): decoded into new storage", name, src.Format)
		}
	}
}

// TestReaderStored: Stored is the file as stored when it was read whole.
func TestReaderStored(t *testing.T) {
	r := NewReader(nil)
	for _, c := range []struct {
		name  string
		whole bool
	}{
		{"tiny.btf.tar.xz", true}, {"tiny.btf", true}, {"tiny.btf.xz", true},
		{"elf-btf.o", false}, {"tiny.btf.x86.xz", true}, {"elf-btf.o.xz", true},
	} {
		if _, _, err := r.ReadFile("testdata/" + c.name); err != nil {
			t.Fatal(err)
		}
		file, err := os.ReadFile("testdata/" + c.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Stored(); c.whole && !bytes.Equal(got, file) || !c.whole && got != nil {
			t.Errorf("%s: Stored() is %d bytes, the file %d", c.name, len(got), len(file))
		}
	}
	if _, _, err := r.ReadFile("testdata/missing"); err == nil || r.Stored() != nil {
		t.Error("Stored() after a failed call")
	}
}
