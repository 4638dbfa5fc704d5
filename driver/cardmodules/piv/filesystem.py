"""The minidriver file system of a PIV card: which PIV object stands for which logical file.

    /cardid           CHUID GUID (tag 34)                         EveryoneReadAdminWriteAc
    /cardcf           derived from the content (snapshot.py)       EveryoneReadUserWriteAc
    /cardapps         "mscp"                                       EveryoneReadAdminWriteAc
    /mscp/            the only directory                           UserCreateDeleteDirAc
    /mscp/cmapfile    key slots + Yubico container map (5FFF10)    EveryoneReadUserWriteAc
    /mscp/kxcNN       certificate object of container NN's slot    EveryoneReadUserWriteAc
    /mscp/kscNN       the same, for a signature-slot key           EveryoneReadUserWriteAc
    /mscp/msroots     Yubico msroots objects 5FFF11-5FFF15          EveryoneReadUserWriteAc

Container NN is PIV slot CONTAINER_SLOTS[NN]: 00 = 9A, 01 = 9C, 02 = 9D, 03 = 9E, 04-17 =
retired 82-95. See docs/minidriver-piv.md.
"""

from __future__ import annotations

import re

from cryptography.hazmat.primitives.asymmetric import rsa

from wire.minidriver import containers as cm
from wire.minidriver import files as f
from wire.minidriver import keyspecs as ks
from wire.piv import KeyRef

from ...blobs import PublicKey, key_bits
from ...structures import CONTAINER_MAP_RECORD
from .cmap import MapRecord
from .constants import CONTAINER_SLOTS
from .snapshot import SlotKey

MSCP = f.szBASE_CSP_DIR
CARDAPPS_VALUE = b"mscp\0\0\0\0"
ROOT_FILES = {
    f.szCARD_IDENTIFIER_FILE: f.EveryoneReadAdminWriteAc,
    f.szCACHE_FILE: f.EveryoneReadUserWriteAc,
    f.szCARD_APPS_FILE: f.EveryoneReadAdminWriteAc,
}
MSCP_AC = f.EveryoneReadUserWriteAc
_CERT_FILE = re.compile(r"^(kxc|ksc)([0-9a-f]{2})$")


def cert_file(name: str) -> tuple[str, int] | None:
    """(prefix, container index) of a kxcNN / kscNN name for a container this card can have."""
    m = _CERT_FILE.match(name.lower())
    if m is None:
        return None
    index = int(m.group(2), 16)
    return (m.group(1), index) if index < len(CONTAINER_SLOTS) else None


def cert_file_name(index: int, key_spec: int) -> str:
    prefix = (
        f.szUSER_SIGNATURE_CERT_PREFIX
        if key_spec in ks.SIGNATURE_SLOT_KEY_SPECS
        else f.szUSER_KEYEXCHANGE_CERT_PREFIX
    )
    return f"{prefix}{index:02x}"


def inbox_key_spec(slot: int, key: PublicKey) -> int:
    """How the inbox minidriver presents a PIV key: RSA in 9C signs only (AT_SIGNATURE), other
    RSA keys are AT_KEYEXCHANGE; EC keys in 9D and the retired slots (key management) are ECDH,
    the others ECDSA. (The EC half is ours: the inbox choice is UNCONFIRMED.)"""
    if isinstance(key, rsa.RSAPublicKey):
        return ks.AT_SIGNATURE if slot == KeyRef.DIGITAL_SIGNATURE else ks.AT_KEYEXCHANGE
    bits = key.curve.key_size
    ecdh = slot == KeyRef.KEY_MANAGEMENT or slot not in (
        KeyRef.PIV_AUTHENTICATION,
        KeyRef.DIGITAL_SIGNATURE,
        KeyRef.CARD_AUTHENTICATION,
    )
    return {
        (256, False): ks.AT_ECDSA_P256,
        (384, False): ks.AT_ECDSA_P384,
        (256, True): ks.AT_ECDHE_P256,
        (384, True): ks.AT_ECDHE_P384,
    }[(bits, ecdh)]


def fits(key_spec: int, key: PublicKey) -> bool:
    """Whether a key spec recorded in the map still describes the key in the slot."""
    if isinstance(key, rsa.RSAPublicKey):
        return key_spec in ks.RSA_KEY_SPECS
    return key_spec in ks.EC_KEY_BITS and ks.EC_KEY_BITS[key_spec] == key.curve.key_size


def key_spec_of(slot: int, key: PublicKey, record: MapRecord | None) -> int:
    if record is not None and record.valid and fits(record.key_spec, key):
        return record.key_spec
    return inbox_key_spec(slot, key)


def sizes(key_spec: int, bits: int) -> tuple[int, int]:
    """(wSigKeySizeBits, wKeyExchangeKeySizeBits) of a container record."""
    if not key_spec:
        return 0, 0
    return (bits, 0) if key_spec in ks.SIGNATURE_SLOT_KEY_SPECS else (0, bits)


def records_by_slot(records: list[MapRecord]) -> dict[int, MapRecord]:
    return {r.slot: r for r in records if r.valid and r.slot in CONTAINER_SLOTS}


def container_records(
    keys: dict[int, SlotKey | None],
    mscmap: list[MapRecord],
    name_for: dict[int, str],
) -> list[MapRecord | None]:
    """One entry per container index: the map record the view shows, or None (empty).

    A slot with a key is a container (named by the map, else as the inbox minidriver names it);
    a map record without a key yet is shown as written (the CSP writes cmapfile before it
    creates the key). Without any map, 9A's container is the default one, as in the inbox view.
    """
    by_slot = records_by_slot(mscmap)
    out: list[MapRecord | None] = []
    for slot in CONTAINER_SLOTS:
        key = keys.get(slot)
        record = by_slot.get(slot)
        if key is None:
            out.append(record)
            continue
        spec = key_spec_of(slot, key.public_key, record)
        base = record or MapRecord(name_for[slot], slot)
        out.append(
            MapRecord(
                base.name,
                slot,
                spec,
                key_bits(key.public_key),
                base.flags | cm.CONTAINER_MAP_VALID_CONTAINER,
                base.pin_id,
                base.associated_ecdh_container,
                base.cert_fingerprint,
            )
        )
    if not by_slot and out and out[0] is not None:
        first = out[0]
        out[0] = MapRecord(
            first.name,
            first.slot,
            first.key_spec,
            first.key_size_bits,
            first.flags | cm.CONTAINER_MAP_DEFAULT_CONTAINER,
            first.pin_id,
            first.associated_ecdh_container,
            first.cert_fingerprint,
        )
    return out


def build_cmapfile(records: list[MapRecord | None]) -> bytes:
    """mscp/cmapfile: 86-byte CONTAINER_MAP_RECORDs, trailing empty records left out."""
    while records and records[-1] is None:
        records = records[:-1]
    out = b""
    for record in records:
        if record is None:
            out += CONTAINER_MAP_RECORD().to_bytes()
            continue
        sig, kx = sizes(record.key_spec, record.key_size_bits)
        out += CONTAINER_MAP_RECORD(
            record.name[: cm.MAX_CONTAINER_NAME_LEN], record.flags, 0, sig, kx
        ).to_bytes()
    return out


def map_from_cmapfile(
    written: list[CONTAINER_MAP_RECORD], current: list[MapRecord | None]
) -> list[MapRecord]:
    """The Yubico map that stores what the CSP wrote into cmapfile (valid records only)."""
    out: list[MapRecord] = []
    for index, record in enumerate(written):
        if not record.valid:
            continue
        old = current[index] if index < len(current) else None
        bits = record.key_exchange_key_size_bits or record.sig_key_size_bits
        if record.key_exchange_key_size_bits:
            spec = old.key_spec if old and old.key_spec in ks.KEYEXCHANGE_SLOT_KEY_SPECS else 0
            spec = spec or ks.AT_KEYEXCHANGE
        elif record.sig_key_size_bits:
            spec = old.key_spec if old and old.key_spec in ks.SIGNATURE_SLOT_KEY_SPECS else 0
            spec = spec or ks.AT_SIGNATURE
        else:
            spec = old.key_spec if old else 0
            bits = old.key_size_bits if old else 0
        out.append(
            MapRecord(
                record.guid,
                CONTAINER_SLOTS[index],
                spec,
                bits,
                record.flags,
                old.pin_id if old else 1,
                old.associated_ecdh_container if old else 0xFF,
                old.cert_fingerprint if old else bytes(20),
            )
        )
    return out
