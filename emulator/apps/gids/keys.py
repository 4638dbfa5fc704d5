"""Keys held in key EFs and the on-card crypto (gids.md 4).

A key EF holds either the admin key (symmetric) or one asymmetric key pair: RSA
1024-4096 or, as the GIDS spec defines them, ECC P-256/P-384/P-521. Private
values never leave this module except as PKCS#8 in the exported card state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from wire import tlv
from wire.gids import EC_CURVES, RSA_BITS, CtMode, KeyType, Tag
from wire.iso7816 import SW

from ...core import keys as core_keys
from ...core.errors import CardError
from ...core.rng import RandomSource
from ...core.rsa import private_operation as rsa_private_operation

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "secp256r1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1,
    "secp521r1": ec.SECP521R1,
}
_CURVE_BY_SCALAR_SIZE = {32: "secp256r1", 48: "secp384r1", 66: "secp521r1"}


@dataclass
class CardKey:
    """Either `private` (asymmetric) or `secret` (symmetric, the admin key) is set."""

    private: PrivateKey | None = None
    secret: bytes | None = None

    def __repr__(self) -> str:  # never the key material
        return f"CardKey({self.kind.name})"

    @property
    def kind(self) -> KeyType:
        if self.secret is not None:
            return KeyType.SYMMETRIC
        return KeyType.RSA if isinstance(self.private, rsa.RSAPrivateKey) else KeyType.ECC

    @property
    def rsa(self) -> rsa.RSAPrivateKey:
        if not isinstance(self.private, rsa.RSAPrivateKey):
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "not an RSA key")
        return self.private

    @property
    def ec(self) -> ec.EllipticCurvePrivateKey:
        if not isinstance(self.private, ec.EllipticCurvePrivateKey):
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "not an ECC key")
        return self.private

    @property
    def size_bytes(self) -> int:
        if isinstance(self.private, rsa.RSAPrivateKey):
            return (self.private.key_size + 7) // 8
        if isinstance(self.private, ec.EllipticCurvePrivateKey):
            return (self.private.curve.key_size + 7) // 8
        return len(self.secret or b"")

    def public_template(self) -> bytes:
        """7F49 { 81 n, 82 e } or 7F49 { 86 04||X||Y } (minimal DER lengths)."""
        if isinstance(self.private, rsa.RSAPrivateKey):
            numbers = self.private.public_key().public_numbers()
            n = numbers.n.to_bytes(self.size_bytes, "big")
            e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
            return tlv.encode(Tag.PUBLIC_KEY, tlv.encode(Tag.MODULUS, n) + tlv.encode(0x82, e))
        if isinstance(self.private, ec.EllipticCurvePrivateKey):
            point = self.private.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
            return tlv.encode(Tag.PUBLIC_KEY, tlv.encode(Tag.EC_POINT, point))
        raise CardError(SW.CONDITIONS_NOT_SATISFIED, "a symmetric key has no public part")

    # -- RSA ------------------------------------------------------------------------------

    def rsa_private_operation(self, block: bytes) -> bytes:
        """m^d mod n for one modulus-sized block."""
        return rsa_private_operation(self.rsa, block)

    def sign_pkcs1(self, digest_info: bytes) -> bytes:
        """EMSA-PKCS1-v1_5 around the host's DigestInfo||hash (or any short input)."""
        k = self.size_bytes
        if len(digest_info) > k - 11:
            raise CardError(SW.WRONG_LENGTH, "input too long for the modulus")
        block = b"\x00\x01" + b"\xff" * (k - 3 - len(digest_info)) + b"\x00" + digest_info
        return self.rsa_private_operation(block)

    def decrypt(self, cryptogram: bytes, mode: int) -> bytes:
        key = self.rsa
        if len(cryptogram) != self.size_bytes:
            raise CardError(SW.WRONG_LENGTH, "cryptogram length is not the modulus length")
        if mode == CtMode.RAW:
            return self.rsa_private_operation(cryptogram)
        try:
            if mode == CtMode.PKCS1:
                return key.decrypt(cryptogram, padding.PKCS1v15())
            if mode == CtMode.OAEP:
                oaep = padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)
                return key.decrypt(cryptogram, oaep)
        except ValueError:
            raise CardError(SW.WRONG_DATA, "padding check failed") from None
        raise CardError(SW.FUNC_NOT_SUPPORTED, "unknown padding")

    # -- ECC ------------------------------------------------------------------------------

    def sign_ecdsa(self, digest: bytes) -> bytes:
        """ECDSA over a hash computed off-card; DER SEQUENCE { r, s } as the spec says."""
        key = self.ec
        if not digest or len(digest) > 64:
            raise CardError(SW.WRONG_LENGTH, "hash length out of range")
        return key.sign(digest, ec.ECDSA(Prehashed(_PrehashLength(len(digest)))))

    def ecdh(self, peer: bytes) -> bytes:
        """The shared secret (X coordinate) with the peer's uncompressed point.

        The point may come bare (04||X||Y) or wrapped in 86 / 7F49 { 86 }.
        """
        key = self.ec
        point = _unwrap_point(peer)
        try:
            public = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, point)
            return key.exchange(ec.ECDH(), public)
        except ValueError:
            raise CardError(SW.WRONG_DATA, "not a point on the key's curve") from None

    # -- state ----------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        if self.secret is not None:
            return {"type": "symmetric", "value": self.secret.hex()}
        assert self.private is not None
        der = self.private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return {"type": self.kind.name.lower(), "pkcs8": der.hex()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> CardKey:
        if state["type"] == "symmetric":
            return cls(secret=bytes.fromhex(state["value"]))
        loaded = serialization.load_der_private_key(bytes.fromhex(state["pkcs8"]), None)
        if not isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError("unsupported key type in the card state")
        return cls(private=loaded)


class _PrehashLength(hashes.HashAlgorithm):
    """A stand-in hash of the given length: ECDSA signs whatever digest the host sent."""

    block_size = None

    def __init__(self, size: int) -> None:
        self._size = size

    @property
    def name(self) -> str:
        return f"prehashed-{self._size}"

    @property
    def digest_size(self) -> int:
        return self._size


def _unwrap_point(data: bytes) -> bytes:
    if data[:1] == b"\x04":
        return data
    try:
        item = tlv.parse_one(data)
        if item.tag == Tag.PUBLIC_KEY:
            item = tlv.parse_one(item.value, Tag.EC_POINT)
        if item.tag == Tag.EC_POINT:
            return item.value
    except tlv.TlvError:
        pass
    raise CardError(SW.WRONG_DATA, "expected an uncompressed EC point")


# -- generation and import -------------------------------------------------------------------


def generate(rng: RandomSource, mechanism: int) -> CardKey:
    if mechanism in RSA_BITS:
        return CardKey(private=core_keys.generate_rsa(rng, RSA_BITS[mechanism]))
    if mechanism in EC_CURVES:
        return CardKey(private=core_keys.generate_ec(rng, _CURVES[EC_CURVES[mechanism]]()))
    raise CardError(SW.FUNC_NOT_SUPPORTED, "unsupported key generation mechanism")


def import_rsa(value: bytes) -> CardKey:
    """PKCS#1 RSAPrivateKey; integers may lack their DER sign byte (OpenSC sends them so)."""
    try:
        seq = tlv.parse_one(value, 0x30)
        ints = tlv.parse(seq.value)
    except tlv.TlvError:
        raise CardError(SW.DATA_INVALID, "RSAPrivateKey is not a DER SEQUENCE") from None
    if len(ints) != 9 or any(t.tag != 0x02 for t in ints) or ints[0].value != b"\x00":
        raise CardError(SW.DATA_INVALID, "RSAPrivateKey needs version 0 and eight integers")
    n, e, d, p, q, dp, dq, qinv = (int.from_bytes(t.value, "big") for t in ints[1:])
    try:
        numbers = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qinv, rsa.RSAPublicNumbers(e, n))
        key = numbers.private_key()
    except (ValueError, UnsupportedAlgorithm):
        raise CardError(SW.DATA_INVALID, "inconsistent RSA key") from None
    if key.key_size not in RSA_BITS.values():
        raise CardError(SW.DATA_INVALID, "unsupported RSA key size")
    return CardKey(private=key)


def import_ec(value: bytes, mechanism: int | None) -> CardKey:
    """ECPrivateKey (RFC 5915); the curve comes from its parameters or the scalar length."""
    try:
        loaded = serialization.load_der_private_key(value, None)
        if isinstance(loaded, ec.EllipticCurvePrivateKey) and loaded.curve.name in _CURVES:
            return CardKey(private=loaded)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        pass
    try:
        items = tlv.parse(tlv.parse_one(value, 0x30).value)
        scalar = next(t.value for t in items if t.tag == 0x04)
    except (tlv.TlvError, StopIteration):
        raise CardError(SW.DATA_INVALID, "not an ECPrivateKey") from None
    name = EC_CURVES.get(mechanism or 0) or _CURVE_BY_SCALAR_SIZE.get(len(scalar))
    if name is None:
        raise CardError(SW.DATA_INVALID, "unknown curve")
    try:
        key = ec.derive_private_key(int.from_bytes(scalar, "big"), _CURVES[name]())
    except ValueError:
        raise CardError(SW.DATA_INVALID, "private scalar out of range") from None
    return CardKey(private=key)
