"""The minidriver file formats a GIDS card stores as DOs (gids.md 2.4-2.7, minidriver.md 3.1).

Little-endian C structures: the masterfile (A000/DF1F), the keymap (A000/DF20),
cmapfile records, cardcf and compressed certificates. The card itself never
interprets them (hosts own them); softcard uses them to build the factory state
and to show what a card holds.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from wire.gids import (
    CARDCF_SIZE,
    CERT_COMPRESSED_MAGIC,
    CMAP_DEFAULT,
    CMAP_NAME_SIZE,
    CMAP_RECORD_SIZE,
    CMAP_VALID,
    KEYMAP_RECORD_SIZE,
    KEYMAP_VERSION,
    MASTERFILE_NAME_SIZE,
    MASTERFILE_RECORD_SIZE,
    MASTERFILE_VERSION,
    Ef,
    Tag,
)

_MASTERFILE = struct.Struct("<9s9s2xII")
_KEYMAP = struct.Struct("<IBBHHH")
_CMAP = struct.Struct("<80sBBHH")
_CARDCF = struct.Struct("<BBHH")


class FormatError(ValueError):
    """Bytes that are not the structure they should be."""


def _name(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("ascii", "replace")


def _pad_name(name: str) -> bytes:
    encoded = name.encode("ascii")
    if len(encoded) >= MASTERFILE_NAME_SIZE:
        raise FormatError(f"name {name!r} longer than 8 characters")
    return encoded.ljust(MASTERFILE_NAME_SIZE, b"\x00")


@dataclass(frozen=True)
class MasterfileRecord:
    """One `directory\\file` -> (EF, DO tag) entry; a directory has no file name."""

    directory: str
    filename: str
    do_tag: int
    ef: int

    @property
    def is_directory(self) -> bool:
        return not self.filename

    @property
    def path(self) -> str:
        if self.is_directory:
            return f"{self.directory}\\"
        return f"{self.directory}\\{self.filename}" if self.directory else f"\\{self.filename}"

    def to_bytes(self) -> bytes:
        return _MASTERFILE.pack(
            _pad_name(self.directory), _pad_name(self.filename), self.do_tag, self.ef
        )

    @classmethod
    def parse(cls, raw: bytes) -> MasterfileRecord:
        directory, filename, do_tag, ef = _MASTERFILE.unpack(raw)
        return cls(_name(directory), _name(filename), do_tag, ef)


# The table gids-tool and Windows' profile write (gids.md 2.4).
DEFAULT_MASTERFILE: tuple[MasterfileRecord, ...] = (
    MasterfileRecord("mscp", "", 0, Ef.USER_CREATE_DELETE_DIR),
    MasterfileRecord("", "cardid", Tag.CARDID, Ef.EVERYONE_READ_ADMIN_WRITE),
    MasterfileRecord("", "cardapps", Tag.CARDAPPS, Ef.EVERYONE_READ_USER_WRITE),
    MasterfileRecord("", "cardcf", Tag.CARDCF, Ef.EVERYONE_READ_USER_WRITE),
    MasterfileRecord("mscp", "cmapfile", Tag.CMAPFILE, Ef.EVERYONE_READ_USER_WRITE),
)


def encode_masterfile(records: tuple[MasterfileRecord, ...] | list[MasterfileRecord]) -> bytes:
    return bytes((MASTERFILE_VERSION,)) + b"".join(r.to_bytes() for r in records)


def parse_masterfile(value: bytes) -> list[MasterfileRecord]:
    if not value or value[0] != MASTERFILE_VERSION:
        raise FormatError("masterfile must start with version byte 01")
    body = value[1:]
    if len(body) % MASTERFILE_RECORD_SIZE:
        raise FormatError("masterfile length is not 1 + n x 28")
    return [
        MasterfileRecord.parse(body[i : i + MASTERFILE_RECORD_SIZE])
        for i in range(0, len(body), MASTERFILE_RECORD_SIZE)
    ]


@dataclass(frozen=True)
class KeymapRecord:
    """Container i <-> key file: state 1 = key present, algid, key type (9A/9C), EF."""

    state: int = 0
    algid: int = 0
    key_type: int = 0
    key_file: int = 0xFFFF
    unknown: int = 0xFFFF
    padding: int = 0

    def to_bytes(self) -> bytes:
        return _KEYMAP.pack(
            self.state, self.algid, self.key_type, self.key_file, self.unknown, self.padding
        )

    @classmethod
    def parse(cls, raw: bytes) -> KeymapRecord:
        return cls(*_KEYMAP.unpack(raw))


def parse_keymap(value: bytes) -> list[KeymapRecord]:
    if not value or value[0] != KEYMAP_VERSION or (len(value) - 1) % KEYMAP_RECORD_SIZE:
        raise FormatError("keymap must be 01 + n x 12 bytes")
    return [
        KeymapRecord.parse(value[i : i + KEYMAP_RECORD_SIZE])
        for i in range(1, len(value), KEYMAP_RECORD_SIZE)
    ]


@dataclass(frozen=True)
class ContainerMapRecord:
    """CONTAINER_MAP_RECORD: UTF-16LE name, flags, signature/key-exchange key sizes."""

    name: str = ""
    flags: int = 0
    sig_key_bits: int = 0
    kex_key_bits: int = 0

    @property
    def valid(self) -> bool:
        return bool(self.flags & CMAP_VALID)

    @property
    def default(self) -> bool:
        return bool(self.flags & CMAP_DEFAULT)

    def to_bytes(self) -> bytes:
        name = self.name.encode("utf-16-le")
        if len(name) >= CMAP_NAME_SIZE:
            raise FormatError("container name longer than 39 characters")
        return _CMAP.pack(name, self.flags, 0, self.sig_key_bits, self.kex_key_bits)

    @classmethod
    def parse(cls, raw: bytes) -> ContainerMapRecord:
        name, flags, _reserved, sig, kex = _CMAP.unpack(raw)
        text = name.decode("utf-16-le", "replace").split("\x00", 1)[0]
        return cls(text, flags, sig, kex)


def parse_cmapfile(value: bytes) -> list[ContainerMapRecord]:
    if len(value) % CMAP_RECORD_SIZE:
        raise FormatError("cmapfile length is not a multiple of 86")
    return [
        ContainerMapRecord.parse(value[i : i + CMAP_RECORD_SIZE])
        for i in range(0, len(value), CMAP_RECORD_SIZE)
    ]


@dataclass(frozen=True)
class CardCf:
    """cardcf: version, PIN freshness, container and file freshness counters."""

    version: int = 0
    pins: int = 0
    containers: int = 0
    files: int = 0

    def to_bytes(self) -> bytes:
        return _CARDCF.pack(self.version, self.pins, self.containers, self.files)

    @classmethod
    def parse(cls, value: bytes) -> CardCf:
        if len(value) < CARDCF_SIZE:
            raise FormatError("cardcf shorter than 6 bytes")
        return cls(*_CARDCF.unpack(value[:CARDCF_SIZE]))


def compress_certificate(der: bytes) -> bytes:
    """As the Base CSP stores kxc/ksc files: 01 00, length (LE16), zlib stream."""
    return CERT_COMPRESSED_MAGIC + struct.pack("<H", len(der)) + zlib.compress(der, 9)


def decompress_certificate(value: bytes) -> bytes:
    """Plain DER is returned as it is; `01 00 len zlib` is inflated and length-checked."""
    if value[:2] == b"\x30\x82":
        return value
    if len(value) < 4 or value[:2] != CERT_COMPRESSED_MAGIC:
        raise FormatError("certificate is neither DER nor 01 00 + zlib")
    (length,) = struct.unpack("<H", value[2:4])
    try:
        der = zlib.decompress(value[4:])
    except zlib.error as e:
        raise FormatError(f"certificate zlib stream: {e}") from None
    if len(der) != length:
        raise FormatError("certificate length does not match its header")
    return der
