// Command loader is an example CO-RE loader built on cilium/ebpf that runs
// on kernels with and without their own BTF.
//
// It embeds a bundle of minimized BTFs made by btftool (see the go:generate
// line) and picks the kernel types at start-up with package
// pkg/bundle/kerneltypes: the running kernel's own BTF when it has one
// (/sys/kernel/btf/vmlinux), else the bundle's entry for the running
// kernel (uname -r, uname -m and /etc/os-release). -bundle uses the bundle
// even where the kernel has BTF; -root names the host's root when the
// loader runs in a container.
//
//	go generate ./examples/loader
//	go run ./examples/loader testdata/bpf/execsnoop.bpf.o           # as root
//	go run ./examples/loader -bundle testdata/bpf/execsnoop.bpf.o   # pretend there is no BTF
//
// A minimized BTF serves CO-RE relocations only: programs that attach to a
// kernel BTF ID (fentry, fexit, tp_btf, lsm, iter, struct_ops) need the
// kernel's own BTF whatever is shipped, and typed __ksym variables and
// kfunc calls need it for the whole object (pkg/needsbtf; "btftool gen"
// and "btftool inspect object" name them). When the types come from the
// bundle the loader therefore leaves those programs out, which is how an
// object with a kprobe or raw_tp variant beside each of them still loads
// on a kernel without BTF; -keep-btf-programs loads them anyway, to show
// the failure:
//
//	go run ./examples/loader -bundle testdata/bpf/taskstate.bpf.o   # skips handle_switch_btf (tp_btf)
//
// The bundle here is cut from testdata/kernels (Debian 6.1 and 6.12); a
// real loader's comes from a btfhub-archive checkout (configs/go-loader-bundle.yaml).
package main

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"log"
	"maps"
	"os"
	"slices"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/btftool/btftool/pkg/bundle"
	"github.com/btftool/btftool/pkg/bundle/kerneltypes"
	"github.com/btftool/btftool/pkg/needsbtf"
)

//go:generate go run ../../cmd/btftool gen min_core_btf --quiet --force ../../testdata/kernels btf/min_core_btfs.tar.zst ../../testdata/bpf/execsnoop.bpf.o

//go:embed btf/min_core_btfs.tar.zst
var minCoreBTFs []byte

// kernelTypes returns the BTF to relocate BPF programs against and where it
// came from, choosing between the running kernel's own BTF and the entry of
// the embedded bundle as opts says.
func kernelTypes(embedded []byte, opts *kerneltypes.Options) (*btf.Spec, kerneltypes.Source, error) {
	b, err := bundle.Open(embedded, nil)
	if err != nil {
		return nil, kerneltypes.Source{}, err
	}
	defer b.Close()
	spec, src, err := kerneltypes.Load(b, opts)
	if errors.Is(err, bundle.ErrNotFound) {
		err = fmt.Errorf("no BTF for this kernel: it has none of its own and the embedded bundle has no entry for it: %w", err)
	}
	return spec, src, err
}

// load loads every program and map of the BPF object at path, relocated
// against kt. With skip set (kt is not the kernel's own BTF), the programs
// that need the kernel's own BTF are left out and returned; an object
// with a typed __ksym or a kfunc call is refused, since libbpf needs the
// kernel's BTF for the whole object then.
func load(path string, kt *btf.Spec, skip bool) (*ebpf.Collection, []needsbtf.Program, error) {
	var skipped []needsbtf.Program
	if skip {
		progs, err := needsbtf.AnalyzeFile(path)
		if err != nil {
			return nil, nil, err
		}
		for _, p := range progs {
			if p.ObjectOnly() {
				return nil, nil, fmt.Errorf("%s: program %s needs the kernel's own BTF, which the embedded bundle cannot replace", path, p)
			}
			skipped = append(skipped, p)
		}
	}
	spec, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range skipped {
		delete(spec.Programs, p.Name)
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{KernelTypes: kt},
	})
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return nil, nil, fmt.Errorf("%s: %+v", path, ve) // the whole verifier log
	}
	return coll, skipped, err
}

func main() {
	log.SetFlags(0)
	var opts kerneltypes.Options
	flag.BoolVar(&opts.UseBundle, "bundle", false, "use the embedded bundle even when the kernel has BTF of its own")
	flag.StringVar(&opts.Root, "root", "", "the host's root file system, when running in a container (`DIR`, e.g. /host)")
	keep := flag.Bool("keep-btf-programs", false, "with types from the bundle, load the programs that need the kernel's own BTF anyway (they fail on a kernel without BTF)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: loader [-bundle] [-keep-btf-programs] [-root DIR] OBJECT.bpf.o")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	kt, source, err := kernelTypes(minCoreBTFs, &opts)
	if err != nil {
		log.Fatal(err)
	}
	coll, skipped, err := load(flag.Arg(0), kt, source.Match != nil && !*keep)
	if err != nil {
		log.Fatal(err)
	}
	defer coll.Close()
	for _, p := range skipped {
		fmt.Printf("skipped %s: needs the kernel's own BTF\n", p)
	}
	for _, name := range slices.Sorted(maps.Keys(coll.Programs)) {
		fmt.Printf("loaded %s with BTF from %s\n", name, source)
	}
}
