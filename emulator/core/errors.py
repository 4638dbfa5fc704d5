"""The one exception type a command handler raises to answer a status word."""

from __future__ import annotations

from wire.errors import ApduLengthError, TlvError, WireError
from wire.iso7816 import SW, describe


class CardError(Exception):
    """Ends the command with a status word and no data; card state stays as it was."""

    def __init__(self, sw: int, reason: str = "") -> None:
        self.sw = int(sw)
        super().__init__(f"{self.sw:04X} ({reason or describe(self.sw)})")


# How the card answers the wire layer's errors: a malformed command is the host's fault.
_WIRE_SW: dict[type[WireError], SW] = {
    ApduLengthError: SW.WRONG_LENGTH,
    TlvError: SW.WRONG_DATA,
}


def sw_for(error: WireError) -> int:
    """The status word that answers a wire-layer error raised while handling a command."""
    return _WIRE_SW.get(type(error), SW.WRONG_DATA)


def check(condition: bool, sw: SW | int) -> None:
    """Raise CardError(sw) unless the condition holds."""
    if not condition:
        raise CardError(sw)


class CardRemoved(Exception):  # noqa: N818 - an event, not an error of the caller
    """The card leaves the reader mid-command (fault injection); no response is sent.

    Transports drop the card: the vpcd link closes its connection (pcscd reports
    the card removed) and reconnects after `reinsert_after` seconds, or stays out
    until `insert()` when it is None.
    """

    def __init__(self, reinsert_after: float | None = 1.0, reason: str = "card removed") -> None:
        self.reinsert_after = reinsert_after
        super().__init__(reason)
