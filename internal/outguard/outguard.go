// Package outguard keeps what a command writes from destroying what it
// reads: an output may not be one of the inputs (compared as files, by
// device and inode, so that symbolic links, hard links and other
// spellings of a path are caught), an existing output may only be replaced
// by the kind of file the command writes there, and an output name that
// promises a format (x.tar.gz, x.o) must get it.
package outguard

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Errors returned by this package; messages name the paths and say what
// to do instead.
var (
	// ErrOutputIsInput means an output names a file the command reads.
	ErrOutputIsInput = errors.New("output is an input")
	// ErrWouldReplace means an output exists and is not a file of the kind
	// the command writes there, so replacing it could lose data.
	ErrWouldReplace = errors.New("output exists and is not what btftool writes")
	// ErrFormat means an output name promises a format the command does
	// not write there.
	ErrFormat = errors.New("output name promises another format")
)

// Refusal is an error refusing an output: its message is the sentence
// given, and it wraps Kind (ErrOutputIsInput, ErrWouldReplace, ErrFormat)
// for errors.Is.
type Refusal struct {
	Kind error
	Msg  string
}

func (r *Refusal) Error() string { return r.Msg }
func (r *Refusal) Unwrap() error { return r.Kind }

// Refuse returns a Refusal of kind with a formatted message.
func Refuse(kind error, format string, args ...any) error {
	return &Refusal{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Input is one file a command reads.
type Input struct {
	// Role says what the file is to the command ("INPUT", "OBJECT",
	// "kernel"), Path how it was named.
	Role, Path string
}

func (in Input) String() string { return in.Role + " " + in.Path }

// Inputs is a set of input files, identified by device and inode. The
// zero value is empty and ready to use.
type Inputs struct {
	ids map[fileID]Input
}

// Add adds the file at path (following symbolic links). A file that
// cannot be read is left out: reading it fails on its own.
func (s *Inputs) Add(role, path string) {
	id, ok := idOf(path)
	if !ok {
		return
	}
	if s.ids == nil {
		s.ids = map[fileID]Input{}
	}
	if _, dup := s.ids[id]; !dup {
		s.ids[id] = Input{Role: role, Path: path}
	}
}

// Len returns the number of input files.
func (s *Inputs) Len() int { return len(s.ids) }

// Of returns the input that path is, following symbolic links.
func (s *Inputs) Of(path string) (Input, bool) {
	if len(s.ids) == 0 {
		return Input{}, false
	}
	id, ok := idOf(path)
	if !ok {
		return Input{}, false
	}
	in, ok := s.ids[id]
	return in, ok
}

// Check refuses an output at path that is one of the inputs. role names
// the output ("OUTPUT", "--outputdir"), instead says what to write
// instead. The error wraps ErrOutputIsInput.
func (s *Inputs) Check(role, path, instead string) error {
	in, ok := s.Of(path)
	if !ok {
		return nil
	}
	what := "the same file as " + in.String()
	if in.Path == path {
		what = "also " + in.Role
	}
	msg := fmt.Sprintf("%s %s is %s", role, path, what)
	if instead != "" {
		msg += ": " + instead
	}
	return Refuse(ErrOutputIsInput, "%s", msg)
}

// Kind is the kind of file a command writes at an output path.
type Kind int

// The kinds of outputs.
const (
	// RawBTF is a raw BTF file (either byte order).
	RawBTF Kind = iota
	// Bundle is a compressed tar archive whose first member is
	// index.json, as pkg/batch writes them.
	Bundle
	// Directory is a directory of outputs.
	Directory
)

// CheckReplace reports whether the file at path, if there is one, may be
// replaced by an output of kind k: a raw BTF file by raw BTF, an empty file
// by any file, a bundle by a bundle, a directory by a directory. role
// names the output in the message ("OUTPUT"). The error wraps
// ErrWouldReplace and says what the file is.
func CheckReplace(role, path string, k Kind) error {
	fi, err := os.Stat(path)
	if err != nil {
		return nil // nothing there (or unreadable: writing says why)
	}
	switch {
	case k == Directory && fi.IsDir():
		return nil
	case k == Directory:
		return Refuse(ErrWouldReplace, "%s %s exists and is %s, not a directory", role, path, Describe(path))
	case fi.IsDir():
		return nil // writing a file over a directory fails with its own message
	case !fi.Mode().IsRegular():
		return Refuse(ErrWouldReplace, "%s %s exists and is not a regular file", role, path)
	case fi.Size() == 0:
		return nil
	}
	ok := false
	switch k {
	case RawBTF:
		ok = isRawBTF(path)
	case Bundle:
		ok = isBundle(path)
	}
	if ok {
		return nil
	}
	want := "BTF"
	if k == Bundle {
		want = "a bundle btftool wrote"
	}
	return Refuse(ErrWouldReplace, "%s %s exists and is %s, not %s", role, path, Describe(path), want)
}

// head returns the first n bytes of the file at path (fewer when it is
// shorter).
func head(path string, n int) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, n)
	m, _ := io.ReadFull(f, b)
	return b[:m]
}

func isRawBTF(path string) bool {
	h := head(path, 2)
	return bytes.Equal(h, []byte{0x9f, 0xeb}) || bytes.Equal(h, []byte{0xeb, 0x9f})
}

// Describe says what the file at path is, from its first bytes: "an ELF
// file", "xz-compressed data", "raw BTF", "a directory".
func Describe(path string) string {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return "a directory"
	}
	h := head(path, 262)
	switch {
	case len(h) == 0:
		return "an empty file"
	case bytes.HasPrefix(h, []byte("\x7fELF")):
		return "an ELF file"
	case bytes.HasPrefix(h, []byte{0x9f, 0xeb}), bytes.HasPrefix(h, []byte{0xeb, 0x9f}):
		return "raw BTF"
	case bytes.HasPrefix(h, []byte("\xfd7zXZ\x00")):
		return "xz-compressed data"
	case bytes.HasPrefix(h, []byte{0x1f, 0x8b}):
		return "gzip-compressed data"
	case bytes.HasPrefix(h, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "zstd-compressed data"
	case bytes.HasPrefix(h, []byte("BZh")):
		return "bzip2-compressed data"
	case len(h) >= 262 && string(h[257:262]) == "ustar":
		return "a tar archive"
	}
	return "a file of another kind"
}

// isBundle reports whether the file at path is a compressed tar archive
// whose first member is index.json: a bundle btftool wrote.
func isBundle(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, _ := br.Peek(6)
	var r io.Reader
	switch {
	case bytes.HasPrefix(magic, []byte("\xfd7zXZ\x00")):
		x, err := xz.NewReader(br)
		if err != nil {
			return false
		}
		r = x
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		g, err := gzip.NewReader(br)
		if err != nil {
			return false
		}
		defer g.Close()
		r = g
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		z, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return false
		}
		defer z.Close()
		r = z
	default:
		return false
	}
	hdr, err := tar.NewReader(io.LimitReader(r, 64<<10)).Next()
	return err == nil && strings.TrimPrefix(hdr.Name, "./") == "index.json"
}

// archiveSuffixes are the name endings that promise an archive or a
// compressed file.
var archiveSuffixes = []string{
	".tar", ".tgz", ".tbz", ".tbz2", ".txz", ".tzst", ".tlz", ".zip", ".7z", ".rar", ".cpio",
	".xz", ".gz", ".zst", ".zstd", ".bz2", ".lz4", ".lzma", ".lz", ".br", ".Z",
}

// ArchiveSuffix returns the ending of name that promises an archive or a
// compressed file (".tar.bz2", ".zip", ".gz"), or "".
func ArchiveSuffix(name string) string {
	base := filepath.Base(name)
	for _, s := range archiveSuffixes {
		if !strings.HasSuffix(base, s) || len(base) == len(s) {
			continue
		}
		if rest := strings.TrimSuffix(base, s); s != ".tar" && strings.HasSuffix(rest, ".tar") && len(rest) > len(".tar") {
			return ".tar" + s
		}
		return s
	}
	return ""
}

// IsELFName reports whether name ends in ".o", the name of an ELF object.
func IsELFName(name string) bool {
	base := filepath.Base(name)
	return strings.HasSuffix(base, ".o") && len(base) > len(".o")
}

// Resolve returns path made absolute with symbolic links resolved, as far
// as it exists: the parts that do not exist yet are joined as given. Two
// spellings of one location resolve alike.
func Resolve(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	var rest []string
	for p := abs; ; {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(append([]string{real}, rest...)...)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return abs
		}
		rest = append([]string{filepath.Base(p)}, rest...)
		p = parent
	}
}

// Within reports whether path is dir or lies below it, both resolved.
func Within(path, dir string) bool {
	p, d := Resolve(path), Resolve(dir)
	if p == d {
		return true
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
