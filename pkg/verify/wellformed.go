package verify

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/btftool/btftool/pkg/rawbtf"
)

// checkWellFormed runs the well-formedness checks of min and returns
// cilium/ebpf's spec of it, nil if it cannot read it.
func (rep *Report) checkWellFormed(k *Kernel, min []byte, opts Options) *btf.Spec {
	add := func(name, status, detail string) {
		rep.WellFormed = append(rep.WellFormed, WellFormedCheck{Name: name, Status: status, Detail: detail})
	}
	if _, err := rawbtf.Parse(min); err != nil {
		add("rawbtf", "failed", err.Error())
	} else {
		add("rawbtf", "ok", "")
	}
	spec, err := loadSpec(min)
	if err != nil {
		add("cilium/ebpf", "failed", err.Error())
	} else {
		add("cilium/ebpf", "ok", "")
	}
	if opts.NoKernelBTF {
		return spec
	}
	status, detail := kernelAccepts(k, min)
	if status != "" {
		add("kernel", status, detail)
	}
	return spec
}

// loadSpec reads raw BTF with cilium/ebpf and decodes every type, since
// cilium/ebpf decodes lazily.
func loadSpec(raw []byte) (*btf.Spec, error) {
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	for _, err := range spec.All() {
		if err != nil {
			return nil, err
		}
	}
	return spec, nil
}

// kernelAccepts offers min to the running kernel's BTF loader. It returns
// "" when the process may not load BTF, "skipped" when the kernel cannot
// judge min (other byte order, or it rejects the full BTF as well).
func kernelAccepts(k *Kernel, min []byte) (status, detail string) {
	if len(min) < 2 || binary.NativeEndian.Uint16(min) != rawbtf.Magic {
		return "skipped", "the kernel loads BTF in the host's byte order only"
	}
	h, err := btf.NewHandleFromRawBTF(min)
	if err == nil {
		h.Close()
		return "ok", ""
	}
	if errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, os.ErrPermission) {
		return "", ""
	}
	if k != nil {
		hf, ferr := btf.NewHandleFromRawBTF(k.raw)
		if ferr != nil {
			return "skipped", fmt.Sprintf("the running kernel rejects the full BTF too: %s", lastLines(ferr.Error()))
		}
		hf.Close()
	}
	return "failed", lastLines(err.Error())
}

// lastLines shortens a verifier log error to its message and last lines.
func lastLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) <= 4 {
		return strings.Join(lines, "; ")
	}
	return lines[0] + "; ...; " + strings.Join(lines[len(lines)-3:], "; ")
}
