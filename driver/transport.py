"""The one path every APDU of the driver takes: a pyscard-shaped connection, wrapped.

`Transport` is the wire layer's ApduClient (short APDUs, chaining, 61xx/6Cxx, ApduError
for a refused command) over `connection.transmit(list) -> (data, sw1, sw2)`, so a tracing
wrapper around the connection sees every APDU. Connection failures become minidriver
errors, and so does a response longer than any object.
"""

from __future__ import annotations

from typing import Any, Protocol

from wire.apdu import ResponseApdu
from wire.client import ApduClient, ResponseTooLong

from .errors import (
    ERRORS,
    SCARD_E_COMM_DATA_LOST,
    SCARD_F_COMM_ERROR,
    SCARD_W_REMOVED_CARD,
    MinidriverError,
    error_for,
)


class Connection(Protocol):
    """What the driver needs from pyscard's CardConnection (and EmbeddedConnection)."""

    def transmit(self, command: list[int], protocol: Any = ...) -> tuple[list[int], int, int]: ...

    def disconnect(self) -> None: ...


class Transport(ApduClient):
    """APDU exchange with chaining and GET RESPONSE over a PC/SC connection."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(self._transmit_connection)
        self.connection = connection

    def _transmit_connection(self, apdu: bytes) -> tuple[bytes, int]:
        try:
            data, sw1, sw2 = self.connection.transmit(list(apdu))
        except MinidriverError:
            raise
        # pyscard raises its own exception types, and a wrapper may raise anything a broken
        # link does: each is a failed exchange, reported as the PC/SC error it carries.
        except Exception as err:
            raise _connection_error(err) from err
        return bytes(data), (sw1 << 8) | sw2

    def transceive(
        self, cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None
    ) -> ResponseApdu:
        try:
            return super().transceive(cla, ins, p1, p2, data, le)
        except ResponseTooLong as err:
            raise SCARD_E_COMM_DATA_LOST(str(err)) from err


def _connection_error(err: Exception) -> MinidriverError:
    """pyscard reports PC/SC failures with an hresult; keep it when it is a SCARD code."""
    hresult = getattr(err, "hresult", -1)
    if isinstance(hresult, int) and hresult not in (-1, 0):
        code = hresult & 0xFFFFFFFF
        if code in ERRORS:
            return error_for(code, str(err) or "card communication failed")
    text = str(err).lower()
    if "removed" in text or "not connected" in text or "no smart card" in text:
        return SCARD_W_REMOVED_CARD(str(err) or "the card is gone")
    return SCARD_F_COMM_ERROR(f"card communication failed: {err}")
