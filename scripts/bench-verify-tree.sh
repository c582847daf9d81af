#!/usr/bin/env bash
# bench-verify-tree.sh [TREE] — time `btftool gen min_core_btf` of a
# btfhub-style tree into a temporary directory against `btftool verify` of
# the tree against that output, in the same run, three times each
# (alternating), and print the best of each and their ratio. Objects:
# testdata/bpf and Debian's libbpf-tools (extracted on demand). Default
# tree: ../shared/kernels.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
scripts/extract-libbpf-tools.sh testdata/libbpf-tools >/dev/null 2>&1 || true
tree=${1:-../shared/kernels}
objs=(testdata/bpf/*.bpf.o testdata/libbpf-tools/*.bpf.o)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "tree: $tree ($(find "$tree" -name '*.btf*' -type f | wc -l) kernels), ${#objs[@]} objects"
echo "machine: $(nproc) cores, $(uname -r), $(go version | cut -d' ' -f3)"
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
best_gen=999999 best_verify=999999
for i in 1 2 3; do
	rm -rf "$tmp/out"
	g=$(secs bin/btftool gen min_core_btf -q --force "$tree" "$tmp/out" "${objs[@]}")
	v=$(secs bin/btftool verify -q "$tree" "$tmp/out" "${objs[@]}")
	echo "run $i: gen ${g}s, verify ${v}s"
	best_gen=$(echo "if ($g < $best_gen) $g else $best_gen" | bc)
	best_verify=$(echo "if ($v < $best_verify) $v else $best_verify" | bc)
done
echo "best of 3: gen ${best_gen}s, verify ${best_verify}s, verify/gen $(echo "scale=2; $best_verify / $best_gen" | bc)"
