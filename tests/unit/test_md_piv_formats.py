"""The PIV card module's formats: Yubico's container map and msroots, container names, pivman."""

from __future__ import annotations

import gzip

import pytest

from driver.cardmodules.piv import admin_response
from driver.cardmodules.piv.cmap import (
    MapRecord,
    build_mscmap,
    join_msroots,
    parse_mscmap,
    split_msroots,
)
from driver.cardmodules.piv.filesystem import build_cmapfile, cert_file
from driver.cardmodules.piv.objects import (
    certificate_der,
    certificate_from_file,
    certificate_value,
    chuid_guid,
    container_name,
    parse_admin_data,
    protected_data_with_key,
    protected_management_key,
)
from driver.structures import parse_cmapfile
from wire import tlv
from wire.piv import ObjectId

# A YubiKey's CHUID and the container name Windows derives from it for 9A (sspi-rs's test).
YUBIKEY_CHUID = bytes(
    [
        48, 25, 212, 231, 57, 218, 115, 156, 237, 57, 206, 115, 157, 131, 104, 88, 33, 8, 66,
        16, 132, 33, 200, 66, 16, 195, 235, 52, 16, 88, 198, 138, 29, 101, 224, 160, 146, 133,
        175, 9, 11, 7, 11, 93, 121, 53, 8, 50, 48, 51, 48, 48, 49, 48, 49, 62, 0, 254, 0,
    ]
)  # fmt: skip


def test_container_name_is_the_inbox_minidrivers() -> None:
    guid = chuid_guid(YUBIKEY_CHUID)
    assert guid is not None
    assert container_name(guid, ObjectId.X509_PIV_AUTHENTICATION) == (
        "1d8ac658-e065-92a0-85af-090b075fc105"
    )
    assert container_name(guid, ObjectId.X509_DIGITAL_SIGNATURE).endswith("075fc10a")


def test_chuid_without_guid_gives_none() -> None:
    assert chuid_guid(tlv.encode(0x30, bytes(25))) is None
    assert chuid_guid(tlv.encode(0x34, bytes(16))) is None  # all zero: no identity


def test_map_record_is_ykpiv_container_layout() -> None:
    record = MapRecord("{abc}", 0x9A, 1, 2048, 3, 1, 0xFF, bytes(range(20)))
    raw = record.to_bytes()
    assert len(raw) == 107
    assert raw[:10] == "{abc}".encode("utf-16-le")
    assert raw[80:] == bytes((0x9A, 1, 0x00, 0x08, 3, 1, 0xFF)) + bytes(range(20))
    value = build_mscmap([record, MapRecord("x", 0x9C)])
    assert value is not None and value[:3] == b"\x81\x81\xd6"  # 81, 214 bytes
    assert parse_mscmap(value) == [record, MapRecord("x", 0x9C)]
    assert build_mscmap([]) is None
    assert parse_mscmap(b"\x99\x00") == []


def test_msroots_spans_objects_like_yubico_piv_tool() -> None:
    small = split_msroots(b"abc")
    assert small == [b"\x82\x03abc"]
    big = bytes(range(256)) * 20  # 5120 bytes: two objects
    parts = split_msroots(big)
    assert [p[0] for p in parts] == [0x83, 0x82]
    assert join_msroots([*parts, None, None, None]) == big
    assert join_msroots([None]) is None
    assert join_msroots([b"\x83\x01a", None]) is None  # no end part: no file
    with pytest.raises(ValueError):
        split_msroots(bytes(3059 * 5 + 1))


def test_certificate_objects_plain_and_compressed() -> None:
    der = b"\x30\x82\x00\x03abc"
    assert certificate_value(der) == tlv.encode(0x70, der) + b"\x71\x01\x00\xfe\x00"
    assert certificate_der(certificate_value(der)) == der
    gz = tlv.encode(0x70, gzip.compress(der)) + b"\x71\x01\x01\xfe\x00"
    assert certificate_der(gz) == der
    import zlib

    md = b"\x01\x00" + len(der).to_bytes(2, "little") + zlib.compress(der)
    assert certificate_from_file(md) == der
    assert certificate_from_file(der) == der


def test_pivman_protected_management_key() -> None:
    assert parse_admin_data(bytes.fromhex("8003810102")).protected
    assert not parse_admin_data(bytes.fromhex("8003810100")).protected
    assert not parse_admin_data(b"junk").protected
    key = bytes(range(24))
    data = protected_data_with_key(bytes.fromhex("880381 0101".replace(" ", "")), key)
    assert protected_management_key(data) == key
    assert tlv.find(tlv.parse_one(data, 0x88).value, 0x81) == b"\x01"  # other members kept


def test_cert_file_names() -> None:
    assert cert_file("kxc00") == ("kxc", 0)
    assert cert_file("ksc17") == ("ksc", 0x17)
    assert cert_file("kxc18") is None  # 24 containers: 00-17
    assert cert_file("cmapfile") is None


def test_cmapfile_leaves_trailing_empty_records_out() -> None:
    raw = build_cmapfile([MapRecord("a", 0x9A, 1, 2048), None, MapRecord("b", 0x9D, 2, 1024), None])
    records = parse_cmapfile(raw)
    assert len(records) == 3
    assert records[0].key_exchange_key_size_bits == 2048 and records[2].sig_key_size_bits == 1024
    assert not records[1].valid


def test_admin_response_3des_and_aes() -> None:
    key = bytes.fromhex("010203040506070801020304050607080102030405060708")
    assert len(admin_response(key, bytes(8))) == 8
    assert len(admin_response(bytes(16), bytes(16), 0x08)) == 16
    with pytest.raises(ValueError):
        admin_response(bytes(16), bytes(8))  # 3DES takes 24 bytes
