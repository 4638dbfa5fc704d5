"""What the card reports to observers (tracers, fault injectors, tests) per exchange."""

from __future__ import annotations

from typing import NamedTuple, Protocol


class ApduEvent(NamedTuple):
    """One command and the response the card gave to it.

    A NamedTuple: one is built per APDU while anything observes the card, on the hot path.
    """

    timestamp: float  # time.time() when the command arrived
    channel: int
    application: str  # the application that handled it ("" when none)
    command: bytes
    response: bytes
    duration_ns: int


class PowerEvent(NamedTuple):
    timestamp: float
    kind: str  # "power_on", "power_off", "reset"


class CardObserver(Protocol):
    def on_apdu(self, event: ApduEvent) -> None: ...

    def on_power(self, event: PowerEvent) -> None: ...
