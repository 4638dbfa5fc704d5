"""The argument checks every function family shares, made before any card I/O.

Each raises the error the specification gives for that bad argument, so a bad call costs no
APDU; the helpers that shape outputs (`dword`, `fit`) live here too because they follow the
same spec rules for every function.
"""

from __future__ import annotations

import re
import struct

from ..errors import ERROR_INSUFFICIENT_BUFFER, ERROR_REVISION_MISMATCH, SCARD_E_INVALID_PARAMETER

# 1-8 ANSI characters, none of " * / : < > ? \ | nor control codes (spec 5.1).
_NAME = re.compile(r"^[^\x00-\x1f\"*/:<>?\\|]{1,8}$")


def name(value: str | None, what: str = "file") -> str:
    if not isinstance(value, str) or not _NAME.match(value) or not value.isascii():
        raise SCARD_E_INVALID_PARAMETER(f"invalid {what} name {value!r}")
    return value.lower()


def directory(value: str | None) -> str | None:
    """A directory name; None is the root."""
    return None if value is None else name(value, "directory")


def struct_version(version: int, current: int) -> int:
    """Structure version rule (1.7): 0 means 1; newer than the driver knows is refused."""
    if version == 0:
        return 1
    if version > current or version < 0:
        raise ERROR_REVISION_MISMATCH(f"structure version {version} (this driver knows {current})")
    return version


def flags_zero(flags: int) -> None:
    if flags != 0:
        raise SCARD_E_INVALID_PARAMETER(f"flags must be 0 (got 0x{flags:X})")


def container_index(index: int) -> int:
    if not isinstance(index, int) or not 0 <= index <= 0xFF:
        raise SCARD_E_INVALID_PARAMETER(f"container index {index!r} is not a BYTE")
    return index


def dword(value: int) -> bytes:
    return struct.pack("<I", value & 0xFFFFFFFF)


def fit(data: bytes, cb_data: int | None) -> bytes:
    """`data` when the caller's buffer (`cb_data` bytes, None: unbounded) holds it."""
    if cb_data is not None and cb_data < len(data):
        err = ERROR_INSUFFICIENT_BUFFER(f"{len(data)} bytes needed, {cb_data} given")
        err.required_size = len(data)
        raise err
    return data
