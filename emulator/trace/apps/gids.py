"""GIDS (Microsoft Generic Identity Device Specification) as gids.md describes it.

INS bytes, tags, file identifiers, mechanisms and the default minidriver layout come from
the GIDS application's constants (`emulator/apps/gids/constants.py`, the one place for
the spec's facts); this module only adds the words a trace shows for them.
"""

from __future__ import annotations

from wire import tlv
from wire.apdu import CommandApdu
from wire.gids import (
    ADMIN_KEY_REFERENCE,
    GIDS_AID,
    KEY_EF_BASE,
    MECHANISM_KEY_MASK,
    MECHANISM_MODE_MASK,
    RSA_BITS,
    AdminMechanism,
    ChangeP1,
    CtMode,
    DstMode,
    Ef,
    Fid,
    KeyType,
    Mechanism,
    PinRef,
    Tag,
)
from wire.gids import Ins as GidsIns

from ...apps.gids.formats import DEFAULT_MASTERFILE
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


def _acl_name(ef: Ef) -> str:
    """USER_CREATE_DELETE_DIR -> UserCreateDeleteDirAc, the minidriver ACL it stands for."""
    return "".join(word.capitalize() for word in ef.name.split("_")) + "Ac"


# gids.md 2.2: the standard DO EFs by minidriver ACL name.
EFS = {int(ef): _acl_name(ef) for ef in Ef}
# gids.md 2.3: DOs by (EF, tag) as the default masterfile places them; DF20 means keymap in
# A000 but cardid in A012.
DOS = {
    (int(Ef.USER_CREATE_DELETE_DIR), int(Tag.MASTERFILE)): "masterfile",
    (int(Ef.USER_CREATE_DELETE_DIR), int(Tag.KEYMAP)): "keymap",
    **{(r.ef, r.do_tag): r.filename for r in DEFAULT_MASTERFILE if r.filename},
    # GidsApplet's own tests write cardid into A010 (gids.md 2.3, 6).
    (int(Ef.EVERYONE_READ_USER_WRITE), int(Tag.CARDID)): "cardid",
}
PIN_STATUS: dict[int, str] = {
    Tag.GLOBAL_PIN_STATUS: "global PIN status",
    Tag.LOCAL_PIN_STATUS: "local PIN status",
    Tag.LOCAL_PUK_STATUS: "PUK status",
}


def _mechanism_name(mechanism: Mechanism) -> str:
    if mechanism in RSA_BITS:
        return f"RSA-{RSA_BITS[mechanism]}"
    return f"ECC P-{mechanism.name.removeprefix('ECC_P')}"


MECHANISMS = {int(m): _mechanism_name(m) for m in Mechanism}
# High nibble of a CT/DST mechanism (a bare key mechanism reads as its key).
MECHANISM_MODES: dict[int, str] = {
    CtMode.RAW: "no padding",
    CtMode.PKCS1: "PKCS#1 v1.5",
    CtMode.OAEP: "OAEP",
    DstMode.RAW: "raw signature",
    DstMode.PKCS1: "PKCS#1 v1.5 signature",
}
ADMIN_MECHANISMS: dict[int, str] = {
    AdminMechanism.TDES_2KEY: "2-key 3DES",
    AdminMechanism.TDES_3KEY: "3-key 3DES",
    AdminMechanism.AES_128: "AES-128",
    AdminMechanism.AES_192: "AES-192",
    AdminMechanism.AES_256: "AES-256",
}
KEY_TYPES: dict[int, str] = {KeyType.SYMMETRIC: "symmetric", KeyType.RSA: "RSA", KeyType.ECC: "ECC"}


SPECIAL_FIDS: dict[int, str] = {
    Fid.CURRENT_APPLICATION: "current application",
    Fid.EF_ATR: "EF.ATR",
    Fid.EF_DIR: "EF.DIR",
    Fid.CURRENT_EF: "current EF",
}


def ef_name(fid: int) -> str:
    if fid in EFS:
        return f"EF {fid:04X} {EFS[fid]}"
    if fid & 0xFF00 == KEY_EF_BASE:
        return f"key EF {fid:04X}" + (" (admin key)" if fid & 0xFF == ADMIN_KEY_REFERENCE else "")
    return SPECIAL_FIDS.get(fid, f"EF {fid:04X}")


def do_name(ef: int, tag: int) -> str:
    if ef == Fid.CURRENT_APPLICATION and tag in PIN_STATUS:
        return PIN_STATUS[tag]
    if (ef, tag) in DOS:
        return DOS[(ef, tag)]
    if Tag.FIRST_FILE_DO <= tag <= Tag.LAST_FILE_DO:
        return f"file DO {tag:04X}"
    return f"DO {tag:X}"


def mechanism_text(value: bytes) -> str:
    algo = value[0]
    if algo in MECHANISMS:
        return MECHANISMS[algo]
    size = MECHANISMS.get(algo & MECHANISM_KEY_MASK, "")
    mode = algo & MECHANISM_MODE_MASK
    padding = MECHANISM_MODES.get(mode, f"mode {mode:02X}")
    return ", ".join(p for p in (size, padding) if p)


def admin_mechanism_text(value: bytes) -> str:
    """The AT template's mechanism: the symmetric admin key's algorithm."""
    return ADMIN_MECHANISMS.get(value[0], mechanism_text(value))


def _tries(value: bytes) -> str:
    return f"{value[0]} tries left"


TRY_TAGS: dict[int, str] = {Tag.TRY_COUNTER: "tries left", Tag.TRY_LIMIT: "try limit"}
CRT_TAGS: dict[int, str] = {
    Tag.CRT_MECHANISM: "mechanism",
    Tag.CRT_KEY_REF_SYMMETRIC: "key reference",
    Tag.CRT_USAGE: "usage qualifier",
}
FCP_TAGS = {**iso.FCP_TAGS, Tag.CRT_LIST: "CRTs of the key"}

TAGS = TagNames(
    names={
        0x43: "card service data",
        0x47: "card capabilities",
        0x46: "pre-issuing data",
        0x5F2F: "PIN usage policy",
        0x7F65: "memory resource template",
        Tag.PUBLIC_KEY: "public key",
        Tag.DYNAMIC_AUTH: "dynamic authentication template",
        Tag.KEY_USAGE_TEMPLATE: "key usage template",
        Tag.GENERATE_TEMPLATE: "cryptographic mechanism template",
        **PIN_STATUS,
        0x40: "supported authentication protocols",
        Tag.MASTERFILE: "masterfile",
    },
    nested={
        Tag.FCP: FCP_TAGS,
        0x61: {0x4F: "application identifier", 0x73: "discretionary data objects"},
        Tag.KEY_VALUE_TEMPLATE: {
            Tag.CRT_AT: "AT (authentication)",
            Tag.CRT_DST: "DST (signature)",
            Tag.CRT_CT: "CT (decipherment)",
            Tag.KEY_TYPE: "key type",
            Tag.TRANSPORT_KEY: "transport key",
            Tag.KEY_VALUE: "key value",
            Tag.KEY_CHECK_VALUE: "key check value",
        },
        Tag.CRT_AT: CRT_TAGS,
        Tag.CRT_DST: CRT_TAGS,
        Tag.CRT_CT: CRT_TAGS,
        Tag.KEY_USAGE_TEMPLATE: {
            Tag.KEY_REFERENCE: "key reference",
            Tag.KEY_VALUE_TEMPLATE: "key value template",
        },
        Tag.PUBLIC_KEY: {
            Tag.MODULUS: "modulus",
            Tag.EXPONENT: "public exponent",
            Tag.EC_POINT: "public point",
        },
        Tag.DYNAMIC_AUTH: {Tag.CHALLENGE: "challenge", Tag.RESPONSE: "response"},
        Tag.GENERATE_TEMPLATE: {
            Tag.GENERATE_MECHANISM: "mechanism",
            Tag.GENERATE_KEY_REF: "key reference",
        },
        **{status: TRY_TAGS for status in PIN_STATUS},
    },
    interpret={0x46: printable},
    nested_interpret={
        Tag.CRT_AT: {Tag.CRT_MECHANISM: admin_mechanism_text},
        Tag.CRT_DST: {Tag.CRT_MECHANISM: mechanism_text},
        Tag.CRT_CT: {Tag.CRT_MECHANISM: mechanism_text},
        Tag.GENERATE_TEMPLATE: {Tag.GENERATE_MECHANISM: mechanism_text},
        Tag.GLOBAL_PIN_STATUS: {Tag.TRY_COUNTER: _tries},
        Tag.LOCAL_PIN_STATUS: {Tag.TRY_COUNTER: _tries},
        Tag.PUBLIC_KEY: {Tag.MODULUS: lambda v: f"{len(v) * 8}-bit modulus"},
        Tag.KEY_VALUE_TEMPLATE: {Tag.KEY_TYPE: lambda v: KEY_TYPES.get(v[0], "")},
    },
    fallback=iso.TAGS,
)


# -- GET DATA / PUT DATA ------------------------------------------------------------------


def requested_do(apdu: CommandApdu) -> int | None:
    for item in walk(apdu.data):
        if item.tag == Tag.TAG_LIST:
            return int.from_bytes(apdu.data[item.start : item.end], "big") or None
    return None


def key_reference(data: bytes) -> int | None:
    for item in walk(data):
        if item.tag == Tag.KEY_USAGE_TEMPLATE:
            inner = tlv.to_dict(data[item.start : item.end])
            ref = inner.get(Tag.KEY_REFERENCE)
            return ref[0] if ref else None
    return None


def data_params(apdu: CommandApdu) -> Params:
    return [("P1-P2", f"{apdu.p1:02X}{apdu.p2:02X} {ef_name(apdu.p1p2)}")]


def get_data_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    if apdu.p1p2 == Fid.CURRENT_APPLICATION and apdu.data[:1] == bytes((Tag.KEY_USAGE_TEMPLATE,)):
        ref = apdu.data[4] if len(apdu.data) > 4 else 0
        return f"public key of key {ref:02X}"
    tag = requested_do(apdu)
    if tag is None:
        return f"{ef_name(apdu.p1p2)}, all DOs"
    return f"{do_name(apdu.p1p2, tag)} ({ef_name(apdu.p1p2)})"


def put_data_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    if apdu.p1p2 == Fid.CURRENT_APPLICATION:
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
    if apdu.p1p2 != Fid.CURRENT_APPLICATION:
        return Masks()
    ref = key_reference(apdu.data)
    label = "admin key" if ref == ADMIN_KEY_REFERENCE else "private key"
    spans: list[Span] = []
    for member in (Tag.KEY_VALUE, Tag.KEY_CHECK_VALUE):
        path = (Tag.KEY_USAGE_TEMPLATE, Tag.KEY_VALUE_TEMPLATE, member)
        spans += value_spans(apdu.data, path, label)
    if not spans and apdu.data:  # not the expected template: hide all of it
        spans = [Span(0, len(apdu.data), label)]
    return Masks(command=tuple(spans))


def get_data_spec(apdu: CommandApdu) -> CommandSpec:
    tag = requested_do(apdu)
    local = {tag: do_name(apdu.p1p2, tag)} if tag is not None else {}
    local[Tag.TAG_LIST] = "tag list"
    return CommandSpec("GET DATA", data_params, get_data_summary, tags=local)


def put_data_spec(apdu: CommandApdu) -> CommandSpec:
    local: dict[int, str] = {}
    items = list(walk(apdu.data))
    if items and apdu.p1p2 != Fid.CURRENT_APPLICATION:
        local[items[0].tag] = do_name(apdu.p1p2, items[0].tag)
    return CommandSpec("PUT DATA", data_params, put_data_summary, mask=put_data_masks, tags=local)


# -- authentication -----------------------------------------------------------------------


def verify_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    if apdu.p2 == PinRef.RESET_SECURITY_STATUS:
        return "log out (PIN and admin)"
    if not apdu.data:
        return "user PIN: status query"
    return "user PIN"


def change_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    return "set user PIN" if apdu.p1 == ChangeP1.NEW_ONLY else "change user PIN"


def ga_masks(apdu: CommandApdu, response: bytes) -> Masks:
    label = "admin key auth"
    members = (Tag.CHALLENGE, Tag.RESPONSE)
    command = [s for m in members for s in value_spans(apdu.data, (Tag.DYNAMIC_AUTH, m), label)]
    answer = [s for m in members for s in value_spans(response, (Tag.DYNAMIC_AUTH, m), label)]
    return Masks(tuple(command), tuple(answer))


def ga_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    members: dict[int, bytes] = {}
    for item in walk(apdu.data):
        if item.tag == Tag.DYNAMIC_AUTH:
            members = tlv.to_dict(apdu.data[item.start : item.end])
    if Tag.CHALLENGE in members:
        size = len(members[Tag.CHALLENGE])
        return "admin key: external auth challenge" if size == 0 else "admin key: mutual auth"
    if Tag.RESPONSE in members:
        return "admin key: host cryptogram"
    return "admin key"


def generate_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    items = {t.tag: t.value for t in tlv.parse(apdu.data)}
    template = tlv.to_dict(next(iter(items.values()), b""))
    algo = template.get(Tag.GENERATE_MECHANISM, b"?")
    ref = template.get(Tag.GENERATE_KEY_REF, b"?")
    return f"key {hexs(ref)}, {MECHANISMS.get(algo[0], hexs(algo))}"


def pin_label(apdu: CommandApdu) -> str:
    return "user PIN"


def change_label(apdu: CommandApdu) -> str:
    return "new user PIN" if apdu.p1 == ChangeP1.NEW_ONLY else "user PIN old+new"


def reset_label(apdu: CommandApdu) -> str:
    return "new user PIN"


DECODER = register(
    AppDecoder(
        APP_NAME,
        "GIDS",
        (GIDS_AID,),
        {
            GidsIns.GET_DATA: get_data_spec,
            GidsIns.PUT_DATA: put_data_spec,
            GidsIns.VERIFY: CommandSpec(
                "VERIFY",
                iso.verify_params,
                verify_summary,
                DataKind.RAW,
                mask=iso.pin_masks(pin_label),
            ),
            GidsIns.CHANGE_REFERENCE_DATA: CommandSpec(
                "CHANGE REFERENCE DATA",
                iso.ref_params,
                change_summary,
                DataKind.RAW,
                mask=iso.pin_masks(change_label),
            ),
            GidsIns.RESET_RETRY_COUNTER: CommandSpec(
                "RESET RETRY COUNTER",
                iso.ref_params,
                lambda a, r, s: "unblock user PIN (after admin auth)",
                DataKind.RAW,
                mask=iso.pin_masks(reset_label),
            ),
            GidsIns.GENERAL_AUTHENTICATE: CommandSpec(
                "GENERAL AUTHENTICATE",
                iso.p1p2,
                ga_summary,
                mask=ga_masks,
                varying=Varying.RANDOM,
            ),
            GidsIns.GENERATE_ASYMMETRIC_KEY_PAIR: CommandSpec(
                "GENERATE ASYMMETRIC KEY PAIR",
                iso.p1p2,
                generate_summary,
                varying=Varying.CRYPTO,
            ),
        },
        TAGS,
    )
)
