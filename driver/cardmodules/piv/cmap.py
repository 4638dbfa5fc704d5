"""Yubico's minidriver objects: the container map (5FFF10) and msroots (5FFF11-5FFF15).

Formats as yubico-piv-tool reads and writes them (lib/ykpiv.h `ykpiv_container`, lib/util.c
`ykpiv_util_read_mscmap` / `_write_msroots`):

* 5FFF10 = `81 L <records>`, each record 107 bytes, packed, little-endian:
  `WCHAR name[40]; BYTE slot; BYTE key_spec; WORD key_size_bits; BYTE flags; BYTE pin_id;
  BYTE associated_ecdh_container; BYTE cert_fingerprint[20]`.
* msroots = the file cut into at most five objects, each `83 L <part>` except the last
  `82 L <part>`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from wire import tlv
from wire.minidriver import containers as cm
from wire.piv import (
    MSROOTS_TAG_OVERHEAD,
    TAG_MSCMAP,
    TAG_MSROOTS_END,
    TAG_MSROOTS_MID,
    YUBIKEY_MAX_OBJECT_VALUE,
)

NAME_CHARS = 40
RECORD = struct.Struct("<80sBBHBBB20s")
NO_ECDH_CONTAINER = 0xFF
MSROOTS_PART = YUBIKEY_MAX_OBJECT_VALUE - MSROOTS_TAG_OVERHEAD


@dataclass(frozen=True)
class MapRecord:
    """One `ykpiv_container`: what the CSP told the card about one container."""

    name: str
    slot: int
    key_spec: int = 0
    key_size_bits: int = 0
    flags: int = cm.CONTAINER_MAP_VALID_CONTAINER
    pin_id: int = 1
    associated_ecdh_container: int = NO_ECDH_CONTAINER
    cert_fingerprint: bytes = bytes(20)

    SIZE = RECORD.size

    def to_bytes(self) -> bytes:
        name = self.name.encode("utf-16-le")[: 2 * (NAME_CHARS - 1)]
        return RECORD.pack(
            name,
            self.slot,
            self.key_spec,
            self.key_size_bits,
            self.flags,
            self.pin_id,
            self.associated_ecdh_container,
            self.cert_fingerprint[:20].ljust(20, b"\0"),
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> MapRecord:
        name, slot, spec, bits, flags, pin_id, ecdh, fingerprint = RECORD.unpack(raw)
        text = name.decode("utf-16-le", errors="replace").split("\0", 1)[0]
        return cls(text, slot, spec, bits, flags, pin_id, ecdh, fingerprint)

    @property
    def valid(self) -> bool:
        return bool(self.flags & cm.CONTAINER_MAP_VALID_CONTAINER)

    @property
    def default(self) -> bool:
        return bool(self.flags & cm.CONTAINER_MAP_DEFAULT_CONTAINER)


def parse_mscmap(value: bytes) -> list[MapRecord]:
    """The records of a 5FFF10 value; a malformed object reads as an empty map (as libykpiv)."""
    try:
        body = tlv.parse_one(value, TAG_MSCMAP).value
    except tlv.TlvError:
        return []
    size = MapRecord.SIZE
    return [MapRecord.from_bytes(body[i : i + size]) for i in range(0, len(body) - size + 1, size)]


def build_mscmap(records: list[MapRecord]) -> bytes | None:
    """The 5FFF10 value for these records; None (delete the object) when there are none."""
    if not records:
        return None
    value = tlv.encode(TAG_MSCMAP, b"".join(r.to_bytes() for r in records))
    if len(value) > YUBIKEY_MAX_OBJECT_VALUE:
        raise ValueError("the container map does not fit in one PIV object")
    return value


def split_msroots(data: bytes) -> list[bytes]:
    """The object values that hold `data` (5FFF11 first); ValueError if it needs more than 5."""
    parts = [data[i : i + MSROOTS_PART] for i in range(0, len(data), MSROOTS_PART)] or [b""]
    if len(parts) > 5:
        raise ValueError("msroots larger than five PIV objects")
    last = len(parts) - 1
    return [
        tlv.encode(TAG_MSROOTS_END if i == last else TAG_MSROOTS_MID, part)
        for i, part in enumerate(parts)
    ]


def join_msroots(values: list[bytes | None]) -> bytes | None:
    """msroots from the values of 5FFF11.. in order; None when there is no (valid) file."""
    out = b""
    for value in values:
        if not value:
            return None
        try:
            part = tlv.parse_one(value)
        except tlv.TlvError:
            return None
        if part.tag not in (TAG_MSROOTS_MID, TAG_MSROOTS_END):
            return None
        out += part.value
        if part.tag == TAG_MSROOTS_END:
            return out
    return None
