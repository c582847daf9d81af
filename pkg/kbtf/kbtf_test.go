package kbtf

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestFixtureMatchesTinyBTF(t *testing.T) {
	if got, want := fixture(t, "tiny.btf"), tinyBTF(binary.LittleEndian); !bytes.Equal(got, want) {
		t.Fatalf("testdata/tiny.btf differs from tinyBTF:\n got %x\nwant %x", got, want)
	}
}

func TestRead(t *testing.T) {
	le, be := tinyBTF(binary.LittleEndian), tinyBTF(binary.BigEndian)
	notBTF := []byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05}
	readme := tarEntry{name: "README", typ: tar.TypeReg, data: []byte("hello\n")}
	btfEntry := tarEntry{name: "5.4.0/5.4.0.btf", typ: tar.TypeReg, data: le}
	xzFixture := fixture(t, "tiny.btf.xz")
	tarXZ := fixture(t, "tiny.btf.tar.xz")
	elfBTF := fixture(t, "elf-btf.o")

	manyDirs := make([]tarEntry, maxTarEntries+1)
	for i := range manyDirs {
		manyDirs[i] = tarEntry{name: "d/", typ: tar.TypeDir}
	}
	nested := []byte(le)
	for range maxDepth + 1 {
		nested = gz(t, nested)
	}
	corruptXZ := bytes.Clone(xzFixture)
	corruptXZ[len(corruptXZ)/2] ^= 0xff

	tests := []struct {
		name    string
		in      []byte
		max     int64
		want    []byte // the BTF expected on success
		format  string
		wantErr error  // sentinel expected on failure
		msg     string // substring of the error message
		// fileWant, when set, is what ReadFile returns instead: it
		// decodes .xz files whole with xzdec, which needs no dictionary.
		fileWant []byte
	}{
		{name: "raw LE", in: le, want: le, format: "raw"},
		{name: "raw BE", in: be, want: be, format: "raw"},
		{name: "ELF64 LE from gcc+objcopy", in: elfBTF, want: le, format: "elf"},
		{name: "ELF32 BE", in: makeELF(elf.ELFCLASS32, binary.BigEndian, section{".BTF", elf.SHT_PROGBITS, be}), want: be, format: "elf"},
		{name: "ELF64 BE", in: makeELF(elf.ELFCLASS64, binary.BigEndian, section{".text", elf.SHT_PROGBITS, []byte{1, 2}}, section{".BTF", elf.SHT_PROGBITS, be}), want: be, format: "elf"},
		{name: "ELF32 LE", in: makeELF(elf.ELFCLASS32, binary.LittleEndian, section{".BTF", elf.SHT_PROGBITS, le}), want: le, format: "elf"},
		{name: "ELF without .BTF", in: fixture(t, "elf-nobtf.o"), wantErr: ErrNoBTFSection, msg: "ELF has no .BTF section"},
		{name: "ELF with NOBITS .BTF", in: makeELF(elf.ELFCLASS64, binary.LittleEndian, section{".BTF", elf.SHT_NOBITS, le}), wantErr: ErrNoBTFSection},
		{name: "ELF .BTF not BTF", in: makeELF(elf.ELFCLASS64, binary.LittleEndian, section{".BTF", elf.SHT_PROGBITS, notBTF}), wantErr: ErrNotBTF, msg: "ELF .BTF section is not BTF (starts with 00 01 02 03)"},
		{name: "ELF truncated", in: elfBTF[:100], wantErr: ErrCorrupt, msg: "truncated"},
		{name: "xz", in: xzFixture, want: le, format: "xz"},
		{name: "xz crc32", in: fixture(t, "tiny.btf.crc32.xz"), want: le, format: "xz"},
		{name: "xz sha256", in: fixture(t, "tiny.btf.sha256.xz"), want: le, format: "xz"},
		{name: "xz concatenated streams", in: append(bytes.Clone(xzFixture), xzFixture...), wantErr: ErrTooLarge, max: 64, msg: "decompressed size exceeds limit of 64 bytes"},
		{name: "xz -9 (64 MiB dictionary)", in: fixture(t, "tiny.btf.9.xz"), want: le, format: "xz"},
		{name: "xz dictionary over limit", in: fixture(t, "tiny.btf.9.xz"), max: 1 << 20, wantErr: ErrTooLarge, msg: "xz: dictionary size exceeds limit of 8 MiB", fileWant: le, format: "xz"},
		{name: "xz with a BCJ filter", in: fixture(t, "tiny.btf.x86.xz"), want: le, format: "xz"},
		{name: "tar.xz over limit", in: tarXZ, max: 100, wantErr: ErrTooLarge, msg: "decompressed size exceeds limit of 100 bytes"},
		{name: "xz dictionary within raised limit", in: fixture(t, "tiny.btf.9.xz"), max: 64 << 20, want: le, format: "xz"},
		{name: "zst 16 MiB window", in: zstdWindowFrame(le, 14), want: le, format: "zst"},
		{name: "zst window over limit", in: zstdWindowFrame(le, 14), max: 1 << 20, wantErr: ErrTooLarge, msg: "zst: window size exceeds limit of 8 MiB"},
		{name: "zst window over cap", in: zstdWindowFrame(le, 18), wantErr: ErrTooLarge, msg: "zst: window size exceeds limit of 128 MiB"},
		{name: "tar.xz with directory", in: tarXZ, want: le, format: "tar.xz"},
		{name: "ELF in xz", in: fixture(t, "elf-btf.o.xz"), want: le, format: "elf.xz"},
		{name: "gz", in: gz(t, le), want: le, format: "gz"},
		{name: "zst", in: zst(t, be), want: be, format: "zst"},
		{name: "tar", in: makeTar(t, btfEntry), want: le, format: "tar"},
		{name: "tar.gz", in: gz(t, makeTar(t, btfEntry)), want: le, format: "tar.gz"},
		{name: "tar.zst", in: zst(t, makeTar(t, btfEntry)), want: le, format: "tar.zst"},
		{name: "tar with symlink first", in: gz(t, makeTar(t,
			tarEntry{name: "link.btf", typ: tar.TypeSymlink, linkname: "/etc/passwd"},
			btfEntry)), want: le, format: "tar.gz"},
		{name: "tar skips links, devices, fifos and other files", in: makeTar(t,
			tarEntry{name: "dir/", typ: tar.TypeDir},
			tarEntry{name: "hard.btf", typ: tar.TypeLink, linkname: "5.4.0/5.4.0.btf"},
			tarEntry{name: "null", typ: tar.TypeChar},
			tarEntry{name: "fifo", typ: tar.TypeFifo},
			tarEntry{name: "empty.btf", typ: tar.TypeReg},
			readme, btfEntry), want: le, format: "tar"},
		{name: "ELF in tar.gz", in: gz(t, makeTar(t, tarEntry{name: "vmlinux", typ: tar.TypeReg, data: elfBTF})), want: le, format: "elf.tar.gz"},
		{name: "tar member ELF without .BTF", in: makeTar(t, tarEntry{name: "vmlinux", typ: tar.TypeReg, data: fixture(t, "elf-nobtf.o")}), wantErr: ErrNoBTFSection, msg: `tar member "vmlinux": ELF has no .BTF section`},
		{name: "xz in tar in gz", in: gz(t, makeTar(t, readme, tarEntry{name: "k.btf.xz", typ: tar.TypeReg, data: xzFixture})), want: le, format: "xz.tar.gz"},
		{name: "tar without BTF", in: gz(t, makeTar(t, tarEntry{name: "d/", typ: tar.TypeDir}, readme)), wantErr: ErrNoBTFInArchive, msg: "no BTF or ELF file in tar archive"},
		{name: "tar with too many entries", in: gz(t, makeTar(t, append(manyDirs, btfEntry)...)), wantErr: ErrTooLarge, msg: "tar archive has more than 4096 entries"},
		{name: "tar truncated", in: makeTar(t, tarEntry{name: "big.btf", typ: tar.TypeReg, data: append(bytes.Clone(le), make([]byte, 4096)...)})[:1024], wantErr: ErrCorrupt, msg: "tar: unexpected end of archive (truncated?)"},
		{name: "nested too deep", in: nested, wantErr: ErrTooLarge, msg: "nested more than 4 deep"},
		{name: "truncated xz", in: xzFixture[:len(xzFixture)-20], wantErr: ErrCorrupt, msg: "xz: unexpected end of input (truncated?)"},
		{name: "truncated xz header", in: xzFixture[:8], wantErr: ErrCorrupt, msg: "xz: unexpected end of input (truncated?)"},
		{name: "truncated tar.xz", in: tarXZ[:len(tarXZ)/2], wantErr: ErrCorrupt, msg: "xz: unexpected end of input (truncated?)"},
		{name: "corrupt xz", in: corruptXZ, wantErr: ErrCorrupt, msg: "xz: "},
		{name: "truncated gz", in: gz(t, le)[:30], wantErr: ErrCorrupt, msg: "gz: unexpected end of input (truncated?)"},
		{name: "truncated zst", in: zst(t, le)[:20], wantErr: ErrCorrupt, msg: "zst: "},
		{name: "garbage", in: notBTF, wantErr: ErrNotBTF, msg: "not BTF, ELF or a supported archive (starts with 00 01 02 03)"},
		{name: "text", in: []byte("hello"), wantErr: ErrNotBTF, msg: "(starts with 68 65 6c 6c)"},
		{name: "garbage in gz", in: gz(t, notBTF), wantErr: ErrNotBTF, msg: "not BTF, ELF or a supported archive inside gz (starts with 00 01 02 03)"},
		{name: "empty", in: nil, wantErr: ErrEmpty, msg: "empty file"},
		{name: "empty gz", in: gz(t, nil), wantErr: ErrEmpty, msg: "no data inside gz"},
		{name: "raw over limit", in: le, max: 44, wantErr: ErrTooLarge, msg: "exceeds limit of 44 bytes"},
		{name: "raw at limit", in: le, max: 45, want: le, format: "raw"},
		{name: "gz over limit", in: gz(t, elfLike(4<<10)), max: 2 << 10, wantErr: ErrTooLarge, msg: "ELF size 4096 exceeds limit of 2 KiB"},
		// A bomb that starts like BTF: only the declared size is read.
		{name: "gz trailing data after BTF", in: gz(t, append(bytes.Clone(le), make([]byte, 4<<10)...)), max: 2 << 10, wantErr: ErrCorrupt, msg: "data continues after the 45 bytes of BTF its header declares inside gz"},
		{name: "gz BTF declaring more than the limit", in: gz(t, declare(le, 1<<30)), max: 2 << 10, wantErr: ErrTooLarge, msg: "exceeds limit of 2 KiB"},
		{name: "tar member over limit", in: makeTar(t, btfEntry), max: 40, wantErr: ErrTooLarge, msg: `tar member "5.4.0/5.4.0.btf": BTF size 45 exceeds limit of 40 bytes`},
		{name: "ELF over limit", in: elfBTF, max: 40, wantErr: ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := &Options{MaxSize: tc.max}
			t.Run("Read", func(t *testing.T) {
				data, src, err := Read(bytes.NewReader(tc.in), "in.bin", opts)
				check(t, "in.bin", data, src, err, tc.want, tc.format, tc.wantErr, tc.msg)
				if err == nil && src.CompressedSize != int64(len(tc.in)) {
					t.Errorf("CompressedSize = %d, want %d", src.CompressedSize, len(tc.in))
				}
			})
			t.Run("ReadFile", func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "in.bin")
				if err := os.WriteFile(path, tc.in, 0o644); err != nil {
					t.Fatal(err)
				}
				data, src, err := ReadFile(path, opts)
				if tc.fileWant != nil {
					check(t, path, data, src, err, tc.fileWant, tc.format, nil, "")
				} else {
					check(t, path, data, src, err, tc.want, tc.format, tc.wantErr, tc.msg)
				}
				if src.CompressedSize != int64(len(tc.in)) {
					t.Errorf("CompressedSize = %d, want %d", src.CompressedSize, len(tc.in))
				}
			})
		})
	}
}

func check(t *testing.T, name string, data []byte, src Source, err error, want []byte, format string, wantErr error, msg string) {
	t.Helper()
	if src.Path != name {
		t.Errorf("Source.Path = %q, want %q", src.Path, name)
	}
	if wantErr == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		if !bytes.Equal(data, want) {
			t.Errorf("data = %x, want %x", data, want)
		}
		if src.Format != format {
			t.Errorf("Format = %q, want %q", src.Format, format)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %v (format %q)", wantErr, src.Format)
	}
	t.Logf("error: %v", err)
	if data != nil {
		t.Errorf("data returned with error")
	}
	if !errors.Is(err, wantErr) {
		t.Errorf("error %q is not %v", err, wantErr)
	}
	text := err.Error()
	if strings.Contains(text, "\n") {
		t.Errorf("error has several lines: %q", text)
	}
	if !strings.HasPrefix(text, name+": ") {
		t.Errorf("error %q does not start with the file name %q", text, name)
	}
	if !strings.Contains(text, msg) {
		t.Errorf("error %q does not contain %q", text, msg)
	}
}

func TestErrorMessages(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	xzFixture := fixture(t, "tiny.btf.xz")
	tests := []struct {
		path string
		opts *Options
		want string
		is   error
	}{
		{filepath.Join(dir, "foo.btf"), nil, "open " + filepath.Join(dir, "foo.btf") + ": no such file or directory", fs.ErrNotExist},
		{dir, nil, "read " + dir + ": is a directory", syscall.EISDIR},
		{write("foo.bin", []byte{0, 1, 2, 3, 4}), nil, filepath.Join(dir, "foo.bin") + ": not BTF, ELF or a supported archive (starts with 00 01 02 03)", ErrNotBTF},
		{write("vmlinux", fixture(t, "elf-nobtf.o")), nil, filepath.Join(dir, "vmlinux") + ": ELF has no .BTF section", ErrNoBTFSection},
		{write("k.btf.tar.xz", xzFixture[:len(xzFixture)-30]), nil, filepath.Join(dir, "k.btf.tar.xz") + ": xz: unexpected end of input (truncated?)", ErrCorrupt},
		{write("big.gz", gz(t, elfLike(3<<20))), &Options{MaxSize: 1 << 20}, filepath.Join(dir, "big.gz") + ": ELF size 3145728 exceeds limit of 1 MiB", ErrTooLarge},
		{write("empty.btf", nil), nil, filepath.Join(dir, "empty.btf") + ": empty file", ErrEmpty},
	}
	for _, tc := range tests {
		_, _, err := ReadFile(tc.path, tc.opts)
		if err == nil || err.Error() != tc.want {
			t.Errorf("ReadFile(%s) error = %v\nwant %s", filepath.Base(tc.path), err, tc.want)
		}
		if !errors.Is(err, tc.is) {
			t.Errorf("ReadFile(%s) error %v is not %v", filepath.Base(tc.path), err, tc.is)
		}
	}
}

func TestDefaultMaxSize(t *testing.T) {
	for _, o := range []*Options{nil, {}, {MaxSize: -1}} {
		if got := o.maxSize(); got != 1<<30 {
			t.Errorf("%+v.maxSize() = %d", o, got)
		}
	}
	if _, _, err := Read(bytes.NewReader(gz(t, tinyBTF(binary.LittleEndian))), "x", &Options{MaxSize: math.MaxInt64}); err != nil {
		t.Errorf("MaxSize MaxInt64: %v", err)
	}
	if got := formatSize(DefaultMaxSize); got != "1 GiB" {
		t.Errorf("formatSize(1<<30) = %q", got)
	}
}

func TestSniff(t *testing.T) {
	tarHdr := makeTar(t, tarEntry{name: "x", typ: tar.TypeReg, data: []byte("x")})
	v7 := bytes.Clone(tarHdr[:512])
	copy(v7[257:265], make([]byte, 8)) // drop the ustar magic: an old V7 header
	sum := 0
	for i, c := range v7 {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int(c)
	}
	copy(v7[148:156], []byte(octal6(sum)+"\x00 "))
	badSum := bytes.Clone(tarHdr[:512])
	badSum[0] ^= 1
	tests := []struct {
		name string
		in   []byte
		want kind
	}{
		{"raw LE", []byte{0x9f, 0xeb}, kindRaw},
		{"raw BE", []byte{0xeb, 0x9f}, kindRaw},
		{"one byte", []byte{0x9f}, kindUnknown},
		{"elf", []byte("\x7fELF\x02"), kindELF},
		{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0}, kindXZ},
		{"gzip", []byte{0x1f, 0x8b, 8}, kindGzip},
		{"gzip other method", []byte{0x1f, 0x8b, 7}, kindUnknown},
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}, kindZstd},
		{"zstd skippable", []byte{0x5a, 0x2a, 0x4d, 0x18}, kindZstd},
		{"ustar", tarHdr, kindTar},
		{"v7 tar", v7, kindTar},
		{"bad checksum", badSum, kindUnknown},
		{"zero block", make([]byte, 512), kindUnknown},
	}
	for _, tc := range tests {
		if got := sniff(tc.in); got != tc.want {
			t.Errorf("%s: sniff = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func octal6(n int) string {
	s := ""
	for i := 0; i < 6; i++ {
		s = string(rune('0'+n%8)) + s
		n /= 8
	}
	return s
}

// TestSharedKernels reads the btfhub-style corpus in ../shared/kernels, when
// present.
func TestSharedKernels(t *testing.T) {
	paths := sharedKernels(t)
	if testing.Short() {
		paths = paths[:1]
	}
	for _, p := range paths {
		data, src, err := ReadFile(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !isBTF(data) || src.Format != "tar.xz" || src.CompressedSize <= 0 {
			t.Errorf("%s: format %q, %d bytes, starts with %s", p, src.Format, len(data), hexHead(data))
		}
	}
}

// zstdWindowFrame wraps b in a zstd frame that declares a window of
// 1<<(10+exp) bytes and holds b as one raw block.
func zstdWindowFrame(b []byte, exp byte) []byte {
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, exp << 3}
	bh := uint32(1 | len(b)<<3) // last block, raw, size
	frame = append(frame, byte(bh), byte(bh>>8), byte(bh>>16))
	return append(frame, b...)
}

// declare returns a copy of the little-endian BTF b whose header claims a
// string section of n bytes.
func declare(b []byte, n uint32) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[20:], n)
	return b
}

// elfLike returns n bytes that start like an ELF file, so they are read
// whole (an ELF needs all its bytes) and trip size limits.
func elfLike(n int) []byte {
	b := make([]byte, n)
	copy(b, "\x7fELF\x02\x01\x01")
	binary.LittleEndian.PutUint64(b[0x28:], uint64(n-64)) // e_shoff
	binary.LittleEndian.PutUint16(b[0x3a:], 64)           // e_shentsize
	binary.LittleEndian.PutUint16(b[0x3c:], 1)            // e_shnum
	return b
}

func TestCompressed(t *testing.T) {
	dir := t.TempDir()
	gzPath := filepath.Join(dir, "tiny.btf.gz")
	if err := os.WriteFile(gzPath, gz(t, tinyBTF(binary.LittleEndian)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want bool
	}{
		{"testdata/tiny.btf.xz", true},
		{"testdata/tiny.btf.tar.xz", true},
		{gzPath, true},
		{"testdata/tiny.btf", false},
		{"testdata/elf-btf.o", false},
		{filepath.Join(dir, "missing"), false},
		{dir, false},
	}
	for _, tc := range tests {
		if got := Compressed(tc.path); got != tc.want {
			t.Errorf("Compressed(%s) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
