"""The one path every APDU takes: a pyscard-shaped connection, wrapped.

`Transport.send` builds short APDUs, chains long commands (CLA bit 0x10, 255-byte blocks) and
collects long responses (61xx + GET RESPONSE, 6Cxx + resend). Underneath, each exchange is one
`connection.transmit(list) -> (data, sw1, sw2)` call, so a tracing wrapper around the connection
sees every APDU. Connection failures become minidriver errors; nothing else escapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .errors import (
    ERRORS,
    SCARD_E_COMM_DATA_LOST,
    SCARD_F_COMM_ERROR,
    SCARD_W_REMOVED_CARD,
    MinidriverError,
    error_for,
)

SHORT_MAX = 255
GET_RESPONSE = 0xC0
CHAINING_BIT = 0x10
# Enough for the largest object the driver reads (a 4096-bit key's response, a big certificate).
MAX_RESPONSE = 70000


class Connection(Protocol):
    """What the driver needs from pyscard's CardConnection (and EmbeddedConnection)."""

    def transmit(self, command: list[int], protocol: Any = ...) -> tuple[list[int], int, int]: ...

    def disconnect(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Response:
    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000


class Transport:
    """APDU exchange with chaining and GET RESPONSE; counts what it sends."""

    def __init__(self, connection: Connection, max_send: int = SHORT_MAX) -> None:
        self.connection = connection
        self.max_send = max_send
        self.apdu_count = 0

    def exchange(self, apdu: bytes) -> Response:
        """One command, one response: the only call that reaches the connection."""
        self.apdu_count += 1
        try:
            data, sw1, sw2 = self.connection.transmit(list(apdu))
        except MinidriverError:
            raise
        except Exception as err:
            raise _connection_error(err) from err
        return Response(bytes(data), (sw1 << 8) | sw2)

    def send(
        self,
        cla: int,
        ins: int,
        p1: int,
        p2: int,
        data: bytes = b"",
        le: int | None = None,
    ) -> Response:
        """Send a command of any length and return its whole response.

        `le` None sends no Le (case 1/3); 0 asks for up to 256 bytes."""
        blocks = [data[i : i + self.max_send] for i in range(0, len(data), self.max_send)] or [b""]
        for block in blocks[:-1]:
            r = self.exchange(_apdu(cla | CHAINING_BIT, ins, p1, p2, block, None))
            if not r.ok:
                return r
        r = self.exchange(_apdu(cla, ins, p1, p2, blocks[-1], le))
        if r.sw >> 8 == 0x6C:
            r = self.exchange(_apdu(cla, ins, p1, p2, blocks[-1], r.sw & 0xFF))
        body = bytearray(r.data)
        while r.sw >> 8 == 0x61:
            r = self.exchange(bytes((cla & ~CHAINING_BIT & 0xFF, GET_RESPONSE, 0, 0, r.sw & 0xFF)))
            body += r.data
            if len(body) > MAX_RESPONSE:
                raise SCARD_E_COMM_DATA_LOST("response longer than any object the card holds")
        return Response(bytes(body), r.sw)


def _apdu(cla: int, ins: int, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
    out = bytes((cla, ins, p1, p2))
    if data:
        out += bytes((len(data),)) + data
    if le is not None:
        out += bytes((le & 0xFF,))
    return out


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
