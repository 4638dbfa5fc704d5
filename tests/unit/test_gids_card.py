"""The GIDS card beyond the applet transcripts: discovery, access rules, life cycle, ECC,
AES admin keys, padding modes, state export, and robustness against malformed APDUs."""

from __future__ import annotations

import random

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from emulator import make_card
from emulator.apps.gids import GidsApplication, list_minidriver_files
from emulator.apps.gids.listing import render
from emulator.core.card import CardOS
from emulator.core.rng import SeededRandom
from emulator.profiles import gids as profile
from emulator.transports.embedded import EmbeddedConnection
from wire import tlv

PIN = profile.USER_PIN


def tx(card: CardOS, apdu: str | bytes) -> tuple[bytes, int]:
    raw = bytes.fromhex(apdu.replace(" ", "")) if isinstance(apdu, str) else apdu
    out = card.transmit(raw)
    return out[:-2], int.from_bytes(out[-2:], "big")


def full(card: CardOS, apdu: str | bytes) -> tuple[bytes, int]:
    """Follow 61xx with GET RESPONSE."""
    data, sw = tx(card, apdu)
    while sw >> 8 == 0x61:
        more, sw = tx(card, "00C0000000")
        data += more
    return data, sw


def verify_pin(card: CardOS, pin: bytes = PIN) -> None:
    assert tx(card, bytes.fromhex("00200080") + bytes((len(pin),)) + pin)[1] == 0x9000


def apdu(ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
    out = bytes((0, ins, p1, p2))
    if data:
        out += bytes((len(data),)) + data
    if le is not None:
        out += bytes((le,))
    return out


def key_fcp(key_ref: int, mechanism: int) -> bytes:
    """A key-exchange key EF as OpenSC/Windows create it (sign and decrypt CRTs)."""
    crts = b""
    for tag, mode in ((0xB8, 0x00), (0xB8, 0x80), (0xB8, 0x40), (0xB6, 0x10), (0xB6, 0x50)):
        crts += tlv.encode(
            tag,
            tlv.encode(0x80, bytes((mode | mechanism,)))
            + tlv.encode(0x83, bytes((key_ref,)))
            + tlv.encode(0x95, b"\x40"),
        )
    return tlv.encode(
        0x62,
        tlv.encode(0x82, b"\x18")
        + tlv.encode(0x83, (0xB000 | key_ref).to_bytes(2, "big"))
        + tlv.encode(0x8C, bytes.fromhex("8F10101000"))
        + tlv.encode(0xA5, crts),
    )


def new_key(card: CardOS, key_ref: int, mechanism: int, le: int | None = 0) -> bytes:
    verify_pin(card)
    assert tx(card, apdu(0xE0, 0, 0, key_fcp(key_ref, mechanism)))[1] == 0x9000
    assert tx(card, "00440000")[1] == 0x9000
    body = tlv.encode(0x80, bytes((mechanism,))) + tlv.encode(0x83, bytes((key_ref,)))
    data, sw = full(card, apdu(0x47, 0, 0, tlv.encode(0xAC, body), le))
    assert sw == 0x9000
    return data


def public_key(card: CardOS, key_ref: int) -> bytes:
    data, sw = full(card, f"00CB3FFF0A700884 01{key_ref:02X} A5037F498000")
    assert sw == 0x9000
    return tlv.parse_one(data, 0x7F49).value


@pytest.fixture
def card() -> CardOS:
    return make_card("gids", seed=7)


# -- identity and discovery -------------------------------------------------------------------


def test_select_templates_and_foreign_aids(card: CardOS) -> None:
    aid = "A0000003974254465902"[:18]
    assert tx(card, f"00A4040009{aid}00") == (bytes.fromhex(
        "61124F0BA0000003974254465902017303 4001C0".replace(" ", "")), 0x9000)  # fmt: skip
    assert tx(card, f"00A4040409{aid}00") == (bytes.fromhex("62088201388C03033030"), 0x9000)
    assert tx(card, f"00A4040809{aid}00") == (bytes.fromhex("64095F2F01607F65028000"), 0x9000)
    assert tx(card, f"00A4040C09{aid}") == (b"", 0x9000)
    assert tx(card, f"00A4040109{aid}")[1] == 0x6A86
    for foreign in ("A000000308000010000100", "A0000000010101", "F276A288BCFBA69D34F31001"):
        assert tx(card, f"00A40400{len(foreign) // 2:02X}{foreign}00")[1] == 0x6A82
    assert tx(card, "00A4080002 2F0000".replace(" ", ""))[1] == 0x6A86  # PKCS#15 probe by path
    assert tx(card, "00A40000023F00")[1] == 0x9000
    assert tx(card, "00B0000000")[1] == 0x6D00
    assert tx(card, "10A40000023FFF")[1] == 0x6884  # SELECT may not chain
    assert tx(card, "80B8000000")[1] == 0x6E00  # jCardSim's install command is not GIDS


def test_windows_plug_and_play_probes(card: CardOS) -> None:
    assert tx(card, "00A404000BA0000003974349445F010000")[1] == 0x6A82
    data, sw = tx(card, "00CA7F6800")
    assert sw == 0x9000
    app = card.application("gids")
    assert isinstance(app, GidsApplication)
    cardid = app.cardid()
    assert cardid is not None
    assert data == bytes.fromhex("301D020100 16044D534654 3012 0410".replace(" ", "")) + cardid
    assert tx(card, "00CA7F6900")[1] == 0x6D00
    # a blank card has no identity yet
    assert tx(profile.build_blank(SeededRandom(1)), "00CA7F6800")[1] == 0x6A88


def test_ef_atr_and_atr_agree_on_short_apdus(card: CardOS) -> None:
    assert tx(card, "00CB2F01025C0000")[0].startswith(bytes.fromhex("4301F44703080180"))
    assert tx(card, "00CB2F01025C0100")[1] == 0x6984
    assert tx(card, "00CB2F00025C0000")[1] == 0x6A82
    assert card.atr.find(bytes.fromhex("73FC0180")) > 0  # ATR capabilities: no extended length
    assert tx(card, "00CB3FFF000004 5C027F71 0000".replace(" ", ""))[1] == 0x6700


# -- factory states ---------------------------------------------------------------------------


def test_factory_state_is_gids_tool_initialised_and_reproducible() -> None:
    one, two = make_card("gids", seed=3), make_card("gids", seed=3)
    assert one.export_state() == two.export_state()
    assert one.export_state() != make_card("gids", seed=4).export_state()
    files = {f.path: f for f in list_minidriver_files(one.export_state())}
    assert list(files) == ["mscp\\", "\\cardid", "\\cardapps", "\\cardcf", "mscp\\cmapfile"]
    assert files["\\cardid"].size == 16 and files["mscp\\cmapfile"].size == 0
    assert files["\\cardapps"].summary == "mscp" and files["\\cardcf"].size == 6
    assert any("cmapfile" in line for line in render(list(files.values())))
    blank = make_card("gids-blank", seed=3)
    assert list_minidriver_files(blank.export_state()) == []
    assert profile.USER_PIN == b"123456" and bytes(24) == profile.ADMIN_KEY


def test_state_round_trip_keeps_keys_pins_and_files(card: CardOS) -> None:
    new_key(card, 0x81, 0x06)
    tx(card, "002000800431313131")  # a wrong PIN: 2 tries left
    state = card.export_state()
    copy = make_card("gids-blank", seed=99)
    copy.import_state(state)
    assert copy.export_state() == state
    assert public_key(copy, 0x81) == public_key(card, 0x81)
    assert tx(copy, "00CB3FFF045C027F7100")[0] == bytes.fromhex("7F7106970102930103")


# -- access rules and life cycle --------------------------------------------------------------


def _admin_external(card: CardOS, key: bytes = profile.ADMIN_KEY) -> int:
    assert tx(card, "0022C1A403830180")[1] == 0x9000
    challenge, _ = tx(card, "00870000047C02810000")
    enc = Cipher(TripleDES(key), modes.CBC(bytes(8))).encryptor()
    answer = enc.update(challenge[4:12]) + enc.finalize()
    return tx(card, bytes.fromhex("008700000C7C0A8208") + answer)[1]


@pytest.mark.parametrize(
    ("scb", "pin_only", "admin_only"),
    [
        ("20", 0x6982, 0x9000),
        ("10", 0x9000, 0x6982),
        ("30", 0x9000, 0x9000),
        ("FF", 0x6982, 0x6982),
        ("00", 0x9000, 0x9000),
        ("90", 0x9000, 0x6982),
        ("A0", 0x6982, 0x9000),
        ("B0", 0x6982, 0x6982),
        ("91", 0x9000, 0x6982),
        ("92", 0x6982, 0x6982),
        (None, 0x9000, 0x9000),
    ],
)
def test_access_rules_as_the_applet_evaluates_them(
    scb: str | None, pin_only: int, admin_only: int
) -> None:
    """gids.md 6.9: a 3DES key put into key EFs with various PUT KEY conditions."""
    for who, expected in (("pin", pin_only), ("admin", admin_only)):
        card = make_card("gids", seed=5)
        rule = f"8C048700{scb}FF" if scb is not None else ""
        body = f"820118 8302B089 {rule} A50B A409800102830180 9501C0".replace(" ", "")
        verify_pin(card)
        assert tx(card, apdu(0xE0, 0, 0, tlv.encode(0x62, bytes.fromhex(body))))[1] == 0x9000
        assert tx(card, "00440000")[1] == 0x9000
        tx(card, "0020008200")
        if who == "pin":
            verify_pin(card)
        else:
            assert _admin_external(card) == 0x9000
        put = "00DB3FFF26 7024 840189 A51F 8718" + "0102030405060708" * 3 + "8803B073DC"
        assert tx(card, put.replace(" ", ""))[1] == expected, who


def test_unauthenticated_writes_are_refused_and_reads_are_free(card: CardOS) -> None:
    assert tx(card, "00DBA010039F2300")[1] == 0x6982
    assert tx(card, "00DBA01209DF2006000000000000")[1] == 0x6982
    assert tx(card, "00CBA011045C02DF2400")[1] == 0x6982  # A011: read never
    assert tx(card, "00CBA010045C02DF2300") == (bytes.fromhex("DF2300"), 0x9000)
    assert tx(card, "00E0000049" + key_fcp(0x81, 7).hex())[1] == 0x6982
    assert tx(card, "00CBB080045C02DF2000")[1] == 0x6981  # a key EF is no DO EF
    assert tx(card, "00CBA099045C02DF2000")[1] == 0x6A82
    assert tx(card, "00DBFFFF039F2300")[1] == 0x6A86


def test_initialization_mode_and_file_life_cycle() -> None:
    card = profile.build_blank(SeededRandom(2))
    assert tx(card, "0020008000")[1] == 0x9000  # nothing to verify yet
    assert tx(card, "00870000047C02810000")[1] == 0x6986
    assert tx(card, "002C0280083132333435363738")[1] == 0x6986
    assert tx(card, "00E000000E620C8201398302A0108C03033000")[1] == 0x9000
    assert tx(card, "00E000000E620C8201398302A0108C03033000")[1] == 0x6984  # duplicate FID
    assert tx(card, "00DBA01003DF2300")[1] == 0x6985  # not activated yet
    assert tx(card, "00E40000")[1] == 0x6985
    assert tx(card, "00440000")[1] == 0x9000
    assert tx(card, "00DBA01003DF2300")[1] == 0x9000
    assert tx(card, "00E000000562038201AA")[1] == 0x6984  # unsupported descriptor
    for i in range(29):
        fcp = f"620C820139 8302A1{i:02X} 8C03033000".replace(" ", "")
        assert tx(card, "00E000000E" + fcp)[1] == 0x9000
    assert tx(card, "00E000000E620C8201398302A1FF8C03033000")[1] == 0x6A84  # 31st file


def test_do_limit_and_put_data_errors(card: CardOS) -> None:
    verify_pin(card)
    for i in range(27):  # A010 holds cardapps, cardcf and cmapfile already
        assert tx(card, f"00DBA01003DF{0x30 + i:02X}00")[1] == 0x9000
    assert tx(card, "00DBA01003DF5000")[1] == 0x6A84
    assert tx(card, "00DBA01004DF240301")[1] == 0x6984  # shorter than announced
    assert tx(card, "00DBA01001DF")[1] == 0x6984


def test_logout_forgets_the_security_environment(card: CardOS) -> None:
    new_key(card, 0x81, 0x06)
    assert tx(card, "00224 1B606 800156 840181".replace(" ", ""))[1] == 0x9000
    tx(card, "0020008200")
    assert tx(card, "002A9E9A03010203 00".replace(" ", ""))[1] == 0x6985
    assert tx(card, "00224 1B606 800156 840181".replace(" ", ""))[1] == 0x6982
    assert tx(card, "00224 1B606 800146 840181".replace(" ", ""))[1] == 0x6984  # not a B6 CRT


# -- keys and crypto --------------------------------------------------------------------------


def test_generate_without_le_answers_61xx_and_no_data(card: CardOS) -> None:
    verify_pin(card)
    assert tx(card, apdu(0xE0, 0, 0, key_fcp(0x81, 6)))[1] == 0x9000
    tx(card, "00440000")
    assert tx(card, "0047000008AC06800106830181") == (b"", 0x618C)
    data, sw = tx(card, "00C000008C")
    assert sw == 0x9000 and data.startswith(bytes.fromhex("7F49818881818 0".replace(" ", "")))
    assert tx(card, "00C0000000") == (b"", 0x9000)  # nothing pending: 9000 as the applet
    assert tx(card, "0047000008AC06800105830181")[1] == 0x6A81  # not a GIDS mechanism
    assert tx(card, "0047000008AC06800106830199")[1] == 0x6984  # no key file


def test_rsa_raw_sign_raw_and_oaep_decrypt(card: CardOS) -> None:
    new_key(card, 0x81, 0x06)
    fields = tlv.to_dict(public_key(card, 0x81))
    public = rsa.RSAPublicNumbers(
        int.from_bytes(fields[0x82], "big"), int.from_bytes(fields[0x81], "big")
    ).public_key()
    # raw signature of a host-padded block
    block = b"\x00\x01" + b"\xff" * 90 + b"\x00" + b"x" * 35
    assert tx(card, "002241B606800116840181")[1] == 0x9000
    sig, sw = tx(card, apdu(0x2A, 0x9E, 0x9A, block, 0))
    assert sw == 0x9000
    assert pow(int.from_bytes(sig, "big"), 65537, public.public_numbers().n) == int.from_bytes(
        block, "big"
    )
    assert tx(card, apdu(0x2A, 0x9E, 0x9A, block[:-1], 0))[1] == 0x6700
    # OAEP (SHA-1) and raw decryption
    oaep = padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)
    assert tx(card, "002241B806800186840181")[1] == 0x9000
    assert tx(card, apdu(0x2A, 0x80, 0x86, public.encrypt(b"oaep!", oaep), 0)) == (b"oaep!", 0x9000)
    assert tx(card, apdu(0x2A, 0x80, 0x86, bytes(128), 0))[1] == 0x6A80  # bad padding
    assert tx(card, "002241B806800106840181")[1] == 0x9000
    plain, sw = tx(card, apdu(0x2A, 0x80, 0x86, public.encrypt(b"raw", padding.PKCS1v15()), 0))
    assert sw == 0x9000 and plain[:2] == b"\x00\x02" and plain.endswith(b"\x00raw")
    assert tx(card, "002A808604 01020304 00".replace(" ", ""))[1] == 0x6700


@pytest.mark.parametrize(
    ("mechanism", "curve", "digest"),
    [(0x0C, ec.SECP256R1(), hashes.SHA256()), (0x0D, ec.SECP384R1(), hashes.SHA384())],
)
def test_ecc_keygen_ecdsa_and_ecdh(
    card: CardOS, mechanism: int, curve: ec.EllipticCurve, digest: hashes.HashAlgorithm
) -> None:
    new_key(card, 0x81, mechanism)
    point = tlv.parse_one(public_key(card, 0x81), 0x86).value
    public = ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
    h = hashes.Hash(digest)
    h.update(b"ecdsa on a GIDS card")
    hashed = h.finalize()
    assert tx(card, f"002241B6068001{0x10 | mechanism:02X}840181")[1] == 0x9000
    der, sw = tx(card, apdu(0x2A, 0x9E, 0x9A, hashed, 0))
    assert sw == 0x9000
    public.verify(der, hashed, ec.ECDSA(Prehashed(digest)))
    # ECDH: PSO DECIPHER with the peer's point gives the shared X coordinate
    peer = ec.generate_private_key(curve)
    peer_point = peer.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert tx(card, f"002241B8068001{mechanism:02X}840181")[1] == 0x9000
    shared, sw = tx(card, apdu(0x2A, 0x80, 0x86, peer_point, 0))
    assert sw == 0x9000 and shared == peer.exchange(ec.ECDH(), public)
    assert tx(card, apdu(0x2A, 0x80, 0x86, b"\x04" + bytes(len(peer_point) - 1), 0))[1] == 0x6A80


def test_p521_generation_and_ec_import(card: CardOS) -> None:
    new_key(card, 0x81, 0x0E)
    assert len(tlv.parse_one(public_key(card, 0x81), 0x86).value) == 133
    imported = ec.generate_private_key(ec.SECP256R1())
    der = imported.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert tx(card, apdu(0xE0, 0, 0, key_fcp(0x82, 0x0C)))[1] == 0x9000
    tx(card, "00440000")
    template = tlv.encode(
        0x70,
        tlv.encode(0x84, b"\x82")
        + tlv.encode(
            0xA5, tlv.encode(0x83, b"\x03") + tlv.encode(0x84, b"\x00") + tlv.encode(0x87, der)
        ),
    )
    assert tx(card, apdu(0xDB, 0x3F, 0xFF, template))[1] == 0x9000
    expected = imported.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert tlv.parse_one(public_key(card, 0x82), 0x86).value == expected


def test_rsa_import_without_der_sign_bytes_as_opensc_sends_it(card: CardOS) -> None:
    key = rsa.generate_private_key(65537, 1024)
    n = key.private_numbers()

    def magnitude(v: int) -> bytes:
        return tlv.encode(0x02, v.to_bytes((v.bit_length() + 7) // 8, "big"))

    values = (n.public_numbers.n, n.public_numbers.e, n.d, n.p, n.q, n.dmp1, n.dmq1, n.iqmp)
    der = tlv.encode(0x30, b"\x02\x01\x00" + b"".join(magnitude(v) for v in values))
    verify_pin(card)
    assert tx(card, apdu(0xE0, 0, 0, key_fcp(0x81, 0x06)))[1] == 0x9000
    tx(card, "00440000")
    template = tlv.encode(
        0x70,
        tlv.encode(0x84, b"\x81")
        + tlv.encode(
            0xA5, tlv.encode(0x83, b"\x02") + tlv.encode(0x84, b"\x00") + tlv.encode(0x87, der)
        ),
    )
    chunks = [template[i : i + 255] for i in range(0, len(template), 255)]
    for chunk in chunks[:-1]:
        assert tx(card, b"\x10\xdb\x3f\xff" + bytes((len(chunk),)) + chunk)[1] == 0x9000
    assert tx(card, apdu(0xDB, 0x3F, 0xFF, chunks[-1]))[1] == 0x9000
    modulus = tlv.to_dict(public_key(card, 0x81))[0x81]
    assert int.from_bytes(modulus, "big") == n.public_numbers.n
    bad = template.replace(b"\x84\x01\x00", b"\x84\x01\x01", 1)
    assert tx(card, b"\x00\xdb\x3f\xff" + bytes((len(bad[:250]),)) + bad[:250])[1] == 0x6984


@pytest.mark.parametrize(("mechanism", "length"), [(0x03, 16), (0x04, 24), (0x05, 32), (0x01, 16)])
def test_symmetric_admin_key_variants(mechanism: int, length: int) -> None:
    """An admin key EF with an AES (or 2-key 3DES) AT mechanism, on a blank card."""
    card = profile.build_blank(SeededRandom(mechanism))
    key = bytes(range(1, length + 1))
    fcp = f"621A 820118 8302B080 8C04870020FF A50B A409 8001{mechanism:02X} 830180 9501C0"
    assert tx(card, "00E000001C" + fcp.replace(" ", ""))[1] == 0x9000
    tx(card, "00440000")
    bad = tlv.encode(
        0x70, tlv.encode(0x84, b"\x80") + tlv.encode(0xA5, tlv.encode(0x87, key + b"!"))
    )
    assert tx(card, apdu(0xDB, 0x3F, 0xFF, bad))[1] == 0x6984
    good = tlv.encode(0x70, tlv.encode(0x84, b"\x80") + tlv.encode(0xA5, tlv.encode(0x87, key)))
    assert tx(card, apdu(0xDB, 0x3F, 0xFF, good))[1] == 0x9000
    assert tx(card, "00A4000C023FFF")[1] == 0x9000
    assert tx(card, "00440000")[1] == 0x9000
    aes = mechanism >= 0x03
    block = 16 if aes else 8

    def cipher(data: bytes, decrypt: bool = False) -> bytes:
        algo = algorithms.AES(key) if aes else TripleDES(key if len(key) == 24 else key + key[:8])
        c = Cipher(algo, modes.CBC(bytes(block)))
        op = c.decryptor() if decrypt else c.encryptor()
        return op.update(data) + op.finalize()

    # external
    assert tx(card, "0022C1A403830180")[1] == 0x9000
    data, sw = tx(card, "00870000047C02810000")
    assert sw == 0x9000 and len(data) == 4 + block
    assert tx(card, apdu(0x87, 0, 0, tlv.encode(0x7C, tlv.encode(0x82, cipher(data[4:])))))[1] == (
        0x9000
    )
    # mutual
    r1 = bytes(range(16))
    data, _ = tx(card, apdu(0x87, 0, 0, tlv.encode(0x7C, tlv.encode(0x81, r1)), 0))
    r2 = data[4:]
    z = b"\x11" * (15 if aes else 7)
    host = cipher(r2 + r1 + z + b"\x80")
    data, sw = tx(card, apdu(0x87, 0, 0, tlv.encode(0x7C, tlv.encode(0x82, host)), 0))
    assert sw == 0x9000
    plain = cipher(tlv.parse_one(tlv.parse_one(data, 0x7C).value, 0x82).value, decrypt=True)
    assert plain[:32] == r1 + r2 and plain[-1] == 0x80
    # admin authenticated: the unblock works
    assert tx(card, "002C0280083132333435363738")[1] == 0x9000


def test_malformed_apdus_get_status_words_and_the_card_keeps_working(card: CardOS) -> None:
    rng = random.Random(1)
    for _ in range(400):
        ins = rng.choice([0x20, 0x22, 0x24, 0x2A, 0x2C, 0x44, 0x47, 0x87, 0xA4, 0xCB, 0xDB, 0xE0])
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
        raw = bytes((0, ins, rng.randrange(256), rng.randrange(256))) + body
        out = card.transmit(raw)
        assert len(out) >= 2 and out[-2:] != b"\x6f\x00", raw.hex()
    assert tx(card, "00A4040C09A00000039742544659")[1] == 0x9000
    assert tx(card, "00CBA010045C02DF2300")[1] in (0x9000, 0x6A88)


def test_embedded_connection_reaches_the_card() -> None:
    card = make_card("gids", seed=11)
    conn = EmbeddedConnection(card)
    conn.connect()
    data, sw1, sw2 = conn.transmit(list(bytes.fromhex("00A4040009A0000003974254465900")))
    assert (sw1, sw2) == (0x90, 0x00) and bytes(data[:2]) == b"\x61\x12"


def test_rsa_4096_public_key_and_signature_are_chained_in_short_apdus() -> None:
    card = make_card("gids")  # OS randomness: fast 4096-bit generation
    new_key(card, 0x81, 0x09, le=None)
    first, sw = tx(card, "00CB3FFF0A70088401 81A5037F498000".replace(" ", ""))
    assert (len(first), sw) == (256, 0x6100)
    data, sw = full(card, "00CB3FFF0A7008840181A5037F498000")
    assert (
        sw == 0x9000 and len(data) == 526 and data.startswith(bytes.fromhex("7F4982020981820200"))
    )
    digest_info = bytes.fromhex("3031300D060960864801650304020105000420") + bytes(32)
    assert tx(card, "002241B606800159840181")[1] == 0x9000
    signature, sw = full(card, apdu(0x2A, 0x9E, 0x9A, digest_info, 0))
    assert sw == 0x9000 and len(signature) == 512
    fields = tlv.to_dict(tlv.parse_one(data, 0x7F49).value)
    public = rsa.RSAPublicNumbers(
        int.from_bytes(fields[0x82], "big"), int.from_bytes(fields[0x81], "big")
    ).public_key()
    public.verify(signature, bytes(32), padding.PKCS1v15(), Prehashed(hashes.SHA256()))


def test_pin_counter_is_durable_before_the_comparison(card: CardOS) -> None:
    seen: list[int] = []
    card.persist = lambda: seen.append(card.export_state()["gids"]["pin"]["tries"])
    assert tx(card, "002000800639393939393939"[:22])[1] == 0x63C2
    assert seen[0] == 2  # persisted with the decrement, before the answer
    verify_pin(card)
    assert seen[-1] == 3  # and the reset counter after a match
