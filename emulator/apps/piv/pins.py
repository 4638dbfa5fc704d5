"""PIV PIN (80) and PUK (81): 8-byte reference data with retry counters.

Values are kept as the 8 bytes the card edge carries (PIN right-padded with FF),
so every comparison is a constant-time compare of two 8-byte strings. The
counters are core `Pin` objects: decremented and made durable before the compare.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

from wire.iso7816 import SW
from wire.piv import (
    DEFAULT_PIN,
    DEFAULT_PIN_TRIES,
    DEFAULT_PUK,
    DEFAULT_PUK_TRIES,
    PIN_LENGTH,
    PIN_MIN_LENGTH,
    PIN_PAD,
)

from ...core.errors import CardError
from ...core.pin import Pin


def pad(value: bytes) -> bytes:
    return value.ljust(PIN_LENGTH, bytes((PIN_PAD,)))


def check_new_value(value: bytes) -> bytes:
    """A new PIN/PUK: 8 bytes, 6-8 significant ones, FF only as trailing padding."""
    if len(value) != PIN_LENGTH:
        raise CardError(SW.WRONG_DATA, "PIN must be 8 bytes")
    significant = value.rstrip(bytes((PIN_PAD,)))
    if len(significant) < PIN_MIN_LENGTH or PIN_PAD in significant:
        raise CardError(SW.WRONG_DATA, "PIN must have 6 to 8 characters")
    return value


def _pin(value: bytes, tries: int) -> Pin:
    return Pin(pad(value), max_tries=tries, min_length=PIN_LENGTH, max_length=PIN_LENGTH)


@dataclass
class PivPins:
    pin: Pin = field(default_factory=lambda: _pin(DEFAULT_PIN, DEFAULT_PIN_TRIES))
    puk: Pin = field(default_factory=lambda: _pin(DEFAULT_PUK, DEFAULT_PUK_TRIES))
    # Used only when the discovery object offers the Global PIN (reference 00).
    global_pin: Pin = field(default_factory=lambda: _pin(DEFAULT_PIN, DEFAULT_PIN_TRIES))

    def reset(self, pin_tries: int = DEFAULT_PIN_TRIES, puk_tries: int = DEFAULT_PUK_TRIES) -> None:
        """Default values and full counters (RESET, SET PIN RETRIES); hooks are kept."""
        commit = self.pin.commit
        self.pin = _pin(DEFAULT_PIN, pin_tries)
        self.puk = _pin(DEFAULT_PUK, puk_tries)
        self.global_pin = _pin(DEFAULT_PIN, pin_tries)
        self.pin.commit = self.puk.commit = self.global_pin.commit = commit

    @staticmethod
    def is_default(pin: Pin, default: bytes) -> bool:
        return hmac.compare_digest(pin.value, pad(default))

    def to_state(self) -> dict[str, Any]:
        return {
            "pin": self.pin.to_state(),
            "puk": self.puk.to_state(),
            "global_pin": self.global_pin.to_state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> PivPins:
        return cls(
            Pin.from_state(state["pin"]),
            Pin.from_state(state["puk"]),
            Pin.from_state(state["global_pin"]),
        )
