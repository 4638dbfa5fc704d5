"""The masterfile (A000/DF1F) and keymap (A000/DF20) tables: little-endian C records (2.4, 2.5)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

TABLE_VERSION = 0x01


@dataclass
class MasterFileRecord:
    """{char directory[9]; char filename[9]; BYTE pad[2]; DWORD doTag; DWORD efid} - 28 bytes.
    A directory's own record has an empty file name, DO 0 and the EF encoding its ACL."""

    directory: str
    name: str
    do_tag: int
    ef: int

    FORMAT: ClassVar[struct.Struct] = struct.Struct("<9s9s2xII")

    def to_bytes(self) -> bytes:
        return self.FORMAT.pack(
            self.directory.encode("ascii")[:8], self.name.encode("ascii")[:8], self.do_tag, self.ef
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        directory, name, do_tag, ef = cls.FORMAT.unpack(raw)
        return cls(_cstr(directory), _cstr(name), do_tag, ef)

    @property
    def is_directory(self) -> bool:
        return self.name == ""


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii", errors="replace")


def parse_masterfile(value: bytes) -> list[MasterFileRecord]:
    if not value or value[0] != TABLE_VERSION:
        raise ValueError("masterfile: missing or not version 01")
    size = MasterFileRecord.FORMAT.size
    return [
        MasterFileRecord.from_bytes(value[i : i + size])
        for i in range(1, len(value) - size + 1, size)
    ]


def build_masterfile(records: list[MasterFileRecord]) -> bytes:
    return bytes((TABLE_VERSION,)) + b"".join(r.to_bytes() for r in records)


@dataclass
class KeymapRecord:
    """{DWORD state; BYTE algid; BYTE keytype; WORD keyfile; WORD FFFF; WORD 0} - 12 bytes."""

    state: int = 0
    algorithm: int = 0
    key_type: int = 0
    key_file: int = 0xFFFF
    unknown: int = 0xFFFF
    padding: int = 0

    FORMAT: ClassVar[struct.Struct] = struct.Struct("<IBBHHH")

    def to_bytes(self) -> bytes:
        return self.FORMAT.pack(
            self.state, self.algorithm, self.key_type, self.key_file, self.unknown, self.padding
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        return cls(*cls.FORMAT.unpack(raw))

    @property
    def present(self) -> bool:
        return self.state == 1


def parse_keymap(value: bytes) -> list[KeymapRecord]:
    if not value:
        return []
    if value[0] != TABLE_VERSION:
        raise ValueError("keymap: not version 01")
    size = KeymapRecord.FORMAT.size
    return [
        KeymapRecord.from_bytes(value[i : i + size]) for i in range(1, len(value) - size + 1, size)
    ]


def build_keymap(records: list[KeymapRecord]) -> bytes:
    return bytes((TABLE_VERSION,)) + b"".join(r.to_bytes() for r in records)
