package kbtf

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// tinyBTF builds a minimal BTF blob in the given byte order: the 24-byte
// header, one INT type "int" and the string table "\0int\0" (45 bytes).
func tinyBTF(order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}) []byte {
	strs := []byte("\x00int\x00")
	var b []byte
	b = order.AppendUint16(b, 0xeb9f) // magic
	b = append(b, 1, 0)               // version, flags
	b = order.AppendUint32(b, 24)     // hdr_len
	b = order.AppendUint32(b, 0)      // type_off
	b = order.AppendUint32(b, 16)     // type_len
	b = order.AppendUint32(b, 16)     // str_off
	b = order.AppendUint32(b, uint32(len(strs)))
	b = order.AppendUint32(b, 1)        // name_off: "int"
	b = order.AppendUint32(b, 1<<24)    // info: kind INT
	b = order.AppendUint32(b, 4)        // size
	b = order.AppendUint32(b, 1<<24|32) // signed, 32 bits
	return append(b, strs...)
}

// section is one section of an ELF file built by makeELF.
type section struct {
	name string
	typ  elf.SectionType
	data []byte
}

// makeELF builds a minimal relocatable ELF file of the given class and byte
// order holding sections (plus the null section and .shstrtab).
func makeELF(class elf.Class, order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}, sections ...section) []byte {
	is64 := class == elf.ELFCLASS64
	ehsize, shentsize := 52, 40
	if is64 {
		ehsize, shentsize = 64, 64
	}
	// Layout: header, section contents, .shstrtab, section headers.
	shstrtab := []byte{0}
	nameOff := make([]int, len(sections)+1)
	for i, s := range sections {
		nameOff[i] = len(shstrtab)
		shstrtab = append(append(shstrtab, s.name...), 0)
	}
	nameOff[len(sections)] = len(shstrtab)
	shstrtab = append(shstrtab, ".shstrtab\x00"...)
	all := append(append([]section(nil), sections...), section{typ: elf.SHT_STRTAB, data: shstrtab})

	body := make([]byte, ehsize)
	offs := make([]int, len(all))
	for i, s := range all {
		offs[i] = len(body)
		if s.typ != elf.SHT_NOBITS {
			body = append(body, s.data...)
		}
	}
	for len(body)%8 != 0 {
		body = append(body, 0)
	}
	shoff := len(body)

	word := func(b []byte, v uint64) []byte {
		if is64 {
			return order.AppendUint64(b, v)
		}
		return order.AppendUint32(b, uint32(v))
	}
	sh := make([]byte, shentsize) // the null section
	for i, s := range all {
		sh = order.AppendUint32(sh, uint32(nameOff[i]))
		sh = order.AppendUint32(sh, uint32(s.typ))
		sh = word(sh, 0)                   // flags
		sh = word(sh, 0)                   // addr
		sh = word(sh, uint64(offs[i]))     // offset
		sh = word(sh, uint64(len(s.data))) // size
		sh = order.AppendUint32(sh, 0)     // link
		sh = order.AppendUint32(sh, 0)     // info
		sh = word(sh, 1)                   // addralign
		sh = word(sh, 0)                   // entsize
	}

	data := byte(elf.ELFDATA2LSB)
	if order == binary.BigEndian {
		data = byte(elf.ELFDATA2MSB)
	}
	h := []byte{0x7f, 'E', 'L', 'F', byte(class), data, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	h = order.AppendUint16(h, uint16(elf.ET_REL))
	h = order.AppendUint16(h, uint16(elf.EM_BPF))
	h = order.AppendUint32(h, 1)              // version
	h = word(h, 0)                            // entry
	h = word(h, 0)                            // phoff
	h = word(h, uint64(shoff))                // shoff
	h = order.AppendUint32(h, 0)              // flags
	h = order.AppendUint16(h, uint16(ehsize)) // ehsize
	h = order.AppendUint16(h, 0)              // phentsize
	h = order.AppendUint16(h, 0)              // phnum
	h = order.AppendUint16(h, uint16(shentsize))
	h = order.AppendUint16(h, uint16(len(all)+1)) // shnum
	h = order.AppendUint16(h, uint16(len(all)))   // shstrndx
	copy(body, h)
	return append(body, sh...)
}

// tarEntry is one entry of an archive built by makeTar.
type tarEntry struct {
	name     string
	typ      byte
	data     []byte
	linkname string
}

func makeTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Linkname: e.linkname}
		if e.typ == tar.TypeReg {
			hdr.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write(e.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zst(t testing.TB, b []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sharedKernels returns the btfhub-style corpus in ../shared/kernels next to
// the module root, or skips the test when it is absent.
func sharedKernels(tb testing.TB) []string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("module root not found")
		}
		dir = parent
	}
	root := filepath.Join(dir, "..", "shared", "kernels")
	entries, err := Walk(root)
	if err != nil || len(entries) == 0 {
		tb.Skipf("no kernel BTF corpus at %s", root)
	}
	var paths []string
	for _, e := range entries {
		paths = append(paths, e.Path)
	}
	return paths
}
