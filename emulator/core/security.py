"""Security attributes in compact form (ISO/IEC 7816-4 section 7.4.3, tag 8C).

An access-mode byte lists which operations have a condition; one security
condition byte (SCB) follows per set bit, from b7 down to b1. What an SCB
means is up to the application; `evaluate` takes that as a callback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from wire.iso7816 import SCB_ALWAYS, SCB_NEVER, SW, AccessMode

from .errors import CardError

__all__ = [
    "DF_CREATE_DF",
    "DF_CREATE_EF",
    "DF_DELETE_CHILD",
    "SCB_ALWAYS",
    "SCB_NEVER",
    "AccessMode",
    "CompactSecurityAttribute",
]

DF_DELETE_CHILD = AccessMode.READ
DF_CREATE_EF = AccessMode.UPDATE
DF_CREATE_DF = AccessMode.WRITE


@dataclass(frozen=True, slots=True)
class CompactSecurityAttribute:
    access_mode: int
    conditions: tuple[int, ...]

    @classmethod
    def parse(cls, value: bytes) -> CompactSecurityAttribute:
        if not value:
            raise CardError(SW.WRONG_DATA, "empty security attribute")
        am = value[0]
        if am & 0x80:
            raise CardError(SW.WRONG_DATA, "access-mode byte with b8 set is not supported")
        needed = bin(am & 0x7F).count("1")
        scbs = tuple(value[1:])
        if len(scbs) != needed:
            raise CardError(SW.WRONG_DATA, "security attribute length mismatch")
        return cls(am, scbs)

    @classmethod
    def build(cls, rules: dict[int, int]) -> CompactSecurityAttribute:
        am = 0
        scbs: list[int] = []
        for bit in (0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01):
            if bit in rules:
                am |= bit
                scbs.append(rules[bit])
        return cls(am, tuple(scbs))

    def to_bytes(self) -> bytes:
        return bytes((self.access_mode, *self.conditions))

    def scb(self, mode: int) -> int:
        """The SCB for an operation; operations not listed are never allowed."""
        return _scb_table(self.access_mode, self.conditions).get(mode, SCB_NEVER)

    def evaluate(self, mode: int, satisfied: Callable[[int], bool]) -> None:
        """Raise 6982 unless the condition for `mode` holds."""
        scb = self.scb(mode)
        if scb == SCB_ALWAYS:
            return
        if scb == SCB_NEVER or not satisfied(scb):
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED)


@functools.cache
def _scb_table(access_mode: int, conditions: tuple[int, ...]) -> dict[int, int]:
    """Access-mode bit -> SCB; cached because every access check asks (few distinct rules)."""
    table: dict[int, int] = {}
    index = 0
    for bit in (0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01):
        if access_mode & bit:
            table[bit] = conditions[index]
            index += 1
    return table
