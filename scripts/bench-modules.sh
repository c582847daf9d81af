#!/usr/bin/env bash
# bench-modules.sh [KERNEL MODULES] — time `btftool gen min_core_btf
# --modules` on a kernel's .btf.tar.xz and its module archive against the
# floor of merely decompressing both with `xz -dc` (and `xz -T0 -dc`), and
# against the same gen without modules, in one run; print ratios and peak
# memory. Objects: testdata/bpf (the module test objects among them) and
# Debian's libbpf-tools (extracted on demand). Default: Debian 6.1 with all
# 4,023 of its modules from ../shared/modules, else the ten in testdata.
# Needs hyperfine (installed from Debian when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v hyperfine >/dev/null; then
	[ "$(id -u)" = 0 ] || { echo "bench-modules: hyperfine missing" >&2; exit 1; }
	apt-get install -y -qq hyperfine >/dev/null
fi
make -s build
scripts/extract-libbpf-tools.sh testdata/libbpf-tools >/dev/null 2>&1 || true
kernel=${1:-testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz}
modules=${2:-../shared/modules/debian/12/x86_64/6.1.0-56-amd64.modules.tar.xz}
[ -f "$modules" ] || modules=testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.modules.tar.xz
objs=(testdata/bpf/*.bpf.o testdata/libbpf-tools/*.bpf.o)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "kernel: $kernel, modules: $modules ($(stat -c %s "$modules") bytes), ${#objs[@]} objects"
echo "machine: $(nproc) cores, $(uname -r), $(xz --version | head -1), $(go version | cut -d' ' -f3)"
hyperfine -N -w 2 -r 20 --export-markdown "$tmp/times.md" \
	-n "xz -dc" "sh -c 'xz -dc $kernel >/dev/null; xz -dc $modules >/dev/null'" \
	-n "xz -T0 -dc" "sh -c 'xz -T0 -dc $kernel >/dev/null; xz -T0 -dc $modules >/dev/null'" \
	-n "btftool, no modules" "bin/btftool gen min_core_btf -q $kernel $tmp/a.btf ${objs[*]}" \
	-n "btftool --modules" "bin/btftool gen min_core_btf -q $kernel $tmp/b.btf ${objs[*]} --modules $modules"
cat "$tmp/times.md"
for m in "" "--modules $modules"; do
	rss=$(/usr/bin/time -f %M bin/btftool gen min_core_btf -q "$kernel" "$tmp/c.btf" "${objs[@]}" $m 2>&1 >/dev/null | tail -1)
	echo "btftool ${m:-without modules}: peak RSS $rss KB, output $(stat -c %s "$tmp/c.btf") bytes"
done
