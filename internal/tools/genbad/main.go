// Command genbad writes the bad-input suite, one file per case, into the
// directory given as its argument (make testdata-bad → testdata/bad). It
// needs xz, gcc and clang-19 for a few cases; the files are committed.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/klauspost/compress/zstd"

	"github.com/btftool/btftool/internal/btftest"
	"github.com/btftool/btftool/pkg/rawbtf"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: genbad DIR")
		os.Exit(2)
	}
	if err := generate(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "genbad:", err)
		os.Exit(1)
	}
}

// kernel returns a small valid kernel BTF.
func kernel() []byte {
	b := btftest.New()
	i := b.Int("int", 4, true)
	b.Struct("task_struct", 64, btftest.M{Name: "pid", Type: i}, btftest.M{Name: "tgid", Type: i, BitOff: 32})
	return b.Bytes()
}

func le32(b []byte, off int, v uint32) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[off:], v)
	return b
}

func gz(data []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

func xz(data []byte) ([]byte, error) {
	cmd := exec.Command("xz", "-c", "-6")
	cmd.Stdin = bytes.NewReader(data)
	return cmd.Output()
}

type entry struct {
	name string
	mode byte
	link string
	data []byte
}

func tarOf(entries ...entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.mode, Linkname: e.link, Mode: 0o644, Size: int64(len(e.data)), Format: tar.FormatPAX}
		if e.mode != tar.TypeReg {
			h.Size = 0
		}
		tw.WriteHeader(h)
		if e.mode == tar.TypeReg {
			tw.Write(e.data)
		}
	}
	tw.Close()
	return buf.Bytes()
}

func generate(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	k := kernel()
	files := map[string][]byte{}
	add := func(name string, data []byte) { files[name] = data }

	// Kernel inputs.
	add("kernel-empty.btf", nil)
	add("kernel-wrong-magic.btf", []byte("this is a text file, not BTF at all\n"))
	add("kernel-truncated-header.btf", k[:10])
	add("kernel-bad-version.btf", func() []byte { b := bytes.Clone(k); b[2] = 9; return b }())
	add("kernel-truncated-types.btf", k[:24+20])
	add("kernel-type-section-4gib.btf", le32(k, 12, 0xfffffff0))
	add("kernel-string-offset-out-of-range.btf", le32(k, 24, 1<<20))
	add("kernel-type-id-out-of-range.btf", le32(k, 24+16+12+4, 9999))
	add("kernel-unknown-kind.btf", le32(k, 24+4, 30<<24))
	add("kernel-absurd-vlen.btf", le32(k, 24+16+4, uint32(rawbtf.KindStruct)<<24|0xffff))
	self := btftest.New()
	self.Typedef("self", 1)
	add("kernel-self-referential.btf", self.Bytes())
	cyc := btftest.New()
	cyc.Typedef("a", 2)
	cyc.Const(3)
	cyc.Ptr(1)
	add("kernel-cyclic.btf", cyc.Bytes())
	huge := btftest.New()
	huge.Struct(string(bytes.Repeat([]byte("x"), 100<<10)), 4)
	add("kernel-huge-name.btf", huge.Bytes())
	elfNoBTF, err := compile("int x;\n", "gcc", "-c", "-x", "c")
	if err != nil {
		return fmt.Errorf("gcc: %w", err)
	}
	add("kernel-elf-without-btf.o", elfNoBTF)
	kxz, err := xz(k)
	if err != nil {
		return fmt.Errorf("xz: %w", err)
	}
	add("kernel-truncated.btf.xz", kxz[:len(kxz)-12])
	kgz := gz(k)
	add("kernel-bad-crc.btf.gz", func() []byte { b := bytes.Clone(kgz); b[len(b)-6] ^= 0xff; return b }())
	// A zstd bomb: a valid BTF header declaring a small BTF, then 1.5 GiB
	// of zeros. Only the declared bytes are read.
	var zb bytes.Buffer
	zw, _ := zstd.NewWriter(&zb, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	zw.Write(k)
	zeros := make([]byte, 1<<20)
	for range 1536 {
		zw.Write(zeros)
	}
	zw.Close()
	add("kernel-decompression-bomb.btf.zst", zb.Bytes())
	// A zstd bomb that starts like an ELF whose section header table lies
	// 1.4 GiB in, followed by 1.5 GiB of zeros: refused from the header.
	elfHead := make([]byte, 64)
	copy(elfHead, "\x7fELF\x02\x01\x01")
	binary.LittleEndian.PutUint64(elfHead[0x28:], 1400<<20) // e_shoff
	binary.LittleEndian.PutUint16(elfHead[0x3a:], 64)       // e_shentsize
	binary.LittleEndian.PutUint16(elfHead[0x3c:], 8)        // e_shnum
	var eb bytes.Buffer
	ew, _ := zstd.NewWriter(&eb, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	ew.Write(elfHead)
	for range 1536 {
		ew.Write(zeros)
	}
	ew.Close()
	add("kernel-decompression-bomb-elf.zst", eb.Bytes())
	add("kernel-tar-symlink-only.tar", tarOf(entry{name: "5.4.0.btf", mode: tar.TypeSymlink, link: "/etc/passwd"}))
	add("kernel-tar-dotdot.tar", tarOf(entry{name: "../../5.4.0.btf", mode: tar.TypeReg, data: k}))
	add("kernel-tar-absolute.tar", tarOf(entry{name: "/tmp/5.4.0.btf", mode: tar.TypeReg, data: k}))
	add("kernel-tar-no-btf.tar.gz", gz(tarOf(entry{name: "README", mode: tar.TypeReg, data: []byte("hello\n")})))
	var many []entry
	for i := range 5000 {
		many = append(many, entry{name: fmt.Sprintf("d/%d", i), mode: tar.TypeDir})
	}
	add("kernel-tar-bomb-entries.tar.gz", gz(tarOf(many...)))
	nested := k
	for range 6 {
		nested = gz(nested)
	}
	add("kernel-nested-too-deep.btf.gz", nested)

	// Objects.
	obj, err := os.ReadFile("testdata/bpf/execsnoop.bpf.o")
	if err != nil {
		return err
	}
	add("object-empty.bpf.o", nil)
	add("object-not-elf.bpf.o", []byte("#!/bin/sh\necho not an object\n"))
	add("object-x86.o", elfNoBTF)
	add("object-no-btf.bpf.o", bytes.ReplaceAll(obj, []byte(".BTF"), []byte(".XTF")))
	add("object-truncated.bpf.o", obj[:len(obj)/3])
	add("object-corrupt-btf.bpf.o", patchSection(obj, ".BTF", func(b []byte) { b[0], b[1] = 0, 0 }))
	add("object-corrupt-btf-ext.bpf.o", patchSection(obj, ".BTF.ext", func(b []byte) { b[0], b[1] = 0, 0 }))
	add("object-btf-ext-records-beyond-end.bpf.o", patchSection(obj, ".BTF.ext", func(b []byte) {
		binary.LittleEndian.PutUint32(b[28:], 0x7ffffff0) // core_relo_len
	}))
	add("object-section-beyond-eof.bpf.o", patchSectionHeader(obj, ".BTF", 1<<30))
	// CO-RE relocation records libbpf refuses whatever the kernel: the
	// first record of execsnoop.bpf.o, patched.
	record := func(field int, v uint32) []byte {
		return patchSection(obj, ".BTF.ext", func(b []byte) {
			binary.LittleEndian.PutUint32(b[firstCORERecord(b)+field:], v)
		})
	}
	const insnOff, typeID, accessOff, kind = 0, 4, 8, 12
	add("object-reloc-unknown-kind.bpf.o", record(kind, 42))
	add("object-reloc-type-id-out-of-range.bpf.o", record(typeID, 99999))
	add("object-reloc-string-offset-out-of-range.bpf.o", record(accessOff, 0x7fffffff))
	add("object-reloc-misaligned-insn.bpf.o", record(insnOff, 3))
	ext := sectionBytes(obj, ".BTF.ext")
	secNameOff := binary.LittleEndian.Uint32(ext[firstCORERecord(ext)-8:])
	// The access string is the section's name ("tracepoint/..."): a
	// string, but no access path.
	add("object-reloc-access-not-a-path.bpf.o", record(accessOff, secNameOff))
	anon, err := anonymousType(obj)
	if err != nil {
		return err
	}
	add("object-reloc-anonymous-type.bpf.o", record(typeID, anon))
	// Malformed .BTF.ext CO-RE subsections, as libbpf's btf_ext parser
	// refuses them.
	add("object-btf-ext-record-size-unaligned.bpf.o", patchSection(obj, ".BTF.ext", func(b []byte) {
		binary.LittleEndian.PutUint32(b[firstCORERecord(b)-12:], 18) // record size
	}))
	add("object-btf-ext-section-without-records.bpf.o", patchSection(obj, ".BTF.ext", func(b []byte) {
		binary.LittleEndian.PutUint32(b[firstCORERecord(b)-4:], 0) // num_info
	}))
	add("object-btf-ext-bad-version.bpf.o", patchSection(obj, ".BTF.ext", func(b []byte) { b[2] = 2 }))
	beSrc := `struct task_struct { int pid; } __attribute__((preserve_access_index));
int prog(struct task_struct *t) { return t->pid; }
char _license[] __attribute__((section("license"))) = "GPL";
`
	beObj, err := compile(beSrc, "clang-19", "-target", "bpfeb", "-g", "-O2", "-c", "-x", "c")
	if err != nil {
		return fmt.Errorf("clang-19 -target bpfeb: %w", err)
	}
	add("object-big-endian.bpf.o", beObj)

	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// compile runs a C compiler on src and returns the object it writes.
func compile(src string, cc string, args ...string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "genbad")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "out.o")
	cmd := exec.Command(cc, append(args, "-o", out, "-")...)
	cmd.Stdin = bytes.NewReader([]byte(src))
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, b)
	}
	return os.ReadFile(out)
}

// sectionRange finds a section's file range in an ELF64 little-endian file.
func sectionRange(elf []byte, name string) (hdrOff, off, size int) {
	shoff := int(binary.LittleEndian.Uint64(elf[0x28:]))
	shentsize := int(binary.LittleEndian.Uint16(elf[0x3a:]))
	shnum := int(binary.LittleEndian.Uint16(elf[0x3c:]))
	shstrndx := int(binary.LittleEndian.Uint16(elf[0x3e:]))
	strOff := int(binary.LittleEndian.Uint64(elf[shoff+shstrndx*shentsize+0x18:]))
	for i := range shnum {
		h := shoff + i*shentsize
		n := strOff + int(binary.LittleEndian.Uint32(elf[h:]))
		end := bytes.IndexByte(elf[n:], 0)
		if string(elf[n:n+end]) == name {
			return h, int(binary.LittleEndian.Uint64(elf[h+0x18:])), int(binary.LittleEndian.Uint64(elf[h+0x20:]))
		}
	}
	panic("no section " + name)
}

// sectionBytes returns a copy of a section's bytes.
func sectionBytes(elf []byte, name string) []byte {
	_, off, size := sectionRange(elf, name)
	return bytes.Clone(elf[off : off+size])
}

// firstCORERecord returns the offset, in a .BTF.ext section, of its first
// CO-RE relocation record (after the record size and the first section's
// name offset and record count).
func firstCORERecord(ext []byte) int {
	hdrLen := binary.LittleEndian.Uint32(ext[4:])
	coreOff := binary.LittleEndian.Uint32(ext[24:])
	return int(hdrLen+coreOff) + 4 + 8
}

// anonymousType returns the ID of the first anonymous type of the
// object's .BTF that is not void.
func anonymousType(elf []byte) (uint32, error) {
	b, err := rawbtf.Parse(sectionBytes(elf, ".BTF"))
	if err != nil {
		return 0, err
	}
	for id := 1; id < b.NumTypes(); id++ {
		if t := b.Type(rawbtf.TypeID(id)); len(t.NameBytes()) == 0 && t.Kind() == rawbtf.KindStruct {
			return uint32(id), nil
		}
	}
	return 0, fmt.Errorf("no anonymous struct in the object's BTF")
}

func patchSection(elf []byte, name string, f func([]byte)) []byte {
	elf = bytes.Clone(elf)
	_, off, size := sectionRange(elf, name)
	f(elf[off : off+size])
	return elf
}

func patchSectionHeader(elf []byte, name string, size uint64) []byte {
	elf = bytes.Clone(elf)
	h, _, _ := sectionRange(elf, name)
	binary.LittleEndian.PutUint64(elf[h+0x20:], size)
	return elf
}
