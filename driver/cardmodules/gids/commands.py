"""GIDS APDUs, one small function per command (gids.md sections 2-4).

Each returns the response data, or raises the wire layer's ApduError carrying the
status word; `refused` turns one into the minidriver error the SW means on GIDS.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from wire import tlv
from wire.client import ApduError
from wire.gids import ADMIN_KEY_REFERENCE, GIDS_AID_TRUNCATED, Fid, Ins, PinRef, Tag
from wire.iso7816 import SW

from ...errors import (
    SCARD_E_NO_MEMORY,
    MinidriverError,
)
from ...transport import Transport
from ..status import COMMON, card_error


def error(sw: int, what: str, full: type[MinidriverError] = SCARD_E_NO_MEMORY) -> MinidriverError:
    """The minidriver error for a GIDS status word (`full`: what "memory full" means here)."""
    rules = (
        COMMON
        if full is SCARD_E_NO_MEMORY
        else {**COMMON, SW.NOT_ENOUGH_MEMORY: (full, "the card is full")}
    )
    return card_error(sw, what, rules)


@contextmanager
def refused(what: str, full: type[MinidriverError] = SCARD_E_NO_MEMORY) -> Iterator[None]:
    """Commands inside whose refusal (ApduError) is the minidriver error of its SW."""
    try:
        yield
    except ApduError as e:
        raise error(e.sw, what, full) from e


def select_application(t: Transport) -> bytes:
    return t.send(0x00, Ins.SELECT, 0x04, 0x00, GIDS_AID_TRUNCATED, le=0)


def select_file(t: Transport, fid: int) -> bytes:
    return t.send(0x00, Ins.SELECT, 0x00, 0x0C, fid.to_bytes(2, "big"))


def get_data(t: Transport, ef: int, tag: int) -> bytes:
    """The whole DO (tag, length, value) from a DO EF."""
    return t.send(
        0x00, Ins.GET_DATA, ef >> 8, ef & 0xFF, tlv.encode(Tag.TAG_LIST, tlv.tag_bytes(tag)), le=0
    )


def holds_data(t: Transport, ef: int, tag: int) -> bool:
    """Whether a DO is there to read (GET DATA answers 9000)."""
    try:
        get_data(t, ef, tag)
    except ApduError:
        return False
    return True


def put_data(t: Transport, ef: int, tag: int, value: bytes) -> bytes:
    return t.send(0x00, Ins.PUT_DATA, ef >> 8, ef & 0xFF, tlv.encode(tag, value))


def pin_status(t: Transport, tag: int) -> bytes:
    return get_data(t, Fid.CURRENT_APPLICATION, tag)


def get_public_key(t: Transport, key_ref: int) -> bytes:
    # 70 08 84 01 kk A5 03 7F 49 80: the fixed layout every GIDS implementation expects.
    data = bytes.fromhex("7008 8401") + bytes((key_ref,)) + bytes.fromhex("A503 7F4980")
    return t.send(0x00, Ins.GET_DATA, 0x3F, 0xFF, data, le=0)


def verify(t: Transport, pin: bytes) -> bytes:
    return t.send(0x00, Ins.VERIFY, 0x00, PinRef.USER, pin)


def logout(t: Transport) -> bytes:
    return t.send(0x00, Ins.VERIFY, 0x00, PinRef.RESET_SECURITY_STATUS)


def change_reference_data(t: Transport, old: bytes, new: bytes) -> bytes:
    return t.send(0x00, Ins.CHANGE_REFERENCE_DATA, 0x00, PinRef.USER, old + new)


def reset_retry_counter(t: Transport, new_pin: bytes) -> bytes:
    # P1=02: new reference data only, after admin authentication.
    return t.send(0x00, Ins.RESET_RETRY_COUNTER, 0x02, PinRef.USER, new_pin)


def mse_set(t: Transport, p1: int, crt: int, data: bytes) -> bytes:
    return t.send(0x00, Ins.MANAGE_SECURITY_ENVIRONMENT, p1, crt, data)


def mse_admin_key(t: Transport) -> bytes:
    return mse_set(t, 0xC1, 0xA4, tlv.encode(0x83, bytes((ADMIN_KEY_REFERENCE,))))


def mse_private_key(t: Transport, crt: int, algorithm: int, key_ref: int) -> bytes:
    data = tlv.encode(0x80, bytes((algorithm,))) + tlv.encode(0x84, bytes((key_ref,)))
    return mse_set(t, 0x41, crt, data)


def external_auth_challenge(t: Transport) -> bytes:
    """GENERAL AUTHENTICATE with an empty witness request: the card's 8-byte challenge."""
    return t.send(0x00, Ins.GENERAL_AUTHENTICATE, 0x00, 0x00, bytes.fromhex("7C028100"), le=0)


def external_auth_response(t: Transport, response: bytes) -> bytes:
    return t.send(
        0x00,
        Ins.GENERAL_AUTHENTICATE,
        0x00,
        0x00,
        tlv.encode(Tag.DYNAMIC_AUTH, tlv.encode(Tag.RESPONSE, response)),
    )


def create_file(t: Transport, fcp: bytes) -> bytes:
    return t.send(0x00, Ins.CREATE_FILE, 0x00, 0x00, fcp)


def activate_file(t: Transport) -> bytes:
    return t.send(0x00, Ins.ACTIVATE_FILE, 0x00, 0x00)


def delete_file(t: Transport) -> bytes:
    return t.send(0x00, Ins.DELETE_FILE, 0x00, 0x00)


def generate(t: Transport, algorithm: int, key_ref: int) -> bytes:
    data = tlv.encode(
        0xAC, tlv.encode(0x80, bytes((algorithm,))) + tlv.encode(0x83, bytes((key_ref,)))
    )
    return t.send(0x00, Ins.GENERATE_ASYMMETRIC_KEY_PAIR, 0x00, 0x00, data, le=0)


def put_key(
    t: Transport, key_ref: int, key_type: int | None, value: bytes, kcv: bytes | None = None
) -> bytes:
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


def compute_signature(t: Transport, data: bytes) -> bytes:
    return t.send(0x00, Ins.PERFORM_SECURITY_OPERATION, 0x9E, 0x9A, data, le=0)


def decipher(t: Transport, cryptogram: bytes) -> bytes:
    return t.send(0x00, Ins.PERFORM_SECURITY_OPERATION, 0x80, 0x86, cryptogram, le=0)
