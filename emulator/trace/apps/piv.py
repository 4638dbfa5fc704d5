"""PIV (NIST SP 800-73-4) and Yubico's PIV extensions, named from the PIV constants."""

from __future__ import annotations

from collections.abc import Mapping

from wire import tlv
from wire.apdu import CommandApdu
from wire.piv import (
    PIV_AID,
    Algorithm,
    ImportTag,
    KeyRef,
    MetadataTag,
    ObjectId,
    Origin,
    PinPolicy,
    PivmanTag,
    Tag,
    TouchPolicy,
)
from wire.piv import Ins as PivIns

from ..decoding import (
    AppDecoder,
    CommandSpec,
    DataKind,
    Params,
    TagNames,
    Varying,
    printable,
    register,
)
from ..masking import Masks, Span, value_spans, walk, whole
from . import iso

APP_NAME = "piv"


WORDS = {"x509": "X.509", "piv": "PIV", "puk": "PUK", "chuid": "CHUID", "occ": "OCC"}
WORDS.update({"pin": "PIN", "mscmap": "MSCMAP", "sm": "SM"})


def _title(name: str) -> str:
    return " ".join(WORDS.get(w, w) for w in name.lower().split("_"))


def object_name(tag: int) -> str:
    if ObjectId.RETIRED_X509_1 < tag < ObjectId.RETIRED_X509_20:
        return f"retired X.509 {tag - ObjectId.RETIRED_X509_1 + 1}"
    if ObjectId.MSROOTS_1 < tag < ObjectId.MSROOTS_5:
        return f"msroots {tag - ObjectId.MSROOTS_1 + 1}"
    try:
        return _title(ObjectId(tag).name)
    except ValueError:
        return f"object {tag:X}"


def key_name(ref: int) -> str:
    if KeyRef.RETIRED_1 < ref < KeyRef.RETIRED_20:
        return f"retired {ref - KeyRef.RETIRED_1 + 1}"
    try:
        return _title(KeyRef(ref).name)
    except ValueError:
        return f"key {ref:02X}"


def slot_text(ref: int) -> str:
    return f"{ref:02X} ({key_name(ref)})"


def algorithm_name(alg: int) -> str:
    try:
        return Algorithm(alg).name.replace("_", "-").replace("THREE-KEY-TDES-LEGACY", "3DES")
    except ValueError:
        return f"algorithm {alg:02X}"


def _enum_text(enum: type[PinPolicy] | type[TouchPolicy] | type[Origin], value: int) -> str:
    try:
        return enum(value).name.lower()
    except ValueError:
        return f"{value:02X}"


def requested_object(data: bytes) -> int | None:
    for item in walk(data):
        if item.tag == Tag.TAG_LIST:
            return int.from_bytes(data[item.start : item.end], "big")
    return None


# -- tag names ----------------------------------------------------------------------------

CERTIFICATE_TAGS: dict[int, str] = {
    Tag.CERTIFICATE: "certificate",
    Tag.CERT_INFO: "CertInfo",
    Tag.MSCUID: "MSCUID",
    Tag.ERROR_DETECTION_CODE: "error detection code",
}
CHUID_TAGS = {
    0x30: "FASC-N",
    0x31: "agency code",
    0x32: "organisation identifier",
    0x33: "DUNS",
    0x34: "GUID",
    0x35: "expiration date",
    0x36: "cardholder UUID",
    0x3D: "authentication key map",
    0x3E: "issuer asymmetric signature",
    0xEE: "buffer length",
    0xFE: "error detection code",
}
CCC_TAGS = {
    0xF0: "card identifier",
    0xF1: "capability container version",
    0xF2: "capability grammar version",
    0xF3: "application card URL",
    0xF4: "PKCS#15",
    0xF5: "registered data model",
    0xF6: "access control rule table",
    0xF7: "card APDUs",
    0xFA: "redirection tag",
    0xFB: "capability tuples",
    0xFC: "status tuples",
    0xFD: "next CCC",
    0xFE: "error detection code",
}
KEY_HISTORY_TAGS: dict[int, str] = {
    Tag.KEYS_WITH_ON_CARD_CERTS: "keys with on-card certificates",
    Tag.KEYS_WITH_OFF_CARD_CERTS: "keys with off-card certificates",
    Tag.OFF_CARD_CERT_URL: "off-card certificate URL",
    0xFE: "error detection code",
}
PRINTED_TAGS = {
    0x01: "name",
    0x02: "employee affiliation",
    0x04: "expiration date",
    0x05: "agency card serial number",
    0x06: "issuer identification",
    0x07: "organisation affiliation 1",
    0x08: "organisation affiliation 2",
    PivmanTag.PROTECTED: "Yubico protected data",
    0xFE: "error detection code",
}
ADMIN_TAGS: dict[int, str] = {PivmanTag.ADMIN: "Yubico admin data"}
DISCOVERY_TAGS: dict[int, str] = {
    Tag.DISCOVERY: "discovery object",
    Tag.PIN_USAGE_POLICY: "PIN usage policy",
}


def object_tags(tag: int | None) -> Mapping[int, str]:
    if tag is None:
        return {}
    if tag in (ObjectId.CHUID,):
        return CHUID_TAGS
    if tag == ObjectId.CARD_CAPABILITY_CONTAINER:
        return CCC_TAGS
    if tag == ObjectId.KEY_HISTORY:
        return KEY_HISTORY_TAGS
    if tag == ObjectId.PRINTED_INFORMATION:
        return PRINTED_TAGS
    if tag == ObjectId.ADMIN_DATA:
        return ADMIN_TAGS
    if tag == ObjectId.DISCOVERY:
        return DISCOVERY_TAGS
    return CERTIFICATE_TAGS


def _tag_list_text(value: bytes) -> str:
    return object_name(int.from_bytes(value, "big"))


def _policy_text(value: bytes) -> str:
    first = value[0]
    bits = [
        name
        for bit, name in ((0x40, "PIV PIN"), (0x20, "global PIN"), (0x10, "OCC"))
        if first & bit
    ]
    return ", ".join(bits)


TAGS = TagNames(
    names={
        Tag.APPLICATION_PROPERTY_TEMPLATE: "application property template",
        Tag.AID: "application identifier",
        Tag.COEXISTENT_TAG_ALLOCATION_AUTHORITY: "coexistent tag allocation authority",
        Tag.APPLICATION_LABEL: "application label",
        Tag.APPLICATION_URL: "application URL",
        Tag.TAG_LIST: "tag list",
        Tag.DATA: "data object",
        Tag.DYNAMIC_AUTHENTICATION_TEMPLATE: "dynamic authentication template",
        Tag.CRYPTOGRAPHIC_MECHANISM_TEMPLATE: "cryptographic mechanism template",
        Tag.PUBLIC_KEY_TEMPLATE: "public key",
        Tag.DISCOVERY: "discovery object",
        Tag.PIN_USAGE_POLICY: "PIN usage policy",
        0xAA: "PIN policy",
        0xAB: "touch policy",
    },
    nested={
        Tag.DYNAMIC_AUTHENTICATION_TEMPLATE: {
            Tag.WITNESS: "witness",
            Tag.CHALLENGE: "challenge",
            Tag.RESPONSE: "response",
            Tag.EXPONENTIATION: "exponentiation",
        },
        Tag.CRYPTOGRAPHIC_MECHANISM_TEMPLATE: {
            Tag.MECHANISM: "algorithm",
            Tag.PARAMETER: "parameter",
            0x06: "object identifier",
        },
        Tag.PUBLIC_KEY_TEMPLATE: {
            Tag.RSA_MODULUS: "modulus",
            Tag.RSA_EXPONENT: "public exponent",
            Tag.EC_POINT: "public point",
        },
        Tag.COEXISTENT_TAG_ALLOCATION_AUTHORITY: {Tag.AID: "authority"},
        PivmanTag.ADMIN: {
            PivmanTag.ADMIN_FLAGS_1: "flags",
            PivmanTag.ADMIN_SALT: "PIN-derived key salt",
            PivmanTag.PIN_TIMESTAMP: "PIN last changed",
        },
        PivmanTag.PROTECTED: {
            PivmanTag.ADMIN_FLAGS_1: "flags",
            PivmanTag.PROTECTED_MGM: "management key",
        },
    },
    containers=frozenset({Tag.DATA, (Tag.DATA, PivmanTag.ADMIN), (Tag.DATA, PivmanTag.PROTECTED)}),
    interpret={
        Tag.TAG_LIST: _tag_list_text,
        Tag.APPLICATION_LABEL: printable,
        Tag.APPLICATION_URL: printable,
        Tag.PIN_USAGE_POLICY: _policy_text,
        0xAA: lambda v: _enum_text(PinPolicy, v[0]),
        0xAB: lambda v: _enum_text(TouchPolicy, v[0]),
    },
    nested_interpret={
        Tag.CRYPTOGRAPHIC_MECHANISM_TEMPLATE: {Tag.MECHANISM: lambda v: algorithm_name(v[0])},
        Tag.PUBLIC_KEY_TEMPLATE: {
            Tag.RSA_MODULUS: lambda v: f"{len(v) * 8}-bit modulus",
            Tag.RSA_EXPONENT: lambda v: str(int.from_bytes(v, "big")),
        },
    },
)


# -- parameters and summaries -------------------------------------------------------------


def data_params(apdu: CommandApdu) -> Params:
    where = "current application" if apdu.p1p2 == 0x3FFF else "unexpected P1-P2"
    return [("P1-P2", f"{apdu.p1:02X}{apdu.p2:02X} {where}")]


def object_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    tag = requested_object(apdu.data)
    return f"{object_name(tag)} ({tag:X})" if tag is not None else ""


def verify_params(apdu: CommandApdu) -> Params:
    p1 = {0x00: "verify", 0xFF: "reset security status"}.get(apdu.p1, "RFU")
    return [("P1", f"{apdu.p1:02X} {p1}"), ("P2", slot_text(apdu.p2))]


def verify_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    who = key_name(apdu.p2)
    if apdu.p1 == 0xFF:
        return f"{who}: log out"
    if not apdu.data:
        return f"{who}: status query"
    return who


def ref_params(apdu: CommandApdu) -> Params:
    return [("P1", f"{apdu.p1:02X}"), ("P2", slot_text(apdu.p2))]


def ref_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    return key_name(apdu.p2)


def ga_params(apdu: CommandApdu) -> Params:
    return [("P1", f"{apdu.p1:02X} {algorithm_name(apdu.p1)}"), ("P2", slot_text(apdu.p2))]


def _members(data: bytes) -> dict[int, bytes]:
    for item in walk(data):
        if item.tag == Tag.DYNAMIC_AUTHENTICATION_TEMPLATE:
            return tlv.to_dict(data[item.start : item.end])
    return {}


def ga_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    members = _members(apdu.data)
    empty = {tag for tag, value in members.items() if not value}
    algo = algorithm_name(apdu.p1)
    if apdu.p2 == KeyRef.CARD_MANAGEMENT:
        if Tag.WITNESS in empty:
            step = "witness request"
        elif Tag.CHALLENGE in empty:
            step = "challenge request"
        elif Tag.WITNESS in members:
            step = "witness and challenge"
        else:
            step = "response"
        return f"management key ({algo}): {step}"
    if Tag.EXPONENTIATION in members:
        operation = "key agreement"
    elif apdu.p1 in (Algorithm.ECC_P256, Algorithm.ECC_P384, Algorithm.ED25519):
        operation = "sign"
    else:
        operation = "sign/decrypt"
    return f"{key_name(apdu.p2)} ({algo}): {operation}"


def ga_masks(apdu: CommandApdu, response: bytes) -> Masks:
    if apdu.p2 == KeyRef.CARD_MANAGEMENT:
        # Witness, challenge and response together would allow an offline key search.
        label = "management key auth"
        spans = [
            span
            for member in (Tag.WITNESS, Tag.CHALLENGE, Tag.RESPONSE)
            for span in value_spans(apdu.data, (Tag.DYNAMIC_AUTHENTICATION_TEMPLATE, member), label)
        ]
        answer = [
            span
            for member in (Tag.WITNESS, Tag.CHALLENGE, Tag.RESPONSE)
            for span in value_spans(response, (Tag.DYNAMIC_AUTHENTICATION_TEMPLATE, member), label)
        ]
        return Masks(tuple(spans), tuple(answer))
    if Tag.EXPONENTIATION in _members(apdu.data):
        path = (Tag.DYNAMIC_AUTHENTICATION_TEMPLATE, Tag.RESPONSE)
        return Masks(response=tuple(value_spans(response, path, "shared secret")))
    return Masks()


def ga_spec(apdu: CommandApdu) -> CommandSpec:
    varying = Varying.RANDOM if apdu.p2 == KeyRef.CARD_MANAGEMENT else Varying.CRYPTO
    return CommandSpec(
        "GENERAL AUTHENTICATE", ga_params, ga_summary, mask=ga_masks, varying=varying
    )


def generate_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    template = tlv.to_dict(tlv.find(apdu.data, Tag.CRYPTOGRAPHIC_MECHANISM_TEMPLATE) or b"")
    algo = template.get(Tag.MECHANISM)
    return f"{key_name(apdu.p2)}, {algorithm_name(algo[0]) if algo else '?'}"


def protected_masks(data: bytes, start: int) -> list[Span]:
    """The management key stored in PIN-protected data (53 { 88 { 89 key } })."""
    return value_spans(
        data, (Tag.DATA, PivmanTag.PROTECTED, PivmanTag.PROTECTED_MGM), "management key", start
    )


def get_data_masks(apdu: CommandApdu, response: bytes) -> Masks:
    if requested_object(apdu.data) == ObjectId.PRINTED_INFORMATION:
        return Masks(response=tuple(protected_masks(response, 0)))
    return Masks()


def put_data_masks(apdu: CommandApdu, response: bytes) -> Masks:
    if requested_object(apdu.data) == ObjectId.PRINTED_INFORMATION:
        return Masks(command=tuple(protected_masks(apdu.data, 0)))
    return Masks()


def get_data_spec(apdu: CommandApdu) -> CommandSpec:
    return CommandSpec(
        "GET DATA",
        data_params,
        object_summary,
        mask=get_data_masks,
        tags=object_tags(requested_object(apdu.data)),
    )


def put_data_spec(apdu: CommandApdu) -> CommandSpec:
    return CommandSpec(
        "PUT DATA",
        data_params,
        object_summary,
        mask=put_data_masks,
        tags=object_tags(requested_object(apdu.data)),
    )


def version_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    return ".".join(str(b) for b in response) if len(response) == 3 else ""


def serial_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    return str(int.from_bytes(response, "big")) if len(response) == 4 else ""


def set_mgmkey_params(apdu: CommandApdu) -> Params:
    touch = {0xFF: "no touch", 0xFE: "touch required", 0xFD: "touch cached"}
    return [("P1-P2", f"{apdu.p1:02X}{apdu.p2:02X} {touch.get(apdu.p2, '?')}")]


def set_mgmkey_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    return f"{algorithm_name(apdu.data[0])}, {len(apdu.data) - 3}-byte key"


def set_mgmkey_masks(apdu: CommandApdu, response: bytes) -> Masks:
    return Masks(command=whole(apdu.data, "management key", start=3))


def import_masks(apdu: CommandApdu, response: bytes) -> Masks:
    spans = [
        Span(item.start, item.end, "private key")
        for item in walk(apdu.data)
        if item.tag in IMPORT_TAGS and item.end > item.start
    ]
    if not spans:  # not the expected TLVs: hide everything rather than guess
        return Masks(command=whole(apdu.data, "private key"))
    return Masks(command=tuple(spans))


def import_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    return f"{key_name(apdu.p2)}, {algorithm_name(apdu.p1)}"


def retries_params(apdu: CommandApdu) -> Params:
    return [("P1-P2", f"PIN {apdu.p1} tries, PUK {apdu.p2} tries")]


def slot_p1_params(apdu: CommandApdu) -> Params:
    return [("P1", slot_text(apdu.p1))]


def slot_p2_params(apdu: CommandApdu) -> Params:
    return [("P2", slot_text(apdu.p2))]


def move_params(apdu: CommandApdu) -> Params:
    if apdu.p1 == 0xFF:
        return [("P1-P2", f"delete key {slot_text(apdu.p2)}")]
    return [("P1-P2", f"move {slot_text(apdu.p2)} to {slot_text(apdu.p1)}")]


def metadata_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    return key_name(apdu.p2)


IMPORT_TAGS: dict[int, str] = {
    ImportTag.RSA_P: "prime p",
    ImportTag.RSA_Q: "prime q",
    ImportTag.RSA_DP: "exponent dP",
    ImportTag.RSA_DQ: "exponent dQ",
    ImportTag.RSA_QINV: "coefficient qInv",
    ImportTag.EC_PRIVATE: "EC private scalar",
    ImportTag.ED25519_SEED: "Ed25519 seed",
    ImportTag.X25519_PRIVATE: "X25519 private key",
}
METADATA_TAGS: dict[int, str] = {
    MetadataTag.ALGORITHM: "algorithm",
    MetadataTag.POLICY: "policy",
    MetadataTag.ORIGIN: "origin",
    MetadataTag.PUBLIC_KEY: "public key",
    MetadataTag.IS_DEFAULT: "default value",
    MetadataTag.RETRIES: "retries (total, left)",
}
TAGS.nested[MetadataTag.PUBLIC_KEY] = {
    Tag.RSA_MODULUS: "modulus",
    Tag.RSA_EXPONENT: "public exponent",
    Tag.EC_POINT: "public point",
}

DECODER = AppDecoder(
    APP_NAME,
    "PIV",
    (PIV_AID,),
    {
        PivIns.VERIFY: CommandSpec(
            "VERIFY",
            verify_params,
            verify_summary,
            DataKind.RAW,
            mask=iso.pin_masks(lambda a: f"{key_name(a.p2)} {a.p2:02X}"),
        ),
        PivIns.CHANGE_REFERENCE_DATA: CommandSpec(
            "CHANGE REFERENCE DATA",
            ref_params,
            ref_summary,
            DataKind.RAW,
            mask=iso.pin_masks(lambda a: f"{key_name(a.p2)} {a.p2:02X} old+new"),
        ),
        PivIns.RESET_RETRY_COUNTER: CommandSpec(
            "RESET RETRY COUNTER",
            ref_params,
            ref_summary,
            DataKind.RAW,
            mask=iso.pin_masks(lambda a: f"PUK+new {key_name(a.p2)}"),
        ),
        PivIns.GENERATE_ASYMMETRIC_KEY_PAIR: CommandSpec(
            "GENERATE ASYMMETRIC KEY PAIR",
            slot_p2_params,
            generate_summary,
            varying=Varying.CRYPTO,
        ),
        PivIns.GENERAL_AUTHENTICATE: ga_spec,
        PivIns.GET_DATA: get_data_spec,
        PivIns.PUT_DATA: put_data_spec,
        PivIns.MOVE_KEY: CommandSpec("MOVE KEY", move_params),
        PivIns.GET_METADATA: CommandSpec(
            "GET METADATA", slot_p2_params, metadata_summary, tags=METADATA_TAGS
        ),
        PivIns.GET_SERIAL: CommandSpec(
            "GET SERIAL", None, serial_summary, DataKind.RAW, DataKind.RAW
        ),
        PivIns.ATTEST: CommandSpec(
            "ATTEST", slot_p1_params, None, DataKind.RAW, DataKind.RAW, varying=Varying.CRYPTO
        ),
        PivIns.SET_PIN_RETRIES: CommandSpec("SET PIN RETRIES", retries_params),
        PivIns.RESET: CommandSpec("RESET"),
        PivIns.GET_VERSION: CommandSpec(
            "GET VERSION", None, version_summary, DataKind.RAW, DataKind.RAW
        ),
        PivIns.IMPORT_KEY: CommandSpec(
            "IMPORT KEY",
            ga_params,
            import_summary,
            mask=import_masks,
            tags={**IMPORT_TAGS, 0xAA: "PIN policy", 0xAB: "touch policy"},
        ),
        PivIns.SET_MANAGEMENT_KEY: CommandSpec(
            "SET MANAGEMENT KEY",
            set_mgmkey_params,
            set_mgmkey_summary,
            DataKind.RAW,
            mask=set_mgmkey_masks,
        ),
    },
    TAGS,
)
TAGS.fallback = iso.TAGS
register(DECODER)
