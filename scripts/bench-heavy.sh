#!/usr/bin/env bash
# bench-heavy.sh [KERNEL] — heavy objects: build them, then time btftool
# against bpftool on them in one run, with peak RSS (docs/performance.md,
# "Heavy objects").
#
# The objects are generated (internal/tools/genheavy) from KERNEL's BTF and
# compiled with clang-19 -target bpf -g -O2 against its vmlinux.h (bpftool
# btf dump file KERNEL format c) into testdata/heavy, which git ignores:
#   heavy.bpf.o     one object of about 35,000 CO-RE relocations
#   many/h*.bpf.o   30 objects of about 3,000 each (~90,000 in all)
# They are rebuilt when missing or when HEAVY_REBUILD=1. KERNEL defaults to
# the Debian 12 6.12 kernel of ../shared/kernels when present, else the
# Debian 6.1 kernel of testdata. The tree case minimizes every kernel of
# TREE (default ../shared/kernels, each kernel twice under another name)
# for all the heavy objects, against xz -dc of the same archives, 2 jobs.
# The go benchmarks use the same objects:
#   go test ./pkg/btfgen/ ./pkg/bpfobj/ -run - -bench Heavy
# Needs clang-19, bpftool, hyperfine, xz (installed from Debian as root).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in clang-19 bpftool hyperfine xz; do
	if ! command -v $tool >/dev/null; then
		[ "$(id -u)" = 0 ] || { echo "bench-heavy: $tool missing" >&2; exit 1; }
		pkg=$tool
		[ $tool = xz ] && pkg=xz-utils
		apt-get install -y -qq $pkg >/dev/null
	fi
done
[ -f /usr/include/bpf/bpf_core_read.h ] || apt-get install -y -qq libbpf-dev >/dev/null
make -s build
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kernel=${1:-}
if [ -z "$kernel" ]; then
	kernel=../shared/kernels/debian/12/x86_64/6.12.117+deb12-amd64.btf.tar.xz
	[ -f "$kernel" ] || kernel=testdata/kernels/debian/12/x86_64/6.1.0-56-amd64.btf.tar.xz
fi
case "$kernel" in
*.xz) xz -dc "$kernel" | tar -xO >"$tmp/kernel.btf" 2>/dev/null || xz -dc "$kernel" >"$tmp/kernel.btf" ;;
*) cp "$kernel" "$tmp/kernel.btf" ;;
esac

out=testdata/heavy
if [ "${HEAVY_REBUILD:-0}" = 1 ] || [ ! -f $out/heavy.bpf.o ] || [ "$(ls $out/many/*.bpf.o 2>/dev/null | wc -l)" -lt 30 ]; then
	rm -rf $out
	mkdir -p $out/many
	go build -o "$tmp/genheavy" ./internal/tools/genheavy
	bpftool btf dump file "$tmp/kernel.btf" format c >$out/vmlinux.h
	"$tmp/genheavy" -btf "$tmp/kernel.btf" -relocs 35000 -distinct 400 -per-prog 60 -seed 1 -o $out/heavy.bpf.c
	for s in $(seq 1 30); do
		"$tmp/genheavy" -btf "$tmp/kernel.btf" -relocs 3000 -distinct 300 -per-prog 60 -seed "$s" -o $out/many/h$s.bpf.c 2>/dev/null
	done
	cflags="-target bpf -g -O2 -D__TARGET_ARCH_x86 -I$PWD/$out -Wno-unused-value"
	# shellcheck disable=SC2086
	ls $out/heavy.bpf.c $out/many/*.bpf.c | xargs -P"$(nproc)" -I{} sh -c "clang-19 $cflags -c {} -o \$(dirname {})/\$(basename {} .c).o"
fi
heavy=$out/heavy.bpf.o
many=("$out"/many/*.bpf.o)
count() { bin/btftool inspect object -o json "$@" | grep -c '"kind"'; }
echo "kernel: $kernel ($(stat -c %s "$tmp/kernel.btf") bytes raw)"
echo "heavy: $(stat -c %s $heavy) bytes, $(count $heavy) relocations; many: ${#many[@]} objects, $(count "${many[@]}") relocations"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(bpftool version | head -1), $(go version | cut -d' ' -f3)"

rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
bench() { # name, runs, then the objects
	local name=$1 runs=$2
	shift 2
	hyperfine -N -w 1 -r "$runs" --export-json "$tmp/$name.json" \
		-n bpftool "bpftool gen min_core_btf $tmp/kernel.btf $tmp/b.btf $*" \
		-n btftool "bin/btftool gen min_core_btf -q $tmp/kernel.btf $tmp/o.btf $*" >/dev/null
	local tb to rb ro
	tb=$(grep -m1 '"mean"' "$tmp/$name.json" | tr -dc '0-9.')
	to=$(grep '"mean"' "$tmp/$name.json" | sed -n 2p | tr -dc '0-9.')
	rb=$(rss bpftool gen min_core_btf "$tmp/kernel.btf" "$tmp/b.btf" "$@")
	ro=$(rss bin/btftool gen min_core_btf -q "$tmp/kernel.btf" "$tmp/o.btf" "$@")
	printf '%-6s bpftool %6.3f s %7d KB | btftool %6.3f s %7d KB | ratio %.2f wall, %.2f RSS | output bytes %d vs %d\n' \
		"$name" "$tb" "$rb" "$to" "$ro" "$(echo "$to / $tb" | bc -l)" "$(echo "$ro / $rb" | bc -l)" \
		"$(stat -c %s "$tmp/b.btf")" "$(stat -c %s "$tmp/o.btf")"
}
bench one 10 $heavy
bench many 3 "${many[@]}"

hyperfine -N -w 2 -r 10 --export-json "$tmp/inspect.json" "bin/btftool inspect object $heavy" >/dev/null
printf 'inspect object %s: %.3f s, %d KB\n' $heavy "$(grep -m1 '"mean"' "$tmp/inspect.json" | tr -dc '0-9.')" \
	"$(rss bin/btftool inspect object $heavy)"

# The tree: every kernel of TREE twice, as hard links.
tree=${TREE:-../shared/kernels}
if [ -d "$tree" ]; then
	mapfile -t rels < <(cd "$tree" && find . -name '*.btf.tar.xz' | sed 's|^\./||' | sort)
	for c in 0 1; do
		for rel in "${rels[@]}"; do
			d="$tmp/tree/$(dirname "$rel")"
			mkdir -p "$d"
			ln "$tree/$rel" "$d/$(basename "$rel" .btf.tar.xz)-c$c.btf.tar.xz" 2>/dev/null ||
				cp "$tree/$rel" "$d/$(basename "$rel" .btf.tar.xz)-c$c.btf.tar.xz"
		done
	done
	n=$(find "$tmp/tree" -name '*.btf.tar.xz' | wc -l)
	now() { date +%s.%N; }
	t=$(now)
	find "$tmp/tree" -name '*.btf.tar.xz' | xargs -P2 -I{} sh -c 'xz -dc "$1" >/dev/null' _ {}
	t_xz=$(echo "$(now) - $t" | bc)
	tree() { # label, then the objects
		local label=$1 t t_bt ro
		shift
		rm -rf "$tmp/out"
		t=$(now)
		ro=$(rss bin/btftool gen min_core_btf -q --jobs 2 "$tmp/tree" "$tmp/out" "$@")
		t_bt=$(echo "$(now) - $t" | bc)
		printf 'tree of %d kernels, %s, 2 jobs: xz -dc %.2f s | btftool %.2f s %d KB | ratio %.2f\n' \
			"$n" "$label" "$t_xz" "$t_bt" "$ro" "$(echo "$t_bt / $t_xz" | bc -l)"
	}
	tree "heavy.bpf.o" $heavy
	tree "heavy.bpf.o and many (31 objects)" $heavy "${many[@]}"
	# Peak RSS must not grow with the number of kernels: the same tree
	# twice as large (each kernel four times).
	for c in 2 3; do
		for rel in "${rels[@]}"; do
			ln "$tree/$rel" "$tmp/tree/$(dirname "$rel")/$(basename "$rel" .btf.tar.xz)-c$c.btf.tar.xz" 2>/dev/null ||
				cp "$tree/$rel" "$tmp/tree/$(dirname "$rel")/$(basename "$rel" .btf.tar.xz)-c$c.btf.tar.xz"
		done
	done
	rm -rf "$tmp/out"
	printf 'tree of %d kernels, 31 objects, 2 jobs: peak RSS %d KB\n' "$(find "$tmp/tree" -name '*.btf.tar.xz' | wc -l)" \
		"$(rss bin/btftool gen min_core_btf -q --jobs 2 "$tmp/tree" "$tmp/out" $heavy "${many[@]}")"
fi
