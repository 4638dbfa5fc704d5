"""The card's randomness: the OS by default, a seeded DRBG in deterministic mode.

Deterministic mode exists for golden-file tests; its output is predictable from
the seed by design and must never guard anything real.
"""

from __future__ import annotations

import hashlib
import hmac
import os


class RandomSource:
    """Cryptographically strong bytes from the operating system."""

    deterministic = False

    def token_bytes(self, n: int) -> bytes:
        return os.urandom(n)

    def randbelow(self, bound: int) -> int:
        """Uniform integer in [0, bound)."""
        if bound <= 0:
            raise ValueError("bound must be positive")
        nbytes = (bound.bit_length() + 7) // 8 + 8
        return int.from_bytes(self.token_bytes(nbytes), "big") % bound


class SeededRandom(RandomSource):
    """HMAC-DRBG (SP 800-90A, SHA-256, no reseed): reproducible from a seed."""

    deterministic = True

    def __init__(self, seed: int | bytes, label: bytes = b"softcard") -> None:
        seed_bytes = seed if isinstance(seed, bytes) else str(seed).encode()
        self._k = b"\x00" * 32
        self._v = b"\x01" * 32
        self._update(seed_bytes + b"/" + label)

    def _update(self, data: bytes = b"") -> None:
        self._k = hmac.new(self._k, self._v + b"\x00" + data, hashlib.sha256).digest()
        self._v = hmac.new(self._k, self._v, hashlib.sha256).digest()
        if data:
            self._k = hmac.new(self._k, self._v + b"\x01" + data, hashlib.sha256).digest()
            self._v = hmac.new(self._k, self._v, hashlib.sha256).digest()

    def token_bytes(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            self._v = hmac.new(self._k, self._v, hashlib.sha256).digest()
            out += self._v
        self._update()
        return bytes(out[:n])

    def fork(self, label: str) -> SeededRandom:
        """An independent stream for one consumer, so adding a consumer shifts no other."""
        return SeededRandom(self.token_bytes(32), label.encode())
