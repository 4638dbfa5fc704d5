"""PIN objects: reference data with a persistent retry counter.

The counter is decremented and made durable *before* the comparison is looked
at, so pulling the card (or killing the process) mid-VERIFY cannot buy an
extra try. The comparison is constant-time.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wire.iso7816 import SW, tries_left

from .errors import CardError

Committer = Callable[[], None]


def _no_commit() -> None:
    return None


@dataclass
class Pin:
    value: bytes
    max_tries: int = 3
    tries: int = -1
    min_length: int = 4
    max_length: int = 8
    # Called after the decrement, before the comparison; the card makes it durable.
    commit: Committer = field(default=_no_commit, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tries < 0:
            self.tries = self.max_tries

    def __repr__(self) -> str:  # the value never shows, not even in a debugger's repr
        return f"Pin(tries={self.tries}/{self.max_tries})"

    @property
    def blocked(self) -> bool:
        return self.tries <= 0

    def check_length(self, candidate: bytes) -> None:
        if not self.min_length <= len(candidate) <= self.max_length:
            raise CardError(SW.WRONG_LENGTH, "PIN length out of range")

    def verify(self, candidate: bytes) -> None:
        """Raise 6983 when blocked, 63Cx on mismatch; restore the counter on a match."""
        if self.blocked:
            raise CardError(SW.AUTH_METHOD_BLOCKED)
        self.tries -= 1
        self.commit()
        if hmac.compare_digest(self.value, candidate):
            self.tries = self.max_tries
            return
        raise CardError(tries_left(self.tries))

    def status(self) -> int:
        """The status word an empty VERIFY answers when not verified."""
        if self.blocked:
            return SW.AUTH_METHOD_BLOCKED
        return tries_left(self.tries)

    def change(self, old: bytes, new: bytes) -> None:
        self.verify(old)
        self.check_length(new)
        self.value = bytes(new)

    def unblock(self, new: bytes, max_tries: int | None = None) -> None:
        """Set a new value and reset the counter (after the caller checked the PUK)."""
        self.check_length(new)
        self.value = bytes(new)
        if max_tries is not None:
            self.max_tries = max_tries
        self.tries = self.max_tries

    def to_state(self) -> dict[str, Any]:
        return {
            "value": self.value.hex(),
            "tries": self.tries,
            "max_tries": self.max_tries,
            "min_length": self.min_length,
            "max_length": self.max_length,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Pin:
        return cls(
            value=bytes.fromhex(state["value"]),
            tries=int(state["tries"]),
            max_tries=int(state["max_tries"]),
            min_length=int(state.get("min_length", 4)),
            max_length=int(state.get("max_length", 8)),
        )
