#!/usr/bin/env bash
# bench-batch.sh [COPIES] — time btftool's batch mode over a btfhub-style
# tree against the pipeline users run today with bpftool (unpack each
# .btf.tar.xz with tar/xz into a temporary directory, then
# `bpftool gen min_core_btf`, 2 kernels at a time with xargs -P2), and
# against merely decompressing every input (`xz -dc`, also 2 at a time).
# Also prints btftool's peak RSS for 30 and for ~300 kernels.
#
# The tree is ../shared/kernels (8 kernels, or $KERNELS) replicated COPIES
# times (default 40) under other release names, as hard links.
# Objects: testdata/bpf and Debian's libbpf-tools (make testdata-libbpf-tools).
# testdata/bpf/btfdump.bpf.o makes bpftool abort on 4.x kernels (a libbpf
# ambiguity btftool reports and carries on from), so it is left out of
# both sides of the comparison; so is any other object bpftool rejects on
# one of the kernels.
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-40}
kernels=${KERNELS:-../shared/kernels}
jobs=2
for tool in bpftool xz tar /usr/bin/time; do
	command -v $tool >/dev/null || { echo "bench-batch: $tool missing" >&2; exit 1; }
done
make -s build
scripts/extract-libbpf-tools.sh testdata/libbpf-tools >/dev/null 2>&1 || true
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mapfile -t base < <(cd "$kernels" && find . -name '*.btf.tar.xz' | sed 's|^\./||' | sort)
[ ${#base[@]} -gt 0 ] || { echo "bench-batch: no kernels in $kernels" >&2; exit 1; }
# tree N: the first N kernels of the replicated set
mktree() {
	local dir=$1 n=$2 i=0 c rel d r
	for ((c = 0; ; c++)); do
		for rel in "${base[@]}"; do
			((i < n)) || return 0
			d=$(dirname "$rel")
			r=$(basename "$rel" .btf.tar.xz)
			mkdir -p "$dir/$d"
			ln "$kernels/$rel" "$dir/$d/$r-bench$c.btf.tar.xz" 2>/dev/null || cp "$kernels/$rel" "$dir/$d/$r-bench$c.btf.tar.xz"
			i=$((i + 1))
		done
	done
}
total=$((copies * ${#base[@]}))
mktree "$tmp/tree" $total
mktree "$tmp/tree30" 30

# Objects bpftool accepts on every base kernel.
mkdir -p "$tmp/raw"
for rel in "${base[@]}"; do
	xz -dc "$kernels/$rel" | tar -xO >"$tmp/raw/$(basename "$rel" .tar.xz)"
done
objs=()
for o in testdata/bpf/*.bpf.o testdata/libbpf-tools/*.bpf.o; do
	[ "$(basename "$o")" = btfdump.bpf.o ] && continue
	ok=1
	for k in "$tmp"/raw/*.btf; do
		bpftool gen min_core_btf "$k" "$tmp/probe.btf" "$o" >/dev/null 2>&1 || { ok=0; break; }
	done
	((ok)) && objs+=("$o")
done
rm -rf "$tmp/raw"
nobj=$(ls testdata/bpf/*.bpf.o testdata/libbpf-tools/*.bpf.o | wc -l)
echo "kernels: $total (${#base[@]} from $kernels x $copies), objects: ${#objs[@]} of $nobj (btfdump.bpf.o and any bpftool rejects left out)"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(bpftool version | head -1), $(go version | cut -d' ' -f3)"

printf '%s\n' "${objs[@]}" >"$tmp/objs"
cat >"$tmp/bpftool-one.sh" <<'EOS'
#!/usr/bin/env bash
# bpftool-one.sh TREE OUT OBJS_FILE REL: the pipeline for one kernel
set -euo pipefail
tree=$1 out=$2 rel=$4
mapfile -t objs <"$3"
d=$(mktemp -d)
tar -xJf "$tree/$rel" -C "$d"
mkdir -p "$out/$(dirname "$rel")"
bpftool gen min_core_btf "$(find "$d" -type f | head -1)" "$out/${rel%.tar.xz}" "${objs[@]}" >/dev/null 2>&1
rm -rf "$d"
EOS
chmod +x "$tmp/bpftool-one.sh"
(cd "$tmp/tree" && find . -name '*.btf.tar.xz' | sed 's|^\./||' | sort) >"$tmp/list"

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

sync
t=$(now)
xargs -P$jobs -I{} sh -c 'xz -dc "$1" >/dev/null' _ "$tmp/tree/{}" <"$tmp/list"
t_xz=$(elapsed "$t")

t=$(now)
xargs -P$jobs -I{} "$tmp/bpftool-one.sh" "$tmp/tree" "$tmp/out-bpftool" "$tmp/objs" {} <"$tmp/list"
t_bpftool=$(elapsed "$t")

t=$(now)
bin/btftool gen min_core_btf -q --jobs $jobs "$tmp/tree" "$tmp/out-btftool" "${objs[@]}" || true
t_btftool=$(elapsed "$t")

t=$(now)
bin/btftool gen min_core_btf -q --jobs $jobs "$tmp/tree" "$tmp/bundle.tar.xz" "${objs[@]}" || true
t_bundle=$(elapsed "$t")

t=$(now)
bin/btftool gen min_core_btf -q --jobs $jobs "$tmp/tree" "$tmp/out-btftool" "${objs[@]}" || true
t_incr=$(elapsed "$t")

rss30=$(/usr/bin/time -f %M bin/btftool gen min_core_btf -q --jobs $jobs "$tmp/tree30" "$tmp/rss30" "${objs[@]}" 2>&1 >/dev/null | tail -1)
rssN=$(/usr/bin/time -f %M bin/btftool gen min_core_btf -q --jobs $jobs "$tmp/tree" "$tmp/rssN" "${objs[@]}" 2>&1 >/dev/null | tail -1)

same=$(cd "$tmp/out-btftool" && find . -name '*.btf' | while read -r f; do [ "$(stat -c %s "$f")" = "$(stat -c %s "$tmp/out-bpftool/$f" 2>/dev/null)" ] && echo same-size || echo size-differs; done | sort | uniq -c | tr '\n' ' ')
nb=$(find "$tmp/out-bpftool" -name '*.btf' | wc -l)
nt=$(find "$tmp/out-btftool" -name '*.btf' | wc -l)

printf '\n%-44s %8s %8s\n' "wall time, $total kernels, $jobs in parallel" seconds ratio
printf '%-44s %8.2f %8s\n' "xz -dc of every input" "$t_xz" 1.00
printf '%-44s %8.2f %8.2f\n' "bpftool pipeline (tar -xJ + bpftool)" "$t_bpftool" "$(echo "$t_bpftool / $t_xz" | bc -l)"
printf '%-44s %8.2f %8.2f\n' "btftool gen min_core_btf DIR OUTDIR" "$t_btftool" "$(echo "$t_btftool / $t_xz" | bc -l)"
printf '%-44s %8.2f %8.2f\n' "btftool gen min_core_btf DIR bundle.tar.xz" "$t_bundle" "$(echo "$t_bundle / $t_xz" | bc -l)"
printf '%-44s %8.2f %8.2f\n' "btftool again, unchanged (all skipped)" "$t_incr" "$(echo "$t_incr / $t_xz" | bc -l)"
printf '\nbtftool / bpftool pipeline: %.2fx (target <= 0.4)\n' "$(echo "$t_btftool / $t_bpftool" | bc -l)"
printf 'btftool / xz -dc:            %.2fx (target <= 1.5)\n' "$(echo "$t_btftool / $t_xz" | bc -l)"
echo "btftool peak RSS: 30 kernels $rss30 KB, $total kernels $rssN KB"
echo "outputs: bpftool $nb, btftool $nt; sizes vs bpftool: $same"
echo "bundle: $(stat -c %s "$tmp/bundle.tar.xz") bytes for $total kernels"
