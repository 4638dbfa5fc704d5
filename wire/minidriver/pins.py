"""Roles, PIN identifiers, PIN sets and PIN enumerations (minidriver.md 2.4, 2.5)."""

from __future__ import annotations

from enum import IntEnum
from typing import Final

MAX_PINS: Final = 8
ROLE_EVERYONE: Final = 0
ROLE_USER: Final = 1
ROLE_ADMIN: Final = 2

PIN_SET_NONE: Final = 0x00
PIN_SET_ALL_ROLES: Final = 0xFF
PIN_CHANGE_FLAG_UNBLOCK: Final = 0x01
PIN_CHANGE_FLAG_CHANGEPIN: Final = 0x02

wszCARD_USER_EVERYONE: Final = "anonymous"  # noqa: N816 - spec name
wszCARD_USER_USER: Final = "user"  # noqa: N816 - spec name
wszCARD_USER_ADMIN: Final = "admin"  # noqa: N816 - spec name

# Legacy user-name strings of CardAuthenticatePin & co. and the role each one names.
USER_NAME_ROLES: Final = {wszCARD_USER_USER: ROLE_USER, wszCARD_USER_ADMIN: ROLE_ADMIN}


def CREATE_PIN_SET(pin_id: int) -> int:  # noqa: N802 - spec name
    return 1 << pin_id


def SET_PIN(pin_set: int, pin_id: int) -> int:  # noqa: N802 - spec name
    return pin_set | (1 << pin_id)


def IS_PIN_SET(pin_set: int, pin_id: int) -> bool:  # noqa: N802 - spec name
    return bool(pin_set & (1 << pin_id))


def CLEAR_PIN(pin_set: int, pin_id: int) -> int:  # noqa: N802 - spec name
    return pin_set & ~(1 << pin_id)


class SECRET_TYPE(IntEnum):  # noqa: N801 - spec name
    AlphaNumericPinType = 0
    ExternalPinType = 1
    ChallengeResponsePinType = 2
    EmptyPinType = 3


class SECRET_PURPOSE(IntEnum):  # noqa: N801 - spec name
    AuthenticationPin = 0
    DigitalSignaturePin = 1
    EncryptionPin = 2
    NonRepudiationPin = 3
    AdministratorPin = 4
    PrimaryCardPin = 5
    UnblockOnlyPin = 6


class PIN_CACHE_POLICY_TYPE(IntEnum):  # noqa: N801 - spec name
    PinCacheNormal = 0
    PinCacheTimed = 1
    PinCacheNone = 2
    PinCacheAlwaysPrompt = 3


PIN_INFO_REQUIRE_SECURE_ENTRY: Final = 0x1
CARD_AUTHENTICATE_GENERATE_SESSION_PIN: Final = 0x10000000
CARD_AUTHENTICATE_SESSION_PIN: Final = 0x20000000
CARD_PIN_SILENT_CONTEXT: Final = 0x00000040
CARD_PIN_STRENGTH_PLAINTEXT: Final = 0x1
CARD_PIN_STRENGTH_SESSION_PIN: Final = 0x2
CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE: Final = 1
CARD_AUTHENTICATE_PIN_PIN: Final = 2

# A retry count the card cannot report (CardAuthenticatePin & co.).
UNKNOWN_ATTEMPTS: Final = 0xFFFFFFFF
