"""ISO/IEC 7816-3/-4 command and response APDUs: the one codec for every layer.

Cases 1-4, short and extended. A command whose length bytes do not match its size
raises ApduLengthError, which a card answers with 6700 (ISO 7816-3 section 12.1.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from .errors import ApduLengthError, WireError
from .iso7816 import SW

SHORT_MAX = 256
EXTENDED_MAX = 65536


class CommandApdu(NamedTuple):
    # A NamedTuple, not a dataclass: one is built per APDU, and tuples build fastest.
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    # Ne: the number of response bytes wanted; None when the Le field is absent.
    ne: int | None = None
    extended: bool = False

    @property
    def p1p2(self) -> int:
        return (self.p1 << 8) | self.p2

    @classmethod
    def parse(cls, raw: bytes) -> CommandApdu:
        """Decode a command APDU; ApduLengthError for malformed lengths."""
        size = len(raw)
        if size < 4:
            raise ApduLengthError("command shorter than its 4-byte header")
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        body = raw[4:]
        n = len(body)
        if n == 0:  # case 1
            return cls(cla, ins, p1, p2)
        if n == 1:  # case 2S
            return cls(cla, ins, p1, p2, ne=body[0] or SHORT_MAX)
        if body[0] != 0:  # short: case 3S or 4S
            lc = body[0]
            if n == 1 + lc:
                return cls(cla, ins, p1, p2, bytes(body[1:]))
            if n == 2 + lc:
                return cls(cla, ins, p1, p2, bytes(body[1:-1]), ne=body[-1] or SHORT_MAX)
            raise ApduLengthError("Lc does not match the data length")
        # Extended: a leading 00 byte, then two length bytes.
        if n == 3:  # case 2E
            le = (body[1] << 8) | body[2]
            return cls(cla, ins, p1, p2, ne=le or EXTENDED_MAX, extended=True)
        if n < 3:
            raise ApduLengthError("truncated extended length field")
        lc = (body[1] << 8) | body[2]
        if lc == 0:
            raise ApduLengthError("extended Lc of zero")
        if n == 3 + lc:  # case 3E
            return cls(cla, ins, p1, p2, bytes(body[3:]), extended=True)
        if n == 5 + lc:  # case 4E
            le = (body[-2] << 8) | body[-1]
            return cls(cla, ins, p1, p2, bytes(body[3:-2]), ne=le or EXTENDED_MAX, extended=True)
        raise ApduLengthError("extended Lc does not match the data length")

    def to_bytes(self) -> bytes:
        """Encode; extended form when asked for or when the lengths need it."""
        header = bytes((self.cla, self.ins, self.p1, self.p2))
        nc = len(self.data)
        ext = self.extended or nc > 255 or (self.ne is not None and self.ne > SHORT_MAX)
        out = bytearray(header)
        if ext:
            if nc:
                out += b"\x00" + nc.to_bytes(2, "big") + self.data
            if self.ne is not None:
                le = 0 if self.ne == EXTENDED_MAX else self.ne
                out += (b"" if nc else b"\x00") + le.to_bytes(2, "big")
        else:
            if nc:
                out += bytes((nc,)) + self.data
            if self.ne is not None:
                out.append(0 if self.ne == SHORT_MAX else self.ne)
        return bytes(out)


@dataclass(frozen=True, slots=True)
class ResponseApdu:
    data: bytes = b""
    sw: int = SW.SUCCESS
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def parse(cls, raw: bytes) -> ResponseApdu:
        if len(raw) < 2:
            raise WireError("a response APDU has at least the two status bytes")
        return cls(bytes(raw[:-2]), (raw[-2] << 8) | raw[-1])
