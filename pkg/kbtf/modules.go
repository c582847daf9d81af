package kbtf

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/btftool/btftool/internal/xzdec"
)

// maxModules bounds the number of module files read from one source: a
// distribution kernel ships about 4,000 modules.
const maxModules = 1 << 16

// ErrDuplicateModule means two files of a module source hold the same
// module.
var ErrDuplicateModule = errors.New("module given twice")

// ModuleFile is the BTF of one kernel module, found by ReadModules.
type ModuleFile struct {
	// Name is the module's name as the kernel spells it, and as
	// /sys/kernel/btf names its file: the .modinfo name of a .ko file,
	// else the file name without its suffixes (.ko, .btf, .xz, .gz,
	// .zst), with dashes as underscores ("nvme-core.ko.xz" is
	// "nvme_core").
	Name string
	// Path says where the module was found: the file, and for a member of
	// an archive "ARCHIVE:MEMBER".
	Path string
	// Release is the kernel release the module was built for, when the
	// source says: the vermagic of a .ko file's .modinfo, else a
	// lib/modules/RELEASE/ or a leading RELEASE/ directory of its path
	// (btfhub's RELEASE.modules.tar.xz holds RELEASE/MODULE.btf). Empty
	// when unknown.
	Release string
	// BTF is the module's split BTF: its .BTF section, whose type IDs
	// and string offsets continue those of the kernel's vmlinux BTF.
	BTF []byte
}

// ReadModules reads the BTF of kernel modules from path, in any of the
// forms users have it in:
//
//   - a directory like /sys/kernel/btf: one split BTF file per module,
//     named by the module (a file "vmlinux" there is the base and is
//     skipped), with or without a .btf suffix;
//   - .ko files (ELF with a .BTF section), plain or compressed (.xz, .gz,
//     .zst), such as a lib/modules/RELEASE tree, searched recursively;
//   - a single such file;
//   - a tar archive of either, plain or compressed (btfhub's
//     RELEASE.modules.tar.xz holds RELEASE/MODULE.btf).
//
// Forms are recognised by content. In directories and archives, a file
// whose name ends in .ko, .btf or a compressed .ko must be module BTF;
// other files (modules.dep, say) are skipped unless their content is
// BTF, an ELF object with .BTF or compressed data holding either.
// Modules are returned sorted by Name; the BTF of modules found in one
// archive alias one buffer. Limits (Options.MaxSize, decompression bombs)
// apply as for ReadFile, to the whole source. Two files of the same
// module are an error wrapping ErrDuplicateModule.
func ReadModules(root string, opts *Options) ([]ModuleFile, error) {
	mr := &moduleReader{d: newDecoder(opts), left: opts.maxSize()}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		err = mr.dir(root)
	} else {
		err = mr.file(root, true)
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(mr.mods, func(i, j int) bool { return mr.mods[i].Name < mr.mods[j].Name })
	for i := 1; i < len(mr.mods); i++ {
		if a, b := &mr.mods[i-1], &mr.mods[i]; a.Name == b.Name {
			return nil, fmt.Errorf("%w: module %s is in both %s and %s", ErrDuplicateModule, a.Name, a.Path, b.Path)
		}
	}
	return mr.mods, nil
}

// moduleReader is the state of one ReadModules call.
type moduleReader struct {
	d    *decoder
	mods []ModuleFile
	left int64 // bytes that may still be decompressed or read
}

func (mr *moduleReader) add(m ModuleFile) error {
	if len(mr.mods) == maxModules {
		return problem(ErrTooLarge, nil, "more than %d modules", maxModules)
	}
	mr.mods = append(mr.mods, m)
	return nil
}

// take accounts for n more bytes held in memory.
func (mr *moduleReader) take(n int64) error {
	if n > mr.left {
		return problem(ErrTooLarge, nil, "module BTF exceeds limit of %s in all", formatSize(mr.d.max))
	}
	mr.left -= n
	return nil
}

// dir reads every module file under the directory root.
func (mr *moduleReader) dir(root string) error {
	return filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !de.Type().IsRegular() {
			// Directories are walked; links, devices and pipes are not
			// module files (WalkDir does not follow links).
			return nil
		}
		return mr.file(p, false)
	})
}

// file reads one module file, or an archive of them. named is set for the
// path the user gave, which must hold module BTF whatever its name.
func (mr *moduleReader) file(p string, named bool) error {
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := mr.take(int64(len(data))); err != nil {
		return nameErr(p, err)
	}
	if err := mr.data(p, p, data, named || moduleName(p), 0); err != nil {
		return nameErr(p, err)
	}
	return nil
}

// data handles the content of a file or archive member called name (its
// Path is where): a module, compressed data, or a tar archive of modules.
// must is set when the content has to be module BTF.
func (mr *moduleReader) data(where, name string, data []byte, must bool, depth int) error {
	if depth > maxDepth {
		return problem(ErrTooLarge, nil, "containers nested more than %d deep", maxDepth)
	}
	if len(data) == 0 {
		if must {
			return problem(ErrEmpty, nil, "empty file")
		}
		return nil
	}
	switch k := sniff(data[:min(len(data), sniffLen)]); k {
	case kindRaw:
		if path.Base(strings.TrimSuffix(filepath.ToSlash(name), ".btf")) == "vmlinux" {
			return nil // the base, in a copy of /sys/kernel/btf
		}
		return mr.add(ModuleFile{Name: nameFromFile(name), Path: where, Release: releaseFromPath(name), BTF: data})
	case kindELF:
		btf, modName, release, err := mr.elfModule(data)
		if err != nil {
			if !must && errors.Is(err, ErrNoBTFSection) {
				return nil // an ELF file that is not a module
			}
			return err
		}
		if modName == "" {
			modName = nameFromFile(name)
		}
		if release == "" {
			release = releaseFromPath(name)
		}
		return mr.add(ModuleFile{Name: modName, Path: where, Release: release, BTF: btf})
	case kindXZ, kindGzip, kindZstd:
		out, err := mr.decompress(k, data)
		if err != nil {
			return err
		}
		return mr.data(where, stripCompression(name), out, must, depth+1)
	case kindTar:
		return mr.tar(where, data, depth)
	}
	if must {
		return problem(ErrNotBTF, nil, "not module BTF, a .ko file or an archive of them (starts with %s)", hexHead(data))
	}
	return nil
}

// decompress decodes compressed data whole, within the remaining limit.
func (mr *moduleReader) decompress(k kind, data []byte) ([]byte, error) {
	if k == kindXZ {
		out, err := xzdec.DecodeAllInto(nil, data, mr.left)
		if err == nil {
			return out, mr.take(int64(len(out)))
		}
		if errors.Is(err, xzdec.ErrTooLarge) {
			return nil, streamProblem(ErrTooLarge, err, "xz: decompressed size exceeds limit of %s", formatSize(mr.d.max))
		}
		// Let the streaming decoder describe the problem, or decode what
		// xzdec does not handle.
	}
	d := &decoder{max: mr.d.max}
	lr, done, err := d.openLayer(k, bytes.NewReader(data), mr.left)
	if err != nil {
		return nil, err
	}
	defer done()
	out, err := d.readAll(lr, "decompressed data")
	if err != nil {
		return nil, err
	}
	return out, mr.take(int64(len(out)))
}

// tar reads every member of the tar archive held in data.
func (mr *moduleReader) tar(where string, data []byte, depth int) error {
	r := bytes.NewReader(data)
	tr := tar.NewReader(r)
	for i := 0; ; i++ {
		if i == 4*maxModules {
			return problem(ErrTooLarge, nil, "tar archive has more than %d entries", 4*maxModules)
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return tarErr(err)
		}
		if !filepath.IsLocal(hdr.Name) {
			return problem(ErrCorrupt, nil, "tar member %q: unsafe path (absolute or outside the archive)", hdr.Name)
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Size <= 0 {
			continue
		}
		// archive/tar leaves r at the member's data: take it in place.
		start := int64(len(data)) - int64(r.Len())
		if hdr.Size > int64(r.Len()) {
			return streamProblem(ErrCorrupt, nil, "tar: unexpected end of archive (truncated?)")
		}
		member := data[start : start+hdr.Size : start+hdr.Size]
		if err := mr.data(where+":"+hdr.Name, hdr.Name, member, moduleName(hdr.Name), depth+1); err != nil {
			if ke, ok := err.(*kbtfError); ok && ke.stream {
				return err
			}
			return &kbtfError{msg: fmt.Sprintf("tar member %q: %v", hdr.Name, err), errs: []error{err}}
		}
	}
}

// elfModule returns the .BTF section of a .ko file held in data (in place
// when it is stored uncompressed), and the module name and release its
// .modinfo gives.
func (mr *moduleReader) elfModule(data []byte) (btf []byte, name, release string, err error) {
	defer func() {
		if r := recover(); r != nil {
			btf, err = nil, problem(ErrCorrupt, nil, "invalid ELF: %v", r)
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, "", "", problem(ErrCorrupt, err, "invalid ELF: %v", err)
	}
	sec := f.Section(".BTF")
	if sec == nil || sec.Type == elf.SHT_NOBITS || sec.Size == 0 {
		return nil, "", "", problem(ErrNoBTFSection, nil, "ELF has no .BTF section")
	}
	if sec.Flags&elf.SHF_COMPRESSED == 0 && sec.Offset <= uint64(len(data)) && sec.Size <= uint64(len(data))-sec.Offset {
		btf = data[sec.Offset : sec.Offset+sec.Size : sec.Offset+sec.Size]
	} else {
		if err := mr.take(int64(min(sec.Size, 1<<62))); err != nil {
			return nil, "", "", err
		}
		btf = make([]byte, sec.Size)
		if _, err := io.ReadFull(sec.Open(), btf); err != nil {
			return nil, "", "", problem(ErrCorrupt, err, "ELF .BTF section: %v", err)
		}
	}
	if !isBTF(btf) {
		return nil, "", "", problem(ErrNotBTF, nil, "ELF .BTF section is not BTF (starts with %s)", hexHead(btf))
	}
	if mi := f.Section(".modinfo"); mi != nil && mi.Type != elf.SHT_NOBITS && mi.Size < 1<<20 {
		if info, err := mi.Data(); err == nil {
			for _, kv := range bytes.Split(info, []byte{0}) {
				switch {
				case bytes.HasPrefix(kv, []byte("name=")):
					name = string(kv[len("name="):])
				case bytes.HasPrefix(kv, []byte("vermagic=")):
					if fields := strings.Fields(string(kv[len("vermagic="):])); len(fields) > 0 {
						release = fields[0]
					}
				}
			}
		}
	}
	return btf, name, release, nil
}

// moduleName reports whether a file name says it is a module: .ko (also
// compressed) or .btf.
func moduleName(name string) bool {
	n := stripCompression(name)
	return strings.HasSuffix(n, ".ko") || strings.HasSuffix(n, ".btf")
}

func stripCompression(name string) string {
	for _, s := range []string{".xz", ".gz", ".zst"} {
		if strings.HasSuffix(name, s) {
			return strings.TrimSuffix(name, s)
		}
	}
	return name
}

// nameFromFile is the module name a file name gives: its base name
// without suffixes, with dashes as underscores (the kernel's KBUILD_MODNAME).
func nameFromFile(name string) string {
	n := path.Base(filepath.ToSlash(stripCompression(name)))
	for _, s := range []string{".ko", ".btf"} {
		n = strings.TrimSuffix(n, s)
	}
	return strings.ReplaceAll(n, "-", "_")
}

// releaseFromPath finds the kernel release in a module's path: the
// directory after lib/modules/, or a leading directory that starts like
// a release (a digit).
func releaseFromPath(name string) string {
	parts := strings.Split(filepath.ToSlash(name), "/")
	for i := 0; i+1 < len(parts)-1; i++ {
		if parts[i] == "modules" && i > 0 && parts[i-1] == "lib" {
			return parts[i+1]
		}
	}
	if len(parts) == 2 && parts[0] != "" && parts[0][0] >= '0' && parts[0][0] <= '9' {
		return parts[0]
	}
	return ""
}
