"""PIV object values the minidriver view is made of: certificates, CHUID, pivman data, keys."""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from wire import tlv
from wire.piv import ADMIN_FLAGS_1_MGM_PROTECTED, PivmanTag, Tag

from ...blobs import CURVES_BY_BITS, PublicKey

# CertInfo (tag 71): 00 plain DER, bit 0 set = compressed (piv.md 2.3).
CERT_INFO_COMPRESSED = 0x01
# The minidriver's certificate compression header: WORD 1, WORD length, zlib (minidriver.md 5.7).
MD_COMPRESSED_HEADER = b"\x01\x00"


def certificate_value(der: bytes) -> bytes:
    """A certificate object as ykman and yubico-piv-tool write it: 70 cert 71 00 FE 00."""
    return (
        tlv.encode(Tag.CERTIFICATE, der)
        + tlv.encode(Tag.CERT_INFO, b"\x00")
        + tlv.encode(Tag.ERROR_DETECTION_CODE, b"")
    )


def certificate_der(value: bytes) -> bytes:
    """The DER certificate of a certificate object, inflated if the card holds it compressed."""
    fields = tlv.to_dict(value)
    cert = fields.get(Tag.CERTIFICATE)
    if cert is None:
        raise ValueError("certificate object without a certificate (tag 70)")
    info = fields.get(Tag.CERT_INFO, b"\x00")
    if info and info[0] & CERT_INFO_COMPRESSED:
        return decompress(cert)
    return cert


def decompress(data: bytes) -> bytes:
    """gzip (ykman, yubico-piv-tool) or the "Net iD" / minidriver zlib form."""
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:2] == MD_COMPRESSED_HEADER:
        return zlib.decompress(data[4:])
    return zlib.decompress(data)


def certificate_from_file(data: bytes) -> bytes:
    """What a kxcNN/kscNN write carries, as DER: the CSP may send it compressed (01 00 ...)."""
    if data[:2] == MD_COMPRESSED_HEADER:
        try:
            return zlib.decompress(data[4:])
        except zlib.error:
            raise ValueError("a compressed certificate that does not inflate") from None
    return data


def chuid_guid(value: bytes) -> bytes | None:
    """The 16-byte GUID (tag 34) of a CHUID value, None when absent or all zero."""
    try:
        guid = tlv.find(value, Tag.GUID)
    except tlv.TlvError:
        return None
    if guid is None or len(guid) != 16 or not any(guid):
        return None
    return guid


def container_name(guid: bytes, cert_object: int) -> str:
    """The inbox minidriver's PIV container name: the CHUID GUID as a Windows GUID string
    (Data1-Data3 little-endian) with its last 3 bytes replaced by the certificate object's tag
    (minidriver.md 6.12; e.g. ...-090b075fc105 for 9A)."""
    b = guid[:13] + cert_object.to_bytes(3, "big")
    return (
        f"{b[3]:02x}{b[2]:02x}{b[1]:02x}{b[0]:02x}-{b[5]:02x}{b[4]:02x}-{b[7]:02x}{b[6]:02x}-"
        f"{b[8]:02x}{b[9]:02x}-" + b[10:16].hex()
    )


@dataclass(frozen=True)
class Pivman:
    """What Yubico's tools keep about the management key (piv.md 5.10)."""

    protected: bool = False  # the management key is stored in 5FC109 behind the PIN
    derived: bool = False  # legacy PIN-derived key (salt present): not used by this driver


def parse_admin_data(value: bytes) -> Pivman:
    try:
        inner = tlv.parse_one(value, PivmanTag.ADMIN).value
        fields = tlv.to_dict(inner)
    except tlv.TlvError:
        return Pivman()
    flags = fields.get(PivmanTag.ADMIN_FLAGS_1, b"\x00")
    return Pivman(
        protected=bool(flags and flags[0] & ADMIN_FLAGS_1_MGM_PROTECTED),
        derived=PivmanTag.ADMIN_SALT in fields,
    )


def protected_management_key(value: bytes) -> bytes | None:
    """The management key kept in the PIN-protected data object (88 { 89 key })."""
    try:
        inner = tlv.parse_one(value, PivmanTag.PROTECTED).value
        key = tlv.find(inner, PivmanTag.PROTECTED_MGM)
    except tlv.TlvError:
        return None
    return key if key and len(key) in (16, 24, 32) else None


def protected_data_with_key(value: bytes | None, key: bytes) -> bytes:
    """The protected data object with its management key replaced, other members kept."""
    members: list[tuple[int, bytes]] = []
    if value:
        try:
            inner = tlv.parse_one(value, PivmanTag.PROTECTED).value
            members = [(t.tag, t.value) for t in tlv.parse(inner)]
        except tlv.TlvError:
            members = []
    members = [(tag, v) for tag, v in members if tag != PivmanTag.PROTECTED_MGM]
    members.append((PivmanTag.PROTECTED_MGM, key))
    return tlv.encode(PivmanTag.PROTECTED, b"".join(tlv.encode(tag, v) for tag, v in members))


def parse_public_key(raw: bytes) -> PublicKey:
    """7F49 { 81 n, 82 e } or 7F49 { 86 point }, or the bare members (GET METADATA tag 04)."""
    try:
        body = tlv.parse_one(raw, Tag.PUBLIC_KEY_TEMPLATE).value if raw[:2] == b"\x7f\x49" else raw
        fields = tlv.to_dict(body)
        if Tag.RSA_MODULUS in fields:
            n = int.from_bytes(fields[Tag.RSA_MODULUS], "big")
            e = int.from_bytes(fields[Tag.RSA_EXPONENT], "big")
            return rsa.RSAPublicNumbers(e, n).public_key()
        point = fields[Tag.EC_POINT]
        bits = {65: 256, 97: 384}[len(point)]
        return ec.EllipticCurvePublicKey.from_encoded_point(CURVES_BY_BITS[bits].curve(), point)
    except (KeyError, ValueError):  # a member missing, or values no key is made of
        raise ValueError("malformed public key from the card") from None
