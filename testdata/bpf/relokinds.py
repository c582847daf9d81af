#!/usr/bin/env python3
"""List the CO-RE relocation records of BPF objects, by kind.

usage: relokinds.py [-v] OBJ...

Reads .BTF.ext (core_relo subsection) and .BTF (for the string table) of each
little-endian ELF64 BPF object with nothing but the standard library. Prints a
count per relocation kind for every object and a total line; with -v also
every record (section, insn offset, local type ID, access string, kind).
Exits 1 if some kind 0..12 occurs in none of the given objects.
"""
import struct
import sys

KINDS = [
    "byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64",
    "local_type_id", "target_type_id", "type_exists", "type_size",
    "enumval_exists", "enumval_value", "type_matches",
]


def sections(data):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a little-endian ELF64 file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    hdrs = []
    for i in range(shnum):
        name, typ, flags, addr, off, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        hdrs.append((name, off, size))
    stroff = hdrs[shstrndx][1]
    out = {}
    for name, off, size in hdrs:
        end = data.index(b"\0", stroff + name)
        out[data[stroff + name:end].decode()] = data[off:off + size]
    return out


def cstr(buf, off):
    end = buf.index(b"\0", off)
    return buf[off:end].decode()


def core_relos(path):
    """Yield (section name, insn_off, type_id, access string, kind)."""
    secs = sections(open(path, "rb").read())
    btf, ext = secs.get(".BTF"), secs.get(".BTF.ext")
    if btf is None or ext is None:
        return
    magic, ver, flags, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<HBBIIIII", btf, 0)
    if magic != 0xEB9F:
        raise ValueError("%s: bad .BTF magic" % path)
    strs = btf[hdr_len + str_off:hdr_len + str_off + str_len]
    magic, ver, flags, ext_hdr_len = struct.unpack_from("<HBBI", ext, 0)
    if magic != 0xEB9F:
        raise ValueError("%s: bad .BTF.ext magic" % path)
    if ext_hdr_len < 32:  # old header without core_relo_off/len
        return
    core_off, core_len = struct.unpack_from("<II", ext, 24)
    if core_len == 0:
        return
    sub = ext[ext_hdr_len + core_off:ext_hdr_len + core_off + core_len]
    rec_size, = struct.unpack_from("<I", sub, 0)
    pos = 4
    while pos < len(sub):
        sec_name_off, num = struct.unpack_from("<II", sub, pos)
        pos += 8
        sec = cstr(strs, sec_name_off)
        for _ in range(num):
            insn_off, type_id, access_off, kind = struct.unpack_from("<IIII", sub, pos)
            pos += rec_size
            yield sec, insn_off, type_id, cstr(strs, access_off), kind


def main(argv):
    verbose = False
    if argv and argv[0] == "-v":
        verbose, argv = True, argv[1:]
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    total = [0] * len(KINDS)
    width = max(len(a) for a in argv)
    for path in argv:
        counts = [0] * len(KINDS)
        for sec, insn_off, type_id, access, kind in core_relos(path):
            if verbose:
                name = KINDS[kind] if kind < len(KINDS) else "kind%d" % kind
                print("  %s: %s insn %d type [%d] access %r %s" % (path, sec, insn_off // 8, type_id, access, name))
            if kind < len(KINDS):
                counts[kind] += 1
        total = [a + b for a, b in zip(total, counts)]
        print("%-*s %4d  %s" % (width, path, sum(counts),
                                " ".join("%s=%d" % (KINDS[k], c) for k, c in enumerate(counts) if c)))
    print("%-*s %4d  %s" % (width, "TOTAL", sum(total),
                            " ".join("%d:%s=%d" % (k, KINDS[k], c) for k, c in enumerate(total))))
    missing = [KINDS[k] for k, c in enumerate(total) if c == 0]
    if missing:
        print("missing kinds: " + " ".join(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
