#!/usr/bin/env bash
# check-min-btf.sh [-m MINIMIZER] KERNEL_BTF... -- OBJ...
#
# For every kernel BTF x object: minimize the kernel BTF for the object
# (default: `bpftool gen min_core_btf KERNEL MIN OBJ`; with -m, the command
# MINIMIZER is run as `MINIMIZER KERNEL MIN OBJ`), then run relo_oracle
# against the full and the minimized BTF and compare the relocation lines
# (LOAD lines are compared separately and only reported). Prints one line per
# pair: "ok", "DIFF" (followed by the differing lines), or "MINFAIL" when the
# minimizer failed; a summary last. Exit status 1 if any pair differed.
# Needs root (relo_oracle loads the programs). Builds relo_oracle on first use.
set -u
here=$(cd "$(dirname "$0")" && pwd)
oracle=${ORACLE:-$here/relo_oracle}
minimizer="bpftool gen min_core_btf"
if [ "${1:-}" = "-m" ]; then minimizer=$2; shift 2; fi
kernels=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do kernels+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#kernels[@]} -gt 0 ] && [ $# -gt 0 ] || { echo "usage: $0 [-m MINIMIZER] KERNEL_BTF... -- OBJ..." >&2; exit 2; }
[ -x "$oracle" ] || make -s -C "$here" relo_oracle >&2 || exit 2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok=0 diff=0 minfail=0 loaddiff=0
for k in "${kernels[@]}"; do
	for o in "$@"; do
		tag="$(basename "$o") @ $(basename "$k")"
		if ! $minimizer "$k" "$tmp/min.btf" "$o" >"$tmp/min.log" 2>&1; then
			minfail=$((minfail + 1))
			echo "MINFAIL $tag: $(tr '\n' ' ' <"$tmp/min.log" | cut -c1-300)"
			continue
		fi
		"$oracle" "$o" "$k" >"$tmp/full.out" 2>"$tmp/full.err"
		"$oracle" "$o" "$tmp/min.btf" >"$tmp/min.out" 2>"$tmp/min.err"
		if diff <(grep -v '^LOAD' "$tmp/full.out") <(grep -v '^LOAD' "$tmp/min.out") >"$tmp/d"; then
			ok=$((ok + 1))
			la=$(grep '^LOAD' "$tmp/full.out"); lb=$(grep '^LOAD' "$tmp/min.out")
			if [ "$la" != "$lb" ]; then
				loaddiff=$((loaddiff + 1))
				echo "ok $tag (relocations equal; full: $la, min: $lb)"
			else
				echo "ok $tag ($(grep -c 'relo #' "$tmp/full.out") lines, $la)"
			fi
		else
			diff=$((diff + 1))
			echo "DIFF $tag"
			sed 's/^/    /' "$tmp/d"
		fi
	done
done
echo "summary: $ok equal, $diff differ, $minfail minimizer failures, $loaddiff load-result differences"
[ $diff -eq 0 ]
