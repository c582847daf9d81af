package inspect_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/btftool/btftool/pkg/bpfobj"
	"github.com/btftool/btftool/pkg/inspect"
	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// TestRunModules: with a kernel's modules, relocations of module types
// are satisfied and name the modules that serve them.
func TestRunModules(t *testing.T) {
	dir := "../../testdata/kernels/debian/12/x86_64/"
	var objs []*bpfobj.Object
	for _, n := range []string{"modules", "modmulti"} {
		o, err := bpfobj.Open(filepath.Join("../../testdata/bpf", n+".bpf.o"))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	read := func(path string) (*rawbtf.BTF, error) {
		data, _, err := kbtf.ReadFile(path, nil)
		if err != nil {
			return nil, err
		}
		return rawbtf.Parse(data)
	}
	k := inspect.Kernel{Path: dir + "6.1.0-56-amd64.btf.tar.xz", Name: "6.1", Release: "6.1.0-56-amd64"}
	without := inspect.Run([]inspect.Kernel{k}, objs, inspect.RunOptions{Read: read})[0]
	k.Modules = dir + "6.1.0-56-amd64.modules.tar.xz"
	with := inspect.Run([]inspect.Kernel{k}, objs, inspect.RunOptions{Read: read})[0]
	if without.Error != "" || with.Error != "" {
		t.Fatal(without.Error, with.Error)
	}
	if without.FromModules != 0 || with.FromModules == 0 || with.OK-without.OK != with.FromModules {
		t.Errorf("ok %d -> %d, %d from modules", without.OK, with.OK, with.FromModules)
	}
	modules := map[string]string{}
	for _, o := range with.Objects {
		for _, d := range o.Details {
			if len(d.Modules) > 0 {
				modules[d.Path] = strings.Join(d.Modules, ",")
			}
		}
	}
	for path, want := range map[string]string{
		"struct nf_conn_acct.counter[1].packets.counter": "nf_conntrack",
		"struct nft_nat.type":                            "nft_nat",
		"struct cmd_ctrl_node.result":                    "libertas_sdio,usb8xxx",
		"struct urb_priv.length":                         "ohci_hcd",
	} {
		if modules[path] != want {
			t.Errorf("%s: modules %q, want %q", path, modules[path], want)
		}
	}
	for path := range modules {
		if strings.HasPrefix(path, "struct xdr_stream") || strings.HasPrefix(path, "struct file_system_type") {
			t.Errorf("%s: served by modules %s, but vmlinux has the type", path, modules[path])
		}
	}
	// Modules of another kernel are refused, naming the module archive.
	k.Modules = dir + "6.12.117+deb12-amd64.modules.tar.xz"
	bad := inspect.Run([]inspect.Kernel{k}, objs, inspect.RunOptions{Read: read})[0]
	if !strings.Contains(bad.Error, "6.12.117+deb12-amd64.modules.tar.xz") {
		t.Errorf("modules of another kernel: error %q", bad.Error)
	}
}
