#!/usr/bin/env bash
# compare-bpftool.sh KERNEL_OR_DIR OBJ...
#
# Runs `bpftool gen min_core_btf` and `btftool gen min_core_btf` on the same
# kernel BTF(s) and objects and reports, per kernel: output size and number
# of types kept by each, and every CO-RE relocation whose libbpf outcome
# (tools/oracle/relo_oracle) differs between the full BTF and either
# minimized BTF. KERNEL_OR_DIR is a kernel BTF (raw, ELF, .xz, .gz, .zst or
# a .tar[.xz|.gz]) or a directory searched for them (btfhub layout).
#
# Environment: BTFTOOL (default: bin/btftool, built if missing), BPFTOOL
# (default: bpftool), ORACLE (default: tools/oracle/relo_oracle, built if
# missing), NO_ORACLE=1 to skip the relocation comparison (it needs root,
# gcc and libbpf-dev; it is skipped with a note when unavailable).
#
# Exit status: 0 when btftool succeeded on every kernel, kept every libbpf
# decision and was never larger than bpftool; 1 otherwise; 2 usage error.
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 KERNEL_OR_DIR OBJ..." >&2; exit 2; }
target=$1; shift
objs=("$@")
for o in "${objs[@]}"; do
	[ -f "$o" ] || { echo "$0: $o: no such object" >&2; exit 2; }
done
bpftool=${BPFTOOL:-bpftool}
command -v "$bpftool" >/dev/null || { echo "$0: bpftool not found (set BPFTOOL)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

btftool=${BTFTOOL:-}
if [ -z "$btftool" ]; then
	btftool=$repo/bin/btftool
	if [ ! -x "$btftool" ]; then
		btftool=$tmp/btftool
		(cd "$repo" && go build -o "$btftool" ./cmd/btftool) || { echo "$0: cannot build btftool (set BTFTOOL)" >&2; exit 2; }
	fi
fi

oracle=${ORACLE:-$repo/tools/oracle/relo_oracle}
if [ "${NO_ORACLE:-0}" = 1 ]; then
	oracle=
elif [ "$(id -u)" != 0 ]; then
	echo "note: not root: relocation outcomes not compared (relo_oracle loads programs)" >&2
	oracle=
elif [ ! -x "$oracle" ] && ! make -s -C "$repo/tools/oracle" relo_oracle >&2; then
	echo "note: cannot build tools/oracle/relo_oracle (needs gcc, libbpf-dev): relocation outcomes not compared" >&2
	oracle=
fi

# kernels: the BTF files to compare.
kernels=()
if [ -d "$target" ]; then
	while IFS= read -r f; do kernels+=("$f"); done < <(find "$target" -type f \( -name '*.btf' -o -name '*.btf.*' -o -name 'vmlinux*' \) | sort)
else
	kernels=("$target")
fi
[ ${#kernels[@]} -gt 0 ] || { echo "$0: no kernel BTF under $target" >&2; exit 2; }

# raw FILE: prints the path of FILE as raw or ELF BTF, which bpftool and
# libbpf read, decompressing or extracting into $tmp when needed.
raw() {
	local f=$1 out=$tmp/full
	rm -rf "$out" "$out.d"
	case "$f" in
	*.tar.xz | *.tar.gz | *.tgz | *.tar.zst | *.tar)
		mkdir -p "$out.d"
		tar -xf "$f" -C "$out.d" || return 1
		out=$(find "$out.d" -type f | sort | head -n 1)
		[ -n "$out" ] || return 1 ;;
	*.xz) xz -dc "$f" >"$out" || return 1 ;;
	*.gz) gzip -dc "$f" >"$out" || return 1 ;;
	*.zst) zstd -qdc "$f" >"$out" || return 1 ;;
	*) out=$f ;;
	esac
	echo "$out"
}

types() { "$bpftool" btf dump file "$1" 2>/dev/null | grep -c '^\['; }
decisions() { "$oracle" "$1" "$2" 2>/dev/null | grep -v '^LOAD'; }

bad=0
printf '%-50s %10s %6s %10s %6s  %s\n' KERNEL BPFTOOL TYPES BTFTOOL TYPES RELOCATIONS
for k in "${kernels[@]}"; do
	name=${k#"$target"/}
	[ -d "$target" ] || name=$(basename "$k")
	full=$(raw "$k") || { echo "$name: cannot extract" >&2; bad=1; continue; }
	b1=$tmp/bpftool.btf b2=$tmp/btftool.btf
	rm -f "$b1" "$b2"
	s1=- t1=- s2=- t2=- note=
	if "$bpftool" gen min_core_btf "$full" "$b1" "${objs[@]}" >"$tmp/bpftool.log" 2>&1; then
		s1=$(stat -c %s "$b1") t1=$(types "$b1")
	else
		note="bpftool failed: $(grep -m1 -i error "$tmp/bpftool.log" | cut -c1-120)"
		rm -f "$b1"
	fi
	if "$btftool" gen min_core_btf -q "$full" "$b2" "${objs[@]}" >"$tmp/btftool.log" 2>&1; then
		s2=$(stat -c %s "$b2") t2=$(types "$b2")
	else
		note="$note${note:+; }btftool failed: $(head -n 1 "$tmp/btftool.log" | cut -c1-120)"
		bad=1
		rm -f "$b2"
	fi
	if [ "$s1" != - ] && [ "$s2" != - ] && [ "$s2" -gt "$s1" ]; then
		note="$note${note:+; }btftool larger"
		bad=1
	fi
	relo=not-compared
	details=()
	if [ -n "$oracle" ]; then
		relo=same
		for o in "${objs[@]}"; do
			decisions "$o" "$full" >"$tmp/full.txt"
			for which in bpftool btftool; do
				[ -f "$tmp/$which.btf" ] || continue
				decisions "$o" "$tmp/$which.btf" >"$tmp/min.txt"
				if ! diff "$tmp/full.txt" "$tmp/min.txt" >"$tmp/d"; then
					relo=DIFFERENT
					[ $which = btftool ] && bad=1
					details+=("  $which $(basename "$o"): libbpf decides differently than with the full BTF:")
					while IFS= read -r l; do details+=("    $l"); done < <(grep '^[<>]' "$tmp/d" | sed 's/^</full:/; s/^>/min: /')
				fi
			done
		done
	fi
	printf '%-50s %10s %6s %10s %6s  %s%s\n' "$name" "$s1" "$t1" "$s2" "$t2" "$relo" "${note:+  ($note)}"
	[ ${#details[@]} -eq 0 ] || printf '%s\n' "${details[@]}"
done
exit $bad
