"""Byte-exact layouts of the cardmod.h structures (minidriver.md section 3)."""

from __future__ import annotations

import pytest

from driver import errors
from driver.layout import Arch, offsetof, sizeof
from driver.structures import (
    BCRYPT_OAEP_PADDING_INFO,
    BCRYPT_PSS_PADDING_INFO,
    CARD_AUTHENTICATE,
    CARD_AUTHENTICATE_RESPONSE,
    CARD_CACHE_FILE_FORMAT,
    CARD_CAPABILITIES,
    CARD_CHANGE_AUTHENTICATOR,
    CARD_CHANGE_AUTHENTICATOR_RESPONSE,
    CARD_DATA_FIELDS,
    CARD_DERIVE_KEY,
    CARD_DH_AGREEMENT_INFO,
    CARD_ENCRYPTED_DATA,
    CARD_FILE_INFO,
    CARD_FREE_SPACE_INFO,
    CARD_IMPORT_KEYPAIR,
    CARD_KEY_SIZES,
    CARD_RSA_DECRYPT_INFO,
    CARD_SIGNING_INFO,
    CONTAINER_INFO,
    CONTAINER_MAP_RECORD,
    PIN_CACHE_POLICY,
    PIN_INFO,
    Memory,
    NCryptBuffer,
    NCryptBufferDesc,
    build_cardapps,
    multistring,
    parse_cardapps,
    parse_cmapfile,
    parse_multistring,
)
from wire.minidriver import Status
from wire.minidriver import containers as cm

X86, X64 = Arch.X86, Arch.X64

# The cmapfile record Windows writes in gids.md 6.7 (GUID name, valid|default, 2048-bit kx key).
GIDS_TRACE_RECORD = bytes.fromhex(
    "3200350037006600300033003600320"
    "02d00320065006500370"
    "02d00340034006600350"
    "02d00390038003800350"
    "02d00330036006600610034003900300066003300300063003100"
    "0000000000000000"
    "030000000008"
)


def test_container_map_record_is_86_bytes_and_matches_the_windows_trace() -> None:
    record = CONTAINER_MAP_RECORD("257f0362-2ee7-44f5-9885-36fa490f30c1", 0x03, 0, 0, 2048)
    raw = record.to_bytes()
    assert len(raw) == CONTAINER_MAP_RECORD.SIZE == 86
    assert raw == GIDS_TRACE_RECORD
    back = CONTAINER_MAP_RECORD.from_bytes(raw)
    assert back == record and back.valid and back.default


def test_container_map_record_refuses_long_or_backslashed_names() -> None:
    with pytest.raises(ValueError):
        CONTAINER_MAP_RECORD("x" * 40).to_bytes()
    with pytest.raises(ValueError):
        CONTAINER_MAP_RECORD("a\\b").to_bytes()
    assert len(CONTAINER_MAP_RECORD("x" * 39).to_bytes()) == 86


def test_cmapfile_is_a_plain_concatenation() -> None:
    records = [
        CONTAINER_MAP_RECORD("a", 1, 0, 0, 1024),
        CONTAINER_MAP_RECORD(),
        CONTAINER_MAP_RECORD("b", 3),
    ]
    raw = b"".join(r.to_bytes() for r in records)
    assert len(raw) == 3 * 86
    assert parse_cmapfile(raw) == records
    assert parse_cmapfile(b"") == []


def test_cardcf_is_six_bytes_little_endian_and_counters_wrap() -> None:
    cf = CARD_CACHE_FILE_FORMAT(0, 0xFF, 0xFFFF, 0x0102)
    assert cf.to_bytes() == bytes.fromhex("00 FF FFFF 0201")
    bumped = cf.bumped(pins=True, containers=True, files=True)
    assert (bumped.pins_freshness, bumped.containers_freshness, bumped.files_freshness) == (
        0,
        0,
        0x0103,
    )
    # Extra per-application counters are kept verbatim.
    raw = bytes.fromhex("01 00 0B00 1B00 11223344")
    parsed = CARD_CACHE_FILE_FORMAT.from_bytes(raw)
    assert (parsed.containers_freshness, parsed.files_freshness, parsed.extra) == (
        11,
        27,
        bytes.fromhex("11223344"),
    )
    assert parsed.to_bytes() == raw


def test_cardapps_records_are_eight_bytes() -> None:
    assert build_cardapps(["mscp"]) == b"mscp\0\0\0\0"
    assert parse_cardapps(b"mscp\0\0\0\0abc\0\0\0\0\0") == ["mscp", "abc"]


@pytest.mark.parametrize(
    ("cls", "size"),
    [
        (CARD_CAPABILITIES, 12),
        (CARD_FILE_INFO, 12),
        (CARD_FREE_SPACE_INFO, 16),
        (CARD_KEY_SIZES, 20),
        (PIN_CACHE_POLICY, 12),
        (PIN_INFO, 36),
    ],
)
def test_dword_structures_have_the_same_size_on_both_abis(cls: type, size: int) -> None:
    assert cls.size(X86) == cls.size(X64) == size  # type: ignore[attr-defined]


def test_flat_structures_serialise_field_by_field() -> None:
    assert CARD_CAPABILITIES(1, False, True).to_bytes() == bytes.fromhex(
        "01000000 00000000 01000000"
    )
    assert CARD_KEY_SIZES(1, 1024, 2048, 4096, 1024).to_bytes() == bytes.fromhex(
        "01000000 00040000 00080000 00100000 00040000"
    )
    free = CARD_FREE_SPACE_INFO()
    assert free.to_bytes() == bytes.fromhex("01000000") + b"\xff" * 12
    assert CARD_FILE_INFO.from_bytes(bytes.fromhex("01000000 10000000 03000000")) == CARD_FILE_INFO(
        1, 16, 3
    )


def test_pin_info_layout() -> None:
    info = PIN_INFO(6, 2, 4, 0x04, 0x00, PIN_CACHE_POLICY(6, 1, 30), 1)
    raw = info.to_bytes()
    assert raw == bytes.fromhex(
        "06000000 02000000 04000000 04000000 00000000 06000000 01000000 1E000000 01000000"
    )
    assert PIN_INFO.from_bytes(raw) == info


@pytest.mark.parametrize(
    ("cls", "x86", "x64"),
    [
        (CONTAINER_INFO, 24, 40),
        (CARD_DH_AGREEMENT_INFO, 32, 40),
        (BCRYPT_PSS_PADDING_INFO, 8, 16),
        (BCRYPT_OAEP_PADDING_INFO, 12, 24),
        (CARD_ENCRYPTED_DATA, 8, 16),
    ],
)
def test_pointer_structure_sizes(cls: type, x86: int, x64: int) -> None:
    assert sizeof(cls.FIELDS, X86) == x86  # type: ignore[attr-defined]
    assert sizeof(cls.FIELDS, X64) == x64  # type: ignore[attr-defined]


def test_versioned_structure_sizes() -> None:
    assert (CARD_SIGNING_INFO.size(X86, 2), CARD_SIGNING_INFO.size(X64, 2)) == (44, 72)
    assert (CARD_SIGNING_INFO.size(X86, 1), CARD_SIGNING_INFO.size(X64, 1)) == (36, 56)
    assert (CARD_RSA_DECRYPT_INFO.size(X86, 2), CARD_RSA_DECRYPT_INFO.size(X64, 2)) == (28, 48)
    assert (CARD_RSA_DECRYPT_INFO.size(X86, 1), CARD_RSA_DECRYPT_INFO.size(X64, 1)) == (20, 32)
    assert (CARD_DERIVE_KEY.size(X86, 2), CARD_DERIVE_KEY.size(X64, 2)) == (40, 72)
    assert (CARD_DERIVE_KEY.size(X86, 1), CARD_DERIVE_KEY.size(X64, 1)) == (28, 48)
    assert sizeof(NCryptBufferDesc.FIELDS, X64) == 16 and sizeof(NCryptBuffer.FIELDS, X86) == 12


def test_offsets_follow_the_spec_tables() -> None:
    fields = CARD_SIGNING_INFO.FIELDS
    assert [offsetof(fields, n, X64) for n, _ in fields] == [
        0,
        4,
        8,
        12,
        16,
        24,
        32,
        40,
        48,
        56,
        64,
    ]
    assert [offsetof(fields, n, X86) for n, _ in fields] == [
        0,
        4,
        8,
        12,
        16,
        20,
        24,
        28,
        32,
        36,
        40,
    ]
    assert [offsetof(CARD_DERIVE_KEY.FIELDS, n, X64) for n, _ in CARD_DERIVE_KEY.FIELDS] == [
        0,
        4,
        8,
        16,
        24,
        32,
        40,
        48,
        56,
        64,
    ]
    assert offsetof(CARD_DH_AGREEMENT_INFO.FIELDS, "bSecretAgreementIndex", X64) == 36
    assert offsetof(CONTAINER_INFO.FIELDS, "pbKeyExPublicKey", X86) == 20


def test_card_data_function_table() -> None:
    assert sizeof(CARD_DATA_FIELDS, X86) == 252
    assert sizeof(CARD_DATA_FIELDS, X64) == 504
    assert offsetof(CARD_DATA_FIELDS, "pfnCardDeleteContext", X64) == 120
    assert offsetof(CARD_DATA_FIELDS, "pfnCspGetDHAgreement", X86) == 172
    assert offsetof(CARD_DATA_FIELDS, "pfnCardCreateContainerEx", X64) == 496


def test_signing_info_round_trips_through_memory_on_both_abis() -> None:
    for arch in (X86, X64):
        mem = Memory()
        info = CARD_SIGNING_INFO(
            2, 3, 1, 0x40000000, 0, b"h" * 32, None, BCRYPT_PSS_PADDING_INFO("SHA256", 32), 4
        )
        raw = info.to_bytes(arch, mem)
        assert len(raw) == CARD_SIGNING_INFO.size(arch)
        back = CARD_SIGNING_INFO.from_bytes(raw, arch, mem, BCRYPT_PSS_PADDING_INFO)
        assert back == info
        v1 = CARD_SIGNING_INFO(1, 0, 2, 0, 0x800C, b"x" * 32)
        assert CARD_SIGNING_INFO.from_bytes(v1.to_bytes(arch, mem), arch, mem) == v1


def test_null_pointers_are_zero() -> None:
    raw = CONTAINER_INFO(1, 0, None, b"key").to_bytes(X64, Memory())
    assert raw[16:24] == b"\0" * 8 and raw[8:12] == b"\0" * 4
    assert int.from_bytes(raw[24:28], "little") == 3 and raw[32:40] != b"\0" * 8


def test_derive_key_and_buffer_list_round_trip() -> None:
    mem = Memory()
    params = NCryptBufferDesc([NCryptBuffer.wide(0, "SHA256"), NCryptBuffer(1, b"pre")])
    info = CARD_DERIVE_KEY(2, 0, "HASH", 5, params, None, "AES", 128, 0)
    back = CARD_DERIVE_KEY.from_bytes(info.to_bytes(X64, mem), X64, mem)
    assert back == info
    v1 = CARD_DERIVE_KEY(1, 0, "TLS_PRF", 1, None)
    assert CARD_DERIVE_KEY.from_bytes(v1.to_bytes(X86, mem), X86, mem) == v1


def test_decrypt_and_agreement_round_trip() -> None:
    mem = Memory()
    info = CARD_RSA_DECRYPT_INFO(
        2, 1, 1, b"c" * 256, BCRYPT_OAEP_PADDING_INFO("SHA256", b"label"), 8
    )
    assert CARD_RSA_DECRYPT_INFO.from_bytes(info.to_bytes(X86, mem), X86, mem) == info
    agreement = CARD_DH_AGREEMENT_INFO(2, 4, 0, b"pub", None, 7)
    raw = agreement.to_bytes(X64, mem)
    assert raw[36] == 7 and CARD_DH_AGREEMENT_INFO.from_bytes(raw, X64, mem) == agreement


def test_secure_key_injection_structures() -> None:
    kp = CARD_IMPORT_KEYPAIR(7, 2, 1, 1, 2048, b"blob")
    raw = kp.to_bytes()
    assert raw[:24] == bytes.fromhex("07000000 02000000 01000000 01000000 00080000 04000000")
    assert raw[24:] == b"blob" and CARD_IMPORT_KEYPAIR.from_bytes(raw) == kp
    ca = CARD_CHANGE_AUTHENTICATOR(7, 2, 1, b"1234", 1, b"56789", 0)
    assert (
        len(ca.to_bytes()) == 28 + 9 and CARD_CHANGE_AUTHENTICATOR.from_bytes(ca.to_bytes()) == ca
    )
    assert CARD_CHANGE_AUTHENTICATOR_RESPONSE(7, 3).to_bytes() == bytes.fromhex("07000000 03000000")
    auth = CARD_AUTHENTICATE(7, 0, 1, b"pin")
    assert auth.to_bytes()[:16] == bytes.fromhex("07000000 00000000 01000000 03000000")
    resp = CARD_AUTHENTICATE_RESPONSE(7, b"sess", 2)
    assert CARD_AUTHENTICATE_RESPONSE.from_bytes(resp.to_bytes()) == resp


def test_multistrings() -> None:
    assert multistring(["cardid", "cardcf", "cardapps"]) == b"cardid\0cardcf\0cardapps\0\0"
    assert len(multistring(["cardid", "cardcf", "cardapps"])) == 24
    wide = multistring(["AES"], wide=True)
    assert wide == "AES\0\0".encode("utf-16-le") and parse_multistring(wide, wide=True) == ["AES"]


def test_one_exception_class_per_status_with_its_spec_name() -> None:
    for status in Status:
        if status == Status.SCARD_S_SUCCESS:
            continue
        cls = getattr(errors, status.name)
        assert issubclass(cls, errors.MinidriverError) and cls.hresult == status
        err = cls("x")
        assert err.name == status.name and err.hresult == status.value
    assert errors.SCARD_E_FILE_NOT_FOUND.hresult == 0x80100024
    assert errors.ERROR_REVISION_MISMATCH.hresult == 0x51A
    assert errors.error_for(0x8010006B, attempts_remaining=2).attempts_remaining == 2
    assert cm.CARD_DATA_VALUE_UNKNOWN == 0xFFFFFFFF
