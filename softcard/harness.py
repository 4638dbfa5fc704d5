"""A card served in a reader of a running stack, for tests, demos and the pytest plugin."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from emulator.core.card import CardOS
from emulator.transports.vpcd import Endpoint, VpcdLink

from .stack import PcscStack, StackError


def wait_card_state(reader: str, present: bool, timeout: float = 10.0) -> None:
    """Block until PC/SC reports the reader with (or without) a card."""
    from smartcard.scard import (
        SCARD_S_SUCCESS,
        SCARD_SCOPE_USER,
        SCARD_STATE_PRESENT,
        SCARD_STATE_UNAWARE,
        SCardEstablishContext,
        SCardGetStatusChange,
        SCardReleaseContext,
    )

    hresult, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
    if hresult != SCARD_S_SUCCESS:
        raise StackError(f"no PC/SC service (SCardEstablishContext 0x{hresult & 0xFFFFFFFF:08X})")
    try:
        deadline = time.monotonic() + timeout
        state = SCARD_STATE_UNAWARE
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StackError(
                    f"reader '{reader}' did not report the card {'in' if present else 'out'} "
                    f"within {timeout:.0f} s"
                )
            hresult, states = SCardGetStatusChange(
                ctx, int(min(remaining, 1.0) * 1000), [(reader, state)]
            )
            if hresult == SCARD_S_SUCCESS and states:
                _, event_state, _ = states[0]
                if bool(event_state & SCARD_STATE_PRESENT) == present:
                    return
                state = event_state & ~0x2  # drop SCARD_STATE_CHANGED, wait for the next one
            elif hresult != SCARD_S_SUCCESS:
                time.sleep(0.01)
    finally:
        SCardReleaseContext(ctx)


@dataclass
class ServedCard:
    """A CardOS in vpcd slot `slot` of `stack`, served from a thread of this process."""

    card: CardOS
    stack: PcscStack
    slot: int = 0
    link: VpcdLink = field(init=False)
    _connections: list[Any] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        reader = self.stack.reader(self.slot)
        self.link = VpcdLink(self.card, Endpoint(port=reader.port))

    @property
    def reader(self) -> str:
        return self.stack.reader(self.slot).name

    def start(self, timeout: float = 10.0) -> ServedCard:
        self.link.start()
        wait_card_state(self.reader, True, timeout)
        return self

    def stop(self) -> None:
        for conn in self._connections:
            with contextlib.suppress(Exception):
                conn.disconnect()
        self._connections.clear()
        self.link.stop()
        with contextlib.suppress(StackError):
            wait_card_state(self.reader, False, 5.0)

    def remove(self, timeout: float = 10.0) -> None:
        self.link.remove()
        wait_card_state(self.reader, False, timeout)

    def insert(self, timeout: float = 10.0) -> None:
        self.link.insert()
        wait_card_state(self.reader, True, timeout)

    def connect(self) -> Any:
        """A pyscard connection to this card through pcscd."""
        from smartcard.System import readers

        for r in readers():
            if str(r) == self.reader:
                conn = r.createConnection()
                conn.connect()
                self._connections.append(conn)
                return conn
        raise StackError(f"reader '{self.reader}' not found")

    def __enter__(self) -> ServedCard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
