package verify

import (
	"errors"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// The outcomes of loading a program, LoadReport.Full and LoadReport.Min.
const (
	LoadLoaded       = "loaded"
	LoadNotSupported = "not-supported"
	LoadVerifier     = "verifier"
	LoadCORE         = "co-re"
	LoadPermission   = "permission"
	LoadOther        = "other"
)

// load loads every program of every object into the running kernel,
// relocated against each BTF, and records whether they fare the same.
func (p *Plan) load(rep *Report, fullSpec, minSpec *btf.Spec) {
	if os.Geteuid() != 0 {
		rep.Notes = append(rep.Notes, "load check skipped: not running as root")
		return
	}
	if minSpec == nil {
		rep.Notes = append(rep.Notes, "load check skipped: cilium/ebpf cannot read the minimized BTF")
		return
	}
	permitted := false
	defer func() {
		if !permitted && len(rep.Loads) > 0 {
			rep.Notes = append(rep.Notes, "load check inconclusive: the kernel refused every program with EPERM")
		}
	}()
	for _, po := range p.objs {
		po.read()
		if po.spec == nil {
			continue
		}
		for _, ps := range po.progs {
			if ps.Type == ebpf.UnspecifiedProgram {
				continue
			}
			lr := LoadReport{Object: po.obj.Path, Program: ps.Name}
			var ferr, merr error
			lr.Full, ferr = loadOne(po.spec, ps.Name, fullSpec)
			if lr.Full != LoadPermission {
				permitted = true
			}
			lr.Min, merr = loadOne(po.spec, ps.Name, minSpec)
			lr.FullError, lr.MinError = errLine(ferr), errLine(merr)
			lr.Same = lr.Full == lr.Min
			rep.Loads = append(rep.Loads, lr)
		}
	}
}

// loadOne loads one program of cs (with the maps it needs) with CO-RE
// relocations against kernelTypes, unloads it, and classifies the result.
func loadOne(cs *ebpf.CollectionSpec, prog string, kernelTypes *btf.Spec) (string, error) {
	cs = cs.Copy()
	for name := range cs.Programs {
		if name != prog {
			delete(cs.Programs, name)
		}
	}
	for _, m := range cs.Maps {
		m.Pinning = ebpf.PinNone
		if m.Type == ebpf.ProgramArray {
			m.Contents = nil // may name programs not loaded here
		}
		if m.MaxEntries == 0 {
			switch m.Type {
			case ebpf.RingBuf, ebpf.UserRingbuf:
				m.MaxEntries = 4096
			case ebpf.PerfEventArray:
				// cilium/ebpf sizes it to the number of CPUs.
			default:
				m.MaxEntries = 1
			}
		}
	}
	coll, err := ebpf.NewCollectionWithOptions(cs, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{KernelTypes: kernelTypes},
	})
	if err == nil {
		coll.Close()
	}
	return loadClass(err), err
}

// loadClass classifies a load error.
func loadClass(err error) string {
	var ve *ebpf.VerifierError
	switch {
	case err == nil:
		return LoadLoaded
	case strings.Contains(err.Error(), "apply CO-RE relocations"):
		return LoadCORE
	case errors.Is(err, ebpf.ErrNotSupported):
		return LoadNotSupported
	case errors.As(err, &ve):
		return LoadVerifier
	case errors.Is(err, os.ErrPermission):
		return LoadPermission
	}
	return LoadOther
}

// errLine is the first line of an error, "" for nil.
func errLine(err error) string {
	if err == nil {
		return ""
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
