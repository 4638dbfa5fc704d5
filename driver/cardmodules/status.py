"""Card status words as minidriver errors: the one mapping every card module shares.

A card module passes its own overrides for the status words its card uses
differently (PIV's 6985 means "not authenticated"; GIDS's 6A84 may mean "no
room for another container").
"""

from __future__ import annotations

from collections.abc import Mapping

from wire.iso7816 import SW

from ..errors import (
    SCARD_E_FILE_NOT_FOUND,
    SCARD_E_INVALID_VALUE,
    SCARD_E_NO_MEMORY,
    SCARD_E_UNEXPECTED,
    SCARD_E_UNSUPPORTED_FEATURE,
    SCARD_W_CHV_BLOCKED,
    SCARD_W_SECURITY_VIOLATION,
    SCARD_W_WRONG_CHV,
    MinidriverError,
)

ErrorRule = tuple[type[MinidriverError], str]

COMMON: dict[int, ErrorRule] = {
    SW.SECURITY_STATUS_NOT_SATISFIED: (SCARD_W_SECURITY_VIOLATION, "security status not satisfied"),
    SW.FILE_NOT_FOUND: (SCARD_E_FILE_NOT_FOUND, "not found on the card"),
    SW.REFERENCE_NOT_FOUND: (SCARD_E_FILE_NOT_FOUND, "not found on the card"),
    SW.NOT_ENOUGH_MEMORY: (SCARD_E_NO_MEMORY, "the card is full"),
    SW.FUNC_NOT_SUPPORTED: (SCARD_E_UNSUPPORTED_FEATURE, "the card does not support it"),
    SW.WRONG_DATA: (SCARD_E_INVALID_VALUE, "the card rejected the data"),
}


def card_error(sw: int, what: str, rules: Mapping[int, ErrorRule] = COMMON) -> MinidriverError:
    """The minidriver error for a failed command; PIN counters come from 63Cx / 6983."""
    if sw == SW.AUTH_METHOD_BLOCKED:
        return SCARD_W_CHV_BLOCKED(f"{what}: blocked", attempts_remaining=0)
    if sw & 0xFFF0 == SW.VERIFY_FAIL_COUNTER_00:
        return SCARD_W_WRONG_CHV(f"{what}: wrong PIN", attempts_remaining=sw & 0x0F)
    rule = rules.get(sw)
    if rule is None:
        return SCARD_E_UNEXPECTED(f"{what}: the card answered {sw:04X}")
    cls, meaning = rule
    return cls(f"{what}: {meaning} ({sw:04X})")
