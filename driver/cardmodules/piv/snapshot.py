"""What the minidriver view of a PIV card is computed from, read in one pass.

PIV has no change counter, so `cardcf` is derived from the card's content: each read of cardcf
re-reads the objects and key slots the view depends on and hashes them. Whatever another tool
(ykman, yubico-piv-tool, OpenSC) changes there moves the counters, and the minidriver's caches
follow. The same pass feeds container enumeration and file reads, so a call costs one read of
the card's state and nothing more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from wire import tlv
from wire.client import ApduError
from wire.iso7816 import SW
from wire.piv import (
    MSROOTS_OBJECTS,
    KeyRef,
    MetadataTag,
    ObjectId,
    PinPolicy,
    certificate_object,
    default_pin_policy,
)

from ...blobs import PublicKey
from ...structures import CARD_CACHE_FILE_FORMAT
from ...transport import Transport
from . import commands as cmd
from .constants import CONTAINER_SLOTS
from .objects import certificate_der, parse_public_key

# What GET DATA / GET METADATA answer for an object or key that is not there.
ABSENT_SW = (SW.FILE_NOT_FOUND, SW.REFERENCE_NOT_FOUND)


@dataclass(frozen=True)
class SlotKey:
    """A key in a PIV slot, as far as the card tells."""

    slot: int
    public_key: PublicKey
    algorithm: int | None  # from GET METADATA; None when only a certificate tells
    pin_policy: PinPolicy


@dataclass
class Snapshot:
    objects: dict[int, bytes | None] = field(default_factory=dict)
    keys: dict[int, SlotKey | None] = field(default_factory=dict)
    # Raw answers hashed into the freshness counters, by category.
    pins_input: list[bytes] = field(default_factory=list)
    content_input: list[bytes] = field(default_factory=list)

    def freshness(self) -> CARD_CACHE_FILE_FORMAT:
        """Counters derived from the content (16 bits each for containers and files)."""
        pins = hashlib.sha256(b"".join(_framed(x) for x in self.pins_input)).digest()
        content = hashlib.sha256(b"".join(_framed(x) for x in self.content_input)).digest()
        return CARD_CACHE_FILE_FORMAT(
            0,
            pins[0],
            int.from_bytes(content[0:2], "little"),
            int.from_bytes(content[2:4], "little"),
        )


def _framed(item: bytes) -> bytes:
    return len(item).to_bytes(4, "big") + item


# Objects the view reads besides the certificates.
VIEW_OBJECTS = (ObjectId.CHUID, ObjectId.MSCMAP, ObjectId.ADMIN_DATA, *MSROOTS_OBJECTS)


def read_object(t: Transport, object_id: int) -> bytes | None:
    return _unless_absent(cmd.get_data, t, object_id, what=f"GET DATA {object_id:06X}")


def _unless_absent(
    command: Callable[[Transport, int], bytes], t: Transport, ref: int, what: str
) -> bytes | None:
    """The answer; None when the card has no such object or key."""
    try:
        return command(t, ref)
    except ApduError as e:
        if e.sw in ABSENT_SW:
            return None
        raise cmd.error(e.sw, what) from e


def take(t: Transport, has_metadata: bool) -> Snapshot:
    snap = Snapshot()
    for object_id in VIEW_OBJECTS:
        if object_id in MSROOTS_OBJECTS[1:] and snap.objects.get(object_id - 1) is None:
            snap.objects[object_id] = None  # msroots continues only after a present part
            continue
        snap.objects[object_id] = read_object(t, object_id)
        snap.content_input.append(object_id.to_bytes(3, "big") + (snap.objects[object_id] or b"-"))
    for slot in CONTAINER_SLOTS:
        cert = read_object(t, certificate_object(slot))
        snap.objects[certificate_object(slot)] = cert
        snap.content_input.append(bytes((slot,)) + (cert or b"-"))
        meta = None
        if has_metadata:
            meta = _unless_absent(cmd.get_metadata, t, slot, what=f"GET METADATA {slot:02X}")
            snap.content_input.append(bytes((slot,)) + (meta or b"-"))
        snap.keys[slot] = slot_key(slot, meta, cert, has_metadata)
    if has_metadata:
        pin = cmd.answer(cmd.get_metadata, t, KeyRef.PIV_PIN)
        snap.pins_input.append(b"-" if pin is None else pin)
    snap.pins_input.append(snap.objects.get(ObjectId.ADMIN_DATA) or b"-")
    return snap


def slot_key(
    slot: int, meta: bytes | None, cert: bytes | None, has_metadata: bool
) -> SlotKey | None:
    """The slot's key from its metadata, or (cards without GET METADATA) its certificate."""
    if meta is not None:
        try:
            fields = tlv.to_dict(meta)
            algorithm = fields[MetadataTag.ALGORITHM][0]
            policy_bytes = fields.get(MetadataTag.POLICY, b"")
            policy = PinPolicy(policy_bytes[0]) if policy_bytes else default_pin_policy(slot)
            public = parse_public_key(fields[MetadataTag.PUBLIC_KEY])
        except (KeyError, IndexError, ValueError):
            return None  # a key type this driver cannot present (Ed25519, X25519)
        if policy == PinPolicy.DEFAULT:
            policy = default_pin_policy(slot)
        return SlotKey(slot, public, algorithm, policy)
    if has_metadata or cert is None:
        return None
    try:
        found = x509.load_der_x509_certificate(certificate_der(cert)).public_key()
    except (ValueError, UnsupportedAlgorithm):  # no certificate, or a key it cannot present
        return None
    if not isinstance(found, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return None
    return SlotKey(slot, found, None, default_pin_policy(slot))
