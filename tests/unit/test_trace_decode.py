"""The decoder library on byte strings from the specs (gids.md, piv.md) and ISO 7816-4."""

from __future__ import annotations

from emulator.trace import Decoded, TlvNode, decode, describe_sw, masks_for, tlv_tree
from emulator.trace.apps import iso as iso_tables
from wire.apdu import CommandApdu


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def run(app: str, command: str, response: str = "9000") -> Decoded:
    apdu = CommandApdu.parse(h(command))
    raw = h(response)
    masks = masks_for(app, apdu, raw[:-2])
    return decode(app, apdu, raw[:-2], int.from_bytes(raw[-2:], "big"), masks)


def node(nodes: object, *path: int) -> TlvNode:
    """The node reached by a tag path in a decoded TLV view."""
    assert isinstance(nodes, list)
    current: list[TlvNode] = nodes
    found: TlvNode | None = None
    for tag in path:
        found = next(n for n in current if n.tag == tag)
        current = found.children
    assert found is not None
    return found


# -- status words -------------------------------------------------------------------------


def test_status_words_say_what_they_mean() -> None:
    assert describe_sw("piv", 0x63C2) == "verification failed, 2 tries left"
    assert describe_sw("gids", 0x6A88) == "referenced data or reference data not found"
    assert describe_sw("iso", 0x610E) == "14 bytes remaining (GET RESPONSE)"
    assert describe_sw("nothing-registered", 0x6982) == "security status not satisfied"


# -- ISO ----------------------------------------------------------------------------------


def test_iso_select_by_fid_with_fcp() -> None:
    d = run(
        "iso",
        "00 A4 00 04 02 2F 01",
        "62 14 80 02 00 2C 82 01 01 83 02 2F 01 88 01 08 8A 01 05 8C 01 00 9000",
    )
    assert (d.name, d.summary) == ("SELECT", "FID 2F01")
    assert ("P1", "00 select by file identifier") in d.params
    assert ("P2", "04 answer FCP") in d.params
    fcp = node(d.response_data, 0x62)
    assert fcp.name == "FCP template"
    assert node(d.response_data, 0x62, 0x80).text == "44 bytes"
    assert node(d.response_data, 0x62, 0x82).text == "transparent EF"
    assert node(d.response_data, 0x62, 0x8A).text == "operational, activated"


def test_iso_verify_masks_the_pin_and_reports_tries() -> None:
    d = run("iso", "00 20 00 81 06 31 32 33 34 35 36", "63C2")
    assert d.name == "VERIFY"
    assert d.command_data == "************"
    assert d.status == "verification failed, 2 tries left"
    assert d.summary == "reference 81: 6-byte value"


def test_iso_read_binary_shows_text() -> None:
    d = run("iso", "00 B0 00 08 04", "74 6F 20 73 9000")
    assert d.summary == "offset 8, 4 bytes"
    assert 'response as text: "to s"' in d.notes


def test_iso_chained_cla_and_channels_are_named() -> None:
    d = run("iso", "11 D6 00 00 02 AA BB")
    assert ("CLA", "11 channel 1, command chaining, more blocks follow") in d.params


def test_unknown_ins_falls_back_to_raw() -> None:
    d = run("iso", "00 77 01 02 02 AA BB", "6D00")
    assert d.name == "INS 77"
    assert d.command_data == "AABB"
    assert d.status == "instruction code not supported or invalid"


def test_tlv_tree_is_none_for_data_that_is_not_tlv() -> None:
    assert tlv_tree(h("5F"), iso_tables.TAGS) is None
    assert tlv_tree(h("53 03 01 02"), iso_tables.TAGS) is None


# -- GIDS (gids.md) -----------------------------------------------------------------------


def test_gids_select_fci_section_1_2() -> None:
    d = run(
        "gids",
        "00 A4 04 00 09 A0 00 00 03 97 42 54 46 59 00",
        "61 12 4F 0B A0 00 00 03 97 42 54 46 59 02 01 73 03 40 01 C0 90 00",
    )
    assert d.summary == "GIDS AID A00000039742544659"
    aid = node(d.response_data, 0x61, 0x4F)
    assert (aid.name, aid.text) == ("application identifier", "GIDS application")
    assert node(d.response_data, 0x61, 0x73, 0x40).name == "supported authentication protocols"


def test_gids_ef_atr_section_1_3() -> None:
    d = run(
        "gids",
        "00 CB 2F 01 02 5C 00 00",
        "43 01 F4 47 03 08 01 80 46 0C 4D 79 53 6D 61 72 74 4C 6F 67 6F 6E 90 00",
    )
    assert ("P1-P2", "2F01 EF.ATR") in d.params
    assert node(d.response_data, 0x47).name == "card capabilities"
    assert node(d.response_data, 0x46).text == '"MySmartLogon"'


def test_gids_pin_status_section_3_2() -> None:
    d = run("gids", "00 CB 3F FF 04 5C 02 7F 71 00", "7F 71 06 97 01 03 93 01 03 90 00")
    assert d.summary == "global PIN status (current application)"
    assert node(d.response_data, 0x7F71, 0x97).text == "3 tries left"
    assert node(d.response_data, 0x7F71, 0x93).name == "try limit"


def test_gids_masterfile_read_section_5_2() -> None:
    d = run("gids", "00 CB A0 00 04 5C 02 DF 1F 00", "DF 1F 01 01 9000")
    assert d.summary == "masterfile (EF A000 UserCreateDeleteDirAc)"
    assert node(d.response_data, 0xDF1F).name == "masterfile"


def test_gids_put_key_of_the_admin_key_is_masked_section_3_3() -> None:
    key = "01 02 03 04 05 06 07 08" * 3
    d = run("gids", f"00 DB 3F FF 26 70 24 84 01 80 A5 1F 87 18 {key} 88 03 B0 73 DC")
    assert d.summary == "PUT KEY: admin key"
    assert node(d.command_data, 0x70, 0x84).name == "key reference"
    value = node(d.command_data, 0x70, 0xA5, 0x87)
    assert (value.name, value.masked) == ("key value", "admin key")
    assert value.value == "**" * 24


def test_gids_mse_and_pso_section_5_3() -> None:
    d = run("gids", "00 22 41 B6 06 80 01 57 84 01 81")
    assert d.name == "MANAGE SECURITY ENVIRONMENT"
    assert d.summary == "DST, key 81, algorithm 57"
    assert node(d.command_data, 0x80).name == "algorithm reference"
    sign = run("gids", "00 2A 9E 9A 03 01 02 03 00", "AA BB 9000")
    assert sign.summary == "compute digital signature"


def test_gids_key_generation_and_public_key_section_4_3() -> None:
    d = run("gids", "00 47 00 00 08 AC 06 80 01 07 83 01 81", "6100")
    assert d.summary == "key 81, RSA-2048"
    assert node(d.command_data, 0xAC, 0x80).text == "RSA-2048"
    pub = run(
        "gids",
        "00 CB 3F FF 0A 70 08 84 01 81 A5 03 7F 49 80 00",
        "7F 49 0A 81 03 01 02 03 82 03 01 00 01 9000",
    )
    assert pub.summary == "public key of key 81"
    assert node(pub.response_data, 0x7F49, 0x82).name == "public exponent"


def test_gids_mutual_authentication_is_masked_section_3_3() -> None:
    r1 = "10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F"
    r2 = "A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 AA AB AC AD AE AF"
    d = run("gids", f"00 87 00 00 14 7C 12 81 10 {r1} 00", f"7C 12 81 10 {r2} 90 00")
    assert d.summary == "admin key: mutual auth"
    assert node(d.command_data, 0x7C, 0x81).masked == "admin key auth"
    assert node(d.response_data, 0x7C, 0x81).value == "**" * 16


def test_gids_create_file_section_2_2() -> None:
    d = run("gids", "00 E0 00 00 0E 62 0C 82 01 39 83 02 A0 00 8C 03 03 30 00")
    assert d.summary == "BER-TLV EF A000"
    assert node(d.command_data, 0x62, 0x8C).name == "security attributes (compact)"


def test_gids_pins_are_masked() -> None:
    assert run("gids", "00 24 01 80 06 31 32 33 34 35 36").command_data == "**" * 6
    assert run("gids", "00 2C 02 80 06 31 32 33 34 35 36").command_data == "**" * 6
    assert run("gids", "00 20 00 82").summary == "log out (PIN and admin)"


# -- PIV (piv.md) -------------------------------------------------------------------------


def test_piv_select_yubikey_answer_section_1_2() -> None:
    d = run(
        "piv",
        "00 A4 04 00 05 A0 00 00 03 08",
        "61 11 4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08 9000",
    )
    assert d.summary == "PIV AID A000000308"
    assert node(d.response_data, 0x61).name == "application property template"
    assert node(d.response_data, 0x61, 0x79, 0x4F).text == "PIV application"


def test_piv_get_data_chuid_section_2_3() -> None:
    d = run(
        "piv",
        "00 CB 3F FF 05 5C 03 5F C1 02 00",
        "53 1E 34 10 00112233445566778899AABBCCDDEEFF 35 08 3230333030313031 FE 00 9000",
    )
    assert d.summary == "CHUID (5FC102)"
    assert node(d.command_data, 0x5C).text == "CHUID"
    assert node(d.response_data, 0x53, 0x34).name == "GUID"
    assert node(d.response_data, 0x53, 0x35).name == "expiration date"


def test_piv_certificate_object_members() -> None:
    d = run(
        "piv",
        "00 CB 3F FF 05 5C 03 5F C1 05",
        "53 0A 70 03 30 01 00 71 01 00 FE 00 9000",
    )
    assert d.summary == "X.509 PIV authentication (5FC105)"
    names = [n.name for n in node(d.response_data, 0x53).children]
    assert names == ["certificate", "CertInfo", "error detection code"]


def test_piv_management_key_witness_is_masked_section_3_7() -> None:
    d = run("piv", "00 87 03 9B 04 7C 02 80 00", "7C 0A 80 08 01 02 03 04 05 06 07 08 9000")
    assert d.summary == "management key (TDES): witness request"
    witness = node(d.response_data, 0x7C, 0x80)
    assert (witness.name, witness.value, witness.masked) == (
        "witness",
        "**" * 8,
        "management key auth",
    )
    step2 = run(
        "piv",
        "00 87 03 9B 16 7C 14 80 08 0102030405060708 81 08 1122334455667788",
        "7C 0A 82 08 AABBCCDDEEFF0011 9000",
    )
    assert step2.summary == "management key (TDES): witness and challenge"
    assert node(step2.command_data, 0x7C, 0x81).value == "**" * 8
    assert node(step2.response_data, 0x7C, 0x82).value == "**" * 8


def test_piv_signature_is_decoded_not_masked() -> None:
    d = run("piv", "00 87 11 9A 26 7C 24 82 00 81 20" + "AB" * 32, "7C 04 82 02 30 00 9000")
    assert d.summary == "PIV authentication (ECC-P256): sign"
    assert ("P1", "11 ECC-P256") in d.params
    assert node(d.command_data, 0x7C, 0x81).name == "challenge"
    assert node(d.response_data, 0x7C, 0x82).value == "3000"


def test_piv_ecdh_shared_secret_is_masked() -> None:
    point = "04" + "11" * 64
    d = run("piv", f"00 87 11 9D 47 7C 45 82 00 85 41 {point}", "7C 22 82 20" + "5A" * 32 + "9000")
    assert d.summary == "key management (ECC-P256): key agreement"
    assert node(d.response_data, 0x7C, 0x82).masked == "shared secret"


def test_piv_generate_section_3_8() -> None:
    d = run(
        "piv",
        "00 47 00 9A 0B AC 09 80 01 11 AA 01 02 AB 01 01",
        "7F 49 05 86 03 04 AA BB 9000",
    )
    assert d.summary == "PIV authentication, ECC-P256"
    assert node(d.command_data, 0xAC, 0x80).text == "ECC-P256"
    assert node(d.command_data, 0xAC, 0xAA).text == "once"
    assert node(d.response_data, 0x7F49, 0x86).name == "public point"


def test_piv_yubico_extensions_section_5() -> None:
    assert run("piv", "00 FD 00 00", "05 07 01 9000").summary == "5.7.1"
    assert run("piv", "00 F8 00 00", "00 BC 61 4E 9000").summary == "12345678"
    meta = run("piv", "00 F7 00 80", "01 01 FF 05 01 01 06 02 03 03 9000")
    assert meta.summary == "PIV PIN"
    assert node(meta.response_data, 0x06).name == "retries (total, left)"
    assert run("piv", "00 FA 09 07").params[-1] == ("P1-P2", "PIN 9 tries, PUK 7 tries")
    assert run("piv", "00 F6 FF 9A").params[-1] == ("P1-P2", "delete key 9A (PIV authentication)")
    assert run("piv", "00 FB 00 00").name == "RESET"


def test_piv_set_management_key_is_masked_section_5_3() -> None:
    key = "0102030405060708" * 3
    d = run("piv", f"00 FF FF FF 1B 03 9B 18 {key}")
    assert d.summary == "TDES, 24-byte key"
    assert d.command_data == "039B18" + "**" * 24


def test_piv_import_key_is_masked_section_5_4() -> None:
    d = run("piv", "00 FE 11 9A 25 06 20" + "42" * 32 + " AA 01 01")
    assert d.summary == "PIV authentication, ECC-P256"
    scalar = node(d.command_data, 0x06)
    assert (scalar.name, scalar.masked, scalar.value) == (
        "EC private scalar",
        "private key",
        "**" * 32,
    )
    assert node(d.command_data, 0xAA).text == "never"


def test_piv_protected_management_key_is_masked_section_5_10() -> None:
    key = "A1" * 24
    d = run("piv", f"00 DB 3F FF 23 5C 03 5F C1 09 53 1C 88 1A 89 18 {key}")
    stored = node(d.command_data, 0x53, 0x88, 0x89)
    assert (stored.name, stored.masked) == ("management key", "management key")
    read = run("piv", "00 CB 3F FF 05 5C 03 5F C1 09", f"53 1C 88 1A 89 18 {key} 9000")
    assert node(read.response_data, 0x53, 0x88, 0x89).value == "**" * 24


def test_piv_pin_commands_are_masked_section_3_4() -> None:
    pin = "31 32 33 34 35 36 FF FF"
    verify = run("piv", f"00 20 00 80 08 {pin}", "63C1")
    assert (verify.summary, verify.command_data) == ("PIV PIN", "**" * 8)
    assert verify.status == "verification failed, 1 tries left"
    change = run("piv", f"00 24 00 81 10 {pin} {pin}")
    assert change.command_data == "**" * 16
    assert run("piv", f"00 2C 00 80 10 {pin} {pin}").command_data == "**" * 16
    assert run("piv", "00 20 FF 80").summary == "PIV PIN: log out"


def test_decoded_json_round_trip() -> None:
    d = run("piv", "00 CB 3F FF 05 5C 03 5F C1 02 00", "53 04 34 02 01 02 9000")
    assert Decoded.from_json(d.to_json()) == d
