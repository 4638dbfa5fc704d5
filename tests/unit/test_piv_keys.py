"""PIV keys in process: GENERATE, GENERAL AUTHENTICATE with every key type, PIN
policies, and the Yubico extensions (metadata, import, attest, move, reset, retries)."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from emulator import make_card
from tests.unit.test_piv_card import Host, pin8
from wire import tlv

RSA = {0x06: 1024, 0x07: 2048, 0x05: 3072, 0x16: 4096}


def generate(host: Host, slot: int, alg: int, pin_policy: int = 0, touch: int = 0) -> bytes:
    template = tlv.encode(0x80, bytes((alg,)))
    if pin_policy:
        template += tlv.encode(0xAA, bytes((pin_policy,)))
    if touch:
        template += tlv.encode(0xAB, bytes((touch,)))
    out = host.ok(0x47, 0x00, slot, tlv.encode(0xAC, template))
    return tlv.parse_one(out, 0x7F49).value


def public_key(alg: int, template: bytes) -> object:
    fields = tlv.to_dict(template)
    if alg in RSA:
        n, e = (int.from_bytes(fields[t], "big") for t in (0x81, 0x82))
        return rsa.RSAPublicNumbers(e, n).public_key()
    if alg == 0x11:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), fields[0x86])
    if alg == 0x14:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), fields[0x86])
    if alg == 0xE0:
        return ed25519.Ed25519PublicKey.from_public_bytes(fields[0x86])
    return x25519.X25519PublicKey.from_public_bytes(fields[0x86])


def use_key(host: Host, slot: int, alg: int, data: bytes, tag: int = 0x81) -> tuple[bytes, int]:
    body = tlv.encode(0x7C, tlv.encode(0x82, b"") + tlv.encode(tag, data))
    out, sw = host.send(0x87, alg, slot, body)
    if sw != 0x9000:
        return b"", sw
    result = tlv.find(tlv.parse_one(out, 0x7C).value, 0x82)
    assert result is not None
    return result, sw


def pkcs1_block(message: bytes, bits: int) -> bytes:
    digest_info = (
        bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(message).digest()
    )
    size = bits // 8
    return b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info


@pytest.fixture
def admin() -> Host:
    host = Host(seed=None)  # OS randomness: cryptography's fast RSA generation
    assert host.authenticate() == 0x9000
    assert host.verify() == 0x9000
    return host


# -- generation and use -------------------------------------------------------------------


def test_generate_needs_the_management_key() -> None:
    host = Host()
    body = tlv.encode(0xAC, tlv.encode(0x80, b"\x11"))
    assert host.send(0x47, 0x00, 0x9A, body)[1] == 0x6982


def test_generate_refuses_bad_slots_algorithms_and_policies(admin: Host) -> None:
    body = tlv.encode(0xAC, tlv.encode(0x80, b"\x11"))
    assert admin.send(0x47, 0x00, 0x9B, body)[1] == 0x6A86
    assert admin.send(0x47, 0x01, 0x9A, body)[1] == 0x6A86
    assert admin.send(0x47, 0x00, 0x9A, tlv.encode(0xAC, tlv.encode(0x80, b"\x99")))[1] == 0x6A80
    bad_policy = tlv.encode(0xAC, tlv.encode(0x80, b"\x11") + tlv.encode(0xAA, b"\x05"))
    assert admin.send(0x47, 0x00, 0x9A, bad_policy)[1] == 0x6A80


@pytest.mark.parametrize("alg", [0x06, 0x07, 0x05, 0x16])
def test_rsa_sign_and_decrypt(admin: Host, alg: int) -> None:
    template = generate(admin, 0x9A, alg)
    assert list(tlv.to_dict(template)) == [0x81, 0x82]  # modulus first: ypt parses by position
    key = public_key(alg, template)
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == RSA[alg]
    signature, sw = use_key(admin, 0x9A, alg, pkcs1_block(b"hello", RSA[alg]))
    assert sw == 0x9000
    key.verify(signature, b"hello", padding.PKCS1v15(), hashes.SHA256())
    cipher = key.encrypt(b"secret", padding.PKCS1v15())
    plain, _ = use_key(admin, 0x9A, alg, cipher)
    assert plain.endswith(b"\x00secret") and plain[:2] == b"\x00\x02"


@pytest.mark.parametrize(
    ("alg", "curve", "digest"), [(0x11, "P-256", hashes.SHA256()), (0x14, "P-384", hashes.SHA384())]
)
def test_ecdsa_sign_and_ecdh(
    admin: Host, alg: int, curve: str, digest: hashes.HashAlgorithm
) -> None:
    key = public_key(alg, generate(admin, 0x9D, alg))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    h = hashes.Hash(digest)
    h.update(b"message")
    hashed = h.finalize()
    signature, sw = use_key(admin, 0x9D, alg, hashed)
    assert sw == 0x9000
    key.verify(signature, hashed, ec.ECDSA(Prehashed(digest)))
    peer = ec.generate_private_key(key.curve)
    point = peer.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    secret, sw = use_key(admin, 0x9D, alg, point, tag=0x85)
    assert sw == 0x9000 and secret == peer.exchange(ec.ECDH(), key)


def test_ecdsa_with_a_shorter_hash_than_the_field(admin: Host) -> None:
    key = public_key(0x11, generate(admin, 0x9A, 0x11))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    sha1 = hashlib.sha1(b"x").digest()
    signature, _ = use_key(admin, 0x9A, 0x11, sha1)
    key.verify(signature, sha1.rjust(32, b"\x00"), ec.ECDSA(Prehashed(hashes.SHA256())))


def test_ecdh_refuses_a_point_not_on_the_curve(admin: Host) -> None:
    generate(admin, 0x9D, 0x11)
    assert use_key(admin, 0x9D, 0x11, b"\x04" + b"\x01" * 64, tag=0x85)[1] == 0x6A80


def test_ed25519_and_x25519(admin: Host) -> None:
    ed = public_key(0xE0, generate(admin, 0x9C, 0xE0))
    assert isinstance(ed, ed25519.Ed25519PublicKey)
    admin.verify()  # 9C: PIN always
    signature, sw = use_key(admin, 0x9C, 0xE0, b"whole message")
    assert sw == 0x9000
    ed.verify(signature, b"whole message")
    xk = public_key(0xE1, generate(admin, 0x9D, 0xE1))
    assert isinstance(xk, x25519.X25519PublicKey)
    peer = x25519.X25519PrivateKey.generate()
    peer_raw = peer.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    secret, _ = use_key(admin, 0x9D, 0xE1, peer_raw, tag=0x85)
    assert secret == peer.exchange(xk)


def test_wrong_algorithm_or_empty_slot_is_6a80(admin: Host) -> None:
    assert use_key(admin, 0x9A, 0x11, b"\x00" * 32)[1] == 0x6A80
    generate(admin, 0x9A, 0x11)
    assert use_key(admin, 0x9A, 0x07, b"\x00" * 256)[1] == 0x6A80


# -- PIN policies -------------------------------------------------------------------------


def test_default_policies_once_always_never() -> None:
    host = Host()
    host.authenticate()
    for slot in (0x9A, 0x9C, 0x9E):
        generate(host, slot, 0x11)
    digest = b"\x01" * 32
    assert use_key(host, 0x9A, 0x11, digest)[1] == 0x6982
    assert use_key(host, 0x9E, 0x11, digest)[1] == 0x9000  # card authentication: no PIN
    host.verify()
    assert use_key(host, 0x9A, 0x11, digest)[1] == 0x9000
    assert use_key(host, 0x9A, 0x11, digest)[1] == 0x9000  # once: stays
    host.verify()
    assert use_key(host, 0x9C, 0x11, digest)[1] == 0x9000
    assert use_key(host, 0x9C, 0x11, digest)[1] == 0x6982  # always: one use per VERIFY
    host.verify()
    host.get_data(0x7E)  # a read between VERIFY and use keeps the authorisation
    assert use_key(host, 0x9C, 0x11, digest)[1] == 0x9000


def test_pin_always_is_cleared_by_another_command() -> None:
    host = Host()
    host.authenticate()
    generate(host, 0x9C, 0x11)
    host.verify()
    host.authenticate()
    assert use_key(host, 0x9C, 0x11, b"\x01" * 32)[1] == 0x6982


def test_explicit_policies_are_stored_and_reported(admin: Host) -> None:
    generate(admin, 0x82, 0x11, pin_policy=1, touch=2)
    meta = tlv.to_dict(admin.ok(0xF7, 0x00, 0x82))
    assert meta[0x01] == b"\x11" and meta[0x02] == b"\x01\x02" and meta[0x03] == b"\x01"
    fresh = Host(admin.card)
    assert use_key(fresh, 0x82, 0x11, b"\x01" * 32)[1] == 0x9000  # never; touch is free


# -- Yubico extensions --------------------------------------------------------------------


def test_version_and_serial(admin: Host) -> None:
    assert admin.ok(0xFD, 0, 0) == b"\x05\x07\x01"
    assert len(admin.ok(0xF8, 0, 0)) == 4


def test_metadata_of_pin_puk_management_key_and_slots() -> None:
    host = Host()
    assert host.ok(0xF7, 0, 0x80) == bytes.fromhex("0101FF 050101 06020303".replace(" ", ""))
    assert host.ok(0xF7, 0, 0x81) == bytes.fromhex("0101FF 050101 06020303".replace(" ", ""))
    assert host.ok(0xF7, 0, 0x9B) == bytes.fromhex("010103 02020001 050101".replace(" ", ""))
    assert host.send(0xF7, 0, 0x9A)[1] == 0x6A88
    assert host.send(0xF7, 0, 0x96)[1] == 0x6A88
    host.verify("000000")
    assert tlv.to_dict(host.ok(0xF7, 0, 0x80))[0x06] == b"\x03\x02"


def test_default_slot_policies_in_metadata(admin: Host) -> None:
    expected = {0x9A: b"\x02\x01", 0x9C: b"\x03\x01", 0x9D: b"\x02\x01", 0x9E: b"\x01\x01"}
    for slot, policy in expected.items():
        generate(admin, slot, 0x11)
        assert tlv.to_dict(admin.ok(0xF7, 0, slot))[0x02] == policy


def test_import_rsa_and_ec_keys(admin: Host) -> None:
    private = rsa.generate_private_key(65537, 2048)
    n = private.private_numbers()
    parts = [n.p, n.q, n.dmp1, n.dmq1, n.iqmp]
    body = b"".join(tlv.encode(i + 1, v.to_bytes(128, "big")) for i, v in enumerate(parts))
    admin.ok(0xFE, 0x07, 0x9D, body + tlv.encode(0xAA, b"\x01"))
    meta = tlv.to_dict(admin.ok(0xF7, 0, 0x9D))
    assert meta[0x03] == b"\x02" and meta[0x02] == b"\x01\x01"
    block = pkcs1_block(b"imported", 2048)
    signature, _ = use_key(admin, 0x9D, 0x07, block)
    private.public_key().verify(signature, b"imported", padding.PKCS1v15(), hashes.SHA256())
    ec_key = ec.generate_private_key(ec.SECP384R1())
    scalar = ec_key.private_numbers().private_value.to_bytes(48, "big")
    admin.ok(0xFE, 0x14, 0x85, tlv.encode(0x06, scalar))
    public = public_key(0x14, tlv.to_dict(admin.ok(0xF7, 0, 0x85))[0x04])
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert public.public_numbers() == ec_key.public_key().public_numbers()


def test_import_refuses_mismatched_parts(admin: Host) -> None:
    assert admin.send(0xFE, 0x11, 0x9A, tlv.encode(0x06, b"\x01" * 48))[1] == 0x6A80
    assert admin.send(0xFE, 0x07, 0x9A, tlv.encode(0x01, b"\x01" * 128))[1] == 0x6A80


def test_attestation_chain(admin: Host) -> None:
    generate(admin, 0x9A, 0x11, pin_policy=3)
    der = admin.ok(0xF9, 0x9A, 0x00)
    cert = x509.load_der_x509_certificate(der)
    ca_value, _ = admin.get_data(0x5FFF01)
    ca_der = tlv.find(tlv.parse_one(ca_value, 0x53).value, 0x70)
    assert ca_der is not None
    ca = x509.load_der_x509_certificate(ca_der)
    cert.verify_directly_issued_by(ca)
    assert cert.subject.rfc4514_string() == "CN=YubiKey PIV Attestation 9a"
    ext = {e.oid.dotted_string: e.value for e in cert.extensions}
    assert ext["1.3.6.1.4.1.41482.3.3"].value == b"\x05\x07\x01"
    assert ext["1.3.6.1.4.1.41482.3.8"].value == b"\x03\x01"
    assert admin.send(0xF9, 0x9C, 0x00)[1] == 0x6A88  # empty slot


def test_attestation_refuses_imported_keys(admin: Host) -> None:
    scalar = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    admin.ok(0xFE, 0x11, 0x9A, tlv.encode(0x06, scalar.to_bytes(32, "big")))
    assert admin.send(0xF9, 0x9A, 0x00)[1] == 0x6A80


def test_move_and_delete_key(admin: Host) -> None:
    generate(admin, 0x9A, 0x11)
    generate(admin, 0x9C, 0x11)
    assert admin.send(0xF6, 0x9C, 0x9A)[1] == 0x6A80  # target busy
    assert admin.send(0xF6, 0x9A, 0x9D)[1] == 0x6A88  # source empty
    admin.ok(0xF6, 0x82, 0x9A)
    assert admin.send(0xF7, 0, 0x9A)[1] == 0x6A88
    assert tlv.to_dict(admin.ok(0xF7, 0, 0x82))[0x02] == b"\x02\x01"  # policies move along
    admin.ok(0xF6, 0xFF, 0x82)
    assert admin.send(0xF7, 0, 0x82)[1] == 0x6A88


def test_set_pin_retries_needs_both_authentications(admin: Host) -> None:
    host = Host(admin.card)
    assert host.send(0xFA, 9, 7)[1] == 0x6982
    host.authenticate()
    assert host.send(0xFA, 9, 7)[1] == 0x6982
    host.verify()
    host.ok(0xFA, 9, 7)
    assert tlv.to_dict(host.ok(0xF7, 0, 0x80))[0x06] == b"\x09\x09"
    assert host.verify("000000") == 0x63C8
    assert host.tx("00 24 00 81 10" + pin8("00000000") + pin8("11111111"))[1] == 0x63C6


def test_reset_only_when_pin_and_puk_are_blocked() -> None:
    host = Host()
    host.authenticate()
    generate(host, 0x9A, 0x11)
    chuid_before = host.get_data(0x5FC102)[0]
    attestation_before = host.get_data(0x5FFF01)[0]
    assert host.send(0xFB, 0, 0)[1] == 0x6985
    for _ in range(3):
        host.verify("000000")
    assert host.send(0xFB, 0, 0)[1] == 0x6985
    for _ in range(3):
        host.tx("00 2C 00 80 10" + "FF" * 16)
    host.ok(0xFB, 0, 0)
    assert host.send(0xF7, 0, 0x9A)[1] == 0x6A88
    assert host.verify() == 0x9000
    assert host.get_data(0x5FC102)[0] != chuid_before  # a new card identity
    assert host.get_data(0x5FFF01)[0] == attestation_before  # the attestation CA stays
    assert host.put_data(0x5FC106, b"\xfe\x00") == 0x6982  # management status dropped


# -- state --------------------------------------------------------------------------------


def test_export_import_round_trip_keeps_keys_pins_and_objects(admin: Host) -> None:
    key = public_key(0x11, generate(admin, 0x9A, 0x11))
    admin.tx("00 24 00 80 10" + pin8("123456") + pin8("654321"))
    state = admin.card.export_state()
    other = make_card("piv", seed=99)
    other.import_state(state)
    host = Host(other)
    assert host.verify("654321") == 0x9000
    digest = b"\x05" * 32
    signature, _ = use_key(host, 0x9A, 0x11, digest)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    assert host.get_data(0x5FC102) == admin.get_data(0x5FC102)
    import json

    json.dumps(state)  # JSON-compatible


def test_seeded_cards_are_reproducible() -> None:
    a, b = make_card("piv", seed=5), make_card("piv", seed=5)
    assert a.export_state() == b.export_state()
    ha, hb = Host(a), Host(b)
    for h in (ha, hb):
        h.authenticate()
    assert generate(ha, 0x9A, 0x11) == generate(hb, 0x9A, 0x11)
