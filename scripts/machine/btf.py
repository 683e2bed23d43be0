#!/usr/bin/python3
"""btf.py: sizes of kernel types from BTF (the kernel's own type information).

Reads the raw BTF blob the running kernel exports (/sys/kernel/btf/vmlinux,
CONFIG_DEBUG_INFO_BTF) with the standard library only, following the format
in the kernel's Documentation/bpf/btf.rst: a header (magic 0xeB9F, version 1,
offsets of the type and string sections), then the types, numbered from 1,
each a 12-byte `struct btf_type` {name_off, info (vlen bits 0-15, kind bits
24-28, kind_flag bit 31), size_or_type} followed by kind-specific data.

usage:
  btf.py [--file PATH] sizeof NAME...        one line per name: NAME SIZE
  btf.py [--file PATH] members NAME          NAME's members: OFFSET_BITS NAME
  btf.py [--file PATH] json NAME...          {"NAME": {"size_bytes", "lines_64"}, ...}
NAME is a struct or union name ("sk_buff", "struct sk_buff" or
"union ..."), or a typedef.  A name the BTF does not hold is reported as
missing (null in json); exit 1 if any is missing.  A file that is not BTF:
one line naming it, where and what was expected, exit 2.
"""
import os
import stat
import struct
import sys

# Kinds (include/uapi/linux/btf.h)
INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT = range(1, 12)
FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64 = range(12, 20)
# Bytes of kind-specific data after the 12-byte btf_type: fixed, or per vlen entry.
FIXED = {INT: 4, ARRAY: 12, VAR: 4, DECL_TAG: 4}
PER_VLEN = {STRUCT: 12, UNION: 12, ENUM: 8, FUNC_PROTO: 8, DATASEC: 12, ENUM64: 12}


class BTFError(Exception):
    pass


class BTF:
    def __init__(self, path="/sys/kernel/btf/vmlinux"):
        self.path = path
        with open(path, "rb") as f:
            # (A device or a pipe, /dev/zero, was read until memory ran out.)
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise BTFError(f"{path}: expected a regular file (a raw BTF blob), found a device, a pipe or a socket")
            data = f.read()
        if len(data) < 24:
            raise BTFError(f"{path}: offset 0: expected a BTF header (24 bytes), found {len(data)} bytes")
        magic, version, _flags, hdr_len = struct.unpack_from("<HBBI", data, 0)
        if magic != 0xEB9F:
            raise BTFError(f"{path}: offset 0: expected BTF magic 0xeb9f, found 0x{magic:04x}")
        if version != 1:
            raise BTFError(f"{path}: offset 2: expected BTF version 1, found {version}")
        type_off, type_len, str_off, str_len = struct.unpack_from("<IIII", data, 8)
        base = hdr_len
        if base + type_off + type_len > len(data) or base + str_off + str_len > len(data):
            raise BTFError(f"{path}: header: expected sections inside the file ({len(data)} bytes)")
        self.strings = data[base + str_off: base + str_off + str_len]
        self.types = [None]  # id 0 is void
        p, end = base + type_off, base + type_off + type_len
        while p < end:
            if p + 12 > end:
                raise BTFError(f"{path}: offset {p}: expected a 12-byte btf_type, found {end - p} bytes")
            name_off, info, size_or_type = struct.unpack_from("<III", data, p)
            kind = (info >> 24) & 0x1F
            vlen = info & 0xFFFF
            extra_off = p + 12
            if kind in FIXED:
                extra = FIXED[kind]
            elif kind in PER_VLEN:
                extra = PER_VLEN[kind] * vlen
            elif kind in (PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG):
                extra = 0
            else:
                raise BTFError(f"{path}: offset {p}: type {len(self.types)}: unknown BTF kind {kind}")
            t = {"name_off": name_off, "kind": kind, "vlen": vlen, "st": size_or_type,
                 "kflag": info >> 31, "extra": extra_off}
            self.types.append(t)
            p = extra_off + extra
        self.data = data
        self._by_name = {}
        for i, t in enumerate(self.types[1:], 1):
            if t["kind"] in (STRUCT, UNION, TYPEDEF) and t["name_off"]:
                key = (t["kind"], self.name(t))
                self._by_name.setdefault(key, i)

    def name(self, t):
        off = t["name_off"]
        end = self.strings.find(b"\0", off)
        return self.strings[off:end].decode("utf-8", "replace")

    def find(self, name):
        """Type id of a struct, union or typedef named NAME, or None."""
        if name.startswith("struct "):
            return self._by_name.get((STRUCT, name[7:]))
        if name.startswith("union "):
            return self._by_name.get((UNION, name[6:]))
        for kind in (STRUCT, UNION, TYPEDEF):
            if (kind, name) in self._by_name:
                return self._by_name[(kind, name)]
        return None

    def size(self, tid, depth=0):
        """sizeof the type with id TID, in bytes."""
        if depth > 64:
            raise BTFError(f"{self.path}: type {tid}: type chain deeper than 64")
        if tid == 0:
            return 0
        t = self.types[tid]
        k = t["kind"]
        if k in (INT, STRUCT, UNION, ENUM, ENUM64, FLOAT, DATASEC):
            return t["st"]
        if k == PTR:
            return 8
        if k in (TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG, VAR):
            return self.size(t["st"], depth + 1)
        if k == ARRAY:
            elem, _index, nelems = struct.unpack_from("<III", self.data, t["extra"])
            return nelems * self.size(elem, depth + 1)
        raise BTFError(f"{self.path}: type {tid}: kind {k} has no size")

    def kind(self, tid):
        """The kind of a type after typedefs and qualifiers."""
        while tid and self.types[tid]["kind"] in (TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG):
            tid = self.types[tid]["st"]
        return self.types[tid]["kind"] if tid else 0

    def members(self, tid):
        """[(bit offset, name, size in bytes, kind)] of a struct or union."""
        t = self.types[tid]
        while t["kind"] == TYPEDEF:
            tid = t["st"]
            t = self.types[tid]
        if t["kind"] not in (STRUCT, UNION):
            return []
        out = []
        for j in range(t["vlen"]):
            name_off, mtype, off = struct.unpack_from("<III", self.data, t["extra"] + 12 * j)
            if t["kflag"]:
                off &= 0xFFFFFF  # kind_flag: bitfield size in the top 8 bits
            end = self.strings.find(b"\0", name_off)
            out.append((off, self.strings[name_off:end].decode("utf-8", "replace"), self.size(mtype), self.kind(mtype)))
        return out


def main(argv):
    path = "/sys/kernel/btf/vmlinux"
    if len(argv) >= 2 and argv[0] == "--file":
        path, argv = argv[1], argv[2:]
    if len(argv) < 2 or argv[0] not in ("sizeof", "members", "json"):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        btf = BTF(path)
    except OSError as e:
        print(f"btf.py: {path}: cannot read: {e.strerror}", file=sys.stderr)
        return 2
    except BTFError as e:
        print(f"btf.py: {e}", file=sys.stderr)
        return 2
    cmd, names = argv[0], argv[1:]
    missing = 0
    if cmd == "members":
        tid = btf.find(names[0])
        if tid is None:
            print(f"btf.py: {path}: no struct, union or typedef named '{names[0]}'", file=sys.stderr)
            return 1
        for off, name, size, kind in btf.members(tid):
            print(off, name or "(anonymous)", size, "array" if kind == ARRAY else "")
        return 0
    if cmd == "sizeof":
        for n in names:
            tid = btf.find(n)
            if tid is None:
                print(f"{n} missing")
                missing += 1
            else:
                print(f"{n} {btf.size(tid)}")
        return 1 if missing else 0
    out = []
    for n in names:
        tid = btf.find(n)
        if tid is None:
            out.append(f'"{n}": null')
            missing += 1
        else:
            s = btf.size(tid)
            out.append(f'"{n}": {{"size_bytes": {s}, "lines_64": {(s + 63) // 64}}}')
    print("{" + ", ".join(out) + "}")
    return 1 if missing else 0


if __name__ == "__main__":
    import stdout
    stdout.run("btf.py", main, sys.argv[1:])
