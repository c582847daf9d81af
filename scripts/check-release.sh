#!/usr/bin/env bash
# check-release.sh GORELEASER — what CI proves about a release (make
# release-check, which builds GORELEASER, the goreleaser binary, and
# bin/btftool first):
#  1. make install DESTDIR=... PREFIX=/usr puts the binary, every man page
#     and the bash, zsh and fish completions where README says, the
#     installed binary runs, and make uninstall removes all of it;
#  2. goreleaser check accepts .goreleaser.yaml;
#  3. a snapshot release of .goreleaser.yaml restricted to linux/amd64 gives
#     an archive holding exactly the binary, LICENSE, README.md, docs/*.md,
#     docs/cli/*.md, docs/man/*.1, the completions and configs/*.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 GORELEASER" >&2; exit 2; }
goreleaser=$(realpath "$1")
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check-release: $*" >&2; exit 1; }

# 1. make install / uninstall.
root=$tmp/root
make -s install DESTDIR="$root" PREFIX=/usr >/dev/null
want_installed=$( {
	echo usr/bin/btftool
	for m in docs/man/*.1; do echo "usr/share/man/man1/${m##*/}"; done
	echo usr/share/bash-completion/completions/btftool
	echo usr/share/zsh/site-functions/_btftool
	echo usr/share/fish/vendor_completions.d/btftool.fish
} | LC_ALL=C sort)
got_installed=$(cd "$root" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
[ "$got_installed" = "$want_installed" ] ||
	fail "make install: files differ from the expected ones (- expected, + installed):
$(diff <(echo "$want_installed") <(echo "$got_installed") | grep '^[<>]' | sed 's/^</-/; s/^>/+/')"
for f in $got_installed; do [ -s "$root/$f" ] || fail "make install: $f is empty"; done
"$root/usr/bin/btftool" version >/dev/null || fail "the installed btftool does not run"
make -s uninstall DESTDIR="$root" PREFIX=/usr
left=$(cd "$root" && find . -type f)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "make install: $(echo "$want_installed" | wc -l) files in place; make uninstall removes them"

# 2. goreleaser check.
"$goreleaser" check -q || fail "goreleaser check rejects .goreleaser.yaml"
echo "goreleaser check: .goreleaser.yaml is valid"

# 3. A snapshot for linux/amd64 only, into a temporary dist directory.
sed -e 's/^    goos: .*/    goos: [linux]/' -e 's/^    goarch: .*/    goarch: [amd64]/' .goreleaser.yaml >"$tmp/goreleaser.yaml"
grep -q '^    goos: \[linux\]$' "$tmp/goreleaser.yaml" && grep -q '^    goarch: \[amd64\]$' "$tmp/goreleaser.yaml" ||
	fail "cannot restrict .goreleaser.yaml to linux/amd64: its builds' goos/goarch lines changed"
echo "dist: $tmp/dist" >>"$tmp/goreleaser.yaml"
rm -rf completions # the before hook must make them
"$goreleaser" release --snapshot --clean --config "$tmp/goreleaser.yaml" >"$tmp/release.log" 2>&1 ||
	{ cat "$tmp/release.log" >&2; fail "goreleaser release --snapshot failed"; }
archives=("$tmp"/dist/*_linux_amd64.tar.gz)
[ ${#archives[@]} -eq 1 ] && [ -f "${archives[0]}" ] || fail "no single linux/amd64 archive in dist: $(ls "$tmp/dist")"
want_archive=$( {
	echo btftool
	ls LICENSE README.md docs/*.md docs/cli/*.md docs/man/*.1 configs/* completions/*
} | LC_ALL=C sort)
got_archive=$(tar -tzf "${archives[0]}" | grep -v '/$' | LC_ALL=C sort)
[ "$got_archive" = "$want_archive" ] ||
	fail "${archives[0]##*/}: files differ from the expected ones (- expected, + in the archive):
$(diff <(echo "$want_archive") <(echo "$got_archive") | grep '^[<>]' | sed 's/^</-/; s/^>/+/')"
echo "goreleaser snapshot: ${archives[0]##*/} holds the binary and $(($(echo "$want_archive" | wc -l) - 1)) files (LICENSE, README, docs, man pages, completions, configs)"
