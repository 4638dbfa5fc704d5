"""Access rules (compact security attribute, tag 8C) as GidsApplet evaluates them (gids.md 3.1).

Two applet behaviours differ from ISO/GIDS and are reproduced on purpose: an
operation whose bit is absent from the access-mode byte is allowed, and before
the application is activated every rule passes.
"""

from __future__ import annotations

from dataclasses import dataclass

from wire.gids import (
    SCB_ADMIN,
    SCB_ALL_REQUIRED,
    SCB_ALWAYS,
    SCB_NEVER,
    SCB_SE_CONTACTLESS,
    SCB_SE_MASK,
    SCB_USER_PIN,
)
from wire.iso7816 import SW

from ...core.errors import CardError

_SCB_BITS = (0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01)


@dataclass(frozen=True)
class Credentials:
    """What the host has proven on this channel."""

    user_pin: bool = False
    admin: bool = False
    unrestricted: bool = False  # initialization mode: every rule passes


@dataclass(frozen=True)
class AccessRule:
    access_mode: int = 0
    conditions: tuple[int, ...] = ()

    @classmethod
    def parse(cls, value: bytes) -> AccessRule:
        """Tag 8C's value; 6984 when the SCB count does not match the access-mode byte."""
        if not value:
            raise CardError(SW.DATA_INVALID, "empty security attribute")
        am = value[0]
        needed = bin(am & 0x7F).count("1")
        if len(value) - 1 < needed:
            raise CardError(SW.DATA_INVALID, "security attribute shorter than its access mode")
        # Only the first rule is evaluated; anything after it is kept in the FCP only.
        return cls(am, tuple(value[1 : 1 + needed]))

    def scb(self, operation: int) -> int | None:
        """The SCB for an operation, None when the access mode does not name it."""
        if not self.access_mode & operation:
            return None
        index = 0
        for bit in _SCB_BITS:
            if bit == operation:
                return self.conditions[index]
            if self.access_mode & bit:
                index += 1
        return None

    def allows(self, operation: int, who: Credentials) -> bool:
        scb = self.scb(operation)
        if scb is None or who.unrestricted:
            return True
        return scb_satisfied(scb, who)

    def check(self, operation: int, who: Credentials) -> None:
        if not self.allows(operation, who):
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED)


def scb_satisfied(scb: int, who: Credentials) -> bool:
    if scb == SCB_ALWAYS:
        return True
    if scb == SCB_NEVER:
        return False
    if scb & SCB_SE_MASK == SCB_SE_CONTACTLESS:
        return False  # softcard is a contact card (vpcd reports T=1)
    if scb & SCB_ALL_REQUIRED:
        # 9x: PIN mandatory, Ax: admin mandatory; any other combination is refused.
        if scb & 0xF0 == SCB_ALL_REQUIRED | SCB_USER_PIN:
            return who.user_pin
        if scb & 0xF0 == SCB_ALL_REQUIRED | SCB_ADMIN:
            return who.admin
        return False
    return bool((scb & SCB_USER_PIN and who.user_pin) or (scb & SCB_ADMIN and who.admin))
