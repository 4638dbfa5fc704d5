"""The GIDS card module's byte formats against gids.md (no card needed)."""

from __future__ import annotations

from driver.cardmodules.gids import admin_response, key_check_value
from driver.cardmodules.gids.module import GidsCardModule
from driver.cardmodules.gids.tables import (
    KeymapRecord,
    MasterFileRecord,
    build_keymap,
    build_masterfile,
    parse_keymap,
    parse_masterfile,
)
from driver.transport import Transport
from wire.gids import Mechanism as Algorithm
from wire.minidriver import keyspecs as ks

# gids.md 2.4: the complete default masterfile value (141 bytes).
DEFAULT_MASTERFILE = bytes.fromhex(
    "01 6D 73 63 70 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 A0 00 00 00 00 00 00 00 00 00 00 00 63 61"
    "72 64 69 64 00 00 00 00 00 20 DF 00 00 12 A0 00 00 00 00 00"
    "00 00 00 00 00 00 63 61 72 64 61 70 70 73 00 00 00 21 DF 00"
    "00 10 A0 00 00 00 00 00 00 00 00 00 00 00 63 61 72 64 63 66"
    "00 00 00 00 00 22 DF 00 00 10 A0 00 00 6D 73 63 70 00 00 00"
    "00 00 63 6D 61 70 66 69 6C 65 00 00 00 23 DF 00 00 10 A0 00"
    "00"
)


def test_default_masterfile_parses_and_rebuilds_byte_exact() -> None:
    records = parse_masterfile(DEFAULT_MASTERFILE)
    assert len(DEFAULT_MASTERFILE) == 141
    assert records == [
        MasterFileRecord("mscp", "", 0, 0xA000),
        MasterFileRecord("", "cardid", 0xDF20, 0xA012),
        MasterFileRecord("", "cardapps", 0xDF21, 0xA010),
        MasterFileRecord("", "cardcf", 0xDF22, 0xA010),
        MasterFileRecord("mscp", "cmapfile", 0xDF23, 0xA010),
    ]
    assert records[0].is_directory and not records[1].is_directory
    assert build_masterfile(records) == DEFAULT_MASTERFILE


def test_certificate_record_matches_the_spec() -> None:
    rec = MasterFileRecord("mscp", "kxc00", 0xDF24, 0xA010)
    assert rec.to_bytes() == bytes.fromhex(
        "6D 73 63 70 00 00 00 00 00 6B 78 63 30 30 00 00 00 00 00 00 24 DF 00 00 10 A0 00 00"
    )


def test_keymap_records() -> None:
    # gids.md 2.5: one RSA-2048 key-exchange key in B081.
    raw = bytes.fromhex("01 01 00 00 00 07 9A 81 B0 FF FF 00 00")
    records = parse_keymap(raw)
    assert records == [KeymapRecord(1, 7, 0x9A, 0xB081, 0xFFFF, 0)]
    assert build_keymap(records) == raw
    assert KeymapRecord().to_bytes() == bytes.fromhex("00 00 00 00 00 00 FF FF FF FF 00 00")


class _NoCard:
    def transmit(self, command: list[int], protocol: object = None) -> tuple[list[int], int, int]:
        raise AssertionError("no APDU expected")

    def disconnect(self) -> None:
        return None


def test_key_file_fcp_is_the_windows_one() -> None:
    # gids.md 4.2 / 6.7: CREATE FILE data for an RSA-2048 key-exchange key in B081.
    module = GidsCardModule(Transport(_NoCard()))
    fcp = module._fcp(0x81, ks.AT_KEYEXCHANGE, Algorithm.RSA_2048)
    assert fcp == bytes.fromhex(
        "62 47 82 01 18 83 02 B0 81 8C 05 8F 10 10 10 00 A5 37"
        "B8 09 80 01 07 83 01 81 95 01 40 B8 09 80 01 87 83 01 81 95 01 40"
        "B8 09 80 01 47 83 01 81 95 01 40 B6 09 80 01 17 83 01 81 95 01 40"
        "B6 09 80 01 57 83 01 81 95 01 40"
    )
    signature_only = module._fcp(0x82, ks.AT_SIGNATURE, Algorithm.RSA_1024)
    assert signature_only[:2] == b"\x62\x26" and b"\xb8" not in signature_only[16:]


def test_admin_authentication_vectors() -> None:
    # minidriver.md 6.2 and gids.md 3.3
    key = bytes(range(1, 9)) * 3
    assert admin_response(key, bytes.fromhex("A892D75601617C5D")) == bytes.fromhex(
        "B0A1674747F4EB87"
    )
    assert admin_response(bytes(24), bytes.fromhex("A892D75601617C5D")) == bytes.fromhex(
        "1951EC3EF81BBABB"
    )
    assert admin_response(key, bytes(range(1, 9))) == bytes.fromhex("77A7D6BCF57962B9")
    assert key_check_value(key) == bytes.fromhex("B073DC")
