"""Admin key authentication through GENERAL AUTHENTICATE (gids.md 3.3).

Mutual: the host sends R1 (16 bytes), the card answers R2 (16); the host proves
itself with E_K(R2 || R1 || Z1 || 80..), the card answers E_K(R1 || R2 || Z2 || 80..).
External: the card sends one cipher block R, the host answers E_K(R). The cipher
is CBC with a zero IV and ISO 9797-1 method 2 padding, which for 3-key 3DES gives
exactly GidsApplet's 40-byte cryptograms with 7-byte Z halves.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import Enum

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wire.gids import (
    ADMIN_KEY_LENGTHS,
    ADMIN_Z_LENGTHS,
    ISO9797_PAD,
    MUTUAL_CHALLENGE_LENGTH,
    AdminMechanism,
)
from wire.iso7816 import SW

from ...core.errors import CardError
from ...core.rng import RandomSource


def is_aes(mechanism: int) -> bool:
    return mechanism in (AdminMechanism.AES_128, AdminMechanism.AES_192, AdminMechanism.AES_256)


def block_size(mechanism: int) -> int:
    return 16 if is_aes(mechanism) else 8


def check_key(mechanism: int, key: bytes) -> None:
    if ADMIN_KEY_LENGTHS.get(mechanism) != len(key):
        raise CardError(SW.DATA_INVALID, "admin key length does not fit its mechanism")


def _cipher(mechanism: int, key: bytes) -> Cipher[modes.CBC]:
    size = block_size(mechanism)
    if is_aes(mechanism):
        return Cipher(algorithms.AES(key), modes.CBC(bytes(size)))
    # 2-key 3DES is 3-key 3DES with K3 = K1 (cryptography deprecates the 16-byte form).
    tdes_key = key if len(key) == 24 else key + key[:8]
    return Cipher(TripleDES(tdes_key), modes.CBC(bytes(size)))


def encrypt(mechanism: int, key: bytes, data: bytes) -> bytes:
    enc = _cipher(mechanism, key).encryptor()
    return enc.update(data) + enc.finalize()


def decrypt(mechanism: int, key: bytes, data: bytes) -> bytes:
    dec = _cipher(mechanism, key).decryptor()
    return dec.update(data) + dec.finalize()


def pad(mechanism: int, data: bytes) -> bytes:
    size = block_size(mechanism)
    padded = data + bytes((ISO9797_PAD,))
    return padded + bytes(-len(padded) % size)


def mutual_cryptogram_length(mechanism: int) -> int:
    return len(pad(mechanism, bytes(2 * MUTUAL_CHALLENGE_LENGTH + ADMIN_Z_LENGTHS[mechanism])))


class Step(Enum):
    MUTUAL = "mutual"
    EXTERNAL = "external"


@dataclass(frozen=True)
class Challenge:
    """An open exchange: what the card sent (and, for mutual, what the host sent)."""

    step: Step
    card_random: bytes
    host_random: bytes = b""


def start_mutual(rng: RandomSource, host_random: bytes) -> Challenge:
    return Challenge(Step.MUTUAL, rng.token_bytes(MUTUAL_CHALLENGE_LENGTH), host_random)


def start_external(rng: RandomSource, mechanism: int) -> Challenge:
    return Challenge(Step.EXTERNAL, rng.token_bytes(block_size(mechanism)))


def finish_mutual(
    challenge: Challenge, mechanism: int, key: bytes, cryptogram: bytes, rng: RandomSource
) -> bytes:
    """Check the host's cryptogram; return the card's. 6982 on any mismatch."""
    if len(cryptogram) != mutual_cryptogram_length(mechanism):
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "wrong cryptogram length")
    z_length = ADMIN_Z_LENGTHS[mechanism]
    plain = decrypt(mechanism, key, cryptogram)
    expected_prefix = challenge.card_random + challenge.host_random
    head = plain[: len(expected_prefix)]
    tail = plain[len(expected_prefix) + z_length :]
    expected_tail = bytes((ISO9797_PAD,)) + bytes(len(tail) - 1) if tail else b""
    ok = hmac.compare_digest(head, expected_prefix) and hmac.compare_digest(tail, expected_tail)
    if not ok:
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "admin key authentication failed")
    card_z = rng.token_bytes(z_length)
    return encrypt(
        mechanism, key, pad(mechanism, challenge.host_random + challenge.card_random + card_z)
    )


def finish_external(challenge: Challenge, mechanism: int, key: bytes, response: bytes) -> None:
    expected = encrypt(mechanism, key, challenge.card_random)
    if not hmac.compare_digest(expected, response):
        raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "admin key authentication failed")
