package bundle

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// IndexName is the name of a bundle's index, its first tar member
// ("./index.json").
const IndexName = "index.json"

// Index format versions.
const (
	// FormatStream is the first format: the index lists path, release,
	// distribution, version, architecture, size and SHA-256 of each file;
	// every file is its own tar member and the archive is compressed as
	// one stream.
	FormatStream = 1
	// FormatBlocks is the current format: FormatStream's fields but the
	// files' SHA-256, plus the generator, the objects the BTF was made
	// for, and where each file's bytes are (Member, Offset); identical
	// files are stored once, the index and the files in separately
	// decompressible blocks.
	FormatBlocks = 2
)

// Sentinel errors. Errors of this package wrap one of them (test with
// errors.Is) and name what is wrong.
var (
	// ErrBadBundle means the data is not a valid bundle: not a tar
	// archive (compressed with xz, zstd or gzip, or not), no index.json
	// first, an invalid index, or a file that does not match its index
	// entry.
	ErrBadBundle = errors.New("not a valid bundle")
	// ErrTooLarge means the bundle exceeds a limit of [Options]: the
	// index, an entry, a compressed block or the decompressed archive.
	ErrTooLarge = errors.New("bundle exceeds a size limit")
	// ErrNotFound means no entry of the bundle matches the kernel asked
	// for (or no entry has the path asked for). For Match, the error is a
	// *NoMatchError naming the closest entries.
	ErrNotFound = errors.New("kernel not in bundle")
	// ErrAmbiguous means several entries with different BTF match the
	// kernel and nothing tells them apart. For Match, the error is an
	// *AmbiguousError listing them.
	ErrAmbiguous = errors.New("several kernels match")
)

// Index is the content of a bundle's index.json.
type Index struct {
	// Format is FormatStream or FormatBlocks.
	Format int `json:"format"`
	// Generator names the program that wrote the bundle, with its
	// version ("btftool v0.9.0"). Empty in format 1.
	Generator string `json:"generator,omitempty"`
	// Objects lists the BPF objects the BTF files were minimized for.
	// Empty in format 1.
	Objects []Object `json:"objects,omitempty"`
	// Kernels lists the BTF files; btftool writes them sorted by Path.
	Kernels []Entry `json:"kernels"`
}

// Object is a BPF object a bundle was made for.
type Object struct {
	// Name is the object's file name as given to the generator, slash-
	// separated ("bin/execsnoop.bpf.o").
	Name string `json:"name"`
	// SHA256 is the hex SHA-256 of the object file.
	SHA256 string `json:"sha256"`
}

// Entry describes one kernel's BTF file in a bundle.
type Entry struct {
	// Path is the file's path in the bundle, slash-separated, without the
	// "./" its tar member name has: "ubuntu/20.04/x86_64/5.4.0-91-generic.btf".
	Path string `json:"path"`
	// Release is the kernel release (uname -r); Distro and Version the
	// distribution's os-release ID and VERSION_ID as btfhub names its
	// directories ("ubuntu", "20.04"); Arch the machine (uname -m or the
	// distribution's name for it). Each is empty when the generator could
	// not tell.
	Release string `json:"release"`
	Distro  string `json:"distro"`
	Version string `json:"version"`
	Arch    string `json:"arch"`
	// Size is that of the BTF file, SHA256 (hex) its digest. Format 2
	// leaves SHA256 out: the compressor's checks (CRC64 of each xz
	// Block, XXH64 of each zstd frame, CRC32 of gzip) cover the data,
	// and entries with the same content share Member.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	// Member is the tar member that holds the file's bytes ("./" + the
	// Path of the first entry with the same content; the other entries
	// are hard links to it), and Offset where the bytes start in the
	// uncompressed tar archive. Format 2 only.
	Member string `json:"member,omitempty"`
	Offset int64  `json:"offset,omitempty"`
}

// String returns the entry's path.
func (e *Entry) String() string { return e.Path }

// maxPathLen bounds entry and object names.
const maxPathLen = 4096

// parseIndex decodes and validates index.json.
func parseIndex(data []byte, opts *Options) (*Index, error) {
	var idx Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadBundle, IndexName, err)
	}
	if idx.Format != FormatStream && idx.Format != FormatBlocks {
		return nil, fmt.Errorf("%w: %s: format %d, this reader knows 1 and 2", ErrBadBundle, IndexName, idx.Format)
	}
	bad := func(i int, format string, args ...any) error {
		return fmt.Errorf("%w: %s: kernels[%d]: %s", ErrBadBundle, IndexName, i, fmt.Sprintf(format, args...))
	}
	seen := make(map[string]bool, len(idx.Kernels))
	for i := range idx.Kernels {
		e := &idx.Kernels[i]
		if err := checkPath(e.Path); err != nil {
			return nil, bad(i, "path %q: %v", e.Path, err)
		}
		if seen[e.Path] {
			return nil, bad(i, "path %q listed twice", e.Path)
		}
		seen[e.Path] = true
		for _, f := range []struct{ name, v string }{{"release", e.Release}, {"distro", e.Distro}, {"version", e.Version}, {"arch", e.Arch}} {
			if err := checkName(f.v); err != nil {
				return nil, bad(i, "%s %q: %v", f.name, f.v, err)
			}
		}
		if e.Size < 0 || e.Size > opts.maxEntry() {
			return nil, fmt.Errorf("%w: %s: kernels[%d]: size %d, limit %d", ErrTooLarge, IndexName, i, e.Size, opts.maxEntry())
		}
		if !isSHA256(e.SHA256) && (idx.Format == FormatStream || e.SHA256 != "") {
			return nil, bad(i, "sha256 %q is not 64 lower-case hex digits", e.SHA256)
		}
		if idx.Format == FormatBlocks {
			m, ok := strings.CutPrefix(e.Member, "./")
			if !ok {
				return nil, bad(i, "member %q does not start with ./", e.Member)
			}
			if err := checkPath(m); err != nil {
				return nil, bad(i, "member %q: %v", e.Member, err)
			}
			if e.Offset < blockSize || e.Offset%blockSize != 0 || e.Offset > opts.maxArchive() {
				return nil, bad(i, "offset %d is not that of a tar member's data", e.Offset)
			}
		} else if e.Member != "" || e.Offset != 0 {
			return nil, bad(i, "member and offset are format 2 fields")
		}
	}
	for i, o := range idx.Objects {
		if err := checkName(o.Name); err != nil {
			return nil, fmt.Errorf("%w: %s: objects[%d]: name %q: %v", ErrBadBundle, IndexName, i, o.Name, err)
		}
		if o.Name == "" || !isSHA256(o.SHA256) {
			return nil, fmt.Errorf("%w: %s: objects[%d]: needs a name and a sha256", ErrBadBundle, IndexName, i)
		}
	}
	if err := checkName(idx.Generator); err != nil {
		return nil, fmt.Errorf("%w: %s: generator %q: %v", ErrBadBundle, IndexName, idx.Generator, err)
	}
	return &idx, nil
}

// checkPath reports why p is not a safe relative path inside a bundle:
// empty, absolute, with "." or ".." components, empty components,
// backslashes, or bytes that are not printable UTF-8.
func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty")
	case len(p) > maxPathLen:
		return errors.New("too long")
	case strings.HasPrefix(p, "/"):
		return errors.New("absolute")
	case strings.Contains(p, `\`):
		return errors.New("has a backslash")
	}
	if err := checkName(p); err != nil {
		return err
	}
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "":
			return errors.New("empty path component")
		case ".", "..":
			return fmt.Errorf("%q component", c)
		}
	}
	if path.Clean(p) != p {
		return errors.New("not clean")
	}
	return nil
}

// checkName reports why s may not appear in an index (and so in messages):
// invalid UTF-8 or control characters.
func checkName(s string) error {
	if len(s) > maxPathLen {
		return errors.New("too long")
	}
	if !utf8.ValidString(s) {
		return errors.New("not UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return errors.New("has control characters")
		}
	}
	return nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
