"""Volatile PIV security state of one logical channel (gone on reset and power-off)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ...core.application import Session


class Pending(Enum):
    """What the card is waiting for in a two-step management key authentication."""

    WITNESS = "witness"  # mutual: the host must return the decrypted witness
    CHALLENGE = "challenge"  # external: the host must return the encrypted challenge


class PivSession(Session):
    def __init__(self) -> None:
        super().__init__()
        self.pin_verified = False
        # PIN policy ALWAYS: armed by a successful VERIFY, good for the next command only.
        self.pin_always_armed = False
        self.pin_always_ok = False
        self.management_authenticated = False
        self.pending: PendingAuth | None = None

    def reset_pin_status(self) -> None:
        self.pin_verified = False
        self.pin_always_armed = False
        self.pin_always_ok = False


@dataclass(frozen=True)
class PendingAuth:
    kind: Pending
    algorithm: int
    value: bytes
