"""BER-TLV (ISO/IEC 7816-4 section 6.3 / X.690): the one parser and encoder.

Tags are kept as integers of their encoded bytes (5F2F, 7F49, ...), as the specs
write them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .errors import TlvError

__all__ = [
    "Tlv",
    "TlvError",
    "encode",
    "encode_length",
    "find",
    "iter_tlv",
    "parse",
    "parse_one",
    "read_length",
    "read_tag",
    "tag_bytes",
    "to_dict",
]


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        return bool(tag_bytes(self.tag)[0] & 0x20)

    def children(self) -> list[Tlv]:
        return parse(self.value)

    def to_bytes(self) -> bytes:
        return encode(self.tag, self.value)


def tag_bytes(tag: int) -> bytes:
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def encode(tag: int, value: bytes | Iterable[Tlv] = b"") -> bytes:
    """One TLV; the value may be bytes or child TLVs."""
    if not isinstance(value, bytes | bytearray):
        value = b"".join(t.to_bytes() for t in value)
    return tag_bytes(tag) + encode_length(len(value)) + bytes(value)


def read_tag(data: bytes, pos: int) -> tuple[int, int]:
    """Return (tag, next position)."""
    if pos >= len(data):
        raise TlvError("missing tag")
    first = data[pos]
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= len(data):
                raise TlvError("truncated multi-byte tag")
            b = data[pos]
            tag = (tag << 8) | b
            pos += 1
            if not b & 0x80:
                break
            if tag > 0xFFFFFFFF:
                raise TlvError("tag longer than four bytes")
    return tag, pos


def read_length(data: bytes, pos: int) -> tuple[int, int]:
    """Return (length, next position)."""
    if pos >= len(data):
        raise TlvError("missing length")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0 or count > 3:
        raise TlvError("unsupported length encoding")
    if pos + count > len(data):
        raise TlvError("truncated length")
    return int.from_bytes(data[pos : pos + count], "big"), pos + count


def iter_tlv(data: bytes) -> Iterator[Tlv]:
    pos = 0
    while pos < len(data):
        tag, pos = read_tag(data, pos)
        length, pos = read_length(data, pos)
        end = pos + length
        if end > len(data):
            raise TlvError("value runs past the end of the data")
        yield Tlv(tag, bytes(data[pos:end]))
        pos = end


def parse(data: bytes) -> list[Tlv]:
    return list(iter_tlv(data))


def parse_one(data: bytes, tag: int | None = None) -> Tlv:
    """Exactly one TLV filling `data`, optionally of the given tag."""
    items = parse(data)
    if len(items) != 1:
        raise TlvError("expected exactly one TLV")
    if tag is not None and items[0].tag != tag:
        raise TlvError(f"expected tag {tag:X}, got {items[0].tag:X}")
    return items[0]


def to_dict(data: bytes) -> dict[int, bytes]:
    """Top-level TLVs by tag (the last one wins on repeats)."""
    return {t.tag: t.value for t in iter_tlv(data)}


def find(data: bytes, tag: int) -> bytes | None:
    for t in iter_tlv(data):
        if t.tag == tag:
            return t.value
    return None
