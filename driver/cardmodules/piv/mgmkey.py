"""The PIV management key (9B) as the minidriver's admin: challenge/response (piv.md 3.7 b).

The card sends a random block C (GENERAL AUTHENTICATE `7C { 81 00 }`); the admin answers
Enc_K(C), one block of ECB with the management key: 3-key 3DES (8-byte block) or AES-128/192/256
(16-byte block). That is CardGetChallenge / CardAuthenticateChallenge with no translation.
"""

from __future__ import annotations

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wire.piv import MANAGEMENT_KEY_LENGTHS, Algorithm


def block_size(algorithm: int) -> int:
    return 8 if algorithm == Algorithm.TDES else 16


def key_length(algorithm: int) -> int:
    return MANAGEMENT_KEY_LENGTHS[Algorithm(algorithm)]


def admin_response(key: bytes, challenge: bytes, algorithm: int = Algorithm.TDES) -> bytes:
    """The admin's answer to a challenge: the challenge encrypted with the management key."""
    if len(key) != key_length(algorithm):
        raise ValueError(
            f"a {Algorithm(algorithm).name} management key is {key_length(algorithm)} bytes"
        )
    cipher = TripleDES(key) if algorithm == Algorithm.TDES else algorithms.AES(key)
    enc = Cipher(cipher, modes.ECB()).encryptor()
    return enc.update(challenge) + enc.finalize()


def algorithm_for_key(key: bytes, current: int) -> int:
    """The algorithm a new key of this length takes: the card's current one when it fits (a
    24-byte key stays 3DES on a 3DES card), else the AES variant of that length."""
    if key_length(current) == len(key):
        return current
    for alg in (Algorithm.AES_128, Algorithm.AES_192, Algorithm.AES_256):
        if MANAGEMENT_KEY_LENGTHS[alg] == len(key):
            return alg
    raise ValueError("a management key is 16, 24 or 32 bytes")
