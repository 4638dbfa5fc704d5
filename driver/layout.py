"""C struct layout with MSVC natural alignment, for x86 and x64 (minidriver.md section 0).

A layout is a tuple of (field name, C type). C types: BYTE, WORD, DWORD, PTR (pointer or
ULONG_PTR: 4 bytes on x86, 8 on x64) and byte arrays `Array(n, align)` (WCHAR[40] is
`Array(80, 2)`). Each member sits at the next multiple of its own alignment; the struct size is
padded to its largest member alignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Arch(IntEnum):
    """Pointer size of the ABI a structure is laid out for."""

    X86 = 4
    X64 = 8


@dataclass(frozen=True, slots=True)
class Array:
    size: int
    align: int = 1


CType = str | Array
BYTE = "BYTE"
WORD = "WORD"
DWORD = "DWORD"
PTR = "PTR"
_SCALARS = {BYTE: (1, "B"), WORD: (2, "H"), DWORD: (4, "I")}

Fields = tuple[tuple[str, CType], ...]


def _size_align(ctype: CType, arch: Arch) -> tuple[int, int]:
    if isinstance(ctype, Array):
        return ctype.size, ctype.align
    if ctype == PTR:
        return int(arch), int(arch)
    size = _SCALARS[ctype][0]
    return size, size


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    ctype: CType
    offset: int
    size: int


def members(fields: Fields, arch: Arch) -> tuple[list[Member], int]:
    """Each member with its offset, and the padded struct size."""
    out: list[Member] = []
    offset = 0
    max_align = 1
    for name, ctype in fields:
        size, align = _size_align(ctype, arch)
        offset = (offset + align - 1) // align * align
        out.append(Member(name, ctype, offset, size))
        offset += size
        max_align = max(max_align, align)
    return out, (offset + max_align - 1) // max_align * max_align


def sizeof(fields: Fields, arch: Arch) -> int:
    return members(fields, arch)[1]


def offsetof(fields: Fields, name: str, arch: Arch) -> int:
    for m in members(fields, arch)[0]:
        if m.name == name:
            return m.offset
    raise KeyError(name)


def pack(fields: Fields, values: dict[str, int | bytes], arch: Arch) -> bytes:
    """Serialise; a missing member is zero (padding is always zero)."""
    layout, size = members(fields, arch)
    out = bytearray(size)
    for m in layout:
        value = values.get(m.name, 0)
        if isinstance(m.ctype, Array):
            raw = bytes(value) if isinstance(value, bytes | bytearray) else b""
            if len(raw) > m.size:
                raise ValueError(f"{m.name}: {len(raw)} bytes do not fit in {m.size}")
            out[m.offset : m.offset + len(raw)] = raw
        else:
            if not isinstance(value, int):
                raise TypeError(f"{m.name} must be an int")
            out[m.offset : m.offset + m.size] = (value & ((1 << (8 * m.size)) - 1)).to_bytes(
                m.size, "little"
            )
    return bytes(out)


def unpack(fields: Fields, raw: bytes, arch: Arch) -> dict[str, int | bytes]:
    layout, size = members(fields, arch)
    if len(raw) < size:
        raise ValueError(f"structure needs {size} bytes, got {len(raw)}")
    values: dict[str, int | bytes] = {}
    for m in layout:
        chunk = raw[m.offset : m.offset + m.size]
        values[m.name] = (
            bytes(chunk) if isinstance(m.ctype, Array) else int.from_bytes(chunk, "little")
        )
    return values
