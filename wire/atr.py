"""ISO/IEC 7816-3 answer-to-reset: built from what the card really supports.

The historical bytes are a compact-TLV (category indicator 80) naming the card
(tag 5, issuer data) and its card capabilities (tag 7), so extended length,
chaining and logical channels are advertised exactly as the core behaves.
"""

from __future__ import annotations

from dataclasses import dataclass

TS_DIRECT = 0x3B
CATEGORY_COMPACT_TLV = 0x80
COMPACT_TAG_CARD_ISSUER_DATA = 0x5
COMPACT_TAG_CARD_CAPABILITIES = 0x7

# Card capabilities, third software function table byte (ISO 7816-4 table 88).
CAP3_COMMAND_CHAINING = 0x80
CAP3_EXTENDED_LENGTH = 0x40
CAP3_CHANNEL_ASSIGNMENT_BY_CARD = 0x10
CAP3_CHANNEL_ASSIGNMENT_BY_IFD = 0x08


@dataclass(frozen=True, slots=True)
class Capabilities:
    command_chaining: bool = True
    extended_length: bool = True
    logical_channels: int = 4
    # First software function table byte: by full/partial DF name, path, FID,
    # implicit DF selection, short EF identifiers.
    selection_methods: int = 0xFC

    def software_function_table(self) -> bytes:
        third = 0
        if self.command_chaining:
            third |= CAP3_COMMAND_CHAINING
        if self.extended_length:
            third |= CAP3_EXTENDED_LENGTH
        if self.logical_channels > 1:
            # b3-b1 = channels - 1 (7 meaning eight or more).
            third |= CAP3_CHANNEL_ASSIGNMENT_BY_CARD | CAP3_CHANNEL_ASSIGNMENT_BY_IFD
            third |= min(self.logical_channels - 1, 7)
        # Second byte 01: data unit of one byte.
        return bytes((self.selection_methods, 0x01, third))


def tck(body: bytes) -> int:
    """XOR of T0 up to the last historical byte."""
    check = 0
    for b in body:
        check ^= b
    return check


def compact_tlv(tag: int, value: bytes) -> bytes:
    return bytes(((tag << 4) | len(value),)) + value


def historical_bytes(name: str, caps: Capabilities) -> bytes:
    label = name.encode("ascii")[:15]
    return (
        bytes((CATEGORY_COMPACT_TLV,))
        + compact_tlv(COMPACT_TAG_CARD_ISSUER_DATA, label)
        + compact_tlv(COMPACT_TAG_CARD_CAPABILITIES, caps.software_function_table())
    )


def build_atr(historical: bytes) -> bytes:
    """Direct convention, T=0 and T=1 offered, no interface bytes beyond TD1/TD2.

    T0's high nibble is 8 (only TD1 follows): ykman takes an ATR whose T0 has
    high nibble F for a USB YubiKey and then refuses a generic reader.
    """
    if len(historical) > 15:
        raise ValueError("at most 15 historical bytes")
    t0 = 0x80 | len(historical)
    td1 = 0x80  # TD2 follows; T=0
    td2 = 0x01  # T=1
    body = bytes((t0, td1, td2)) + historical
    return bytes((TS_DIRECT,)) + body + bytes((tck(body),))


def parse_historical(atr: bytes) -> bytes:
    """Historical bytes of an ATR (for tests and the trace decoder)."""
    if len(atr) < 2:
        raise ValueError("ATR too short")
    t0 = atr[1]
    k = t0 & 0x0F
    pos = 2
    y = t0 >> 4
    t_other_than_0 = False
    while True:
        pos += bin(y & 0x7).count("1")  # TA, TB, TC
        if y & 0x8:
            td = atr[pos]
            pos += 1
            if td & 0x0F:
                t_other_than_0 = True
            y = td >> 4
        else:
            break
    hist = atr[pos : pos + k]
    expected = pos + k + (1 if t_other_than_0 else 0)
    if len(hist) != k or len(atr) != expected:
        raise ValueError("ATR length does not match its format bytes")
    return bytes(hist)


def default_atr(name: str, caps: Capabilities) -> bytes:
    return build_atr(historical_bytes(name, caps))
