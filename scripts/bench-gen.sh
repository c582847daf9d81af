#!/usr/bin/env bash
# bench-gen.sh [KERNEL] — time `btftool gen min_core_btf` against
# `bpftool gen min_core_btf` on the same kernel and objects in one run, and
# print the ratio and peak memory of each. Objects: testdata/bpf plus Debian's
# libbpf-tools (extracted on demand). Default kernel: the Debian 6.1 BTF in
# testdata, decompressed once so both tools read the same raw file.
# Needs bpftool and hyperfine (installed from Debian when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in bpftool hyperfine; do
	if ! command -v $tool >/dev/null; then
		[ "$(id -u)" = 0 ] || { echo "bench-gen: $tool missing" >&2; exit 1; }
		apt-get install -y -qq $tool >/dev/null
	fi
done
[ -x bin/btftool ] || make -s build
scripts/extract-libbpf-tools.sh testdata/libbpf-tools >/dev/null 2>&1 || true
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kernel=${1:-testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz}
case "$kernel" in
*.xz) xz -dc "$kernel" | tar -xO >"$tmp/kernel.btf" 2>/dev/null || xz -dc "$kernel" >"$tmp/kernel.btf" ;;
*) cp "$kernel" "$tmp/kernel.btf" ;;
esac
objs=(testdata/bpf/*.bpf.o testdata/libbpf-tools/*.bpf.o)
# bpftool aborts on some inputs: benchmark the objects it accepts.
ok=()
for o in "${objs[@]}"; do
	bpftool gen min_core_btf "$tmp/kernel.btf" "$tmp/p.btf" "$o" 2>/dev/null && ok+=("$o")
done
echo "kernel: $kernel ($(stat -c %s "$tmp/kernel.btf") bytes raw), ${#ok[@]} objects (of ${#objs[@]}; the rest bpftool rejects)"
echo "machine: $(nproc) cores, $(uname -r), $(bpftool version | head -1), $(go version | cut -d' ' -f3)"
hyperfine -N -w 3 -r 30 --export-markdown "$tmp/times.md" \
	-n bpftool "bpftool gen min_core_btf $tmp/kernel.btf $tmp/b.btf ${ok[*]}" \
	-n btftool "bin/btftool gen min_core_btf -q $tmp/kernel.btf $tmp/o.btf ${ok[*]}"
cat "$tmp/times.md"
for t in bpftool btftool; do
	if [ $t = bpftool ]; then cmd=(bpftool gen min_core_btf "$tmp/kernel.btf" "$tmp/b.btf"); else cmd=(bin/btftool gen min_core_btf -q "$tmp/kernel.btf" "$tmp/o.btf"); fi
	rss=$(/usr/bin/time -f %M "${cmd[@]}" "${ok[@]}" 2>&1 >/dev/null | tail -1)
	echo "$t peak RSS: $rss KB"
done
echo "output bytes: bpftool $(stat -c %s "$tmp/b.btf"), btftool $(stat -c %s "$tmp/o.btf")"
