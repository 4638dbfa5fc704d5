"""The one exception type a command handler raises to answer a status word."""

from __future__ import annotations

from .sw import SW, describe


class CardError(Exception):
    """Ends the command with a status word and no data; card state stays as it was."""

    def __init__(self, sw: int, reason: str = "") -> None:
        self.sw = int(sw)
        super().__init__(f"{self.sw:04X} ({reason or describe(self.sw)})")


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
