"""Symmetric key handles (CARD_KEY_HANDLE) for secure key injection and CardDeriveKey with
CARD_RETURN_KEY_HANDLE. The keys live in the driver's memory and never reach the card."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding as sympadding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wire.minidriver import ski

from .errors import SCARD_E_INVALID_HANDLE, SCARD_E_INVALID_PARAMETER
from .structures import CARD_KEY_SIZES


@dataclass(frozen=True)
class Algorithm:
    name: str
    key_sizes: CARD_KEY_SIZES  # in bits
    block_length: int


ALGORITHMS = {
    ski.CARD_AES_ALGORITHM: Algorithm(
        ski.CARD_AES_ALGORITHM, CARD_KEY_SIZES(1, 128, 256, 256, 64), 16
    ),
    ski.CARD_3DES_ALGORITHM: Algorithm(
        ski.CARD_3DES_ALGORITHM, CARD_KEY_SIZES(1, 192, 192, 192, 0), 8
    ),
    ski.CARD_3DES_112_ALGORITHM: Algorithm(
        ski.CARD_3DES_112_ALGORITHM, CARD_KEY_SIZES(1, 128, 128, 128, 0), 8
    ),
}
CHUNK = 240  # ciphertext bytes per CARD_ENCRYPTED_DATA element (one short APDU's worth)


@dataclass
class SymmetricKey:
    algorithm: Algorithm
    key: bytes
    iv: bytes | None = None
    chaining_mode: str | None = None
    _cipher_key: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sizes = self.algorithm.key_sizes
        bits = len(self.key) * 8
        fits = sizes.minimum_bitlen <= bits <= sizes.maximum_bitlen
        if sizes.incremental_bitlen:
            fits = fits and (bits - sizes.minimum_bitlen) % sizes.incremental_bitlen == 0
        if not fits:
            raise SCARD_E_INVALID_PARAMETER(f"{bits}-bit key for {self.algorithm.name}")
        # Two-key 3DES is K1 K2 K1.
        self._cipher_key = (
            self.key + self.key[:8]
            if self.algorithm.name == ski.CARD_3DES_112_ALGORITHM
            else self.key
        )

    def _cipher(self) -> Cipher[modes.CBC]:
        if self.iv is None or self.chaining_mode != ski.CARD_CHAIN_MODE_CBC:
            raise SCARD_E_INVALID_PARAMETER(
                "set CKP_INITIALIZATION_VECTOR and CKP_CHAINING_MODE first"
            )
        algorithm = (
            algorithms.AES(self._cipher_key)
            if self.algorithm.name == ski.CARD_AES_ALGORITHM
            else TripleDES(self._cipher_key)
        )
        return Cipher(algorithm, modes.CBC(self.iv))

    def encrypt(self, data: bytes, block_padding: bool) -> bytes:
        size = self.algorithm.block_length
        if block_padding:
            padder = sympadding.PKCS7(size * 8).padder()
            data = padder.update(data) + padder.finalize()
        elif len(data) % size:
            raise SCARD_E_INVALID_PARAMETER("data is not a whole number of blocks")
        enc = self._cipher().encryptor()
        return enc.update(data) + enc.finalize()

    def decrypt(self, data: bytes, block_padding: bool) -> bytes:
        size = self.algorithm.block_length
        if len(data) % size:
            raise SCARD_E_INVALID_PARAMETER("ciphertext is not a whole number of blocks")
        dec = self._cipher().decryptor()
        plain = dec.update(data) + dec.finalize()
        if block_padding:
            unpadder = sympadding.PKCS7(size * 8).unpadder()
            try:
                plain = unpadder.update(plain) + unpadder.finalize()
            except ValueError:
                raise SCARD_E_INVALID_PARAMETER("bad block padding") from None
        return plain


def algorithm(name: str | None) -> Algorithm:
    found = ALGORITHMS.get(name or "")
    if found is None:
        raise SCARD_E_INVALID_PARAMETER(f"unknown symmetric algorithm {name!r}")
    return found


class KeyTable:
    """CARD_KEY_HANDLE -> key; handles are small non-zero integers, never reused."""

    def __init__(self) -> None:
        self._keys: dict[int, SymmetricKey] = {}
        self._next = 1

    def add(self, key: SymmetricKey) -> int:
        handle = self._next
        self._next += 1
        self._keys[handle] = key
        return handle

    def get(self, handle: int) -> SymmetricKey:
        key = self._keys.get(handle)
        if key is None:
            raise SCARD_E_INVALID_HANDLE(f"no key with handle {handle}")
        return key

    def destroy(self, handle: int) -> None:
        if self._keys.pop(handle, None) is None:
            raise SCARD_E_INVALID_HANDLE(f"no key with handle {handle}")

    def clear(self) -> None:
        self._keys.clear()


def split_chunks(ciphertext: bytes, block_length: int) -> list[bytes]:
    """MDEncryptData framing: whole-block chunks of at most CHUNK bytes, in order."""
    step = CHUNK - CHUNK % block_length
    return [ciphertext[i : i + step] for i in range(0, len(ciphertext), step)] or [b""]
