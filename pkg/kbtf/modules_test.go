package kbtf

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"
)

func xzc(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := xz.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ko builds a .ko file: an ELF with a .BTF section and a .modinfo naming
// the module and the kernel release (each left out when empty).
func ko(name, release string, btf []byte) []byte {
	info := "license=GPL\x00"
	if name != "" {
		info += "name=" + name + "\x00"
	}
	if release != "" {
		info += "vermagic=" + release + " SMP preempt mod_unload modversions \x00"
	}
	return makeELF(elf.ELFCLASS64, binary.LittleEndian,
		section{name: ".text", typ: elf.SHT_PROGBITS, data: make([]byte, 16)},
		section{name: ".modinfo", typ: elf.SHT_PROGBITS, data: []byte(info)},
		section{name: ".BTF", typ: elf.SHT_PROGBITS, data: btf})
}

func writeFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// describe renders modules as "name@release" for comparison.
func describe(mods []ModuleFile) string {
	var s []string
	for _, m := range mods {
		s = append(s, m.Name+"@"+m.Release)
	}
	return strings.Join(s, " ")
}

func TestReadModulesArchive(t *testing.T) {
	mods, err := ReadModules("../../testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.modules.tar.xz", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "asus_laptop asus_wmi bonding libertas_sdio nf_conntrack nft_nat ohci_hcd rpcrdma uhci_hcd usb8xxx"
	var names []string
	for _, m := range mods {
		names = append(names, m.Name)
		if m.Release != "6.1.0-56-amd64" || !isBTF(m.BTF) {
			t.Errorf("%s: release %q, BTF % x...", m.Name, m.Release, m.BTF[:4])
		}
	}
	if got := strings.Join(names, " "); got != want {
		t.Errorf("modules %s, want %s", got, want)
	}
	if p := mods[4].Path; !strings.HasSuffix(p, "6.1.0-56-amd64.modules.tar.xz:6.1.0-56-amd64/nf_conntrack.btf") {
		t.Errorf("path %s", p)
	}
}

func TestReadModulesForms(t *testing.T) {
	btf := tinyBTF(binary.LittleEndian)
	tests := []struct {
		name  string
		files map[string][]byte // written under the test's directory
		path  string            // given to ReadModules, relative to it
		want  string
	}{
		{name: "sysfs directory", path: "btf",
			files: map[string][]byte{"btf/vmlinux": btf, "btf/nf_conntrack": btf, "btf/nvme_core": btf},
			want:  "nf_conntrack@ nvme_core@"},
		{name: "lib/modules tree of .ko in every compression", path: "lib/modules/6.1.0-9-amd64",
			files: map[string][]byte{
				"lib/modules/6.1.0-9-amd64/kernel/net/bridge.ko":        ko("bridge", "6.1.0-9-amd64", btf),
				"lib/modules/6.1.0-9-amd64/kernel/fs/xfs.ko.xz":         xzc(t, ko("xfs", "6.1.0-9-amd64", btf)),
				"lib/modules/6.1.0-9-amd64/kernel/nvme/nvme-core.ko.gz": gz(t, ko("", "", btf)),
				"lib/modules/6.1.0-9-amd64/kernel/net/nf_nat.ko.zst":    zst(t, ko("nf_nat", "6.1.0-9-amd64", btf)),
				"lib/modules/6.1.0-9-amd64/modules.dep":                 []byte("kernel/fs/xfs.ko.xz:\n"),
				"lib/modules/6.1.0-9-amd64/modules.builtin.modinfo":     []byte("x\x00"),
			},
			want: "bridge@6.1.0-9-amd64 nf_nat@6.1.0-9-amd64 nvme_core@6.1.0-9-amd64 xfs@6.1.0-9-amd64"},
		{name: "one .ko.xz", path: "m/overlay.ko.xz",
			files: map[string][]byte{"m/overlay.ko.xz": xzc(t, ko("overlay", "6.12.9", btf))},
			want:  "overlay@6.12.9"},
		{name: "btfhub tar.gz", path: "6.1.0-9-amd64.modules.tar.gz",
			files: map[string][]byte{"6.1.0-9-amd64.modules.tar.gz": gz(t, makeTar(t,
				tarEntry{name: "6.1.0-9-amd64/", typ: tar.TypeDir},
				tarEntry{name: "6.1.0-9-amd64/nf_conntrack.btf", typ: tar.TypeReg, data: btf},
				tarEntry{name: "6.1.0-9-amd64/snd-hda-intel.btf", typ: tar.TypeReg, data: btf}))},
			want: "nf_conntrack@6.1.0-9-amd64 snd_hda_intel@6.1.0-9-amd64"},
		{name: "tar.zst of .ko.xz", path: "mods.tar.zst",
			files: map[string][]byte{"mods.tar.zst": zst(t, makeTar(t,
				tarEntry{name: "kernel/kvm.ko.xz", typ: tar.TypeReg, data: xzc(t, ko("kvm", "6.12.9", btf))},
				tarEntry{name: "README", typ: tar.TypeReg, data: []byte("not a module")}))},
			want: "kvm@6.12.9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			mods, err := ReadModules(filepath.Join(dir, tc.path), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(mods); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			for _, m := range mods {
				if !bytes.Equal(m.BTF, btf) {
					t.Errorf("%s: BTF differs", m.Name)
				}
			}
		})
	}
}

func TestReadModulesErrors(t *testing.T) {
	btf := tinyBTF(binary.LittleEndian)
	tests := []struct {
		name  string
		files map[string][]byte
		path  string
		is    error  // errors.Is
		msg   string // in the message
	}{
		{name: "module twice", path: "d", files: map[string][]byte{"d/foo.btf": btf, "d/sub/foo.ko": ko("foo", "", btf)},
			is: ErrDuplicateModule, msg: "module foo is in both"},
		{name: "a .ko that is not ELF", path: "d", files: map[string][]byte{"d/bad.ko": []byte("garbage, not an ELF file")},
			is: ErrNotBTF, msg: "bad.ko"},
		{name: "a .ko without .BTF", path: "d", files: map[string][]byte{"d/nobtf.ko": makeELF(elf.ELFCLASS64, binary.LittleEndian,
			section{name: ".text", typ: elf.SHT_PROGBITS, data: make([]byte, 8)})},
			is: ErrNoBTFSection, msg: "nobtf.ko"},
		{name: "truncated .ko.xz", path: "d", files: map[string][]byte{"d/x.ko.xz": xzc(t, ko("x", "", btf))[:40]},
			is: ErrCorrupt, msg: "x.ko.xz"},
		{name: "unsafe member", path: "m.tar", files: map[string][]byte{"m.tar": makeTar(t,
			tarEntry{name: "../escape.btf", typ: tar.TypeReg, data: btf})},
			is: ErrCorrupt, msg: "unsafe path"},
		{name: "the path given is not module BTF", path: "notes.txt", files: map[string][]byte{"notes.txt": []byte("hello")},
			is: ErrNotBTF, msg: "notes.txt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			_, err := ReadModules(filepath.Join(dir, tc.path), nil)
			if !errors.Is(err, tc.is) || err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want %v naming %q", err, tc.is, tc.msg)
			}
		})
	}
	// A directory without modules is not an error here (kmod says so).
	mods, err := ReadModules(t.TempDir(), nil)
	if err != nil || len(mods) != 0 {
		t.Errorf("empty directory: %d modules, %v", len(mods), err)
	}
	if _, err := ReadModules(filepath.Join(t.TempDir(), "missing"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: %v", err)
	}
}

// TestReadModulesLimit: the limit applies to the whole source, a bomb of
// many small modules included.
func TestReadModulesLimit(t *testing.T) {
	big := make([]byte, 4096)
	copy(big, tinyBTF(binary.LittleEndian))
	var entries []tarEntry
	for i := 0; i < 64; i++ {
		entries = append(entries, tarEntry{name: "r/m" + strings.Repeat("x", i) + ".btf", typ: tar.TypeReg, data: big})
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "m.tar.gz")
	writeFiles(t, dir, map[string][]byte{"m.tar.gz": gz(t, makeTar(t, entries...))})
	if _, err := ReadModules(p, &Options{MaxSize: 64 << 10}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("error %v, want ErrTooLarge", err)
	}
	if mods, err := ReadModules(p, &Options{MaxSize: 1 << 20}); err != nil || len(mods) != 64 {
		t.Errorf("within the limit: %d modules, %v", len(mods), err)
	}
}
