"""PIV card edge in process: SELECT, data objects and their access rules, PIN/PUK,
management key authentication (the host side is written here from the spec)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from emulator import make_card
from emulator.core.card import CardOS
from wire import tlv

MGM = bytes.fromhex("010203040506070801020304050607080102030405060708")
AID = "A000000308"


def pin8(pin: str) -> str:
    return pin.encode().ljust(8, b"\xff").hex()


class Host:
    """A minimal PIV host: raw APDUs in, (data, SW) out."""

    def __init__(self, card: CardOS | None = None, seed: int | None = 7) -> None:
        self.card = card or make_card("piv", seed=seed)
        self.card.power_on()

    def tx(self, apdu: str | bytes) -> tuple[bytes, int]:
        raw = bytes.fromhex(apdu.replace(" ", "")) if isinstance(apdu, str) else apdu
        out = self.card.transmit(raw)
        data, sw = out[:-2], int.from_bytes(out[-2:], "big")
        while sw >> 8 == 0x61:  # collect a chained response as clients do
            more = self.card.transmit(bytes.fromhex("00C0000000"))
            data += more[:-2]
            sw = int.from_bytes(more[-2:], "big")
        return data, sw

    def send(self, ins: int, p1: int, p2: int, data: bytes = b"") -> tuple[bytes, int]:
        """Short APDUs with command chaining for long data, as ykman over NFC."""
        chunks = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
        for chunk in chunks[:-1]:
            _, sw = self.tx(bytes((0x10, ins, p1, p2, len(chunk))) + chunk)
            assert sw == 0x9000
        last = chunks[-1]
        head = bytes((0x00, ins, p1, p2))
        return self.tx(head + (bytes((len(last),)) + last if last else b"") + b"\x00")

    def ok(self, ins: int, p1: int, p2: int, data: bytes = b"") -> bytes:
        out, sw = self.send(ins, p1, p2, data)
        assert sw == 0x9000, f"{ins:02X} answered {sw:04X}"
        return out

    def verify(self, pin: str = "123456") -> int:
        return self.tx("00 20 00 80 08" + pin8(pin))[1]

    def authenticate(self, key: bytes = MGM, alg: int = 0x03) -> int:
        """Mutual authentication with the management key, checking the card's answer."""
        cipher_algo = TripleDES(key) if alg == 0x03 else algorithms.AES(key)
        cipher = Cipher(cipher_algo, modes.ECB())
        size = 8 if alg == 0x03 else 16
        out, sw = self.send(0x87, alg, 0x9B, bytes.fromhex("7C028000"))
        if sw != 0x9000:
            return sw
        witness = tlv.find(tlv.parse_one(out, 0x7C).value, 0x80)
        assert witness is not None and len(witness) == size
        dec = cipher.decryptor()
        plain = dec.update(witness) + dec.finalize()
        challenge = bytes(range(size))
        body = tlv.encode(0x7C, tlv.encode(0x80, plain) + tlv.encode(0x81, challenge))
        out, sw = self.send(0x87, alg, 0x9B, body)
        if sw != 0x9000:
            return sw
        enc = cipher.encryptor()
        expected = enc.update(challenge) + enc.finalize()
        assert tlv.find(tlv.parse_one(out, 0x7C).value, 0x82) == expected
        return sw

    def get_data(self, tag: int) -> tuple[bytes, int]:
        tag_bytes = tag.to_bytes((tag.bit_length() + 7) // 8, "big")
        return self.send(0xCB, 0x3F, 0xFF, tlv.encode(0x5C, tag_bytes))

    def put_data(self, tag: int, value: bytes) -> int:
        tag_bytes = tag.to_bytes((tag.bit_length() + 7) // 8, "big")
        return self.send(0xDB, 0x3F, 0xFF, tlv.encode(0x5C, tag_bytes) + tlv.encode(0x53, value))[1]


@pytest.fixture
def host() -> Host:
    return Host()


# -- SELECT -------------------------------------------------------------------------------


@pytest.mark.parametrize("aid", [AID, "A00000030800001000", "A00000030800001000 0100"])
def test_select_by_any_prefix_answers_the_property_template(host: Host, aid: str) -> None:
    data, sw = host.tx(f"00 A4 04 00 {len(bytes.fromhex(aid.replace(' ', ''))):02X} {aid} 00")
    assert sw == 0x9000
    apt = tlv.to_dict(tlv.parse_one(data, 0x61).value)
    assert apt[0x4F] == bytes.fromhex("A0000003080000100001 00".replace(" ", ""))
    assert tlv.find(apt[0x79], 0x4F) == bytes.fromhex(AID)


def test_unknown_aid_is_6a82_and_keeps_piv_and_its_security_state(host: Host) -> None:
    assert host.verify() == 0x9000
    assert host.tx("00 A4 04 00 07 A0000005272001")[1] == 0x6A82
    assert host.tx("00 20 00 80")[1] == 0x9000  # still verified, PIV still selected


def test_piv_is_selected_at_power_on(host: Host) -> None:
    data, sw = host.tx("00 CB 3F FF 03 5C 01 7E 00")
    assert sw == 0x9000 and data[:1] == b"\x7e"


def test_atr_t0_high_nibble_is_not_f(host: Host) -> None:
    assert host.card.atr[1] >> 4 != 0xF


# -- data objects -------------------------------------------------------------------------


def test_discovery_object_is_answered_unwrapped(host: Host) -> None:
    data, sw = host.get_data(0x7E)
    assert sw == 0x9000
    inner = tlv.to_dict(tlv.parse_one(data, 0x7E).value)
    assert inner[0x4F] == bytes.fromhex("A000000308000010000100")
    assert inner[0x5F2F] == b"\x40\x00"


def test_factory_chuid_has_fascn_guid_expiry_and_signature_fields(host: Host) -> None:
    data, sw = host.get_data(0x5FC102)
    assert sw == 0x9000
    chuid = tlv.to_dict(tlv.parse_one(data, 0x53).value)
    assert len(chuid[0x30]) == 25 and len(chuid[0x34]) == 16
    assert chuid[0x35] == b"20301231" and chuid[0x3E] == b""


def test_each_fresh_card_has_its_own_serial_and_guid() -> None:
    a, b = Host(seed=None), Host(seed=None)
    assert a.ok(0xF8, 0, 0) != b.ok(0xF8, 0, 0)
    assert a.get_data(0x5FC102)[0] != b.get_data(0x5FC102)[0]


def test_absent_object_is_6a82(host: Host) -> None:
    assert host.get_data(0x5FC105)[1] == 0x6A82


@pytest.mark.parametrize("tag", [0x5FC103, 0x5FC108, 0x5FC109, 0x5FC121, 0x5FC123])
def test_pin_protected_objects_need_the_pin_before_existence(host: Host, tag: int) -> None:
    assert host.get_data(tag)[1] == 0x6982
    assert host.verify() == 0x9000
    assert host.get_data(tag)[1] == 0x6A82


def test_put_data_needs_the_management_key(host: Host) -> None:
    assert host.put_data(0x5FC106, b"\xba\x00\xfe\x00") == 0x6982
    assert host.authenticate() == 0x9000
    assert host.put_data(0x5FC106, b"\xba\x00\xfe\x00") == 0x9000
    assert host.get_data(0x5FC106) == (tlv.encode(0x53, b"\xba\x00\xfe\x00"), 0x9000)


def test_printed_information_write_needs_pin_too(host: Host) -> None:
    assert host.authenticate() == 0x9000
    assert host.put_data(0x5FC109, b"\x88\x00") == 0x6982
    assert host.verify() == 0x9000
    assert host.put_data(0x5FC109, b"\x88\x00") == 0x9000


def test_large_certificate_object_through_command_chaining(host: Host) -> None:
    value = tlv.encode(0x70, bytes(range(256)) * 8) + b"\x71\x01\x00\xfe\x00"
    assert host.authenticate() == 0x9000
    assert host.put_data(0x5FC105, value) == 0x9000
    assert host.get_data(0x5FC105) == (tlv.encode(0x53, value), 0x9000)
    assert host.put_data(0x5FC105, b"") == 0x9000  # 53 00 deletes
    assert host.get_data(0x5FC105)[1] == 0x6A82


def test_put_data_refuses_unknown_tags_and_bad_bodies(host: Host) -> None:
    assert host.authenticate() == 0x9000
    assert host.put_data(0x5FC200, b"x") == 0x6A80
    assert host.send(0xDB, 0x3F, 0xFF, b"\x53\x01\x00")[1] == 0x6A80
    assert host.send(0xDB, 0x3F, 0xFF, b"\x5c\x03")[1] == 0x6A80
    assert host.send(0xCB, 0x3F, 0x00, b"\x5c\x01\x7e")[1] == 0x6A86


def test_key_history_counts_retired_certificates(host: Host) -> None:
    assert host.authenticate() == 0x9000
    assert host.put_data(0x5FC10D, b"\x70\x01\x30\x71\x01\x00\xfe\x00") == 0x9000
    assert host.put_data(0x5FC10E, b"\x70\x01\x30\x71\x01\x00\xfe\x00") == 0x9000
    data, _ = host.get_data(0x5FC10C)
    history = tlv.to_dict(tlv.parse_one(data, 0x53).value)
    assert history[0xC1] == b"\x02" and history[0xC2] == b"\x00"


# -- PIN and PUK --------------------------------------------------------------------------


def test_verify_counts_down_blocks_and_reports(host: Host) -> None:
    assert host.tx("00 20 00 80")[1] == 0x63C3
    assert host.verify("000000") == 0x63C2
    assert host.verify("\xff" * 0 + "999999") == 0x63C1
    # An all-FF PIN is a wrong PIN, not malformed data (ykman blocks the PIN this way).
    assert host.tx("00 20 00 80 08 FFFFFFFFFFFFFFFF")[1] == 0x63C0
    assert host.verify() == 0x6983
    assert host.tx("00 20 00 80")[1] == 0x6983


def test_verify_status_logout_and_bad_references(host: Host) -> None:
    assert host.verify() == 0x9000
    assert host.tx("00 20 00 80 00")[1] == 0x9000
    assert host.tx("00 20 FF 80")[1] == 0x9000
    assert host.tx("00 20 00 80")[1] == 0x63C3
    assert host.tx("00 20 00 81")[1] == 0x6A88  # the PUK cannot be verified
    assert host.tx("00 20 00 00")[1] == 0x6A88  # no Global PIN offered by discovery
    assert host.tx("00 20 00 80 04 31323334")[1] == 0x6A80


def test_change_pin_and_puk(host: Host) -> None:
    assert host.tx("00 24 00 80 10" + pin8("000000") + pin8("654321"))[1] == 0x63C2
    assert host.tx("00 24 00 80 10" + pin8("123456") + pin8("654321"))[1] == 0x9000
    assert host.tx("00 20 00 80")[1] == 0x9000  # changing verifies
    assert host.tx("00 24 00 81 10" + pin8("12345678") + pin8("87654321"))[1] == 0x9000
    assert host.verify("123456") == 0x63C2
    assert host.verify("654321") == 0x9000


def test_change_pin_rejects_short_new_value_without_changing(host: Host) -> None:
    assert host.tx("00 24 00 80 10" + pin8("123456") + pin8("123"))[1] == 0x6A80
    assert host.verify() == 0x9000


def test_reset_retry_counter_unblocks_with_puk(host: Host) -> None:
    for _ in range(3):
        host.verify("000000")
    assert host.verify() == 0x6983
    assert host.tx("00 2C 00 80 10" + pin8("00000000") + pin8("111111"))[1] == 0x63C2
    assert host.tx("00 2C 00 80 10" + pin8("12345678") + pin8("111111"))[1] == 0x9000
    assert host.verify("111111") == 0x9000
    assert host.tx("00 2C 00 81 10" + pin8("12345678") + pin8("111111"))[1] == 0x6A88


def test_global_pin_when_discovery_offers_it(host: Host) -> None:
    assert host.authenticate() == 0x9000
    discovery = tlv.encode(
        0x7E,
        tlv.encode(0x4F, bytes.fromhex("A000000308000010000100")) + tlv.encode(0x5F2F, b"\x60\x20"),
    )
    assert host.send(0xDB, 0x3F, 0xFF, discovery)[1] == 0x9000
    assert host.tx("00 20 00 00")[1] == 0x63C3
    assert host.tx("00 20 00 00 08" + pin8("123456"))[1] == 0x9000
    assert host.get_data(0x5FC109)[1] == 0x6A82  # the Global PIN satisfies the ACR


def test_pin_counter_is_made_durable_before_the_comparison() -> None:
    card = make_card("piv", seed=3)
    snapshots: list[int] = []
    card.persist = lambda: snapshots.append(card.export_state()["piv"]["pins"]["pin"]["tries"])
    host = Host(card)
    host.verify("000000")
    assert snapshots[0] == 2


# -- management key -----------------------------------------------------------------------


def test_mutual_authentication_with_the_default_3des_key(host: Host) -> None:
    assert host.authenticate() == 0x9000


def test_wrong_witness_fails_and_does_not_authenticate(host: Host) -> None:
    host.send(0x87, 0x03, 0x9B, bytes.fromhex("7C028000"))
    body = tlv.encode(0x7C, tlv.encode(0x80, b"\x00" * 8) + tlv.encode(0x81, b"\x11" * 8))
    assert host.send(0x87, 0x03, 0x9B, body)[1] == 0x6982
    assert host.put_data(0x5FC106, b"\xfe\x00") == 0x6982


def test_wrong_key_cannot_authenticate(host: Host) -> None:
    assert host.authenticate(bytes(range(100, 124))) == 0x6982
    assert host.put_data(0x5FC106, b"\xfe\x00") == 0x6982


def test_external_authentication(host: Host) -> None:
    out, sw = host.send(0x87, 0x03, 0x9B, bytes.fromhex("7C028100"))
    assert sw == 0x9000
    challenge = tlv.find(tlv.parse_one(out, 0x7C).value, 0x81)
    assert challenge is not None and len(challenge) == 8
    enc = Cipher(TripleDES(MGM), modes.ECB()).encryptor()
    response = enc.update(challenge) + enc.finalize()
    assert host.send(0x87, 0x03, 0x9B, tlv.encode(0x7C, tlv.encode(0x82, response)))[1] == 0x9000
    assert host.put_data(0x5FC106, b"\xfe\x00") == 0x9000


def test_challenge_with_p1_00_serves_as_random_source(host: Host) -> None:
    first, sw = host.send(0x87, 0x00, 0x9B, bytes.fromhex("7C028100"))
    second, _ = host.send(0x87, 0x00, 0x9B, bytes.fromhex("7C028100"))
    assert sw == 0x9000 and first != second


def test_algorithm_mismatch_is_refused(host: Host) -> None:
    assert host.send(0x87, 0x0A, 0x9B, bytes.fromhex("7C028000"))[1] == 0x6A86


@pytest.mark.parametrize(
    ("alg", "key"),
    [
        (0x08, bytes(range(16))),
        (0x0A, bytes(range(24))),
        (0x0C, bytes(range(32))),
        (0x03, bytes(range(1, 25))),
    ],
)
def test_set_management_key_then_authenticate_with_it(host: Host, alg: int, key: bytes) -> None:
    assert host.send(0xFF, 0xFF, 0xFF, bytes((alg, 0x9B, len(key))) + key)[1] == 0x6982
    assert host.authenticate() == 0x9000
    assert host.ok(0xFF, 0xFF, 0xFF, bytes((alg, 0x9B, len(key))) + key) == b""
    meta = tlv.to_dict(host.ok(0xF7, 0x00, 0x9B))
    assert meta[0x01] == bytes((alg,)) and meta[0x05] == b"\x00"
    fresh = Host(host.card)
    assert fresh.authenticate(key, alg) == 0x9000


def test_set_management_key_rejects_wrong_length(host: Host) -> None:
    assert host.authenticate() == 0x9000
    assert host.send(0xFF, 0xFF, 0xFF, bytes((0x08, 0x9B, 24)) + bytes(24))[1] == 0x6A80


def test_power_cycle_drops_all_security_state(host: Host) -> None:
    assert host.verify() == 0x9000 and host.authenticate() == 0x9000
    host.card.power_off()
    host.card.power_on()
    assert host.tx("00 20 00 80")[1] == 0x63C3
    assert host.put_data(0x5FC106, b"\xfe\x00") == 0x6982


def test_malformed_commands_get_status_words_and_card_keeps_working(host: Host) -> None:
    for apdu in (
        "00 87 07 9A 02 7C",
        "00 CB 3F FF 02 5C 05",
        "00 47 00 9A 02 AC 00",
        "00 F6 9A 9B",
        "80 FD 00 00",
    ):
        assert host.tx(apdu)[1] in {0x6A80, 0x6A86, 0x6E00, 0x6982, 0x6700}
    assert host.ok(0xFD, 0, 0) == bytes((5, 7, 1))
