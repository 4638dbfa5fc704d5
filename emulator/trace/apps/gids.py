"""GIDS (Microsoft Generic Identity Device Specification) as gids.md describes it.

The GIDS application's constants module did not exist when this table was written;
the names here follow /work/shared/spec/gids.md section by section.
"""

from __future__ import annotations

from ...core import tlv
from ...core.apdu import CommandApdu
from ...core.ins import Ins
from ..decoding import (
    AppDecoder,
    CommandSpec,
    DataKind,
    Params,
    TagNames,
    Varying,
    hexs,
    printable,
    register,
)
from ..masking import Masks, Span, value_spans, walk
from . import iso

APP_NAME = "gids"
GIDS_AID = bytes.fromhex("A0000003974254465902 01")

CURRENT_APPLICATION = 0x3FFF
EF_DIR = 0x2F00
EF_ATR = 0x2F01
CURRENT_EF = 0x0000
ADMIN_KEY_REFERENCE = 0x80

# gids.md 2.2: the standard DO EFs by minidriver ACL name.
EFS = {
    0xA000: "UserCreateDeleteDirAc",
    0xA010: "EveryoneReadUserWriteAc",
    0xA011: "UserWriteExecuteAc",
    0xA012: "EveryoneReadAdminWriteAc",
    0xA013: "UserReadWriteAc",
    0xA014: "AdminReadWriteAc",
}
# gids.md 2.3: DOs by (EF, tag); DF20 means keymap in A000 but cardid in A012.
DOS = {
    (0xA000, 0xDF1F): "masterfile",
    (0xA000, 0xDF20): "keymap",
    (0xA012, 0xDF20): "cardid",
    (0xA010, 0xDF20): "cardid",
    (0xA010, 0xDF21): "cardapps",
    (0xA010, 0xDF22): "cardcf",
    (0xA010, 0xDF23): "cmapfile",
}
PIN_STATUS = {0x7F71: "global PIN status", 0x7F72: "local PIN status", 0x7F73: "PUK status"}

TAG_KEY_USAGE_TEMPLATE = 0x70
TAG_KEY_REFERENCE = 0x84
TAG_KEY_VALUE_TEMPLATE = 0xA5
TAG_KEY_TYPE = 0x83
TAG_KEY_VALUE = 0x87
TAG_KEY_CHECK_VALUE = 0x88
TAG_PUBLIC_KEY = 0x7F49
TAG_DYNAMIC_AUTHENTICATION = 0x7C
TAG_CHALLENGE = 0x81
TAG_RESPONSE = 0x82
TAG_TRIES_LEFT = 0x97
TAG_TRIES_LEFT_ALT = 0x9F17
TAG_TRY_LIMIT = 0x93

MECHANISMS = {
    0x06: "RSA-1024",
    0x07: "RSA-2048",
    0x08: "RSA-3072",
    0x09: "RSA-4096",
    0x0A: "ECC P-192",
    0x0B: "ECC P-224",
    0x0C: "ECC P-256",
    0x0D: "ECC P-384",
    0x0E: "ECC P-521",
}
KEY_TYPES = {0x01: "symmetric", 0x02: "RSA", 0x03: "ECC"}


def ef_name(fid: int) -> str:
    if fid in EFS:
        return f"EF {fid:04X} {EFS[fid]}"
    if fid & 0xFF00 == 0xB000:
        return f"key EF {fid:04X}" + (" (admin key)" if fid & 0xFF == ADMIN_KEY_REFERENCE else "")
    return {
        CURRENT_APPLICATION: "current application",
        EF_ATR: "EF.ATR",
        EF_DIR: "EF.DIR",
        CURRENT_EF: "current EF",
    }.get(fid, f"EF {fid:04X}")


def do_name(ef: int, tag: int) -> str:
    if ef == CURRENT_APPLICATION and tag in PIN_STATUS:
        return PIN_STATUS[tag]
    if (ef, tag) in DOS:
        return DOS[(ef, tag)]
    if 0xDF24 <= tag <= 0xDFFE:
        return f"file DO {tag:04X}"
    return f"DO {tag:X}"


def mechanism_text(value: bytes) -> str:
    algo = value[0]
    if algo in MECHANISMS:
        return MECHANISMS[algo]
    padding = {0x00: "no padding", 0x40: "PKCS#1 v1.5", 0x80: "OAEP"}.get(algo & 0xC0, "")
    if algo & 0x30 == 0x10:
        padding = "raw signature"
    if algo & 0x70 == 0x50:
        padding = "PKCS#1 v1.5 signature"
    size = MECHANISMS.get(algo & 0x0F, "")
    return ", ".join(p for p in (size, padding) if p)


def _tries(value: bytes) -> str:
    return f"{value[0]} tries left"


CRT_TAGS = {0x80: "mechanism", 0x83: "key reference", 0x95: "usage qualifier"}
FCP_TAGS = {**iso.FCP_TAGS, TAG_KEY_VALUE_TEMPLATE: "CRTs of the key"}

TAGS = TagNames(
    names={
        0x43: "card service data",
        0x47: "card capabilities",
        0x46: "pre-issuing data",
        0x5F2F: "PIN usage policy",
        0x7F65: "memory resource template",
        TAG_PUBLIC_KEY: "public key",
        TAG_DYNAMIC_AUTHENTICATION: "dynamic authentication template",
        TAG_KEY_USAGE_TEMPLATE: "key usage template",
        0xAC: "cryptographic mechanism template",
        0x7F71: "global PIN status",
        0x7F72: "local PIN status",
        0x7F73: "PUK status",
        0x40: "supported authentication protocols",
        0xDF1F: "masterfile",
    },
    nested={
        0x62: FCP_TAGS,
        0x61: {0x4F: "application identifier", 0x73: "discretionary data objects"},
        TAG_KEY_VALUE_TEMPLATE: {
            0xA4: "AT (authentication)",
            0xB6: "DST (signature)",
            0xB8: "CT (decipherment)",
            TAG_KEY_TYPE: "key type",
            TAG_KEY_REFERENCE: "transport key",
            TAG_KEY_VALUE: "key value",
            TAG_KEY_CHECK_VALUE: "key check value",
        },
        0xA4: CRT_TAGS,
        0xB6: CRT_TAGS,
        0xB8: CRT_TAGS,
        TAG_KEY_USAGE_TEMPLATE: {
            TAG_KEY_REFERENCE: "key reference",
            TAG_KEY_VALUE_TEMPLATE: "key value template",
        },
        TAG_PUBLIC_KEY: {0x81: "modulus", 0x82: "public exponent", 0x86: "public point"},
        TAG_DYNAMIC_AUTHENTICATION: {TAG_CHALLENGE: "challenge", TAG_RESPONSE: "response"},
        0xAC: {0x80: "mechanism", 0x83: "key reference"},
        0x7F71: {TAG_TRIES_LEFT: "tries left", TAG_TRY_LIMIT: "try limit"},
        0x7F72: {TAG_TRIES_LEFT: "tries left", TAG_TRY_LIMIT: "try limit"},
        0x7F73: {TAG_TRIES_LEFT: "tries left", TAG_TRY_LIMIT: "try limit"},
    },
    interpret={0x46: printable},
    nested_interpret={
        0xA4: {0x80: mechanism_text},
        0xB6: {0x80: mechanism_text},
        0xB8: {0x80: mechanism_text},
        0xAC: {0x80: mechanism_text},
        0x7F71: {TAG_TRIES_LEFT: _tries},
        0x7F72: {TAG_TRIES_LEFT: _tries},
        TAG_PUBLIC_KEY: {0x81: lambda v: f"{len(v) * 8}-bit modulus"},
        TAG_KEY_VALUE_TEMPLATE: {TAG_KEY_TYPE: lambda v: KEY_TYPES.get(v[0], "")},
    },
    fallback=iso.TAGS,
)


# -- GET DATA / PUT DATA ------------------------------------------------------------------


def requested_do(apdu: CommandApdu) -> int | None:
    for item in walk(apdu.data):
        if item.tag == 0x5C:
            return int.from_bytes(apdu.data[item.start : item.end], "big") or None
    return None


def key_reference(data: bytes) -> int | None:
    for item in walk(data):
        if item.tag == TAG_KEY_USAGE_TEMPLATE:
            inner = tlv.to_dict(data[item.start : item.end])
            ref = inner.get(TAG_KEY_REFERENCE)
            return ref[0] if ref else None
    return None


def data_params(apdu: CommandApdu) -> Params:
    return [("P1-P2", f"{apdu.p1:02X}{apdu.p2:02X} {ef_name(apdu.p1p2)}")]


def get_data_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    if apdu.p1p2 == CURRENT_APPLICATION and apdu.data[:1] == bytes((TAG_KEY_USAGE_TEMPLATE,)):
        ref = apdu.data[4] if len(apdu.data) > 4 else 0
        return f"public key of key {ref:02X}"
    tag = requested_do(apdu)
    if tag is None:
        return f"{ef_name(apdu.p1p2)}, all DOs"
    return f"{do_name(apdu.p1p2, tag)} ({ef_name(apdu.p1p2)})"


def put_data_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    if apdu.p1p2 == CURRENT_APPLICATION:
        ref = key_reference(apdu.data)
        if ref == ADMIN_KEY_REFERENCE:
            return "PUT KEY: admin key"
        return f"PUT KEY: key {ref:02X}" if ref is not None else "PUT KEY"
    items = list(walk(apdu.data))
    if not items:
        return ef_name(apdu.p1p2)
    value_len = items[0].end - items[0].start
    return f"{do_name(apdu.p1p2, items[0].tag)} ({ef_name(apdu.p1p2)}), {value_len} bytes"


def put_data_masks(apdu: CommandApdu, response: bytes) -> Masks:
    if apdu.p1p2 != CURRENT_APPLICATION:
        return Masks()
    ref = key_reference(apdu.data)
    label = "admin key" if ref == ADMIN_KEY_REFERENCE else "private key"
    spans: list[Span] = []
    for member in (TAG_KEY_VALUE, TAG_KEY_CHECK_VALUE):
        path = (TAG_KEY_USAGE_TEMPLATE, TAG_KEY_VALUE_TEMPLATE, member)
        spans += value_spans(apdu.data, path, label)
    if not spans and apdu.data:  # not the expected template: hide all of it
        spans = [Span(0, len(apdu.data), label)]
    return Masks(command=tuple(spans))


def get_data_spec(apdu: CommandApdu) -> CommandSpec:
    tag = requested_do(apdu)
    local = {tag: do_name(apdu.p1p2, tag)} if tag is not None else {}
    local[0x5C] = "tag list"
    return CommandSpec("GET DATA", data_params, get_data_summary, tags=local)


def put_data_spec(apdu: CommandApdu) -> CommandSpec:
    local: dict[int, str] = {}
    items = list(walk(apdu.data))
    if items and apdu.p1p2 != CURRENT_APPLICATION:
        local[items[0].tag] = do_name(apdu.p1p2, items[0].tag)
    return CommandSpec("PUT DATA", data_params, put_data_summary, mask=put_data_masks, tags=local)


# -- authentication -----------------------------------------------------------------------


def verify_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    if apdu.p2 == 0x82:
        return "log out (PIN and admin)"
    if not apdu.data:
        return "user PIN: status query"
    return "user PIN"


def change_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    return "set user PIN" if apdu.p1 == 0x01 else "change user PIN"


def ga_masks(apdu: CommandApdu, response: bytes) -> Masks:
    label = "admin key auth"
    members = (TAG_CHALLENGE, TAG_RESPONSE)
    command = [
        s for m in members for s in value_spans(apdu.data, (TAG_DYNAMIC_AUTHENTICATION, m), label)
    ]
    answer = [
        s for m in members for s in value_spans(response, (TAG_DYNAMIC_AUTHENTICATION, m), label)
    ]
    return Masks(tuple(command), tuple(answer))


def ga_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    members: dict[int, bytes] = {}
    for item in walk(apdu.data):
        if item.tag == TAG_DYNAMIC_AUTHENTICATION:
            members = tlv.to_dict(apdu.data[item.start : item.end])
    if TAG_CHALLENGE in members:
        size = len(members[TAG_CHALLENGE])
        return "admin key: external auth challenge" if size == 0 else "admin key: mutual auth"
    if TAG_RESPONSE in members:
        return "admin key: host cryptogram"
    return "admin key"


def generate_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    items = {t.tag: t.value for t in tlv.parse(apdu.data)}
    template = tlv.to_dict(next(iter(items.values()), b""))
    algo, ref = template.get(0x80, b"?"), template.get(0x83, b"?")
    return f"key {hexs(ref)}, {MECHANISMS.get(algo[0], hexs(algo))}"


def pin_label(apdu: CommandApdu) -> str:
    return "user PIN"


def change_label(apdu: CommandApdu) -> str:
    return "new user PIN" if apdu.p1 == 0x01 else "user PIN old+new"


def reset_label(apdu: CommandApdu) -> str:
    return "new user PIN"


DECODER = register(
    AppDecoder(
        APP_NAME,
        "GIDS",
        (GIDS_AID,),
        {
            Ins.GET_DATA_ODD: get_data_spec,
            Ins.PUT_DATA_ODD: put_data_spec,
            Ins.VERIFY: CommandSpec(
                "VERIFY",
                iso.verify_params,
                verify_summary,
                DataKind.RAW,
                mask=iso.pin_masks(pin_label),
            ),
            Ins.CHANGE_REFERENCE_DATA: CommandSpec(
                "CHANGE REFERENCE DATA",
                iso.ref_params,
                change_summary,
                DataKind.RAW,
                mask=iso.pin_masks(change_label),
            ),
            Ins.RESET_RETRY_COUNTER: CommandSpec(
                "RESET RETRY COUNTER",
                iso.ref_params,
                lambda a, r, s: "unblock user PIN (after admin auth)",
                DataKind.RAW,
                mask=iso.pin_masks(reset_label),
            ),
            Ins.GENERAL_AUTHENTICATE: CommandSpec(
                "GENERAL AUTHENTICATE",
                iso.p1p2,
                ga_summary,
                mask=ga_masks,
                varying=Varying.RANDOM,
            ),
            Ins.GENERATE_ASYMMETRIC_KEY_PAIR_47: CommandSpec(
                "GENERATE ASYMMETRIC KEY PAIR",
                iso.p1p2,
                generate_summary,
                varying=Varying.CRYPTO,
            ),
        },
        TAGS,
    )
)
