"""An in-process connection with pyscard's shape, for tests with no pcscd.

>>> from emulator import make_card
>>> conn = EmbeddedConnection(make_card("iso"))
>>> conn.connect()
>>> conn.transmit([0x00, 0xA4, 0x00, 0x0C, 0x02, 0x2F, 0x01])
([], 144, 0)
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core.card import CardOS


class CardConnectionError(Exception):
    """Raised like pyscard's CardConnectionException when the card is not connected."""


class EmbeddedConnection:
    """connect / getATR / transmit / disconnect against a card in this process."""

    def __init__(self, card: CardOS, reader: str = "softcard embedded") -> None:
        self.card = card
        self.reader = reader
        self._connected = False

    def connect(self, *_args: object, **_kwargs: object) -> None:
        self.card.power_on()
        self._connected = True

    def reconnect(self, *_args: object, **_kwargs: object) -> None:
        self.card.reset()
        self._connected = True

    def disconnect(self) -> None:
        # pyscard disconnects with SCARD_UNPOWER_CARD: the card loses its volatile state.
        if self._connected:
            self.card.power_off()
        self._connected = False

    def release(self) -> None:
        self.disconnect()

    def getReader(self) -> str:  # noqa: N802 - pyscard's name
        return self.reader

    def getATR(self) -> list[int]:  # noqa: N802 - pyscard's name
        self._require()
        return list(self.card.atr)

    def transmit(
        self, command: Sequence[int], protocol: object = None
    ) -> tuple[list[int], int, int]:
        self._require()
        response = self.card.transmit(bytes(command))
        return list(response[:-2]), response[-2], response[-1]

    def transmit_bytes(self, command: bytes) -> bytes:
        self._require()
        return self.card.transmit(command)

    def _require(self) -> None:
        if not self._connected:
            raise CardConnectionError("card not connected")
