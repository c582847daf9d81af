package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/btftool/btftool/internal/testfs"
)

// recordAt is how the errors about a CO-RE record of the suite's objects
// (all the first record of execsnoop.bpf.o) begin.
const recordAt = "program trace_execve (section tracepoint/raw_syscalls/sys_enter): CO-RE relocation #0: invalid CO-RE relocation record: "

// badInputs is the bad-input suite: one file per case in testdata/bad
// (written by internal/tools/genbad, documented in testdata/bad/README.md),
// each with the role it plays and a fragment of the one-line message.
var badInputs = []struct {
	file, role, want string
}{
	{"kernel-empty.btf", "kernel", "empty file"},
	{"kernel-wrong-magic.btf", "kernel", "not BTF, ELF or a supported archive"},
	{"kernel-truncated-header.btf", "kernel", "truncated header"},
	{"kernel-bad-version.btf", "kernel", "unsupported version 9"},
	{"kernel-truncated-types.btf", "kernel", "type section [0, +52) beyond end of data"},
	{"kernel-type-section-4gib.btf", "kernel", "beyond end of data"},
	{"kernel-string-offset-out-of-range.btf", "kernel", "name offset 1048576 beyond string section"},
	{"kernel-type-id-out-of-range.btf", "kernel", "refers to type [9999]"},
	{"kernel-unknown-kind.btf", "kernel", "unknown kind 30"},
	{"kernel-absurd-vlen.btf", "kernel", "STRUCT with 65535 entries truncated"},
	{"kernel-self-referential.btf", "kernel", "reference cycle"},
	{"kernel-cyclic.btf", "kernel", "reference cycle"},
	{"kernel-huge-name.btf", "kernel", "is 102400 bytes long"},
	{"kernel-elf-without-btf.o", "kernel", "ELF has no .BTF section"},
	{"kernel-truncated.btf.xz", "kernel", "xz: unexpected end of input"},
	{"kernel-bad-crc.btf.gz", "kernel", "gz: invalid checksum"},
	{"kernel-decompression-bomb.btf.zst", "kernel", "data continues after the 102 bytes of BTF"},
	{"kernel-decompression-bomb-elf.zst", "kernel", "ELF size 1468006912 exceeds limit of 1 GiB"},
	{"kernel-tar-symlink-only.tar", "kernel", "no BTF or ELF file in tar archive"},
	{"kernel-tar-dotdot.tar", "kernel", "unsafe path"},
	{"kernel-tar-absolute.tar", "kernel", "unsafe path"},
	{"kernel-tar-no-btf.tar.gz", "kernel", "no BTF or ELF file in tar archive"},
	{"kernel-tar-bomb-entries.tar.gz", "kernel", "more than 4096 entries"},
	{"kernel-nested-too-deep.btf.gz", "kernel", "nested more than 4 deep"},
	{".", "kernel", "is a directory"},
	{"object-empty.bpf.o", "object", "not an ELF file"},
	{"object-not-elf.bpf.o", "object", "not an ELF file"},
	{"object-x86.o", "object", "not a BPF object: ELF machine is EM_X86_64"},
	{"object-no-btf.bpf.o", "object", "object has no .BTF section"},
	{"object-truncated.bpf.o", "object", "truncated ELF file"},
	{"object-corrupt-btf.bpf.o", "object", ".BTF: not BTF: bad magic"},
	{"object-corrupt-btf-ext.bpf.o", "object", "malformed .BTF.ext: bad magic"},
	{"object-btf-ext-records-beyond-end.bpf.o", "object", "CO-RE relocations [672, +2147483632) beyond end"},
	{"object-section-beyond-eof.bpf.o", "object", "beyond end of file"},
	{"object-big-endian.bpf.o", "object", "is big-endian, the kernel BTF little-endian"},
	{"object-btf-ext-record-size-unaligned.bpf.o", "object", "malformed .BTF.ext: CO-RE relocation record size 18"},
	{"object-btf-ext-section-without-records.bpf.o", "object", `section "tracepoint/raw_syscalls/sys_enter" with no CO-RE relocation records`},
	{"object-btf-ext-bad-version.bpf.o", "object", "malformed .BTF.ext: unsupported version 2"},
	{"object-reloc-unknown-kind.bpf.o", "object", recordAt + "unknown relocation kind 42"},
	{"object-reloc-type-id-out-of-range.bpf.o", "object", recordAt + "local type ID 99999 out of range"},
	{"object-reloc-string-offset-out-of-range.bpf.o", "object", recordAt + "access string offset 2147483647 beyond the string section"},
	{"object-reloc-access-not-a-path.bpf.o", "object", recordAt + `byte_off [10] trace_event_raw_sys_enter + "tracepoint/raw_syscalls/sys_enter": invalid CO-RE access spec: access string "tracepoint/raw_syscalls/sys_enter" is not an access path`},
	{"object-reloc-misaligned-insn.bpf.o", "object", recordAt + "instruction offset 3 is not a multiple of 8"},
	{"object-reloc-anonymous-type.bpf.o", "object", recordAt + "byte_off relocation against anonymous local type [7]"},
	{".", "object", "is a directory, not a BPF object"},
	{"missing-file", "object", "no such file or directory"},
	{"missing-file", "kernel", "no such file or directory"},
}

// TestBadInputSuite runs gen min_core_btf on every bad input: each must
// exit 2 with one line naming the file and the problem, create no output,
// and stay within seconds and a memory budget.
func TestBadInputSuite(t *testing.T) {
	dir := t.TempDir()
	good := obj("execsnoop.bpf.o")
	for _, tc := range badInputs {
		t.Run(tc.role+"/"+tc.file, func(t *testing.T) {
			bad := filepath.Join("../../testdata/bad", tc.file)
			out := filepath.Join(dir, "out.btf")
			args := []string{"gen", "min_core_btf", bad, out, good}
			if tc.role == "object" {
				args = []string{"gen", "min_core_btf", testKernel, out, bad}
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			inputs := testfs.ReadTree(t, "../../testdata/bad", nil)
			code, stdout, stderr := runCLI(t, args...)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			checkBad(t, code, stdout, stderr, bad, tc.want)
			if changed := testfs.Changed(inputs, testfs.ReadTree(t, "../../testdata/bad", nil)); len(changed) > 0 {
				t.Errorf("inputs changed: %v", changed)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("output file created")
			}
			if elapsed > 10*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
}

func checkBad(t *testing.T, code int, stdout, stderr, file, want string) {
	t.Helper()
	if code != 2 {
		t.Errorf("exit %d, want 2 (stderr %q)", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], file) || !strings.Contains(lines[0], want) {
		t.Errorf("stderr %q: want one line naming %s and saying %q", stderr, file, want)
	}
	if stdout != "" {
		t.Errorf("stdout %q", stdout)
	}
}

// TestBadOutputs: outputs that cannot be written.
func TestBadOutputs(t *testing.T) {
	dir := t.TempDir()
	good := obj("execsnoop.bpf.o")
	cases := []struct{ out, want string }{
		{filepath.Join(dir, "missing", "out.btf"), "does not exist"},
		{dir, "is a directory"},
		{"/proc/btftool-test.btf", "cannot write /proc/btftool-test.btf"},
	}
	// A full file system: a 16 KiB tmpfs (root only) that the output of
	// every test object does not fit in.
	full := filepath.Join(dir, "full")
	os.Mkdir(full, 0o755)
	if os.Geteuid() == 0 && exec.Command("mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", full).Run() == nil {
		defer exec.Command("umount", full).Run()
		// Fill it up so that any write fails.
		os.WriteFile(filepath.Join(full, "filler"), make([]byte, 16<<10), 0o644)
		cases = append(cases, struct{ out, want string }{filepath.Join(full, "out.btf"), "no space left on device"})
	} else {
		t.Log("cannot mount a tmpfs: full file system case skipped")
	}
	for _, tc := range cases {
		code, stdout, stderr := runCLI(t, "gen", "min_core_btf", testKernel, tc.out, good)
		checkBad(t, code, stdout, stderr, tc.out, tc.want)
		if fi, err := os.Stat(tc.out); err == nil && !fi.IsDir() {
			t.Errorf("%s: output created", tc.out)
		}
	}
	if entries, _ := os.ReadDir(full); len(entries) > 1 {
		t.Errorf("files left in the full file system: %v", entries)
	}
}

// TestInvalidRecordsEveryCommand: an object with a CO-RE record libbpf
// refuses whatever the kernel is bad input for every command that
// relocates it (one line naming the object, the program, the record and
// what is wrong), while inspect object lists the record, marked invalid.
func TestInvalidRecordsEveryCommand(t *testing.T) {
	dir := t.TempDir()
	min := filepath.Join(dir, "min.btf")
	if code, _, stderr := runCLI(t, "gen", "min_core_btf", "-q", testKernel, min, obj("execsnoop.bpf.o")); code != 0 {
		t.Fatal(stderr)
	}
	for _, tc := range badInputs {
		if !strings.HasPrefix(tc.file, "object-reloc-") {
			continue
		}
		bad := filepath.Join("../../testdata/bad", tc.file)
		t.Run(tc.file, func(t *testing.T) {
			inputs := testfs.ReadTree(t, "../../testdata/bad", nil)
			for _, args := range [][]string{
				{"gen", "min_core_btf", testKernel, filepath.Join(dir, "out.btf"), bad},
				{"verify", testKernel, min, bad},
				{"inspect", "compat", bad, "--kernels", testKernel},
				{"diff", testKernel, testKernel, "--only-used-by", bad},
			} {
				code, stdout, stderr := runCLI(t, args...)
				checkBad(t, code, stdout, stderr, bad, tc.want)
			}
			code, stdout, stderr := runCLI(t, "inspect", "object", bad)
			if code != 0 || !strings.Contains(stdout, strings.TrimPrefix(tc.want, recordAt)) || stderr != "" {
				t.Errorf("inspect object: exit %d, stderr %q; the record is not listed as invalid:\n%s", code, stderr, stdout)
			}
			if changed := testfs.Changed(inputs, testfs.ReadTree(t, "../../testdata/bad", nil)); len(changed) > 0 {
				t.Errorf("inputs changed: %v", changed)
			}
		})
	}
}
