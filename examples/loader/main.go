// Command loader is an example CO-RE loader built on cilium/ebpf that runs
// on kernels with and without their own BTF.
//
// It embeds a bundle of minimized BTFs made by btftool (see the go:generate
// line) and picks the kernel types at start-up: the running kernel's own
// BTF when it has one (/sys/kernel/btf/vmlinux), else the bundle's entry
// for the running kernel's release and machine (uname -r, uname -m).
//
//	go generate ./examples/loader
//	go run ./examples/loader testdata/bpf/execsnoop.bpf.o   # as root
//
// The bundle here is cut from testdata/kernels (Debian 6.1 and 6.12); a
// real loader's comes from a btfhub-archive checkout (configs/go-loader-bundle.yaml).
package main

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"log"
	"maps"
	"os"
	"slices"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/btftool/btftool/pkg/batch"
)

//go:generate go run ../../cmd/btftool gen min_core_btf --quiet --force ../../testdata/kernels btf/min_core_btfs.tar.zst ../../testdata/bpf/execsnoop.bpf.o

//go:embed btf/min_core_btfs.tar.zst
var minCoreBTFs []byte

// vmlinuxPath is where a kernel built with CONFIG_DEBUG_INFO_BTF exposes
// its own BTF. Tests point it elsewhere to force the bundle path.
var vmlinuxPath = "/sys/kernel/btf/vmlinux"

// kernelTypes returns the BTF to relocate BPF programs against and where it
// came from: the running kernel's own BTF when it has one, else the entry
// of bundle (a btftool bundle) for release and arch (uname -r, uname -m).
// A kernel in neither gives an error wrapping batch.ErrNotFound.
func kernelTypes(bundle []byte, release, arch string) (*btf.Spec, string, error) {
	if _, err := os.Stat(vmlinuxPath); err == nil {
		spec, err := btf.LoadSpec(vmlinuxPath)
		return spec, vmlinuxPath, err
	}
	b, err := batch.ReadBundle(bytes.NewReader(bundle))
	if err != nil {
		return nil, "", err
	}
	raw, entry, err := b.Lookup(release, arch)
	if err != nil {
		return nil, "", fmt.Errorf("no BTF for kernel %s (%s): it has no %s and the embedded bundle has no entry for it: %w",
			release, arch, vmlinuxPath, err)
	}
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, "", fmt.Errorf("bundle %s: %w", entry.Path, err)
	}
	return spec, "bundle:" + entry.Path, nil
}

// load loads every program and map of the BPF object at path, relocated
// against kt.
func load(path string, kt *btf.Spec) (*ebpf.Collection, error) {
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, err
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{KernelTypes: kt},
	})
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return nil, fmt.Errorf("%s: %+v", path, ve) // the whole verifier log
	}
	return coll, err
}

// uname returns the running kernel's release and machine.
func uname() (release, machine string, err error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", "", err
	}
	return unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Machine[:]), nil
}

func main() {
	log.SetFlags(0)
	if len(os.Args) != 2 {
		log.Fatal("usage: loader OBJECT.bpf.o")
	}
	release, machine, err := uname()
	if err != nil {
		log.Fatal(err)
	}
	kt, source, err := kernelTypes(minCoreBTFs, release, machine)
	if err != nil {
		log.Fatal(err)
	}
	coll, err := load(os.Args[1], kt)
	if err != nil {
		log.Fatal(err)
	}
	defer coll.Close()
	for _, name := range slices.Sorted(maps.Keys(coll.Programs)) {
		fmt.Printf("loaded %s on %s %s with BTF from %s\n", name, release, machine, source)
	}
}
