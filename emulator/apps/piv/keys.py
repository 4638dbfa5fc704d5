"""Asymmetric keys in PIV slots: generation, import, the private-key operations.

The card does raw operations only, as a PIV card does: RSA is m^d mod n on a
block the client padded, ECDSA signs the (truncated) hash it is given, ECDH and
X25519 return the shared secret. Private keys never leave this module except as
PKCS#8 in the exported card state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from wire import tlv
from wire.iso7816 import SW
from wire.piv import (
    EC_ALGORITHMS,
    RSA_ALGORITHMS,
    Algorithm,
    ImportTag,
    Origin,
    PinPolicy,
    Tag,
    TouchPolicy,
)

from ...core import keys as core_keys
from ...core.errors import CardError
from ...core.rng import RandomSource
from ...core.rsa import private_operation as rsa_private_operation

PrivateKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | x25519.X25519PrivateKey
)
PublicKey = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | x25519.X25519PublicKey
)

_CURVES: dict[str, ec.EllipticCurve] = {"secp256r1": ec.SECP256R1(), "secp384r1": ec.SECP384R1()}
# Prehashed needs a digest of the curve's size; the hash is padded or cut to it first.
_PREHASH: dict[str, hashes.HashAlgorithm] = {
    "secp256r1": hashes.SHA256(),
    "secp384r1": hashes.SHA384(),
}
RSA_EXPONENT = 65537


def _curve(algorithm: int) -> ec.EllipticCurve:
    return _CURVES[EC_ALGORITHMS[Algorithm(algorithm)]]


def field_bytes(algorithm: int) -> int:
    return (_curve(algorithm).key_size + 7) // 8


def algorithm_of(key: PrivateKey) -> Algorithm:
    if isinstance(key, rsa.RSAPrivateKey):
        for alg, bits in RSA_ALGORITHMS.items():
            if bits == key.key_size:
                return alg
        raise CardError(SW.WRONG_DATA, f"unsupported RSA size {key.key_size}")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        for alg, name in EC_ALGORITHMS.items():
            if name == key.curve.name:
                return alg
        raise CardError(SW.WRONG_DATA, f"unsupported curve {key.curve.name}")
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return Algorithm.ED25519
    return Algorithm.X25519


def generate(rng: RandomSource, algorithm: int) -> PrivateKey:
    """A new key from the card's randomness (deterministic on a seeded card)."""
    if algorithm in RSA_ALGORITHMS:
        return core_keys.generate_rsa(rng, RSA_ALGORITHMS[Algorithm(algorithm)])
    if algorithm in EC_ALGORITHMS:
        return core_keys.generate_ec(rng, _curve(algorithm))
    if algorithm == Algorithm.ED25519:
        return ed25519.Ed25519PrivateKey.from_private_bytes(rng.token_bytes(32))
    if algorithm == Algorithm.X25519:
        return x25519.X25519PrivateKey.from_private_bytes(rng.token_bytes(32))
    raise CardError(SW.WRONG_DATA, f"unsupported algorithm {algorithm:02X}")


def _int(value: bytes) -> int:
    return int.from_bytes(value, "big")


def from_import(algorithm: int, fields: dict[int, bytes]) -> PrivateKey:
    """Build the key of a Yubico IMPORT KEY command; 6A80 when the parts do not fit."""
    try:
        if algorithm in RSA_ALGORITHMS:
            bits = RSA_ALGORITHMS[Algorithm(algorithm)]
            p, q = _int(fields[ImportTag.RSA_P]), _int(fields[ImportTag.RSA_Q])
            dp, dq = _int(fields[ImportTag.RSA_DP]), _int(fields[ImportTag.RSA_DQ])
            qinv = _int(fields[ImportTag.RSA_QINV])
            n = p * q
            if n.bit_length() != bits:
                raise CardError(SW.WRONG_DATA, "RSA modulus size does not match the algorithm")
            d = pow(RSA_EXPONENT, -1, (p - 1) * (q - 1))
            numbers = rsa.RSAPrivateNumbers(
                p, q, d, dp, dq, qinv, rsa.RSAPublicNumbers(RSA_EXPONENT, n)
            )
            return numbers.private_key()
        if algorithm in EC_ALGORITHMS:
            scalar = fields[ImportTag.EC_PRIVATE]
            if len(scalar) != field_bytes(algorithm):
                raise CardError(SW.WRONG_DATA, "EC private key length does not match the curve")
            return ec.derive_private_key(_int(scalar), _curve(algorithm))
        if algorithm == Algorithm.ED25519:
            return ed25519.Ed25519PrivateKey.from_private_bytes(fields[ImportTag.ED25519_SEED])
        if algorithm == Algorithm.X25519:
            return x25519.X25519PrivateKey.from_private_bytes(fields[ImportTag.X25519_PRIVATE])
    except (KeyError, ValueError) as e:
        raise CardError(SW.WRONG_DATA, f"bad key parts: {e}") from None
    raise CardError(SW.WRONG_DATA, f"unsupported algorithm {algorithm:02X}")


def public_key_template(public: PublicKey) -> bytes:
    """The inside of tag 7F49: RSA 81 (modulus, full length) before 82; EC/25519 86."""
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        size = (public.key_size + 7) // 8
        exponent = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        return tlv.encode(Tag.RSA_MODULUS, numbers.n.to_bytes(size, "big")) + tlv.encode(
            Tag.RSA_EXPONENT, exponent
        )
    if isinstance(public, ec.EllipticCurvePublicKey):
        point = public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return tlv.encode(Tag.EC_POINT, point)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return tlv.encode(Tag.EC_POINT, raw)


@dataclass
class SlotKey:
    """A private key in a slot, with what GET METADATA reports about it."""

    algorithm: Algorithm
    private: PrivateKey
    pin_policy: PinPolicy
    touch_policy: TouchPolicy
    origin: Origin

    def __repr__(self) -> str:  # never show key material
        return f"SlotKey({self.algorithm.name}, {self.origin.name})"

    @property
    def public(self) -> PublicKey:
        return self.private.public_key()

    # -- operations -----------------------------------------------------------------------

    def raw_rsa(self, block: bytes) -> bytes:
        """RSA private operation on a modulus-size block (sign or decrypt)."""
        assert isinstance(self.private, rsa.RSAPrivateKey)
        return rsa_private_operation(self.private, block)

    def ecdsa(self, digest: bytes) -> bytes:
        """ECDSA over a hash value (left-padded or cut to the field size); DER answer."""
        assert isinstance(self.private, ec.EllipticCurvePrivateKey)
        size = field_bytes(self.algorithm)
        if not digest:
            raise CardError(SW.WRONG_DATA, "empty hash")
        value = digest[:size].rjust(size, b"\x00")
        prehash = _PREHASH[self.private.curve.name]
        # RFC 6979 nonces: no dependence on a random source, reproducible on a seeded card.
        return self.private.sign(value, ec.ECDSA(Prehashed(prehash), deterministic_signing=True))

    def ecdh(self, peer: bytes) -> bytes:
        assert isinstance(self.private, ec.EllipticCurvePrivateKey)
        if not peer or peer[0] != 0x04:
            raise CardError(SW.WRONG_DATA, "peer point must be uncompressed")
        try:
            public = ec.EllipticCurvePublicKey.from_encoded_point(self.private.curve, peer)
            return self.private.exchange(ec.ECDH(), public)
        except (ValueError, InvalidKey):
            raise CardError(SW.WRONG_DATA, "peer point is not on the curve") from None

    def ed25519(self, message: bytes) -> bytes:
        assert isinstance(self.private, ed25519.Ed25519PrivateKey)
        return self.private.sign(message)

    def x25519(self, peer: bytes) -> bytes:
        assert isinstance(self.private, x25519.X25519PrivateKey)
        try:
            return self.private.exchange(x25519.X25519PublicKey.from_public_bytes(peer))
        except ValueError:
            raise CardError(SW.WRONG_DATA, "bad X25519 public key") from None

    # -- persistence ----------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        der = self.private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return {
            "algorithm": int(self.algorithm),
            "pkcs8": der.hex(),
            "pin_policy": int(self.pin_policy),
            "touch_policy": int(self.touch_policy),
            "origin": int(self.origin),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SlotKey:
        private = serialization.load_der_private_key(bytes.fromhex(state["pkcs8"]), None)
        if not isinstance(
            private,
            rsa.RSAPrivateKey
            | ec.EllipticCurvePrivateKey
            | ed25519.Ed25519PrivateKey
            | x25519.X25519PrivateKey,
        ):
            raise ValueError("unsupported key type in card state")
        return cls(
            Algorithm(int(state["algorithm"])),
            private,
            PinPolicy(int(state["pin_policy"])),
            TouchPolicy(int(state["touch_policy"])),
            Origin(int(state["origin"])),
        )
