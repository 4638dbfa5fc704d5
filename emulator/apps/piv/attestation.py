"""Yubico-style attestation: an on-card CA key in slot F9 certifies generated keys.

The card makes its attestation CA at manufacture (a P-256 key and a self-signed
certificate in object 5FFF01); ATTEST issues a certificate for a key generated
in a slot, signed by F9, with Yubico's extensions (firmware version, serial,
PIN/touch policy, form factor) under OID arc 1.3.6.1.4.1.41482.3.
"""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

from wire import tlv
from wire.piv import FORM_FACTOR, Tag

from ...core.rng import RandomSource
from .keys import PrivateKey, SlotKey

YUBICO_PIV_ARC = "1.3.6.1.4.1.41482.3"
OID_FIRMWARE = ObjectIdentifier(YUBICO_PIV_ARC + ".3")
OID_SERIAL = ObjectIdentifier(YUBICO_PIV_ARC + ".7")
OID_POLICY = ObjectIdentifier(YUBICO_PIV_ARC + ".8")
OID_FORM_FACTOR = ObjectIdentifier(YUBICO_PIV_ARC + ".9")

# Fixed dates so a seeded card is reproducible; a CA of a card lives as long as the card.
CA_NOT_BEFORE = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
CA_NOT_AFTER = datetime.datetime(2099, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)


def _serial(rng: RandomSource) -> int:
    # 16 random bytes, top bit clear: a positive INTEGER of at most 16 bytes.
    return int.from_bytes(rng.token_bytes(16), "big") >> 1 or 1


def _hash_for(key: PrivateKey) -> hashes.SHA256 | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def make_ca(rng: RandomSource, serial: int) -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    """The attestation CA key and its self-signed certificate (DER)."""
    from ...core.keys import generate_ec

    key = generate_ec(rng, ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"softcard PIV Attestation CA {serial}"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "softcard"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_serial(rng))
        .not_valid_before(CA_NOT_BEFORE)
        .not_valid_after(CA_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    )
    from cryptography.hazmat.primitives.serialization import Encoding

    return key, cert.public_bytes(Encoding.DER)


def certificate_object(der: bytes) -> bytes:
    """A certificate object value: 70 cert, 71 00 (not compressed), FE 00."""
    return (
        tlv.encode(Tag.CERTIFICATE, der)
        + tlv.encode(Tag.CERT_INFO, b"\x00")
        + tlv.encode(Tag.ERROR_DETECTION_CODE, b"")
    )


def certificate_from_object(value: bytes) -> bytes | None:
    found = tlv.find(value, Tag.CERTIFICATE)
    return found or None


def attest(
    rng: RandomSource,
    slot: int,
    key: SlotKey,
    ca_key: PrivateKey,
    ca_cert_der: bytes,
    firmware: tuple[int, int, int],
    card_serial: int,
) -> bytes:
    """The attestation certificate (DER) of the key in `slot`."""
    from cryptography.hazmat.primitives.serialization import Encoding

    ca_cert = x509.load_der_x509_certificate(ca_cert_der)
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [x509.NameAttribute(NameOID.COMMON_NAME, f"YubiKey PIV Attestation {slot:02x}")]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public)
        .serial_number(_serial(rng))
        .not_valid_before(ca_cert.not_valid_before_utc)
        .not_valid_after(ca_cert.not_valid_after_utc)
        .add_extension(x509.UnrecognizedExtension(OID_FIRMWARE, bytes(firmware)), critical=False)
        .add_extension(
            x509.UnrecognizedExtension(OID_SERIAL, _der_integer(card_serial)), critical=False
        )
        .add_extension(
            x509.UnrecognizedExtension(
                OID_POLICY, bytes((int(key.pin_policy), int(key.touch_policy)))
            ),
            critical=False,
        )
        .add_extension(
            x509.UnrecognizedExtension(OID_FORM_FACTOR, bytes((FORM_FACTOR,))), critical=False
        )
    )
    signer = ca_key
    if not isinstance(
        signer, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    ):
        raise ValueError("the attestation key cannot sign")
    deterministic = True if isinstance(signer, ec.EllipticCurvePrivateKey) else None
    cert = builder.sign(signer, _hash_for(signer), ecdsa_deterministic=deterministic)
    return cert.public_bytes(Encoding.DER)


def _der_integer(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return tlv.encode(0x02, body)
