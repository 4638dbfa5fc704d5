"""GIDS APDUs, one small function per command (gids.md sections 2-4)."""

from __future__ import annotations

from emulator.core import tlv
from emulator.core.sw import SW

from ...errors import (
    SCARD_E_NO_MEMORY,
    MinidriverError,
)
from ...transport import Response, Transport
from ..status import COMMON, card_error
from .constants import (
    ADMIN_KEY_REFERENCE,
    CURRENT_APPLICATION,
    GIDS_AID,
    LOGOUT_REFERENCE,
    PIN_REFERENCE,
    Ins,
    Tag,
)


def error(
    r: Response, what: str, full: type[MinidriverError] = SCARD_E_NO_MEMORY
) -> MinidriverError:
    """The minidriver error for a GIDS status word (`full`: what "memory full" means here)."""
    rules = (
        COMMON
        if full is SCARD_E_NO_MEMORY
        else {**COMMON, SW.NOT_ENOUGH_MEMORY: (full, "the card is full")}
    )
    return card_error(r.sw, what, rules)


def require(r: Response, what: str, full: type[MinidriverError] = SCARD_E_NO_MEMORY) -> bytes:
    if not r.ok:
        raise error(r, what, full)
    return r.data


def select_application(t: Transport) -> Response:
    return t.send(0x00, Ins.SELECT, 0x04, 0x00, GIDS_AID, le=0)


def select_file(t: Transport, fid: int) -> Response:
    return t.send(0x00, Ins.SELECT, 0x00, 0x0C, fid.to_bytes(2, "big"))


def get_data(t: Transport, ef: int, tag: int) -> Response:
    """The whole DO (tag, length, value) from a DO EF."""
    return t.send(
        0x00, Ins.GET_DATA, ef >> 8, ef & 0xFF, tlv.encode(Tag.TAG_LIST, tlv.tag_bytes(tag)), le=0
    )


def put_data(t: Transport, ef: int, tag: int, value: bytes) -> Response:
    return t.send(0x00, Ins.PUT_DATA, ef >> 8, ef & 0xFF, tlv.encode(tag, value))


def pin_status(t: Transport, tag: int) -> Response:
    return get_data(t, CURRENT_APPLICATION, tag)


def get_public_key(t: Transport, key_ref: int) -> Response:
    # 70 08 84 01 kk A5 03 7F 49 80: the fixed layout every GIDS implementation expects.
    data = bytes.fromhex("7008 8401") + bytes((key_ref,)) + bytes.fromhex("A503 7F4980")
    return t.send(0x00, Ins.GET_DATA, 0x3F, 0xFF, data, le=0)


def verify(t: Transport, pin: bytes) -> Response:
    return t.send(0x00, Ins.VERIFY, 0x00, PIN_REFERENCE, pin)


def logout(t: Transport) -> Response:
    return t.send(0x00, Ins.VERIFY, 0x00, LOGOUT_REFERENCE)


def change_reference_data(t: Transport, old: bytes, new: bytes) -> Response:
    return t.send(0x00, Ins.CHANGE_REFERENCE_DATA, 0x00, PIN_REFERENCE, old + new)


def reset_retry_counter(t: Transport, new_pin: bytes) -> Response:
    # P1=02: new reference data only, after admin authentication.
    return t.send(0x00, Ins.RESET_RETRY_COUNTER, 0x02, PIN_REFERENCE, new_pin)


def mse_set(t: Transport, p1: int, crt: int, data: bytes) -> Response:
    return t.send(0x00, Ins.MANAGE_SECURITY_ENVIRONMENT, p1, crt, data)


def mse_admin_key(t: Transport) -> Response:
    return mse_set(t, 0xC1, 0xA4, tlv.encode(0x83, bytes((ADMIN_KEY_REFERENCE,))))


def mse_private_key(t: Transport, crt: int, algorithm: int, key_ref: int) -> Response:
    data = tlv.encode(0x80, bytes((algorithm,))) + tlv.encode(0x84, bytes((key_ref,)))
    return mse_set(t, 0x41, crt, data)


def external_auth_challenge(t: Transport) -> Response:
    """GENERAL AUTHENTICATE with an empty witness request: the card's 8-byte challenge."""
    return t.send(0x00, Ins.GENERAL_AUTHENTICATE, 0x00, 0x00, bytes.fromhex("7C028100"), le=0)


def external_auth_response(t: Transport, response: bytes) -> Response:
    return t.send(
        0x00,
        Ins.GENERAL_AUTHENTICATE,
        0x00,
        0x00,
        tlv.encode(Tag.DYNAMIC_AUTH, tlv.encode(Tag.RESPONSE, response)),
    )


def create_file(t: Transport, fcp: bytes) -> Response:
    return t.send(0x00, Ins.CREATE_FILE, 0x00, 0x00, fcp)


def activate_file(t: Transport) -> Response:
    return t.send(0x00, Ins.ACTIVATE_FILE, 0x00, 0x00)


def delete_file(t: Transport) -> Response:
    return t.send(0x00, Ins.DELETE_FILE, 0x00, 0x00)


def generate(t: Transport, algorithm: int, key_ref: int) -> Response:
    data = tlv.encode(
        0xAC, tlv.encode(0x80, bytes((algorithm,))) + tlv.encode(0x83, bytes((key_ref,)))
    )
    return t.send(0x00, Ins.GENERATE_ASYMMETRIC_KEY_PAIR, 0x00, 0x00, data, le=0)


def put_key(
    t: Transport, key_ref: int, key_type: int | None, value: bytes, kcv: bytes | None = None
) -> Response:
    """PUT KEY: 70 { 84 kk, A5 { [83 type], 84 00 (plaintext), 87 value, [88 KCV] } }."""
    inner = b""
    if key_type is not None:
        inner += tlv.encode(0x83, bytes((key_type,)))
        inner += tlv.encode(0x84, b"\x00")
    inner += tlv.encode(0x87, value)
    if kcv is not None:
        inner += tlv.encode(0x88, kcv)
    data = tlv.encode(0x70, tlv.encode(0x84, bytes((key_ref,))) + tlv.encode(0xA5, inner))
    return t.send(0x00, Ins.PUT_DATA, 0x3F, 0xFF, data)


def compute_signature(t: Transport, data: bytes) -> Response:
    return t.send(0x00, Ins.PERFORM_SECURITY_OPERATION, 0x9E, 0x9A, data, le=0)


def decipher(t: Transport, cryptogram: bytes) -> Response:
    return t.send(0x00, Ins.PERFORM_SECURITY_OPERATION, 0x80, 0x86, cryptogram, le=0)
