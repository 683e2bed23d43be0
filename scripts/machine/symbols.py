#!/usr/bin/python3
"""symbols.py: kernel function addresses and sizes, for footprint.py.

Kallsyms reads /proc/kallsyms (or a file in its format): addresses sorted,
a text symbol's size = the next symbol's address - its own, so it includes
the alignment padding up to the next symbol (this kernel puts a __pfx_
symbol before each function, so not the next function's prefix).
elf_function_sizes reads the exact st_size of the FUNC symbols of an ELF
file (a kernel module of another version).
"""
import bisect
import os
import stat
import struct


class InputError(Exception):
    pass


# ---- symbols ------------------------------------------------------------------

class Kallsyms:
    """Kernel symbols sorted by address; size = next symbol's address - this."""

    def __init__(self, path="/proc/kallsyms"):
        self.path = path
        syms = []
        with open(path, errors="replace") as f:
            for n, line in enumerate(f, 1):
                parts = line.split()
                if len(parts) < 3:
                    raise InputError(f"{path}:{n}: expected 'ADDRESS TYPE NAME', found '{line.strip()}'")
                try:
                    addr = int(parts[0], 16)
                except ValueError:
                    raise InputError(f"{path}:{n}: expected a hex address, found '{parts[0]}'") from None
                syms.append((addr, parts[1], parts[2], parts[3] if len(parts) > 3 else ""))
        if not syms or all(a == 0 for a, _, _, _ in syms):
            raise InputError(f"{path}: every address is 0: kernel.kptr_restrict hides them (run as root, "
                             "or sysctl kernel.kptr_restrict=0)")
        syms.sort(key=lambda s: s[0])
        addrs = sorted({a for a, _, _, _ in syms})
        self.funcs = []  # (addr, name, size or None, module)
        for addr, typ, name, mod in syms:
            if typ not in "tTwW":
                continue
            i = bisect.bisect_right(addrs, addr)
            size = addrs[i] - addr if i < len(addrs) else None
            self.funcs.append((addr, name, size, mod))
        self.starts = [f[0] for f in self.funcs]
        self.by_name = {}
        for f in self.funcs:
            self.by_name.setdefault(f[1], f)

    def resolve(self, ip):
        """(start, name, size) of the function holding ip, or None."""
        i = bisect.bisect_right(self.starts, ip) - 1
        if i < 0:
            return None
        addr, name, size, _mod = self.funcs[i]
        # Several names at one address: the last one wins in bisect; prefer
        # the one that is not a __pfx_ padding symbol.
        j = i
        while j > 0 and self.funcs[j - 1][0] == addr:
            j -= 1
        for k in range(j, i + 1):
            if not self.funcs[k][1].startswith("__pfx_"):
                addr, name, size, _mod = self.funcs[k]
                break
        if size is not None and ip >= addr + size:
            return None
        return addr, name, size


def read_regular(path):
    """The bytes of a regular file: a device or a pipe (/dev/zero) was read
    until memory ran out."""
    with open(path, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise InputError(f"{path}: expected a regular file, found a device, a pipe or a socket")
        return f.read()


def elf_function_sizes(path):
    """{name: size} of the FUNC symbols of an ELF file (exact st_size)."""
    d = read_regular(path)
    if d[:4] != b"\x7fELF" or len(d) < 6 or d[4] != 2 or d[5] != 1:
        raise InputError(f"{path}: offset 0: expected a 64-bit little-endian ELF file")
    try:
        return _elf_function_sizes(d)
    except (struct.error, IndexError, ValueError) as e:
        # (An offset or a name beyond the file was a traceback.)
        raise InputError(f"{path}: expected a 64-bit little-endian ELF file, found a damaged one ({e})") from None


def _elf_function_sizes(d):
    shoff, = struct.unpack_from("<Q", d, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", d, 0x3A)
    secs = [struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize) for i in range(shnum)]
    out = {}
    for s in secs:
        if s[1] != 2:  # SHT_SYMTAB
            continue
        strtab = secs[s[6]]
        stroff = strtab[4]
        for k in range(s[5] // 24):
            name_off, info, _other, _shndx, _value, size = struct.unpack_from("<IBBHQQ", d, s[4] + 24 * k)
            if info & 0xF != 2:  # STT_FUNC
                continue
            end = d.index(b"\0", stroff + name_off)
            out[d[stroff + name_off:end].decode()] = size
    return out
