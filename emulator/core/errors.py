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
