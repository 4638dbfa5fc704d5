"""ISO/IEC 7816-4 facts: status words (names and meanings), instruction bytes, CLA bits.

The one place for them; PIV and GIDS name their interindustry instructions from here.
"""

from __future__ import annotations

from enum import IntEnum

# CLA bits (ISO 7816-4 section 5.4.1).
CLA_CHAINING = 0x10  # b5: command chaining, more blocks follow
CLA_SECURE_MESSAGING = 0x0C  # b4-b3 of a first interindustry CLA
CLA_CHANNEL = 0x03  # b2-b1 of a first interindustry CLA: logical channel 0-3


class Ins(IntEnum):
    """Interindustry instruction bytes (ISO/IEC 7816-4 table 4)."""

    DEACTIVATE_FILE = 0x04
    ERASE_BINARY = 0x0E
    VERIFY = 0x20
    MANAGE_SECURITY_ENVIRONMENT = 0x22
    CHANGE_REFERENCE_DATA = 0x24
    PERFORM_SECURITY_OPERATION = 0x2A
    RESET_RETRY_COUNTER = 0x2C
    ACTIVATE_FILE = 0x44
    GENERATE_ASYMMETRIC_KEY_PAIR = 0x46
    GENERATE_ASYMMETRIC_KEY_PAIR_47 = 0x47
    MANAGE_CHANNEL = 0x70
    EXTERNAL_AUTHENTICATE = 0x82
    GET_CHALLENGE = 0x84
    GENERAL_AUTHENTICATE = 0x87
    INTERNAL_AUTHENTICATE = 0x88
    SELECT = 0xA4
    READ_BINARY = 0xB0
    READ_RECORD = 0xB2
    GET_RESPONSE = 0xC0
    GET_DATA = 0xCA
    GET_DATA_ODD = 0xCB
    UPDATE_BINARY = 0xD6
    PUT_DATA = 0xDA
    PUT_DATA_ODD = 0xDB
    CREATE_FILE = 0xE0
    DELETE_FILE = 0xE4
    TERMINATE_DF = 0xE6


# Compact security attributes (section 7.4.3, tag 8C): an access-mode byte, then one
# security condition byte (SCB) per set bit from b7 down to b1.
SCB_ALWAYS = 0x00
SCB_NEVER = 0xFF


class AccessMode(IntEnum):
    """Access-mode bits: for EFs (first name) and DFs (second name) alike."""

    READ = 0x01  # EF: READ BINARY / GET DATA       DF: DELETE FILE (child)
    UPDATE = 0x02  # EF: UPDATE BINARY / PUT DATA   DF: CREATE FILE (EF)
    WRITE = 0x04  # EF: WRITE BINARY                DF: CREATE FILE (DF)
    DEACTIVATE = 0x08
    ACTIVATE = 0x10
    TERMINATE = 0x20
    DELETE = 0x40  # DELETE FILE (self)


class SW(IntEnum):
    """Status words as ISO/IEC 7816-4 names them (section 5.6)."""

    SUCCESS = 0x9000
    # 61xx and 6Cxx and 63Cx carry a count in SW2; these are their SW1 bases.
    BYTES_REMAINING_00 = 0x6100
    WRONG_LE_00 = 0x6C00
    VERIFY_FAIL_COUNTER_00 = 0x63C0

    WARNING_STATE_UNCHANGED = 0x6200
    END_OF_FILE = 0x6282
    SELECTED_FILE_DEACTIVATED = 0x6283
    TERMINATION_STATE = 0x6285
    VERIFY_FAIL = 0x6300
    MEMORY_FAILURE = 0x6581
    WRONG_LENGTH = 0x6700
    FUNCTION_IN_CLA_NOT_SUPPORTED = 0x6800
    LOGICAL_CHANNEL_NOT_SUPPORTED = 0x6881
    SECURE_MESSAGING_NOT_SUPPORTED = 0x6882
    LAST_COMMAND_OF_CHAIN_EXPECTED = 0x6883
    COMMAND_CHAINING_NOT_SUPPORTED = 0x6884
    COMMAND_NOT_ALLOWED = 0x6900
    INCOMPATIBLE_WITH_FILE_STRUCTURE = 0x6981
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    DATA_INVALID = 0x6984
    CONDITIONS_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED_NO_EF = 0x6986
    WRONG_DATA = 0x6A80
    FUNC_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    RECORD_NOT_FOUND = 0x6A83
    NOT_ENOUGH_MEMORY = 0x6A84
    NC_INCONSISTENT_WITH_TLV = 0x6A85
    INCORRECT_P1P2 = 0x6A86
    NC_INCONSISTENT_WITH_P1P2 = 0x6A87
    REFERENCE_NOT_FOUND = 0x6A88
    FILE_ALREADY_EXISTS = 0x6A89
    DF_NAME_ALREADY_EXISTS = 0x6A8A
    WRONG_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00


_DESCRIPTIONS: dict[int, str] = {
    SW.SUCCESS: "success",
    SW.WARNING_STATE_UNCHANGED: "warning, state of non-volatile memory unchanged",
    SW.END_OF_FILE: "end of file reached before reading Ne bytes",
    SW.SELECTED_FILE_DEACTIVATED: "selected file deactivated",
    SW.TERMINATION_STATE: "selected file in termination state",
    SW.VERIFY_FAIL: "verification failed",
    SW.MEMORY_FAILURE: "memory failure",
    SW.WRONG_LENGTH: "wrong length",
    SW.FUNCTION_IN_CLA_NOT_SUPPORTED: "function in CLA not supported",
    SW.LOGICAL_CHANNEL_NOT_SUPPORTED: "logical channel not supported",
    SW.SECURE_MESSAGING_NOT_SUPPORTED: "secure messaging not supported",
    SW.LAST_COMMAND_OF_CHAIN_EXPECTED: "last command of the chain expected",
    SW.COMMAND_CHAINING_NOT_SUPPORTED: "command chaining not supported",
    SW.COMMAND_NOT_ALLOWED: "command not allowed",
    SW.INCOMPATIBLE_WITH_FILE_STRUCTURE: "command incompatible with file structure",
    SW.SECURITY_STATUS_NOT_SATISFIED: "security status not satisfied",
    SW.AUTH_METHOD_BLOCKED: "authentication method blocked",
    SW.DATA_INVALID: "reference data not usable",
    SW.CONDITIONS_NOT_SATISFIED: "conditions of use not satisfied",
    SW.COMMAND_NOT_ALLOWED_NO_EF: "command not allowed (no current EF)",
    SW.WRONG_DATA: "incorrect parameters in the command data field",
    SW.FUNC_NOT_SUPPORTED: "function not supported",
    SW.FILE_NOT_FOUND: "file or application not found",
    SW.RECORD_NOT_FOUND: "record not found",
    SW.NOT_ENOUGH_MEMORY: "not enough memory space in the file",
    SW.NC_INCONSISTENT_WITH_TLV: "Nc inconsistent with TLV structure",
    SW.INCORRECT_P1P2: "incorrect parameters P1-P2",
    SW.NC_INCONSISTENT_WITH_P1P2: "Nc inconsistent with parameters P1-P2",
    SW.REFERENCE_NOT_FOUND: "referenced data or reference data not found",
    SW.FILE_ALREADY_EXISTS: "file already exists",
    SW.DF_NAME_ALREADY_EXISTS: "DF name already exists",
    SW.WRONG_P1P2: "wrong parameters P1-P2",
    SW.INS_NOT_SUPPORTED: "instruction code not supported or invalid",
    SW.CLA_NOT_SUPPORTED: "class not supported",
    SW.NO_PRECISE_DIAGNOSIS: "no precise diagnosis",
}


def bytes_remaining(count: int) -> int:
    """61xx: more response data waits; xx is the count, 00 meaning 256 or more."""
    return SW.BYTES_REMAINING_00 | (count if count < 256 else 0)


def wrong_le(available: int) -> int:
    """6Cxx: wrong Le; xx is the number of bytes available."""
    return SW.WRONG_LE_00 | (available & 0xFF)


def tries_left(count: int) -> int:
    """63Cx: verification failed (or queried), x tries left."""
    return SW.VERIFY_FAIL_COUNTER_00 | min(count, 15)


def describe(sw: int) -> str:
    """A human meaning for any status word, counts included."""
    sw1, sw2 = sw >> 8, sw & 0xFF
    if sw1 == 0x61:
        return f"{sw2 or 256}{'+' if sw2 == 0 else ''} bytes remaining (GET RESPONSE)"
    if sw1 == 0x6C:
        return f"wrong Le, {sw2} bytes available"
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return f"verification failed, {sw2 & 0x0F} tries left"
    if sw in _DESCRIPTIONS:
        return _DESCRIPTIONS[sw]
    if sw1 == 0x62 or sw1 == 0x63:
        return "warning"
    return "unknown status word"
