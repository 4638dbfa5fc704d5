"""PIV APDUs, one small function per command (piv.md sections 3 and 5).

Each returns the response data, or raises the wire layer's ApduError carrying the
status word; `refused` turns one into the minidriver error the SW means on PIV. A
malformed answer is the driver's SCARD_E_COMM_DATA_LOST, never a made-up status word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec

from wire import tlv
from wire.apdu import ResponseApdu
from wire.client import ApduError
from wire.iso7816 import SW
from wire.piv import (
    DATA_P1P2,
    DELETE_KEY_P1,
    PIN_LENGTH,
    PIN_PAD,
    PIV_AID_TRUNCATED,
    SET_MGMKEY_NO_TOUCH,
    SET_MGMKEY_P1,
    VERIFY_RESET_STATUS,
    Ins,
    KeyRef,
    Tag,
)

from ...errors import (
    SCARD_E_COMM_DATA_LOST,
    SCARD_E_INVALID_VALUE,
    SCARD_E_UNSUPPORTED_FEATURE,
    SCARD_W_SECURITY_VIOLATION,
    MinidriverError,
)
from ...transport import Transport
from ..status import COMMON, ErrorRule, card_error

P = ParamSpec("P")

# PIV cards answer 6985 where a key needs authentication first, and 6D00/6E00 for what
# they lack.
PIV_RULES: dict[int, ErrorRule] = {
    **COMMON,
    SW.CONDITIONS_NOT_SATISFIED: (SCARD_W_SECURITY_VIOLATION, "security status not satisfied"),
    SW.INS_NOT_SUPPORTED: (SCARD_E_UNSUPPORTED_FEATURE, "the card does not support it"),
    SW.CLA_NOT_SUPPORTED: (SCARD_E_UNSUPPORTED_FEATURE, "the card does not support it"),
    SW.INCORRECT_P1P2: (SCARD_E_INVALID_VALUE, "the card rejected the data"),
    SW.WRONG_LENGTH: (SCARD_E_INVALID_VALUE, "the card rejected the data"),
}


def error(sw: int, what: str) -> MinidriverError:
    """The minidriver error for a PIV status word."""
    return card_error(sw, what, PIV_RULES)


@contextmanager
def refused(what: str) -> Iterator[None]:
    """Commands inside whose refusal (ApduError) is the minidriver error of its SW."""
    try:
        yield
    except ApduError as e:
        raise error(e.sw, what) from e


def _member(raw: bytes, tag: int, what: str) -> bytes:
    """The value of the one `tag` template an answer is made of."""
    try:
        return tlv.parse_one(raw, tag).value
    except tlv.TlvError as err:
        raise SCARD_E_COMM_DATA_LOST(f"{what}: malformed answer from the card ({err})") from None


def answer(command: Callable[P, bytes], *args: P.args, **kwargs: P.kwargs) -> bytes | None:
    """A query's answer, or None when the card refuses it (an optional Yubico command)."""
    try:
        return command(*args, **kwargs)
    except ApduError:
        return None


def members(raw: bytes, what: str) -> dict[int, bytes]:
    """The top-level TLVs of an answer, by tag."""
    try:
        return tlv.to_dict(raw)
    except tlv.TlvError as err:
        raise SCARD_E_COMM_DATA_LOST(f"{what}: malformed answer from the card ({err})") from None


def pin_block(pin: bytes) -> bytes:
    return pin.ljust(PIN_LENGTH, bytes((PIN_PAD,)))


def select(t: Transport) -> bytes:
    return t.send(0x00, Ins.SELECT, 0x04, 0x00, PIV_AID_TRUNCATED, le=0)


def get_data(t: Transport, object_id: int) -> bytes:
    """The object's value (inside 53) in `data`; 6A82 when the object is absent."""
    tag_list = tlv.encode(Tag.TAG_LIST, tlv.tag_bytes(object_id))
    raw = t.send(0x00, Ins.GET_DATA, DATA_P1P2 >> 8, DATA_P1P2 & 0xFF, tag_list, 0)
    return _member(raw, Tag.DATA, f"GET DATA {object_id:06X}")


def put_data(t: Transport, object_id: int, value: bytes | None) -> bytes:
    """Write an object; None deletes it (an empty 53, piv.md 2.2)."""
    body = tlv.encode(Tag.TAG_LIST, tlv.tag_bytes(object_id)) + tlv.encode(Tag.DATA, value or b"")
    return t.send(0x00, Ins.PUT_DATA, DATA_P1P2 >> 8, DATA_P1P2 & 0xFF, body)


def verify(t: Transport, pin: bytes, ref: int = KeyRef.PIV_PIN) -> bytes:
    return t.send(0x00, Ins.VERIFY, 0x00, ref, pin_block(pin))


def verify_status(t: Transport, ref: int = KeyRef.PIV_PIN) -> ResponseApdu:
    """Empty VERIFY: 9000 when verified, 63Cx with the tries left otherwise (a query, whose
    status word is the answer, so it does not raise)."""
    return t.transceive(0x00, Ins.VERIFY, 0x00, ref)


def logout(t: Transport, ref: int = KeyRef.PIV_PIN) -> bytes:
    return t.send(0x00, Ins.VERIFY, VERIFY_RESET_STATUS, ref)


def change_reference_data(t: Transport, ref: int, old: bytes, new: bytes) -> bytes:
    return t.send(0x00, Ins.CHANGE_REFERENCE_DATA, 0x00, ref, pin_block(old) + pin_block(new))


def reset_retry_counter(t: Transport, puk: bytes, new_pin: bytes) -> bytes:
    return t.send(
        0x00, Ins.RESET_RETRY_COUNTER, 0x00, KeyRef.PIV_PIN, pin_block(puk) + pin_block(new_pin)
    )


def general_authenticate(t: Transport, algorithm: int, ref: int, template: bytes) -> bytes:
    """GENERAL AUTHENTICATE with the members of a 7C template; the answer's members back."""
    body = tlv.encode(Tag.DYNAMIC_AUTHENTICATION_TEMPLATE, template)
    raw = t.send(0x00, Ins.GENERAL_AUTHENTICATE, algorithm, ref, body, 0)
    if not raw:
        return raw
    return _member(raw, Tag.DYNAMIC_AUTHENTICATION_TEMPLATE, "GENERAL AUTHENTICATE")


def generate(t: Transport, slot: int, algorithm: int) -> bytes:
    template = tlv.encode(Tag.MECHANISM, bytes((algorithm,)))
    body = tlv.encode(Tag.CRYPTOGRAPHIC_MECHANISM_TEMPLATE, template)
    return t.send(0x00, Ins.GENERATE_ASYMMETRIC_KEY_PAIR, 0x00, slot, body, 0)


def get_version(t: Transport) -> bytes:
    return t.send(0x00, Ins.GET_VERSION, 0x00, 0x00, le=0)


def get_serial(t: Transport) -> bytes:
    return t.send(0x00, Ins.GET_SERIAL, 0x00, 0x00, le=0)


def get_metadata(t: Transport, ref: int) -> bytes:
    return t.send(0x00, Ins.GET_METADATA, 0x00, ref, le=0)


def import_key(t: Transport, slot: int, algorithm: int, template: bytes) -> bytes:
    return t.send(0x00, Ins.IMPORT_KEY, algorithm, slot, template)


def delete_key(t: Transport, slot: int) -> bytes:
    return t.send(0x00, Ins.MOVE_KEY, DELETE_KEY_P1, slot)


def set_management_key(t: Transport, algorithm: int, key: bytes) -> bytes:
    body = bytes((algorithm, KeyRef.CARD_MANAGEMENT, len(key))) + key
    return t.send(0x00, Ins.SET_MANAGEMENT_KEY, SET_MGMKEY_P1, SET_MGMKEY_NO_TOUCH, body)
