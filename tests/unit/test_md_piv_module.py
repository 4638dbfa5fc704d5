"""The PIV card module through the minidriver API, on an in-process PIV card.

Every call goes through `driver.acquire_context` and the card module's APDUs; the card is the
emulator's PIV application over the embedded connection (the end-to-end tests run the same
module through pcscd + vpcd and check it against ykman, yubico-piv-tool and OpenSC).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

import driver
from driver import blobs
from driver.cardmodules.piv import PivCardModule, admin_response
from driver.cardmodules.piv.cmap import parse_mscmap
from driver.cardmodules.piv.constants import ROLE_PUK
from driver.context import CardContext
from driver.errors import (
    SCARD_E_NO_KEY_CONTAINER,
    SCARD_E_UNSUPPORTED_FEATURE,
    SCARD_W_CHV_BLOCKED,
    SCARD_W_SECURITY_VIOLATION,
    SCARD_W_WRONG_CHV,
)
from driver.structures import (
    CARD_DH_AGREEMENT_INFO,
    CARD_RSA_DECRYPT_INFO,
    CARD_SIGNING_INFO,
    CONTAINER_MAP_RECORD,
    PIN_INFO,
    build_cmapfile,
    parse_cmapfile,
)
from emulator import make_card
from emulator.core.card import CardOS
from emulator.transports.embedded import EmbeddedConnection

PIN = b"123456"
PUK = b"12345678"
MGM = bytes.fromhex("010203040506070801020304050607080102030405060708")
KEY_GEN = driver.CARD_CREATE_CONTAINER_KEY_GEN


@pytest.fixture(scope="module")
def rsa_card() -> CardOS:
    """One card with an RSA-2048 key in container 0 (9A), made once: keygen is the slow part."""
    card = make_card("piv", seed=7)
    with open_context(card) as ctx:
        ctx.authenticate_pin("user", PIN)
        ctx.create_container(0, KEY_GEN, driver.AT_KEYEXCHANGE, 2048, None)
    return card


def open_context(card: CardOS) -> CardContext:
    conn = EmbeddedConnection(card)
    conn.connect()
    return driver.acquire_context(connection=conn)


@pytest.fixture
def ctx() -> Iterator[CardContext]:
    with open_context(make_card("piv", seed=1)) as c:
        yield c


def sign(ctx: CardContext, index: int, key_spec: int, digest: bytes) -> bytes:
    info = CARD_SIGNING_INFO(
        container_index=index, key_spec=key_spec, data=digest, hash_alg=driver.CALG_SHA_256
    )
    out = ctx.sign_data(info).signed_data
    assert out is not None
    return out


# --- identification and the read path -------------------------------------------------------


def test_the_piv_module_answers_a_piv_card(ctx: CardContext) -> None:
    assert isinstance(ctx.card, PivCardModule)
    assert ctx.card.version == (5, 7, 1)


def test_a_blank_piv_card_as_the_inbox_minidriver_shows_it(ctx: CardContext) -> None:
    cardid = ctx.read_file(None, "cardid")
    assert len(cardid) == 16
    assert ctx.get_property(driver.CP_CARD_GUID) == cardid
    assert ctx.read_file(None, "cardapps") == b"mscp\0\0\0\0"
    assert len(ctx.read_file(None, "cardcf")) == 6
    assert ctx.enum_files(None) == ["cardid", "cardcf", "cardapps"]
    assert ctx.enum_files("mscp") == ["cmapfile"]
    assert ctx.read_file("mscp", "cmapfile") == b""
    free = ctx.query_free_space()
    assert (free.key_containers_available, free.max_key_containers) == (24, 24)
    with pytest.raises(SCARD_E_NO_KEY_CONTAINER):
        ctx.get_container_info(0)


def test_properties_a_windows_csp_reads(ctx: CardContext) -> None:
    def dword(name: str, flags: int = 0) -> int:
        return int.from_bytes(ctx.get_property(name, flags=flags), "little")

    assert dword(driver.CP_CARD_READ_ONLY) == 0
    assert dword(driver.CP_SUPPORTS_WIN_X509_ENROLLMENT) == 1
    assert dword(driver.CP_CARD_LIST_PINS) == 0b1110  # user, admin, PUK
    caps = ctx.query_capabilities()
    assert caps.certificate_compression and caps.key_gen
    sizes = ctx.query_key_sizes(driver.AT_KEYEXCHANGE)
    assert (sizes.minimum_bitlen, sizes.maximum_bitlen, sizes.incremental_bitlen) == (
        1024,
        4096,
        1024,
    )
    assert ctx.query_key_sizes(driver.AT_ECDSA_P384).maximum_bitlen == 384
    with pytest.raises(SCARD_E_UNSUPPORTED_FEATURE):
        ctx.query_key_sizes(driver.AT_ECDSA_P521)
    puk = PIN_INFO.from_bytes(ctx.get_property(driver.CP_CARD_PIN_INFO, flags=ROLE_PUK))
    assert puk.pin_purpose == driver.SECRET_PURPOSE.UnblockOnlyPin
    user = PIN_INFO.from_bytes(ctx.get_property(driver.CP_CARD_PIN_INFO, flags=1))
    assert user.unblock_permission == 1 << ROLE_PUK
    admin = PIN_INFO.from_bytes(ctx.get_property(driver.CP_CARD_PIN_INFO, flags=2))
    assert admin.pin_type == driver.SECRET_TYPE.ChallengeResponsePinType


# --- PINs and the admin ----------------------------------------------------------------------


def test_user_pin_is_the_piv_pin(ctx: CardContext) -> None:
    with pytest.raises(SCARD_W_WRONG_CHV) as err:
        ctx.authenticate_pin("user", b"654321")
    assert err.value.attempts_remaining == 2
    ctx.authenticate_pin("user", PIN)
    assert ctx.card.pin_tries_left(1) == 3
    ctx.change_authenticator("user", PIN, b"11223344", 0, driver.CARD_AUTHENTICATE_PIN_PIN)
    ctx.deauthenticate("user")
    ctx.authenticate_pin("user", b"11223344")


def test_a_pin_longer_than_the_card_takes_is_a_wrong_pin_that_costs_no_try(
    ctx: CardContext,
) -> None:
    # PIV takes at most 8 bytes: the driver answers as for a wrong PIN (spec: SCARD_W_WRONG_CHV
    # with the tries left) without sending it, so the counter does not move.
    with pytest.raises(SCARD_W_WRONG_CHV) as err:
        ctx.authenticate_pin("user", b"123456789")
    assert err.value.attempts_remaining == 3
    with pytest.raises(SCARD_W_WRONG_CHV) as err:
        ctx.authenticate_ex(1, 0, PIN + b"000")
    assert err.value.attempts_remaining == 3
    assert ctx.card.pin_tries_left(1) == 3
    assert ctx.authenticated == 0
    ctx.authenticate_pin("user", PIN)
    for left in (2, 1, 0):
        with pytest.raises(SCARD_W_WRONG_CHV) as err:
            ctx.authenticate_pin("user", b"000000")
        assert err.value.attempts_remaining == left
    with pytest.raises(SCARD_W_CHV_BLOCKED) as blocked:
        ctx.authenticate_pin("user", b"123456789")
    assert blocked.value.attempts_remaining == 0


def test_puk_unblocks_the_blocked_pin(ctx: CardContext) -> None:
    for _ in range(3):
        with pytest.raises(SCARD_W_WRONG_CHV):
            ctx.authenticate_pin("user", b"000000")
    with pytest.raises(SCARD_W_WRONG_CHV) as err:  # a wrong PUK spends a PUK try
        ctx.unblock_pin("user", b"87654321", b"246810", 0, driver.CARD_AUTHENTICATE_PIN_PIN)
    assert err.value.attempts_remaining == 2
    ctx.unblock_pin("user", PUK, b"246810", 0, driver.CARD_AUTHENTICATE_PIN_PIN)
    ctx.authenticate_pin("user", b"246810")


def test_admin_is_the_management_key_by_challenge_response(ctx: CardContext) -> None:
    challenge = ctx.get_challenge()
    assert len(challenge) == 8  # 3DES block: the emulator's default management key
    with pytest.raises(SCARD_W_WRONG_CHV):
        ctx.authenticate_challenge(admin_response(bytes(24), challenge))
    ctx.authenticate_challenge(admin_response(MGM, ctx.get_challenge()))
    assert ctx.authenticated & 0b100
    new = bytes(range(1, 25))
    ctx.change_authenticator(
        "admin", admin_response(MGM, ctx.get_challenge()), new, 0,
        driver.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE,
    )  # fmt: skip
    ctx.authenticate_challenge(admin_response(new, ctx.get_challenge()))


# --- enrollment --------------------------------------------------------------------------------


def test_enrollment_as_the_base_csp_does_it(rsa_card: CardOS) -> None:
    with open_context(rsa_card) as ctx:
        cmap = parse_cmapfile(ctx.read_file("mscp", "cmapfile"))
        assert cmap[0].valid and cmap[0].default and cmap[0].key_exchange_key_size_bits == 2048
        assert cmap[0].guid.endswith("5fc105")  # inbox-style name until the CSP names it
        info = ctx.get_container_info(0)
        public = blobs.parse_container_public_blob(info.key_ex_public_key or b"")
        assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
        # The CSP's own name for the container, then the certificate (minidriver.md 5.6).
        ctx.authenticate_pin("user", PIN)
        record = CONTAINER_MAP_RECORD("{7F0A0000-1111-2222-3333-444455556666}", 3, 0, 0, 2048)
        ctx.write_file("mscp", "cmapfile", 0, build_cmapfile([record]))
        ctx.create_file("mscp", "kxc00", 0, driver.EveryoneReadUserWriteAc)
        assert ctx.read_file("mscp", "kxc00") == b""
        ctx.write_file("mscp", "kxc00", 0, b"\x30\x03\x02\x01\x00")
        assert "kxc00" in ctx.enum_files("mscp")
        assert parse_cmapfile(ctx.read_file("mscp", "cmapfile"))[0].guid == record.guid
        digest = hashlib.sha256(b"document").digest()
        sig = sign(ctx, 0, driver.AT_KEYEXCHANGE, digest)[::-1]
        public.verify(sig, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    # What the card keeps: Yubico's map names the container, the certificate is a PIV object.
    with open_context(rsa_card) as ctx:
        assert parse_cmapfile(ctx.read_file("mscp", "cmapfile"))[0].guid == record.guid
        assert ctx.read_file("mscp", "kxc00") == b"\x30\x03\x02\x01\x00"
        assert isinstance(ctx.card, PivCardModule)
        mscmap = parse_mscmap(ctx.card._object(0x5FFF10) or b"")
        assert [(r.name, r.slot, r.key_spec, r.key_size_bits) for r in mscmap] == [
            (record.guid, 0x9A, 1, 2048)
        ]
        assert mscmap[0].cert_fingerprint == hashlib.sha256(b"\x30\x03\x02\x01\x00").digest()[:20]


def test_rsa_decrypt_pkcs1_and_oaep(rsa_card: CardOS) -> None:
    with open_context(rsa_card) as ctx:
        public = blobs.parse_container_public_blob(
            ctx.get_container_info(0).key_ex_public_key or b""
        )
        assert isinstance(public, rsa.RSAPublicKey)
        ctx.authenticate_pin("user", PIN)
        ct = public.encrypt(b"session key", padding.PKCS1v15())
        out = ctx.rsa_decrypt(
            CARD_RSA_DECRYPT_INFO(
                key_spec=driver.AT_KEYEXCHANGE,
                data=ct[::-1],
                padding_type=driver.CARD_PADDING_PKCS1,
            )
        )
        assert (out.data or b"")[::-1] == b"session key"


def test_without_the_pin_nothing_is_created(ctx: CardContext) -> None:
    with pytest.raises(SCARD_W_SECURITY_VIOLATION):
        ctx.create_container(0, KEY_GEN, driver.AT_KEYEXCHANGE, 1024, None)


def test_ecdsa_in_9c_signs_twice_despite_pin_always(ctx: CardContext) -> None:
    ctx.authenticate_pin("user", PIN)
    ctx.create_container(1, KEY_GEN, driver.AT_ECDSA_P256, 0, None)
    info = ctx.get_container_info(1)
    public, _ = blobs.parse_ecc_public_blob(info.sig_public_key or b"")
    assert ctx.enum_files("mscp") == ["cmapfile"]
    for text in (b"one", b"two"):
        digest = hashlib.sha256(text).digest()
        rs = sign(ctx, 1, driver.AT_ECDSA_P256, digest)
        der = encode_dss_signature(int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:], "big"))
        public.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def test_ecdh_in_9d(ctx: CardContext) -> None:
    ctx.authenticate_pin("user", PIN)
    ctx.create_container(2, KEY_GEN, driver.AT_ECDHE_P256, 0, None)
    card_key, _ = blobs.parse_ecc_public_blob(ctx.get_container_info(2).key_ex_public_key or b"")
    peer = ec.generate_private_key(ec.SECP256R1())
    agreement = ctx.construct_dh_agreement(
        CARD_DH_AGREEMENT_INFO(
            container_index=2, public_key=blobs.ecc_public_blob(peer.public_key(), ecdsa=False)
        )
    )
    assert ctx._agreements[agreement.secret_agreement_index][1] == peer.exchange(
        ec.ECDH(), card_key
    )


def test_import_and_delete_container(ctx: CardContext) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    ctx.authenticate_pin("user", PIN)
    ctx.create_container(3, driver.CARD_CREATE_CONTAINER_KEY_IMPORT, driver.AT_ECDSA_P256, 0,
                         blobs.ecc_private_blob(key, ecdsa=True))  # fmt: skip
    digest = hashlib.sha256(b"imported").digest()
    rs = sign(ctx, 3, driver.AT_ECDSA_P256, digest)
    der = encode_dss_signature(int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:], "big"))
    key.public_key().verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    ctx.delete_container(3)
    with pytest.raises(SCARD_E_NO_KEY_CONTAINER):
        ctx.get_container_info(3)
    assert ctx.card.transport.transceive(0x00, 0xF7, 0x00, 0x9E, le=0).sw == 0x6A88  # key gone


def test_other_files_have_no_piv_object(ctx: CardContext) -> None:
    ctx.authenticate_pin("user", PIN)
    with pytest.raises(SCARD_E_UNSUPPORTED_FEATURE):
        ctx.create_file("mscp", "notes", 0, driver.EveryoneReadUserWriteAc)
    with pytest.raises(SCARD_E_UNSUPPORTED_FEATURE):
        ctx.create_directory("app", driver.UserCreateDeleteDirAc)


def test_msroots_round_trip(ctx: CardContext) -> None:
    ctx.authenticate_pin("user", PIN)
    ctx.create_file("mscp", "msroots", 0, driver.EveryoneReadUserWriteAc)
    roots = bytes(range(256)) * 16  # 4 KB: two PIV objects
    ctx.write_file("mscp", "msroots", 0, roots)
    assert ctx.read_file("mscp", "msroots") == roots
    ctx.delete_file("mscp", "msroots")
    assert "msroots" not in ctx.enum_files("mscp")


# --- management key conventions ------------------------------------------------------------


def protect_management_key(card: CardOS, key: bytes) -> None:
    """What `ykman piv access change-management-key --protect` leaves on the card."""
    with open_context(card) as ctx:
        ctx.change_authenticator(
            "admin", admin_response(MGM, ctx.get_challenge()), key, 0,
            driver.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE,
        )  # fmt: skip
        ctx.authenticate_pin("user", PIN)
        module = ctx.card
        assert isinstance(module, PivCardModule)
        module._put(0x5FFF00, bytes.fromhex("8003810102"), "admin data")
        module._put(0x5FC109, bytes.fromhex("881A8918") + key, "protected data")


def test_pin_protected_management_key_enables_enrollment() -> None:
    card = make_card("piv", seed=3)
    protect_management_key(card, bytes(range(100, 124)))
    with open_context(card) as ctx:
        ctx.authenticate_pin("user", PIN)
        ctx.create_container(2, KEY_GEN, driver.AT_ECDHE_P256, 0, None)
        assert ctx.get_container_info(2).key_ex_public_key


def test_a_personalised_management_key_needs_the_admin() -> None:
    card = make_card("piv", seed=4)
    with open_context(card) as ctx:
        ctx.change_authenticator(
            "admin", admin_response(MGM, ctx.get_challenge()), bytes(range(24)), 0,
            driver.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE,
        )  # fmt: skip
    with open_context(card) as ctx:
        ctx.authenticate_pin("user", PIN)
        with pytest.raises(SCARD_W_SECURITY_VIOLATION):
            ctx.create_container(1, KEY_GEN, driver.AT_ECDSA_P256, 0, None)
        ctx.authenticate_challenge(admin_response(bytes(range(24)), ctx.get_challenge()))
        ctx.create_container(1, KEY_GEN, driver.AT_ECDSA_P256, 0, None)


# --- freshness ---------------------------------------------------------------------------------


def test_cardcf_follows_the_content_and_reads_back_what_the_csp_wrote() -> None:
    card = make_card("piv", seed=5)
    with open_context(card) as ctx:
        first = ctx.read_file(None, "cardcf")
        assert ctx.read_file(None, "cardcf") == first  # nothing changed, nothing moves
        ctx.authenticate_pin("user", PIN)
        ctx.write_file(None, "cardcf", 0, b"\x00\x07\x10\x00\x20\x00")
        assert ctx.read_file(None, "cardcf") == b"\x00\x07\x10\x00\x20\x00"


def test_a_change_by_another_client_moves_cardcf_and_the_view_follows(rsa_card: CardOS) -> None:
    with open_context(rsa_card) as watcher:
        before = watcher.read_file(None, "cardcf")
        assert watcher.get_container_info(0).key_ex_public_key
        with open_context(rsa_card) as other:  # another process enrolls a second key
            other.authenticate_pin("user", PIN)
            other.create_container(1, KEY_GEN, driver.AT_ECDSA_P256, 0, None)
        after = watcher.read_file(None, "cardcf")
        assert after[2:6] != before[2:6]  # containers and files counters moved
        assert watcher.get_container_info(1).sig_public_key  # not served from a stale cache
        assert watcher.read_file(None, "cardcf") == after
