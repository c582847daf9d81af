package kbtf

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/btftool/btftool/internal/outguard"
)

// Entry is one kernel BTF file found in a tree by [Walk].
type Entry struct {
	// Path is the full path of the file (root joined with Rel).
	Path string
	// Rel is the path relative to the root, slash-separated.
	Rel string
	// OutRel is Rel with its container suffix replaced by ".btf", e.g.
	// "ubuntu/20.04/x86_64/5.4.0-91-generic.btf.tar.xz" gives
	// "ubuntu/20.04/x86_64/5.4.0-91-generic.btf" and "boot/vmlinux" gives
	// "boot/vmlinux.btf".
	OutRel string
	// Distro, Version, Arch and Release come from the btfhub layout
	// DISTRO/VERSION/ARCH/RELEASE.btf[.tar.xz]; they are empty when Rel does
	// not fit it.
	Distro, Version, Arch, Release string
	// Modules is the full path of the kernel's module BTF, when the tree
	// has it beside the kernel: STEM.modules.tar, optionally compressed
	// (.xz, .gz, .zst), in the same directory as STEM.btf.tar.xz (see
	// ReadModules for what it holds). Empty when there is none.
	Modules string
}

// ModulesSuffix marks a kernel's module BTF beside it in a tree:
// RELEASE.btf.tar.xz has its modules in RELEASE.modules.tar.xz (any
// compression, or none).
const ModulesSuffix = ".modules"

// modulesStem returns the kernel stem a module archive's name is for
// ("5.4.0-91-generic" for "5.4.0-91-generic.modules.tar.xz").
func modulesStem(name string) (string, bool) {
	rest := name
	for _, s := range compressionSuffixes {
		if strings.HasSuffix(rest, s) {
			rest = strings.TrimSuffix(rest, s)
			break
		}
	}
	if !strings.HasSuffix(rest, ModulesSuffix+".tar") {
		return "", false
	}
	stem := strings.TrimSuffix(rest, ModulesSuffix+".tar")
	return stem, stem != ""
}

// compressionSuffixes are the compression suffixes Walk recognises.
var compressionSuffixes = []string{".xz", ".gz", ".zst", ".zstd"}

// splitName splits a file name into its stem and its container suffix, and
// reports whether Walk takes the file: NAME.btf, NAME.btf.{xz,gz,zst},
// NAME[.btf].tar[.{xz,gz,zst}], NAME.tgz, vmlinux and vmlinux-VERSION (the
// last two optionally compressed). For "5.4.btf.tar.xz" it returns "5.4",
// ".btf.tar.xz", true.
func splitName(name string) (stem, suffix string, ok bool) {
	rest := name
	var comp string
	for _, s := range compressionSuffixes {
		if strings.HasSuffix(rest, s) {
			rest, comp = strings.TrimSuffix(rest, s), s
			break
		}
	}
	tarSuffix := ""
	switch {
	case comp == "" && strings.HasSuffix(rest, ".tgz"):
		rest, tarSuffix = strings.TrimSuffix(rest, ".tgz"), ".tgz"
	case strings.HasSuffix(rest, ".tar"):
		rest, tarSuffix = strings.TrimSuffix(rest, ".tar"), ".tar"
	}
	switch {
	case strings.HasSuffix(rest, ".btf") && rest != ".btf":
		return strings.TrimSuffix(rest, ".btf"), ".btf" + tarSuffix + comp, true
	case tarSuffix != "" && rest != "":
		return rest, tarSuffix + comp, true
	case rest == "vmlinux" || strings.HasPrefix(rest, "vmlinux-"):
		return rest, tarSuffix + comp, true
	}
	return "", "", false
}

// Walk finds the kernel BTF files under root and returns them sorted by Rel.
// Files are recognised by name, other files are ignored: NAME.btf,
// NAME.btf.xz, NAME.btf.gz, NAME.btf.zst, NAME[.btf].tar with or without
// .xz, .gz or .zst, NAME.tgz, and vmlinux or vmlinux-VERSION, those
// optionally compressed. NAME.modules.tar (optionally compressed) is the
// module BTF of the kernel NAME beside it (Entry.Modules), not a kernel;
// one with no kernel beside it is ignored. Walk does not follow symbolic links to directories; a symbolic link to a regular
// file is listed under the link's own name. If root is itself a file, Walk
// returns that file alone when its name is recognised.
//
// Two files whose OutRel would be the same (5.4.btf and 5.4.btf.tar.xz side
// by side) make Walk fail, since batch outputs would overwrite each other.
func Walk(root string) ([]Entry, error) { return WalkExcluding(root, nil) }

// WalkExcluding is Walk leaving out the files and directories (with
// everything below them) at the paths in exclude: the outputs of a run
// inside its own input tree, so that a rerun does not read them back as
// kernels. A path is excluded however it is spelt (relative, through
// symbolic links); paths that do not exist exclude nothing.
func WalkExcluding(root string, exclude []string) ([]Entry, error) {
	fi, err := os.Stat(root) // follows a symbolic link given as root
	if err != nil {
		return nil, err
	}
	var entries []Entry
	if !fi.IsDir() {
		if e, ok := newEntry(root, filepath.Base(root)); ok && fi.Mode().IsRegular() {
			entries = append(entries, e)
		}
		return entries, nil
	}
	modules := map[string]string{} // slash-separated dir + stem: full path
	// WalkDir does not descend into a symbolic link given as root: resolve
	// it first, but report paths under root as given.
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	skip := newExclusion(exclude)
	if len(exclude) > 0 {
		real = outguard.Resolve(real) // absolute, as the excluded paths are
	}
	err = filepath.WalkDir(real, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skip.has(p, de) {
			if de.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if de.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(real, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		full := filepath.Join(root, filepath.FromSlash(rel))
		dir, name := path.Split(rel)
		stem, isModules := modulesStem(name)
		e, ok := newEntry(full, rel)
		if !ok && !isModules {
			return nil
		}
		switch t := de.Type(); {
		case t.IsRegular():
		case t&fs.ModeSymlink != 0:
			fi, err := os.Stat(p)
			if err != nil || !fi.Mode().IsRegular() {
				return nil // dangling, or a link to a directory or device
			}
		default:
			return nil // a device, pipe or socket
		}
		if isModules {
			modules[dir+stem] = full
			return nil
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range entries {
		e := &entries[i]
		dir, name := path.Split(e.Rel)
		if stem, _, ok := splitName(name); ok {
			e.Modules = modules[dir+stem]
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Rel < entries[j].Rel })
	seen := make(map[string]string, len(entries))
	for _, e := range entries {
		if prev, dup := seen[e.OutRel]; dup {
			return nil, fmt.Errorf("%s: %s and %s both give %s", root, prev, e.Rel, e.OutRel)
		}
		seen[e.OutRel] = e.Rel
	}
	return entries, nil
}

// newEntry builds the Entry for the file at full path p with slash-separated
// relative path rel, if its name is recognised.
func newEntry(p, rel string) (Entry, bool) {
	dir, name := path.Split(rel)
	if _, ok := modulesStem(name); ok {
		return Entry{}, false
	}
	stem, suffix, ok := splitName(name)
	if !ok {
		return Entry{}, false
	}
	e := Entry{Path: p, Rel: rel, OutRel: dir + stem + ".btf"}
	if parts := strings.Split(rel, "/"); len(parts) == 4 && strings.HasPrefix(suffix, ".btf") {
		e.Distro, e.Version, e.Arch, e.Release = parts[0], parts[1], parts[2], stem
	}
	return e, true
}

// FindModules returns the module BTF archive of the kernel whose output
// path relative to its tree is outRel (Entry.OutRel, "DIR/STEM.btf") in the
// tree at root, which mirrors the kernels' tree: root/DIR/STEM.modules.tar,
// optionally compressed (.xz, .gz, .zst). It returns "" when there is none.
func FindModules(root, outRel string) string {
	base := filepath.Join(root, filepath.FromSlash(strings.TrimSuffix(outRel, ".btf")+ModulesSuffix+".tar"))
	for _, s := range append([]string{""}, compressionSuffixes...) {
		if fi, err := os.Stat(base + s); err == nil && fi.Mode().IsRegular() {
			return base + s
		}
	}
	return ""
}

// exclusion is the set of paths WalkExcluding leaves out.
type exclusion struct {
	paths map[string]bool // resolved, absolute
	dirs  []os.FileInfo   // existing directories, to recognise bind mounts
}

func newExclusion(paths []string) *exclusion {
	x := &exclusion{paths: map[string]bool{}}
	for _, p := range paths {
		// The path itself (a symbolic link in the tree) and what it
		// resolves to.
		x.paths[filepath.Join(outguard.Resolve(filepath.Dir(p)), filepath.Base(p))] = true
		x.paths[outguard.Resolve(p)] = true
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			x.dirs = append(x.dirs, fi)
		}
	}
	return x
}

// has reports whether the walked entry at p is excluded.
func (x *exclusion) has(p string, de fs.DirEntry) bool {
	if len(x.paths) == 0 {
		return false
	}
	if x.paths[p] {
		return true
	}
	if !de.IsDir() || len(x.dirs) == 0 {
		return false
	}
	fi, err := de.Info()
	if err != nil {
		return false
	}
	for _, d := range x.dirs {
		if os.SameFile(fi, d) {
			return true
		}
	}
	return false
}

// ReleaseOf returns the kernel release a kernel BTF file's name gives:
// RELEASE for btfhub's RELEASE.btf.tar.xz (and the other names Walk takes
// with a .btf suffix) when it starts like a release (a digit), VERSION for
// vmlinux-VERSION; "" otherwise.
func ReleaseOf(path string) string {
	stem, suffix, ok := splitName(filepath.Base(path))
	switch {
	case !ok:
		return ""
	case strings.HasPrefix(stem, "vmlinux-"):
		return strings.TrimPrefix(stem, "vmlinux-")
	case strings.HasPrefix(suffix, ".btf") && stem != "" && stem[0] >= '0' && stem[0] <= '9':
		return stem
	}
	return ""
}
