"""The card management key (key reference 9B): 3DES or AES, single-block ECB.

Authentication is a challenge-response in GENERAL AUTHENTICATE (SP 800-73-4
part 2, appendix A): mutual (the card sends an encrypted witness, the host
returns it decrypted together with its own challenge) or external (the card
sends a plaintext challenge, the host returns it encrypted).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wire import tlv
from wire.iso7816 import SW
from wire.piv import DEFAULT_MANAGEMENT_KEY, Algorithm, Tag, TouchPolicy

from ...core.errors import CardError
from ...core.rng import RandomSource
from .session import Pending, PendingAuth, PivSession

KEY_LENGTHS = {
    Algorithm.TDES: 24,
    Algorithm.AES_128: 16,
    Algorithm.AES_192: 24,
    Algorithm.AES_256: 32,
}


def block_size(algorithm: Algorithm) -> int:
    return 8 if algorithm == Algorithm.TDES else 16


def check_key(algorithm: int, key: bytes) -> Algorithm:
    """The algorithm, if `key` fits it; 6A80 otherwise."""
    try:
        alg = Algorithm(algorithm)
    except ValueError:
        raise CardError(SW.WRONG_DATA, "unknown management key algorithm") from None
    if alg not in KEY_LENGTHS:
        raise CardError(SW.WRONG_DATA, "not a management key algorithm")
    if len(key) != KEY_LENGTHS[alg]:
        raise CardError(SW.WRONG_DATA, "management key length does not match its algorithm")
    return alg


@dataclass
class ManagementKey:
    algorithm: Algorithm = Algorithm.TDES
    key: bytes = DEFAULT_MANAGEMENT_KEY
    touch_policy: TouchPolicy = TouchPolicy.NEVER

    def __repr__(self) -> str:
        return f"ManagementKey({self.algorithm.name})"

    @property
    def block_size(self) -> int:
        return block_size(self.algorithm)

    @property
    def is_default(self) -> bool:
        return hmac.compare_digest(self.key, DEFAULT_MANAGEMENT_KEY)

    def _cipher(self) -> Cipher[modes.ECB]:
        algo = TripleDES(self.key) if self.algorithm == Algorithm.TDES else algorithms.AES(self.key)
        return Cipher(algo, modes.ECB())

    def encrypt(self, block: bytes) -> bytes:
        enc = self._cipher().encryptor()
        return enc.update(block) + enc.finalize()

    def decrypt(self, block: bytes) -> bytes:
        dec = self._cipher().decryptor()
        return dec.update(block) + dec.finalize()

    def to_state(self) -> dict[str, Any]:
        return {
            "algorithm": int(self.algorithm),
            "key": self.key.hex(),
            "touch_policy": int(self.touch_policy),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ManagementKey:
        return cls(
            Algorithm(int(state["algorithm"])),
            bytes.fromhex(state["key"]),
            TouchPolicy(int(state.get("touch_policy", TouchPolicy.NEVER))),
        )


# -- GENERAL AUTHENTICATE with key reference 9B ----------------------------------------------


def authenticate(
    session: PivSession,
    mgmkey: ManagementKey,
    rng: RandomSource,
    p1: int,
    template: dict[int, bytes],
) -> bytes:
    """One step of mutual or external authentication; the answer's 7C content.

    P1 00 is accepted for a challenge request: OpenSC's C_GenerateRandom asks the
    card for random bytes that way.
    """
    witness = template.get(Tag.WITNESS)
    challenge = template.get(Tag.CHALLENGE)
    response = template.get(Tag.RESPONSE)
    if p1 not in (mgmkey.algorithm, Algorithm.THREE_KEY_TDES_LEGACY) or (
        p1 == Algorithm.THREE_KEY_TDES_LEGACY and not (challenge == b"" and witness is None)
    ):
        session.pending = None
        raise CardError(SW.INCORRECT_P1P2, "algorithm does not match the management key")
    size = mgmkey.block_size
    pending, session.pending = session.pending, None

    if witness == b"" and challenge is None:
        # Mutual, step 1: an encrypted witness.
        plain = rng.token_bytes(size)
        session.pending = PendingAuth(Pending.WITNESS, mgmkey.algorithm, plain)
        return tlv.encode(Tag.WITNESS, mgmkey.encrypt(plain))
    if witness and challenge:
        # Mutual, step 2: the decrypted witness proves the host; we prove ourselves.
        if response:
            raise CardError(SW.WRONG_DATA, "unexpected response data")
        if len(challenge) % size:
            raise CardError(SW.WRONG_DATA, "challenge must be whole cipher blocks")
        ok = (
            pending is not None
            and pending.kind == Pending.WITNESS
            and hmac.compare_digest(pending.value, witness)
        )
        if not ok:
            session.management_authenticated = False
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "wrong witness")
        session.management_authenticated = True
        return tlv.encode(Tag.RESPONSE, mgmkey.encrypt(challenge))
    if challenge == b"" and witness is None:
        # External, step 1 (or the RNG): a plaintext challenge.
        plain = rng.token_bytes(size)
        session.pending = PendingAuth(Pending.CHALLENGE, mgmkey.algorithm, plain)
        return tlv.encode(Tag.CHALLENGE, plain)
    if response and witness is None and challenge is None:
        # External, step 2: the host encrypted our challenge.
        ok = (
            pending is not None
            and pending.kind == Pending.CHALLENGE
            and hmac.compare_digest(mgmkey.encrypt(pending.value), response)
        )
        if not ok:
            session.management_authenticated = False
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "wrong cryptogram")
        session.management_authenticated = True
        return b""
    raise CardError(SW.WRONG_DATA, "unsupported authentication template")
