#!/usr/bin/env bash
# extract-libbpf-tools.sh OUTDIR [BINARY...]
#
# Extracts the CO-RE BPF objects that Debian's libbpf-tools binaries embed
# (a libbpf skeleton carries its object's ELF bytes) into OUTDIR/NAME.bpf.o,
# NAME being the tool's name (execsnoop.bpf.o, ...). Without BINARY
# arguments it takes every program of the libbpf-tools package, installing
# the package first when it is missing and we run as root (else exits 1).
# Symlinked tools (ext4dist -> fsdist, ...) are skipped: their object is the
# target's. A binary embedding several objects yields NAME.bpf.o,
# NAME.2.bpf.o, ...
#
# An embedded object is found by its ELF header: "\x7fELF", 64-bit,
# little-endian, e_machine 247 (EM_BPF); it ends with its section header table
# (e_shoff + e_shnum * e_shentsize). Idempotent: files whose content is
# already right are left untouched (same bytes, same mtime). Needs python3.
set -euo pipefail

usage() {
	echo "usage: $0 OUTDIR [BINARY...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
case "$1" in -h|--help) usage ;; esac
outdir=$1
shift

if ! command -v python3 >/dev/null 2>&1; then
	echo "$0: python3 is required" >&2
	exit 1
fi

if [ $# -eq 0 ]; then
	if ! dpkg-query -W -f='${Status}' libbpf-tools 2>/dev/null | grep -q 'install ok installed'; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "$0: the libbpf-tools package is not installed; run as root to have it installed, or: apt-get install -y libbpf-tools" >&2
			exit 1
		fi
		echo "$0: installing libbpf-tools" >&2
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y libbpf-tools >&2; then
			DEBIAN_FRONTEND=noninteractive apt-get update >&2
			DEBIAN_FRONTEND=noninteractive apt-get install -y libbpf-tools >&2
		fi
	fi
	bins=()
	while IFS= read -r f; do
		# regular files only: symlinked tools share their target's object
		if [ -f "$f" ] && [ ! -L "$f" ] && [ -x "$f" ]; then
			bins+=("$f")
		fi
	done < <(dpkg-query -L libbpf-tools | grep -E '^/usr/(s?bin|libexec)/' | LC_ALL=C sort)
	if [ ${#bins[@]} -eq 0 ]; then
		echo "$0: libbpf-tools lists no programs" >&2
		exit 1
	fi
	set -- "${bins[@]}"
fi

mkdir -p "$outdir"

python3 - "$outdir" "$@" <<'PY'
import os
import struct
import sys

EM_BPF = 247
outdir, bins = sys.argv[1], sys.argv[2:]


def embedded_bpf_objects(data):
    """Yield the bytes of each little-endian ELF64 EM_BPF object in data."""
    i = -1
    while True:
        i = data.find(b"\x7fELF\x02\x01", i + 1)
        if i < 0 or i + 64 > len(data):
            return
        if struct.unpack_from("<H", data, i + 0x12)[0] != EM_BPF:
            continue
        shoff, = struct.unpack_from("<Q", data, i + 0x28)
        ehsize, _, _, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHHH", data, i + 0x34)
        end = i + shoff + shentsize * shnum
        if ehsize != 64 or shentsize != 64 or shnum == 0 or shstrndx >= shnum or end > len(data):
            continue  # not a plausible object: a stray magic
        yield data[i:end]
        i = end - 1


def write_if_changed(path, blob):
    try:
        with open(path, "rb") as f:
            if f.read() == blob:
                return False
    except FileNotFoundError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, path)
    return True


written = same = 0
names = {}
for b in bins:
    with open(b, "rb") as f:
        data = f.read()
    objs = list(embedded_bpf_objects(data))
    if not objs:
        print("%s: no embedded BPF object" % b, file=sys.stderr)
        continue
    base = os.path.basename(b)
    if base in names:
        print("%s: name clash with %s, skipped" % (b, names[base]), file=sys.stderr)
        continue
    names[base] = b
    for n, blob in enumerate(objs, 1):
        name = "%s.bpf.o" % base if n == 1 else "%s.%d.bpf.o" % (base, n)
        if write_if_changed(os.path.join(outdir, name), blob):
            written += 1
        else:
            same += 1

print("%d BPF objects from %d binaries in %s (%d written, %d unchanged)"
      % (written + same, len(names), outdir, written, same))
if not names:
    sys.exit(1)
PY
