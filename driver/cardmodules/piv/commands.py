"""PIV APDUs, one small function per command (piv.md sections 3 and 5)."""

from __future__ import annotations

from emulator.core import tlv
from emulator.core.sw import SW

from ...errors import (
    SCARD_E_INVALID_VALUE,
    SCARD_E_UNSUPPORTED_FEATURE,
    SCARD_W_SECURITY_VIOLATION,
    MinidriverError,
)
from ...transport import Response, Transport
from ..status import COMMON, ErrorRule, card_error
from .constants import (
    DATA_P1,
    DATA_P2,
    DELETE_KEY_P1,
    PIN_PAD,
    PIN_WIRE_LENGTH,
    PIV_AID,
    SET_MGMKEY_NO_TOUCH,
    SET_MGMKEY_P1,
    VERIFY_RESET_STATUS,
    Ins,
    KeyRef,
    Tag,
)

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


def error(r: Response, what: str) -> MinidriverError:
    """The minidriver error for a PIV status word."""
    return card_error(r.sw, what, PIV_RULES)


def require(r: Response, what: str) -> bytes:
    if not r.ok:
        raise error(r, what)
    return r.data


def pin_block(pin: bytes) -> bytes:
    return pin.ljust(PIN_WIRE_LENGTH, bytes((PIN_PAD,)))


def select(t: Transport) -> Response:
    return t.send(0x00, Ins.SELECT, 0x04, 0x00, PIV_AID, le=0)


def get_data(t: Transport, object_id: int) -> Response:
    """The object's value (inside 53) in `data`; 6A82 when the object is absent."""
    r = t.send(
        0x00, Ins.GET_DATA, DATA_P1, DATA_P2, tlv.encode(Tag.TAG_LIST, tlv.tag_bytes(object_id)), 0
    )
    if not r.ok:
        return r
    try:
        return Response(tlv.parse_one(r.data, Tag.DATA).value, r.sw)
    except Exception:
        return Response(b"", 0x6F00)  # not a 53 template: treated as a broken answer


def put_data(t: Transport, object_id: int, value: bytes | None) -> Response:
    """Write an object; None deletes it (an empty 53, piv.md 2.2)."""
    body = tlv.encode(Tag.TAG_LIST, tlv.tag_bytes(object_id)) + tlv.encode(Tag.DATA, value or b"")
    return t.send(0x00, Ins.PUT_DATA, DATA_P1, DATA_P2, body)


def verify(t: Transport, pin: bytes, ref: int = KeyRef.PIV_PIN) -> Response:
    return t.send(0x00, Ins.VERIFY, 0x00, ref, pin_block(pin))


def verify_status(t: Transport, ref: int = KeyRef.PIV_PIN) -> Response:
    """Empty VERIFY: 9000 when verified, 63Cx with the tries left otherwise."""
    return t.send(0x00, Ins.VERIFY, 0x00, ref)


def logout(t: Transport, ref: int = KeyRef.PIV_PIN) -> Response:
    return t.send(0x00, Ins.VERIFY, VERIFY_RESET_STATUS, ref)


def change_reference_data(t: Transport, ref: int, old: bytes, new: bytes) -> Response:
    return t.send(0x00, Ins.CHANGE_REFERENCE_DATA, 0x00, ref, pin_block(old) + pin_block(new))


def reset_retry_counter(t: Transport, puk: bytes, new_pin: bytes) -> Response:
    return t.send(
        0x00, Ins.RESET_RETRY_COUNTER, 0x00, KeyRef.PIV_PIN, pin_block(puk) + pin_block(new_pin)
    )


def general_authenticate(t: Transport, algorithm: int, ref: int, template: bytes) -> Response:
    """GENERAL AUTHENTICATE with the members of a 7C template; the answer's members back."""
    body = tlv.encode(Tag.DYNAMIC_AUTHENTICATION_TEMPLATE, template)
    r = t.send(0x00, Ins.GENERAL_AUTHENTICATE, algorithm, ref, body, 0)
    if not r.ok or not r.data:
        return r
    try:
        return Response(tlv.parse_one(r.data, Tag.DYNAMIC_AUTHENTICATION_TEMPLATE).value, r.sw)
    except Exception:
        return Response(b"", 0x6F00)


def generate(t: Transport, slot: int, algorithm: int) -> Response:
    template = tlv.encode(Tag.MECHANISM, bytes((algorithm,)))
    body = tlv.encode(Tag.CRYPTOGRAPHIC_MECHANISM_TEMPLATE, template)
    return t.send(0x00, Ins.GENERATE_ASYMMETRIC_KEY_PAIR, 0x00, slot, body, 0)


def get_version(t: Transport) -> Response:
    return t.send(0x00, Ins.GET_VERSION, 0x00, 0x00, le=0)


def get_serial(t: Transport) -> Response:
    return t.send(0x00, Ins.GET_SERIAL, 0x00, 0x00, le=0)


def get_metadata(t: Transport, ref: int) -> Response:
    return t.send(0x00, Ins.GET_METADATA, 0x00, ref, le=0)


def import_key(t: Transport, slot: int, algorithm: int, template: bytes) -> Response:
    return t.send(0x00, Ins.IMPORT_KEY, algorithm, slot, template)


def delete_key(t: Transport, slot: int) -> Response:
    return t.send(0x00, Ins.MOVE_KEY, DELETE_KEY_P1, slot)


def set_management_key(t: Transport, algorithm: int, key: bytes) -> Response:
    body = bytes((algorithm, KeyRef.CARD_MANAGEMENT, len(key))) + key
    return t.send(0x00, Ins.SET_MANAGEMENT_KEY, SET_MGMKEY_P1, SET_MGMKEY_NO_TOUCH, body)
