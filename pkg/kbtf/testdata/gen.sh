#!/bin/sh
# Regenerates the fixtures in this directory (tests check that tiny.btf
# matches the BTF they build in code). Needs xz, tar, gcc and objcopy.
set -eu
cd "$(dirname "$0")"

# tiny.btf: header (magic 0xeB9F little-endian, version 1, flags 0,
# hdr_len 24, type_off 0, type_len 16, str_off 16, str_len 5), one INT type
# "int" (name_off 1, kind INT, size 4, signed 32 bits) and the strings "\0int\0".
printf '\237\353\001\000\030\000\000\000\000\000\000\000\020\000\000\000\020\000\000\000\005\000\000\000' >tiny.btf
printf '\001\000\000\000\000\000\000\001\004\000\000\000\040\000\000\001' >>tiny.btf
printf '\000int\000' >>tiny.btf

xz -6 -C crc64 -c tiny.btf >tiny.btf.xz
xz -6 -C crc32 -c tiny.btf >tiny.btf.crc32.xz
xz -6 -C sha256 -c tiny.btf >tiny.btf.sha256.xz
xz -9 -c tiny.btf >tiny.btf.9.xz # declares a 64 MiB dictionary
xz --x86 --lzma2 -c tiny.btf >tiny.btf.x86.xz # a BCJ filter: not for xzdec

# A btfhub-like archive with a directory entry before the file.
rm -rf tree && mkdir -p tree/5.4.0
cp tiny.btf tree/5.4.0/5.4.0.btf
tar -C tree --format=ustar --sort=name --owner=0 --group=0 --numeric-owner \
	--mtime=@0 -cf - 5.4.0 | xz -6 -c >tiny.btf.tar.xz
rm -rf tree

# ELF relocatable objects (ELF64, little-endian) with and without .BTF.
echo | gcc -c -x c - -o elf-nobtf.o
objcopy --add-section .BTF=tiny.btf --set-section-flags .BTF=readonly elf-nobtf.o elf-btf.o
strip --strip-all -R .comment -R .note.GNU-stack elf-btf.o elf-nobtf.o 2>/dev/null || true
xz -6 -c elf-btf.o >elf-btf.o.xz
