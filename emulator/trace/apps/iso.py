"""ISO/IEC 7816-4 interindustry commands: the table every application falls back to."""

from __future__ import annotations

from collections.abc import Callable

from wire import tlv
from wire.apdu import CommandApdu
from wire.iso7816 import Ins

from ...core.filesystem import (
    TAG_DF_NAME,
    TAG_FCI,
    TAG_FCP,
    TAG_FDB,
    TAG_FID,
    TAG_FILE_SIZE,
    TAG_FMD,
    TAG_SECURITY_COMPACT,
    TAG_SFI,
)
from ..decoding import (
    ISO_NAME,
    AppDecoder,
    CommandSpec,
    DataKind,
    Params,
    TagNames,
    Varying,
    app_for_aid,
    hexs,
    printable,
    register,
)
from ..masking import Masks, whole

TAG_APPLICATION_TEMPLATE = 0x61
TAG_AID = 0x4F
TAG_LABEL = 0x50
TAG_DISCRETIONARY = 0x73
TAG_TOTAL_SIZE = 0x81
TAG_PROPRIETARY = 0xA5
TAG_LCS = 0x8A

SELECT_P1 = {
    0x00: "by file identifier",
    0x01: "child DF",
    0x02: "EF under the current DF",
    0x03: "parent DF",
    0x04: "by DF name",
    0x08: "path from the MF",
    0x09: "path from the current DF",
}
SELECT_ANSWER = {0x00: "FCI", 0x04: "FCP", 0x08: "FMD", 0x0C: "no response data"}
LCS = {0x01: "creation", 0x03: "initialisation", 0x05: "operational, activated"}
LCS.update({0x07: "operational, activated", 0x04: "operational, deactivated"})
LCS.update({0x06: "operational, deactivated", 0x0C: "terminated", 0x0D: "terminated"})
LCS.update({0x0E: "terminated", 0x0F: "terminated"})


def aid_text(value: bytes) -> str:
    decoder = app_for_aid(value)
    return f"{decoder.label} application" if decoder else printable(value)


def fdb_text(value: bytes) -> str:
    kinds = {0x38: "DF", 0x01: "transparent EF", 0x39: "BER-TLV EF", 0x18: "key EF"}
    return kinds.get(value[0], "")


def security_text(value: bytes) -> str:
    return f"access modes {value[0]:08b}, SCBs {hexs(value[1:])}"


def size_text(value: bytes) -> str:
    return f"{int.from_bytes(value, 'big')} bytes"


FCP_TAGS = {
    TAG_FILE_SIZE: "file size",
    TAG_TOTAL_SIZE: "total size",
    TAG_FDB: "file descriptor",
    TAG_FID: "file identifier",
    TAG_DF_NAME: "DF name",
    0x85: "proprietary",
    0x86: "security attributes (proprietary)",
    TAG_SFI: "short EF identifier",
    TAG_LCS: "life cycle status",
    TAG_SECURITY_COMPACT: "security attributes (compact)",
    TAG_PROPRIETARY: "proprietary template",
}

FCP_INTERPRET = {
    TAG_FILE_SIZE: size_text,
    TAG_TOTAL_SIZE: size_text,
    TAG_FDB: fdb_text,
    TAG_FID: hexs,
    TAG_LCS: lambda v: LCS.get(v[0], ""),
    TAG_SECURITY_COMPACT: security_text,
    TAG_DF_NAME: aid_text,
}

TAGS = TagNames(
    names={
        TAG_FCP: "FCP template",
        TAG_FCI: "FCI template",
        TAG_FMD: "FMD template",
        TAG_APPLICATION_TEMPLATE: "application template",
        TAG_AID: "application identifier",
        TAG_LABEL: "application label",
        TAG_DISCRETIONARY: "discretionary data objects",
        0x5C: "tag list",
    },
    nested={TAG_FCP: FCP_TAGS, TAG_FCI: FCP_TAGS},
    interpret={
        TAG_AID: aid_text,
        TAG_LABEL: printable,
    },
    nested_interpret={TAG_FCP: FCP_INTERPRET, TAG_FCI: FCP_INTERPRET},
)


# -- shared building blocks (PIV and GIDS use them too) -----------------------------------


def pin_masks(label: Callable[[CommandApdu], str]) -> Callable[[CommandApdu, bytes], Masks]:
    """The whole command data is a secret (PIN, PUK, old and new values)."""

    def mask(apdu: CommandApdu, response: bytes) -> Masks:
        return Masks(command=whole(apdu.data, label(apdu)))

    return mask


def reference(p2: int) -> str:
    if p2 == 0x00:
        return "no reference"
    scope = "specific" if p2 & 0x80 else "global"
    return f"{p2:02X} ({scope} reference data {p2 & 0x1F})"


def select_params(apdu: CommandApdu) -> Params:
    return [
        ("P1", f"{apdu.p1:02X} select {SELECT_P1.get(apdu.p1, 'RFU')}"),
        ("P2", f"{apdu.p2:02X} answer {SELECT_ANSWER.get(apdu.p2 & 0x0C, '?')}"),
    ]


def select_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    if apdu.p1 == 0x04:
        decoder = app_for_aid(apdu.data)
        name = f"{decoder.label} " if decoder else ""
        return f"{name}AID {hexs(apdu.data)}"
    if apdu.p1 in (0x08, 0x09):
        return "path " + "/".join(hexs(apdu.data[i : i + 2]) for i in range(0, len(apdu.data), 2))
    if apdu.data:
        return f"FID {hexs(apdu.data)}"
    return SELECT_P1.get(apdu.p1, "")


def verify_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    ref = f"reference {apdu.p2:02X}"
    if apdu.p1 == 0xFF:
        return f"{ref}: reset security status"
    if not apdu.data:
        return f"{ref}: status query"
    return f"{ref}: {len(apdu.data)}-byte value"


def binary_params(apdu: CommandApdu) -> Params:
    if apdu.p1 & 0x80:
        return [("P1-P2", f"SFI {apdu.p1 & 0x1F}, offset {apdu.p2}")]
    return [("P1-P2", f"offset {(apdu.p1 << 8) | apdu.p2}")]


def binary_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    where = binary_params(apdu)[0][1]
    count = len(apdu.data) if apdu.data else len(response)
    return f"{where}, {count} bytes"


def challenge_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    return f"{len(response)} random bytes" if response else f"Le {apdu.ne}"


def channel_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    if apdu.p1 == 0x00:
        number = response[0] if response else apdu.p2
        return f"open channel {number}"
    return f"close channel {apdu.p2}"


def create_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    fcp = tlv.to_dict(tlv.parse_one(apdu.data).value)
    kind = fdb_text(fcp[TAG_FDB]) if TAG_FDB in fcp else "file"
    return f"{kind} {hexs(fcp.get(TAG_FID, b''))}".strip()


def get_response_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    return f"{len(response)} bytes"


def p1p2(apdu: CommandApdu) -> Params:
    return [("P1-P2", f"{apdu.p1:02X} {apdu.p2:02X}")]


def verify_params(apdu: CommandApdu) -> Params:
    p1 = {0x00: "verify", 0xFF: "reset security status"}.get(apdu.p1, "RFU")
    return [("P1", f"{apdu.p1:02X} {p1}"), ("P2", reference(apdu.p2))]


def ref_params(apdu: CommandApdu) -> Params:
    return [("P1", f"{apdu.p1:02X}"), ("P2", reference(apdu.p2))]


def pin_label(apdu: CommandApdu) -> str:
    return f"PIN {apdu.p2:02X}"


def change_label(apdu: CommandApdu) -> str:
    return f"PIN {apdu.p2:02X} old+new" if apdu.p1 == 0x00 else f"PIN {apdu.p2:02X} new"


def reset_label(apdu: CommandApdu) -> str:
    return f"PUK+new PIN {apdu.p2:02X}" if apdu.p1 == 0x00 else f"PUK for {apdu.p2:02X}"


PSO = {
    0x9E9A: "compute digital signature",
    0x8086: "decipher",
    0x8680: "encipher",
    0x00A2: "verify cryptographic checksum",
    0x00A8: "verify digital signature",
    0x8E80: "compute cryptographic checksum",
}


def pso_params(apdu: CommandApdu) -> Params:
    return [("P1-P2", f"{apdu.p1:02X}{apdu.p2:02X} {PSO.get(apdu.p1p2, 'unknown operation')}")]


def pso_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    return PSO.get(apdu.p1p2, "")


def pso_masks(apdu: CommandApdu, response: bytes) -> Masks:
    # A deciphered cryptogram is usually a session key.
    if apdu.p1p2 == 0x8086:
        return Masks(response=whole(response, "deciphered data"))
    return Masks()


MSE_P1 = {0x41: "set for computation/decipherment", 0x81: "set for verification"}
MSE_P1.update({0xC1: "set for verification and external authentication", 0xF3: "restore"})
CRT = {0xA4: "AT", 0xB4: "CCT", 0xB6: "DST", 0xB8: "CT", 0xAA: "HT"}


def mse_params(apdu: CommandApdu) -> Params:
    return [
        ("P1", f"{apdu.p1:02X} {MSE_P1.get(apdu.p1, '')}".strip()),
        ("P2", f"{apdu.p2:02X} {CRT.get(apdu.p2, '')} template".strip()),
    ]


def mse_summary(apdu: CommandApdu, response: bytes, sw: int) -> str:
    items = tlv.to_dict(apdu.data)
    key = items.get(0x84) or items.get(0x83)
    algo = items.get(0x80)
    parts = [CRT.get(apdu.p2, f"{apdu.p2:02X}")]
    if key:
        parts.append(f"key {hexs(key)}")
    if algo:
        parts.append(f"algorithm {hexs(algo)}")
    return ", ".join(parts)


MSE_TAGS = {0x80: "algorithm reference", 0x83: "key reference", 0x84: "private key reference"}

COMMANDS: dict[int, CommandSpec] = {
    Ins.DEACTIVATE_FILE: CommandSpec("DEACTIVATE FILE", p1p2),
    Ins.ERASE_BINARY: CommandSpec("ERASE BINARY", binary_params),
    Ins.VERIFY: CommandSpec(
        "VERIFY", verify_params, verify_summary, DataKind.RAW, mask=pin_masks(pin_label)
    ),
    Ins.MANAGE_SECURITY_ENVIRONMENT: CommandSpec(
        "MANAGE SECURITY ENVIRONMENT", mse_params, mse_summary, tags=MSE_TAGS
    ),
    Ins.CHANGE_REFERENCE_DATA: CommandSpec(
        "CHANGE REFERENCE DATA", ref_params, data=DataKind.RAW, mask=pin_masks(change_label)
    ),
    Ins.PERFORM_SECURITY_OPERATION: CommandSpec(
        "PERFORM SECURITY OPERATION",
        pso_params,
        pso_summary,
        DataKind.RAW,
        DataKind.RAW,
        mask=pso_masks,
        varying=Varying.CRYPTO,
    ),
    Ins.RESET_RETRY_COUNTER: CommandSpec(
        "RESET RETRY COUNTER", ref_params, data=DataKind.RAW, mask=pin_masks(reset_label)
    ),
    Ins.ACTIVATE_FILE: CommandSpec("ACTIVATE FILE", p1p2),
    Ins.GENERATE_ASYMMETRIC_KEY_PAIR: CommandSpec(
        "GENERATE ASYMMETRIC KEY PAIR", p1p2, varying=Varying.CRYPTO
    ),
    Ins.GENERATE_ASYMMETRIC_KEY_PAIR_47: CommandSpec(
        "GENERATE ASYMMETRIC KEY PAIR", p1p2, varying=Varying.CRYPTO
    ),
    Ins.MANAGE_CHANNEL: CommandSpec("MANAGE CHANNEL", p1p2, channel_summary),
    Ins.EXTERNAL_AUTHENTICATE: CommandSpec(
        "EXTERNAL AUTHENTICATE", ref_params, data=DataKind.RAW, varying=Varying.RANDOM
    ),
    Ins.GET_CHALLENGE: CommandSpec(
        "GET CHALLENGE", p1p2, challenge_summary, DataKind.RAW, DataKind.RAW, varying=Varying.RANDOM
    ),
    Ins.GENERAL_AUTHENTICATE: CommandSpec(
        "GENERAL AUTHENTICATE", ref_params, varying=Varying.RANDOM
    ),
    Ins.INTERNAL_AUTHENTICATE: CommandSpec(
        "INTERNAL AUTHENTICATE",
        ref_params,
        data=DataKind.RAW,
        response=DataKind.RAW,
        varying=Varying.CRYPTO,
    ),
    Ins.SELECT: CommandSpec("SELECT", select_params, select_summary, DataKind.RAW),
    Ins.READ_BINARY: CommandSpec(
        "READ BINARY", binary_params, binary_summary, response=DataKind.TEXT
    ),
    Ins.READ_RECORD: CommandSpec("READ RECORD", p1p2, response=DataKind.TEXT),
    Ins.GET_RESPONSE: CommandSpec(
        "GET RESPONSE", p1p2, get_response_summary, DataKind.RAW, DataKind.RAW
    ),
    Ins.GET_DATA: CommandSpec("GET DATA", p1p2),
    Ins.GET_DATA_ODD: CommandSpec("GET DATA", p1p2),
    Ins.UPDATE_BINARY: CommandSpec("UPDATE BINARY", binary_params, binary_summary, DataKind.TEXT),
    Ins.PUT_DATA: CommandSpec("PUT DATA", p1p2),
    Ins.PUT_DATA_ODD: CommandSpec("PUT DATA", p1p2),
    Ins.CREATE_FILE: CommandSpec("CREATE FILE", p1p2, create_summary),
    Ins.DELETE_FILE: CommandSpec("DELETE FILE", p1p2, select_summary, DataKind.RAW),
    Ins.TERMINATE_DF: CommandSpec("TERMINATE DF", p1p2),
}

DECODER = register(AppDecoder(ISO_NAME, "ISO", (), dict(COMMANDS), TAGS))
