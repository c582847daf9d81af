package cli

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/btfgen"
	"github.com/btftool/btftool/pkg/core"
	"github.com/btftool/btftool/pkg/inspect"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/kmod"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// optModules is --modules for commands that take one kernel: module BTF
// (see kbtf.ReadModules for the forms), repeatable.
var optModules = flagDef{Name: "modules", ValueName: "PATH",
	Usage: "the kernel's module BTF: a /sys/kernel/btf-like directory, .ko files (also .xz, .zst, .gz) or a directory of them, or a tar archive of either (repeatable; see docs/modules.md)"}

// optModulesGen is --modules for gen, whose INPUT may be a tree.
var optModulesGen = flagDef{Name: "modules", ValueName: "PATH",
	Usage: optModules.Usage + "; with a directory INPUT, one tree mirroring INPUT with each kernel's as DIR/RELEASE.modules.tar.xz (archives beside the kernels in INPUT are used without it)"}

// openModules reads the module BTF at paths for the kernel at kernel: an
// error names the modules and the kernel when they are for another
// release. It returns nil for no paths.
func openModules(paths []string, kernel string) (*kmod.Set, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	set, err := kmod.Open(paths, nil)
	if err != nil {
		return nil, inputError(fmt.Errorf("--modules: %w", err))
	}
	if err := set.CheckRelease(kernelRelease(kernel)); err != nil {
		return nil, inputError(fmt.Errorf("--modules %s, kernel %s: %w", strings.Join(paths, ", "), kernel, err))
	}
	return set, nil
}

// kernelRelease is the release of the kernel BTF at path: the running
// kernel's for /sys/kernel/btf/vmlinux, else what its name says
// (kbtf.ReleaseOf), else "".
func kernelRelease(path string) string {
	if path == runningKernel {
		var u unix.Utsname
		if unix.Uname(&u) == nil {
			return unix.ByteSliceToString(u.Release[:])
		}
		return ""
	}
	return kbtf.ReleaseOf(path)
}

// checkModulesTree refuses a --modules for a directory INPUT that is not
// one directory.
func checkModulesTree(paths []string) (string, error) {
	switch len(paths) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", usageErrorf("--modules: a directory INPUT takes one tree of module archives mirroring it, got %d", len(paths))
	}
	fi, err := os.Stat(paths[0])
	if err != nil {
		return "", inputError(fmt.Errorf("--modules: %w", err))
	}
	if !fi.IsDir() {
		return "", usageErrorf("--modules %s: a directory INPUT takes a tree mirroring it (DIR/RELEASE.modules.tar.xz), not a file", paths[0])
	}
	return paths[0], nil
}

// modulesUsed counts the relocations of res that kernel modules serve and
// names the modules whose types their matches come from, in order.
func modulesUsed(res *btfgen.Result) (int, []string) {
	n := 0
	var names []string
	for _, or := range res.Objects {
		for j := range or.Decisions.Len() {
			mods := res.Kernel.ModulesOf(or.Decisions.At(j).Matched)
			for _, m := range mods {
				if !slices.Contains(names, m) {
					names = append(names, m)
				}
			}
			if len(mods) > 0 {
				n++
			}
		}
	}
	slices.Sort(names)
	return n, names
}

// withModules returns vmlinux (the kernel BTF at path) extended with the
// modules at paths that objs need (kmod.Set.ExtendFor), or vmlinux itself
// without paths.
func withModules(vmlinux *rawbtf.BTF, path string, paths []string, objs []*bpfobj.Object) (*rawbtf.BTF, error) {
	set, err := openModules(paths, path)
	if err != nil || set == nil {
		return vmlinux, err
	}
	k, _, err := set.ExtendFor(core.NewTargetFor(vmlinux, inspect.NeededNames(objs)), objs)
	if err != nil {
		return nil, inputError(fmt.Errorf("%s with its modules: %w", path, err))
	}
	return k.BTF, nil
}
