"""The host's APDU client: one command in, its whole response out.

Over any `transmit(bytes) -> (data, sw)` function (a pyscard connection, an
in-process card, a socket): short or extended length, command chaining of long
commands in short APDUs (CLA bit b5, 255-byte blocks), 6Cxx answered by resending
with the right Le, 61xx collected with GET RESPONSE. A status word other than 9000
raises ApduError, which carries it; callers test it by its ISO name (`e.sw ==
SW.FILE_NOT_FOUND`). The driver, the bench and the card profiles all send through it.
"""

from __future__ import annotations

from collections.abc import Callable

from .apdu import SHORT_MAX, CommandApdu, ResponseApdu
from .errors import WireError
from .iso7816 import CLA_CHAINING, SW, Ins, describe

# bytes in, (data, SW) out: one exchange with the card, no chaining or 61xx handling.
Transmit = Callable[[bytes], tuple[bytes, int]]

# Most data a short command carries (Lc is one byte).
SHORT_DATA_MAX = 255
# Enough for the largest object a card holds (a 4096-bit key's response, a big certificate).
MAX_RESPONSE = 70000


class ApduError(Exception):
    """The card answered a command with a status word other than 9000."""

    def __init__(self, sw: int, data: bytes = b"", what: str = "") -> None:
        self.sw = int(sw)
        self.data = data
        self.what = what
        prefix = f"{what}: " if what else ""
        super().__init__(f"{prefix}{self.sw:04X} ({describe(self.sw)})")

    @property
    def name(self) -> str:
        """The ISO 7816-4 name of the status word, or its hex digits when it has none."""
        try:
            return SW(self.sw).name
        except ValueError:
            return f"{self.sw:04X}"


class ResponseTooLong(WireError):  # noqa: N818 - a value the card sent, not a caller's error
    """A response grew past MAX_RESPONSE through GET RESPONSE: no object is that large."""


class ApduClient:
    """Sends commands of any length and gathers whole responses; counts the APDUs it sends."""

    def __init__(
        self,
        transmit: Transmit,
        *,
        extended: bool = False,
        max_send: int = SHORT_DATA_MAX,
        max_response: int = MAX_RESPONSE,
    ) -> None:
        self._transmit = transmit
        # With extended length, a long command goes in one APDU instead of a chain.
        self.extended = extended
        self.max_send = max_send
        self.max_response = max_response
        self.apdu_count = 0

    def exchange(self, apdu: bytes) -> ResponseApdu:
        """One command, one response: the only call that reaches the card."""
        self.apdu_count += 1
        data, sw = self._transmit(apdu)
        return ResponseApdu(bytes(data), sw)

    def transceive(
        self, cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None
    ) -> ResponseApdu:
        """The whole response of one command, whatever its status word.

        `le` None sends no Le (case 1/3); 0 asks for up to 256 bytes (short) or 65536.
        """
        if self.extended and len(data) > self.max_send:
            blocks = [data]
        else:
            step = self.max_send
            blocks = [data[i : i + step] for i in range(0, len(data), step)] or [b""]
        for block in blocks[:-1]:
            r = self.exchange(CommandApdu(cla | CLA_CHAINING, ins, p1, p2, block).to_bytes())
            if r.sw != SW.SUCCESS:
                return r
        last = blocks[-1]
        r = self.exchange(_command(cla, ins, p1, p2, last, le, self.extended))
        if r.sw1 == SW.WRONG_LE_00 >> 8:
            r = self.exchange(_command(cla, ins, p1, p2, last, r.sw2, False))
        body = bytearray(r.data)
        while r.sw1 == SW.BYTES_REMAINING_00 >> 8:
            get_response = (cla & ~CLA_CHAINING & 0xFF, Ins.GET_RESPONSE, 0, 0, r.sw2)
            r = self.exchange(bytes(get_response))
            body += r.data
            if len(body) > self.max_response:
                raise ResponseTooLong("response longer than any object the card holds")
        return ResponseApdu(bytes(body), r.sw)

    def send(
        self,
        cla: int,
        ins: int,
        p1: int,
        p2: int,
        data: bytes = b"",
        le: int | None = None,
        *,
        what: str = "",
    ) -> bytes:
        """The response data of a command that succeeded; ApduError for any other SW."""
        r = self.transceive(cla, ins, p1, p2, data, le)
        if r.sw != SW.SUCCESS:
            raise ApduError(r.sw, r.data, what)
        return r.data


def _command(
    cla: int, ins: int, p1: int, p2: int, data: bytes, le: int | None, extended: bool
) -> bytes:
    ne = None if le is None else (le or (65536 if extended else SHORT_MAX))
    return CommandApdu(cla, ins, p1, p2, data, ne, extended and (ne or 0) > SHORT_MAX).to_bytes()


def raw_transmit(transmit: Callable[[bytes], bytes]) -> Transmit:
    """A Transmit over a function that answers whole response APDUs (a card's transmit)."""

    def exchange(apdu: bytes) -> tuple[bytes, int]:
        r = ResponseApdu.parse(transmit(apdu))
        return r.data, r.sw

    return exchange
