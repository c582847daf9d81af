#!/usr/bin/env bash
# Writes testdata/kernels/debian/12/x86_64/RELEASE.modules.tar.xz: the
# split BTF of the few kernel modules the module test objects
# (testdata/bpf/mod*.bpf.c) read, for both Debian x86_64 kernels of
# testdata, taken from the full module archives of ../shared/modules
# (btfhub's layout: RELEASE/MODULE.btf). The archives are reproducible:
# sorted members, fixed owner and times, xz -9e single-threaded.
#
# usage: scripts/testdata-modules.sh [SHARED_MODULES_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-../shared/modules/debian/12/x86_64}
dst=testdata/kernels/debian/12/x86_64
modules="asus-laptop asus-wmi bonding libertas_sdio nf_conntrack nft_nat ohci-hcd rpcrdma uhci-hcd usb8xxx"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for release in 6.1.0-56-amd64 6.12.117+deb12-amd64; do
	members=()
	for m in $modules; do members+=("$release/$m.btf"); done
	tar -xJf "$src/$release.modules.tar.xz" -C "$tmp" "${members[@]}"
	tar -C "$tmp" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
		-cf - "${members[@]}" | xz -9e -T1 -c > "$dst/$release.modules.tar.xz"
	echo "$dst/$release.modules.tar.xz: $(wc -c < "$dst/$release.modules.tar.xz") bytes, ${#members[@]} modules"
done
