"""PIV data objects: the store, their access rules, and the card-made ones.

Values are stored as the bytes inside tag 53 (the object's own TLVs). Reads are
free except for the PIN-protected objects (fingerprints, facial image, printed
information, iris, pairing code), whose GET DATA answers 6982 without the PIN
*before* looking whether the object exists (ykman and OpenSC 0.23 rely on that).
Every write needs the management key; printed information (Yubico's protected
data, which may hold the management key) also needs the PIN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wire import tlv
from wire.iso7816 import SW
from wire.piv import (
    NIST_OBJECT_RANGE,
    PIN_PROTECTED_OBJECTS,
    PIN_USAGE_POLICY,
    PIV_AID,
    YUBICO_OBJECT_RANGE,
    ObjectId,
    Tag,
)

from ...core.errors import CardError
from ...core.rng import RandomSource

# FASC-N of a non-federal issuer, 9999-9999-999999-0-1-0000000000-3-0000-1 (the value
# ykman and yubico-piv-tool write); OpenSC then takes the GUID as the card serial.
FASC_N = bytes.fromhex("D4E739DA739CED39CE739D836858210842108421C84210C3EB")
CHUID_EXPIRY = b"20301231"
GUID_LENGTH = 16
# GSC-IS RID: OpenSC keeps a card with this CCC a plain PIV card (not a dual CAC).
CCC_CARD_IDENTIFIER_PREFIX = bytes.fromhex("A000000116FF02")
GLOBAL_PIN_BIT = 0x20


def make_chuid(rng: RandomSource) -> bytes:
    """A CHUID with a fresh GUID; it carries 30, 34, 35 and 3E as ykman requires."""
    return b"".join(
        (
            tlv.encode(Tag.FASC_N, FASC_N),
            tlv.encode(Tag.GUID, rng.token_bytes(GUID_LENGTH)),
            tlv.encode(Tag.EXPIRATION_DATE, CHUID_EXPIRY),
            tlv.encode(Tag.ISSUER_ASYMMETRIC_SIGNATURE, b""),
            tlv.encode(Tag.ERROR_DETECTION_CODE, b""),
        )
    )


def chuid_guid(chuid: bytes | None) -> bytes | None:
    """The 16-byte GUID of a CHUID object, or None when it has none (or is not TLV)."""
    if chuid is None:
        return None
    try:
        guid = tlv.to_dict(chuid).get(Tag.GUID)
    except tlv.TlvError:
        return None
    return guid if guid is not None and len(guid) == GUID_LENGTH else None


def make_ccc(rng: RandomSource) -> bytes:
    """Card capability container (SP 800-73-4 part 1, table 8)."""
    card_identifier = CCC_CARD_IDENTIFIER_PREFIX + rng.token_bytes(14)
    parts = [
        (0xF0, card_identifier),
        (0xF1, b"\x21"),
        (0xF2, b"\x21"),
        (0xF3, b""),
        (0xF4, b"\x00"),
        (0xF5, b"\x10"),
        (0xF6, b""),
        (0xF7, b""),
        (0xFA, b""),
        (0xFB, b""),
        (0xFC, b""),
        (0xFD, b""),
        (Tag.ERROR_DETECTION_CODE, b""),
    ]
    return b"".join(tlv.encode(t, v) for t, v in parts)


def discovery_object() -> bytes:
    """The whole 7E TLV: PIV AID and PIN usage policy (PIV PIN only)."""
    return tlv.encode(
        Tag.DISCOVERY,
        tlv.encode(Tag.AID, PIV_AID) + tlv.encode(Tag.PIN_USAGE_POLICY, PIN_USAGE_POLICY),
    )


def parse_object_id(data: bytes) -> int:
    """The object tag of a GET DATA command (`5C L tag`)."""
    item = tlv.parse_one(data, Tag.TAG_LIST)
    if not 1 <= len(item.value) <= 3:
        raise CardError(SW.WRONG_DATA, "object tag must be 1 to 3 bytes")
    return int.from_bytes(item.value, "big")


def writable(object_id: int) -> bool:
    return (
        object_id in NIST_OBJECT_RANGE
        or object_id in YUBICO_OBJECT_RANGE
        or object_id == ObjectId.DISCOVERY
    )


def needs_pin_to_read(object_id: int) -> bool:
    return object_id in PIN_PROTECTED_OBJECTS


def needs_pin_to_write(object_id: int) -> bool:
    return object_id == ObjectId.PRINTED_INFORMATION


@dataclass
class ObjectStore:
    """Object tag -> value (the content of tag 53)."""

    values: dict[int, bytes] = field(default_factory=dict)
    # A key history PUT by a client replaces the synthesized one.
    discovery: bytes = field(default_factory=discovery_object)

    def get(self, object_id: int) -> bytes | None:
        if object_id == ObjectId.DISCOVERY:
            return self.discovery
        if object_id == ObjectId.KEY_HISTORY and object_id not in self.values:
            return self.key_history()
        value = self.values.get(object_id)
        return value if value else None

    @property
    def global_pin_usable(self) -> bool:
        """Discovery PIN usage policy byte 1, bit 6 (0x20): the Global PIN satisfies ACRs."""
        try:
            inner = tlv.parse_one(self.discovery, Tag.DISCOVERY).value
            policy = tlv.find(inner, Tag.PIN_USAGE_POLICY)
        except tlv.TlvError:
            return False
        return policy is not None and len(policy) > 0 and bool(policy[0] & GLOBAL_PIN_BIT)

    def put(self, object_id: int, value: bytes) -> None:
        if not value:
            self.values.pop(object_id, None)  # 53 00 deletes (ykman delete_certificate)
        else:
            self.values[object_id] = bytes(value)

    def key_history(self) -> bytes:
        """C1 = retired keys with on-card certificates, counted from 5FC10D up (NIST)."""
        on_card = 0
        while ObjectId.RETIRED_X509_1 + on_card in self.values and on_card < 20:
            on_card += 1
        return (
            tlv.encode(Tag.KEYS_WITH_ON_CARD_CERTS, bytes((on_card,)))
            + tlv.encode(Tag.KEYS_WITH_OFF_CARD_CERTS, b"\x00")
            + tlv.encode(Tag.ERROR_DETECTION_CODE, b"")
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "values": {f"{k:X}": v.hex() for k, v in sorted(self.values.items())},
            "discovery": self.discovery.hex(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ObjectStore:
        return cls(
            {int(k, 16): bytes.fromhex(v) for k, v in state["values"].items()},
            bytes.fromhex(state["discovery"]),
        )
