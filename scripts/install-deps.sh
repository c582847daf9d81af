#!/usr/bin/env bash
# Install the Debian packages btftool's tests and benchmarks use, when they
# are missing and we are root. Without root, print what is missing and go on:
# the tests that need them skip.
set -u
need=()
command -v clang-19 >/dev/null || need+=(clang-19)
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
command -v bpftool >/dev/null || need+=(bpftool)
command -v xz >/dev/null || need+=(xz-utils)
[ -f /usr/include/bpf/libbpf.h ] || need+=(libbpf-dev)
[ -x /usr/sbin/execsnoop ] || need+=(libbpf-tools)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: not root; missing ${need[*]} (tests needing them will skip)" >&2
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
	{ echo "install-deps: apt-get install ${need[*]} failed" >&2; exit 1; }
