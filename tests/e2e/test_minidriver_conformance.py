"""Minidriver conformance over the real stack: pyscard -> pcscd -> vpcd -> the emulated GIDS
card and the emulated PIV card.

Includes the checks OpenSC's minidriver test applies (cardid 16 bytes, cardcf 6, cardapps 8,
cache mode, PIN list, authentication decrements and restores the tries, a wrong PIN gives
SCARD_W_WRONG_CHV) and the catalogue of minidriver.md 7.2 where the cards can show it. Every
test runs on every card kind of tests/minidriver_expectations.py; where the kinds differ, the
test asserts that table's value.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

import driver
from driver import blobs, errors
from driver.context import CardContext
from driver.structures import (
    BCRYPT_OAEP_PADDING_INFO,
    BCRYPT_PKCS1_PADDING_INFO,
    BCRYPT_PSS_PADDING_INFO,
    CARD_CACHE_FILE_FORMAT,
    CARD_CAPABILITIES,
    CARD_DERIVE_KEY,
    CARD_DH_AGREEMENT_INFO,
    CARD_FILE_INFO,
    CARD_FREE_SPACE_INFO,
    CARD_KEY_SIZES,
    CARD_RSA_DECRYPT_INFO,
    CARD_SIGNING_INFO,
    PIN_INFO,
    NCryptBuffer,
    NCryptBufferDesc,
)
from tests.minidriver_expectations import CARD_KINDS, CardKind
from wire import minidriver as k

pytestmark = pytest.mark.e2e

PIN = b"123456"  # the factory user PIN of both kinds (asserted per kind by `card.pin`)
IMPORT_KEY = rsa.generate_private_key(65537, 2048)


@pytest.fixture(params=sorted(CARD_KINDS))
def card(request: pytest.FixtureRequest) -> CardKind:
    """The card kind under test and what the suite expects of it."""
    return CARD_KINDS[request.param]


@pytest.fixture
def ctx(serve_card: Any, card: CardKind) -> Iterator[CardContext]:
    served = serve_card(card.kind)
    with driver.acquire_context(connection=served.connect()) as context:
        yield context


def _admin(ctx: CardContext, card: CardKind) -> None:
    ctx.authenticate_challenge(card.admin_response(card.admin_key, ctx.get_challenge()))


def test_acquire_and_delete_context(serve_card: Any, card: CardKind) -> None:
    served = serve_card(card.kind)
    with driver.acquire_context(reader=served.reader, version=8) as ctx:
        # The module is the one whose application the card answers (no configuration).
        assert ctx.version == 7 and ctx.card.name == card.kind
        assert card.pin == PIN
        assert len(ctx.read_file(None, "cardid")) == 16
    with pytest.raises(errors.SCARD_E_INVALID_HANDLE):
        ctx.read_file(None, "cardid")
    with pytest.raises(errors.ERROR_REVISION_MISMATCH):
        driver.acquire_context(reader=served.reader, version=3)
    with driver.acquire_context(reader=served.reader, version=4) as old:
        assert old.version == 4
        with pytest.raises(errors.ERROR_CALL_NOT_IMPLEMENTED):
            old.get_property(k.CP_CARD_GUID)
    with pytest.raises(errors.SCARD_E_UNKNOWN_READER):
        driver.acquire_context(reader="no such reader")
    # two contexts on one card: deleting one leaves the other working
    a = driver.acquire_context(connection=served.connect())
    b = driver.acquire_context(connection=served.connect())
    a.delete_context()
    assert len(b.read_file(None, "cardcf")) == 6
    b.delete_context()


def test_acquire_refuses_other_cards(serve_card: Any) -> None:
    served = serve_card("iso")
    with pytest.raises(errors.SCARD_E_UNKNOWN_CARD):
        driver.acquire_context(reader=served.reader)


def test_card_files_like_the_opensc_minidriver_test(ctx: CardContext) -> None:
    assert len(ctx.read_file(None, "cardid")) == 16
    assert len(ctx.read_file(None, "cardcf")) == 6
    assert ctx.read_file(None, "cardapps") == b"mscp\0\0\0\0"
    assert ctx.read_file("mscp", "cmapfile") == b""
    assert sorted(ctx.enum_files(None)) == ["cardapps", "cardcf", "cardid"]
    assert ctx.enum_files("mscp") == ["cmapfile"]
    assert ctx.get_property(k.CP_CARD_CACHE_MODE) == k.CP_CACHE_MODE_GLOBAL_CACHE.to_bytes(
        4, "little"
    )
    assert ctx.get_file_info(None, "cardid") == CARD_FILE_INFO(1, 16, k.EveryoneReadAdminWriteAc)
    assert ctx.get_file_info(None, "cardcf").access_condition == k.EveryoneReadUserWriteAc
    with pytest.raises(errors.SCARD_E_FILE_NOT_FOUND):
        ctx.read_file("mscp", "kxc00")
    with pytest.raises(errors.SCARD_E_DIR_NOT_FOUND):
        ctx.read_file("nodir", "cardid")
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.read_file(None, "ninechars")
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.enum_files(None, 1)


def test_card_properties(ctx: CardContext, card: CardKind) -> None:
    assert ctx.get_property(k.CP_CARD_GUID) == ctx.read_file(None, "cardid")
    assert ctx.get_property(k.CP_CARD_SERIAL_NO) == ctx.read_file(None, "cardid")
    caps = CARD_CAPABILITIES.from_bytes(ctx.get_property(k.CP_CARD_CAPABILITIES))
    assert caps == ctx.query_capabilities() and caps.key_gen
    assert caps.certificate_compression == card.certificate_compression
    sizes = CARD_KEY_SIZES.from_bytes(ctx.get_property(k.CP_CARD_KEYSIZES, flags=k.AT_KEYEXCHANGE))
    assert (
        sizes == ctx.query_key_sizes(k.AT_KEYEXCHANGE) == CARD_KEY_SIZES(1, 1024, 2048, 4096, 1024)
    )
    free = CARD_FREE_SPACE_INFO.from_bytes(ctx.get_property(k.CP_CARD_FREE_SPACE))
    assert free == ctx.query_free_space()
    assert free.key_containers_available == free.max_key_containers == card.max_containers
    assert ctx.get_property(k.CP_CARD_LIST_PINS) == card.pin_set.to_bytes(4, "little")
    user = PIN_INFO.from_bytes(ctx.get_property(k.CP_CARD_PIN_INFO, flags=k.ROLE_USER))
    assert (user.pin_type, user.change_permission, user.unblock_permission) == (
        0,
        0x02,
        card.user_unblock_permission,
    )
    admin = PIN_INFO.from_bytes(ctx.get_property(k.CP_CARD_PIN_INFO, flags=k.ROLE_ADMIN))
    assert admin.pin_type == k.SECRET_TYPE.ChallengeResponsePinType
    assert ctx.get_property(k.CP_CARD_READ_ONLY) == b"\0" * 4
    assert ctx.get_property(k.CP_SUPPORTS_WIN_X509_ENROLLMENT) == b"\1\0\0\0"
    assert ctx.get_property(k.CP_CARD_PIN_STRENGTH_VERIFY, flags=k.ROLE_USER) == b"\1\0\0\0"
    assert ctx.get_property(k.CP_KEY_IMPORT_SUPPORT) == b"\0" * 4
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.get_property(k.CP_CARD_PIN_INFO, flags=card.absent_pin_id)
    with pytest.raises(errors.ERROR_INSUFFICIENT_BUFFER):
        ctx.get_property(k.CP_CARD_GUID, cb_data=15)
    for spec, bits in ((k.AT_ECDSA_P256, 256), (k.AT_ECDSA_P384, 384), (k.AT_ECDHE_P521, 521)):
        if bits in card.ec_curves:
            assert ctx.query_key_sizes(spec) == CARD_KEY_SIZES(1, bits, bits, bits, 1)
        else:
            with pytest.raises(errors.SCARD_E_UNSUPPORTED_FEATURE):
                ctx.query_key_sizes(spec)
    ctx.set_property(k.CP_PARENT_WINDOW, None)
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.set_property(k.CP_CARD_GUID, bytes(16))
    _admin(ctx, card)
    guid = os.urandom(16)
    ctx.set_property(k.CP_CARD_GUID, guid)
    assert ctx.read_file(None, "cardid") == guid


def test_pin_checks_like_the_opensc_minidriver_test(ctx: CardContext) -> None:
    tries = ctx.card.pin_tries_left(k.ROLE_USER)
    assert tries is not None and tries > 1
    with pytest.raises(errors.SCARD_W_WRONG_CHV) as wrong:
        ctx.authenticate_pin("user", b"00000000")
    assert wrong.value.attempts_remaining == tries - 1
    assert ctx.card.pin_tries_left(k.ROLE_USER) == tries - 1
    ctx.authenticate_pin("user", PIN)
    assert ctx.card.pin_tries_left(k.ROLE_USER) == tries  # restored
    assert ctx.get_property(k.CP_CARD_AUTHENTICATED_STATE) == b"\2\0\0\0"
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.authenticate_pin("anonymous", PIN)
    ctx.deauthenticate("user")
    assert ctx.get_property(k.CP_CARD_AUTHENTICATED_STATE) == b"\0" * 4
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.write_file("mscp", "cmapfile", 0, b"")  # the card says so after the logout
    ctx.authenticate_ex(k.ROLE_USER, 0, PIN)
    ctx.deauthenticate_ex(0x01)
    assert ctx.authenticated == 2
    ctx.deauthenticate_ex(k.PIN_SET_ALL_ROLES)
    assert ctx.authenticated == 0
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.deauthenticate_ex(0x100)


def _unblocker(ctx: CardContext, card: CardKind) -> tuple[int, bytes]:
    """The PIN id that unblocks the user PIN and its authentication data (a fresh admin
    response, or the PUK)."""
    if card.unblock_flag == k.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE:
        return k.ROLE_ADMIN, card.admin_response(card.admin_key, ctx.get_challenge())
    assert card.puk is not None
    return card.user_unblock_permission.bit_length() - 1, card.puk


def test_pin_blocks_and_the_unblocker_unblocks(ctx: CardContext, card: CardKind) -> None:
    tries = ctx.card.pin_tries_left(k.ROLE_USER) or 0
    for left in range(tries - 1, -1, -1):
        with pytest.raises(errors.SCARD_W_WRONG_CHV) as wrong:
            ctx.authenticate_pin("user", b"99999999")
        assert wrong.value.attempts_remaining == left
    with pytest.raises(errors.SCARD_W_CHV_BLOCKED):
        ctx.authenticate_pin("user", PIN)
    before = CARD_CACHE_FILE_FORMAT.from_bytes(ctx.read_file(None, "cardcf")).pins_freshness
    _, data = _unblocker(ctx, card)
    ctx.unblock_pin("user", data, b"24681357", 0, card.unblock_flag)
    assert ctx.authenticated == 0
    ctx.authenticate_pin("user", b"24681357")
    after = CARD_CACHE_FILE_FORMAT.from_bytes(ctx.read_file(None, "cardcf")).pins_freshness
    if card.counted_cardcf:
        assert after == before + 1 == 1
    else:
        assert after != before  # the PIN's state is part of the content cardcf comes from


def test_admin_challenge_response(ctx: CardContext, card: CardKind) -> None:
    c1, c2 = ctx.get_challenge(), ctx.get_challenge_ex(k.ROLE_ADMIN)
    assert len(c1) == len(c2) == 8 and c1 != c2
    wrong_key = bytes(range(24)) if bytes(range(24)) != card.admin_key else bytes(24)
    with pytest.raises(errors.SCARD_W_WRONG_CHV):
        ctx.authenticate_challenge(card.admin_response(wrong_key, c2))
    with pytest.raises(errors.SCARD_W_WRONG_CHV):  # the challenge is spent
        ctx.authenticate_challenge(card.admin_response(card.admin_key, c2))
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.get_challenge_ex(k.ROLE_USER)
    _admin(ctx, card)
    assert ctx.authenticated == 4


def test_unblock_argument_checks_and_unblock_ex(ctx: CardContext, card: CardKind) -> None:
    _admin(ctx, card)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.unblock_pin("user", None, b"12345678", 0, card.unblock_flag)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.unblock_pin("user", b"x" * 8, b"12345678", 9, card.unblock_flag)
    # The other flag names an authenticator that cannot unblock this card's user PIN.
    other = (
        k.CARD_AUTHENTICATE_PIN_PIN
        if card.unblock_flag == k.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE
        else k.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE
    )
    with pytest.raises(errors.SCARD_E_UNSUPPORTED_FEATURE):
        ctx.unblock_pin("user", PIN, b"12345678", 0, other)
    if card.unblock_flag != k.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE:
        with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):  # the admin may not unblock
            ctx.change_authenticator_ex(
                k.PIN_CHANGE_FLAG_UNBLOCK, k.ROLE_ADMIN, b"x" * 8, k.ROLE_USER, b"11223344", 0
            )
    unblocker, data = _unblocker(ctx, card)
    ctx.change_authenticator_ex(
        k.PIN_CHANGE_FLAG_UNBLOCK, unblocker, data, k.ROLE_USER, b"11223344", 0
    )
    assert ctx.authenticated == 0
    ctx.authenticate_pin("user", b"11223344")


def test_change_pin_and_admin_key(ctx: CardContext, card: CardKind) -> None:
    with pytest.raises(errors.SCARD_W_WRONG_CHV):
        ctx.change_authenticator("user", b"87654321", b"11112222", 0, k.CARD_AUTHENTICATE_PIN_PIN)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.change_authenticator("user", PIN, b"12", 0, k.CARD_AUTHENTICATE_PIN_PIN)
    ctx.change_authenticator("user", PIN, b"11112222", 0, k.CARD_AUTHENTICATE_PIN_PIN)
    assert ctx.authenticated & 2
    ctx.change_authenticator_ex(
        k.PIN_CHANGE_FLAG_CHANGEPIN, k.ROLE_USER, b"11112222", k.ROLE_USER, PIN, 0
    )
    ctx.authenticate_pin("user", PIN)
    new_key = os.urandom(24)
    response = card.admin_response(card.admin_key, ctx.get_challenge())
    ctx.change_authenticator(
        "admin", response, new_key, 0, k.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE
    )
    assert ctx.authenticated & 4
    ctx.authenticate_challenge(card.admin_response(new_key, ctx.get_challenge()))
    with pytest.raises(errors.SCARD_W_WRONG_CHV):
        ctx.authenticate_challenge(card.admin_response(card.admin_key, ctx.get_challenge()))


def test_authenticate_ex(ctx: CardContext, card: CardKind) -> None:
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.authenticate_ex(0, 0, PIN)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.authenticate_ex(8, 0, PIN)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.authenticate_ex(k.ROLE_USER, 0x1, PIN)
    with pytest.raises(errors.SCARD_E_UNSUPPORTED_FEATURE):
        ctx.authenticate_ex(k.ROLE_USER, k.CARD_AUTHENTICATE_GENERATE_SESSION_PIN, PIN)
    with pytest.raises(errors.SCARD_W_WRONG_CHV):
        ctx.authenticate_ex(k.ROLE_USER, k.CARD_PIN_SILENT_CONTEXT, b"00000000")
    assert ctx.authenticate_ex(k.ROLE_USER, k.CARD_PIN_SILENT_CONTEXT, PIN) is None
    ctx.authenticate_ex(
        k.ROLE_ADMIN, 0, card.admin_response(card.admin_key, ctx.get_challenge_ex(k.ROLE_ADMIN))
    )
    assert ctx.authenticated == 6
    if card.puk is not None:  # an unblock-only PIN cannot be used to authenticate
        with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
            ctx.authenticate_ex(_unblocker(ctx, card)[0], 0, card.puk)


def test_files_and_directories(ctx: CardContext, card: CardKind) -> None:
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.create_file("mscp", "msroots", 0, k.EveryoneReadUserWriteAc)
    ctx.authenticate_pin("user", PIN)
    before = CARD_CACHE_FILE_FORMAT.from_bytes(ctx.read_file(None, "cardcf"))
    ctx.create_file("mscp", "msroots", 0, k.EveryoneReadUserWriteAc)
    with pytest.raises(errors.ERROR_FILE_EXISTS):
        ctx.create_file("mscp", "MSROOTS", 0, k.EveryoneReadUserWriteAc)
    assert ctx.read_file("mscp", "msroots") == b""
    big = os.urandom(700)  # chained PUT DATA, GET RESPONSE on the way back
    ctx.write_file("mscp", "msroots", 0, big)
    assert ctx.read_file("mscp", "msroots") == big
    assert ctx.get_file_info("mscp", "msroots") == CARD_FILE_INFO(1, 700, k.EveryoneReadUserWriteAc)
    ctx.write_file("mscp", "msroots", 0, b"short")
    assert ctx.get_file_info("mscp", "msroots").file_size == 5
    after = CARD_CACHE_FILE_FORMAT.from_bytes(ctx.read_file(None, "cardcf"))
    if card.counted_cardcf:
        assert after.files_freshness == (before.files_freshness + 3) & 0xFFFF
    else:
        assert after.files_freshness != before.files_freshness
    if card.no_free_files is not None:
        _no_free_files(ctx, card.no_free_files, card)
        return
    # access conditions are the card's: a UserWriteExecuteAc file is never readable
    ctx.create_file(None, "secret", 0, k.UserWriteExecuteAc)
    ctx.write_file(None, "secret", 0, b"hidden")
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.read_file(None, "secret")
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.get_file_info(None, "secret")
    ctx.create_file(None, "private", 0, k.UserReadWriteAc)
    ctx.write_file(None, "private", 0, b"mine")
    assert ctx.read_file(None, "private") == b"mine"
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.delete_file(None, "cardid")  # admin-only
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.create_file(None, "adminf", 0, k.AdminReadWriteAc)  # the card needs the admin
    ctx.create_directory("app1", k.UserCreateDeleteDirAc)
    with pytest.raises(errors.ERROR_FILE_EXISTS):
        ctx.create_directory("app1", k.UserCreateDeleteDirAc)
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.create_directory("adm", k.AdminCreateDeleteDirAc)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.create_directory("bad", k.InvalidDirAc)
    ctx.create_file("app1", "data", 0, k.EveryoneReadUserWriteAc)
    with pytest.raises(errors.ERROR_DIR_NOT_EMPTY):
        ctx.delete_directory("app1")
    ctx.delete_file("app1", "data")
    with pytest.raises(errors.SCARD_E_FILE_NOT_FOUND):
        ctx.enum_files("app1")
    ctx.delete_directory("app1")
    with pytest.raises(errors.SCARD_E_DIR_NOT_FOUND):
        ctx.delete_directory("app1")
    for name in ("msroots", "secret", "private"):
        ctx.delete_file("mscp" if name == "msroots" else None, name)
    assert sorted(ctx.enum_files(None)) == ["cardapps", "cardcf", "cardid"]
    # the admin may do what the user may not
    _admin(ctx, card)
    ctx.create_directory("adm", k.AdminCreateDeleteDirAc)
    ctx.create_file("adm", "a", 0, k.AdminReadWriteAc)
    ctx.write_file("adm", "a", 0, b"admin data")
    assert ctx.read_file("adm", "a") == b"admin data"
    ctx.delete_file("adm", "a")
    ctx.delete_directory("adm")


def _no_free_files(ctx: CardContext, error: type[errors.MinidriverError], card: CardKind) -> None:
    """A card whose files are its objects: nothing else can be created, by the user or the
    admin; what exists keeps working."""
    for directory, name, ac in (
        (None, "secret", k.UserWriteExecuteAc),
        (None, "private", k.UserReadWriteAc),
        ("mscp", "notes", k.EveryoneReadUserWriteAc),
        ("mscp", "kxc05", k.UserReadWriteAc),  # a certificate file is everyone-readable
    ):
        with pytest.raises(error):
            ctx.create_file(directory, name, 0, ac)
    with pytest.raises(error):
        ctx.create_directory("app1", k.UserCreateDeleteDirAc)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.create_directory("bad", k.InvalidDirAc)  # the argument check comes first
    ctx.delete_file("mscp", "msroots")
    assert "msroots" not in ctx.enum_files("mscp")
    with pytest.raises(error):
        ctx.delete_file(None, "cardid")  # a synthesised file: no object to delete
    _admin(ctx, card)
    with pytest.raises(error):
        ctx.create_directory("adm", k.AdminCreateDeleteDirAc)
    with pytest.raises(error):
        ctx.delete_file(None, "cardcf")
    assert sorted(ctx.enum_files(None)) == ["cardapps", "cardcf", "cardid"]


def test_container_argument_checks_send_no_apdu(ctx: CardContext, card: CardKind) -> None:
    ctx.authenticate_pin("user", PIN)
    transport = ctx.transport
    assert transport is not None
    before = transport.apdu_count
    for flags, spec, size, exc in [
        (0, k.AT_KEYEXCHANGE, 2048, errors.SCARD_E_INVALID_PARAMETER),
        (3, k.AT_KEYEXCHANGE, 2048, errors.SCARD_E_INVALID_PARAMETER),
        (1, 0x99, 2048, errors.SCARD_E_INVALID_PARAMETER),
        (1, k.AT_ECDSA_P256, 384, errors.SCARD_E_INVALID_PARAMETER),
        (1, k.AT_KEYEXCHANGE, 1000, errors.SCARD_E_INVALID_PARAMETER),
    ]:
        with pytest.raises(exc):
            ctx.create_container(0, flags, spec, size, None)
    with pytest.raises(errors.SCARD_E_NO_KEY_CONTAINER):
        ctx.create_container(card.max_containers, 1, k.AT_KEYEXCHANGE, 2048, None)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.delete_container(0, 1)
    with pytest.raises(errors.ERROR_REVISION_MISMATCH):
        ctx.sign_data(CARD_SIGNING_INFO(3, 0, k.AT_KEYEXCHANGE, 0, 0, b"x" * 32))
    assert transport.apdu_count == before
    ctx.deauthenticate_ex(k.PIN_SET_ALL_ROLES)
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.create_container(0, 1, k.AT_KEYEXCHANGE, 2048, None)
    _admin(ctx, card)
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.create_container(0, 1, k.AT_KEYEXCHANGE, 2048, None)  # admin-only session


def test_import_sign_decrypt(ctx: CardContext) -> None:
    ctx.authenticate_pin("user", PIN)
    blob = blobs.rsa_private_blob(IMPORT_KEY)
    ctx.create_container_ex(
        0, k.CARD_CREATE_CONTAINER_KEY_IMPORT, k.AT_KEYEXCHANGE, len(blob), blob, k.ROLE_USER
    )
    info = ctx.get_container_info(0)
    assert info.key_ex_public_key == blobs.rsa_public_blob(IMPORT_KEY.public_key())
    pub = IMPORT_KEY.public_key()
    for calg, h in [
        (k.CALG_SHA1, hashes.SHA1()),
        (k.CALG_SHA_256, hashes.SHA256()),
        (k.CALG_SHA_384, hashes.SHA384()),
        (k.CALG_SHA_512, hashes.SHA512()),
        (k.CALG_MD5, hashes.MD5()),
    ]:
        digest = hashlib.new(h.name, b"to be signed").digest()
        out = ctx.sign_data(CARD_SIGNING_INFO(2, 0, k.AT_KEYEXCHANGE, 0, calg, digest))
        pub.verify((out.signed_data or b"")[::-1], digest, padding.PKCS1v15(), Prehashed(h))
    # no DigestInfo: aiHashAlg 0, and the 36-byte MD5||SHA-1 of CALG_SSL3_SHAMD5
    raw = os.urandom(36)
    for calg in (0, k.CALG_SSL3_SHAMD5):
        sig = (
            ctx.sign_data(CARD_SIGNING_INFO(2, 0, k.AT_KEYEXCHANGE, 0, calg, raw)).signed_data
            or b""
        )[::-1]
        recovered = pow(int.from_bytes(sig, "big"), 65537, pub.public_numbers().n).to_bytes(
            256, "big"
        )
        assert recovered.endswith(b"\0" + raw) and recovered.startswith(b"\0\1\xff")
    digest = hashlib.sha256(b"cng").digest()
    schemes: list[
        tuple[int, BCRYPT_PKCS1_PADDING_INFO | BCRYPT_PSS_PADDING_INFO, padding.AsymmetricPadding]
    ] = [
        (k.CARD_PADDING_PKCS1, BCRYPT_PKCS1_PADDING_INFO("SHA256"), padding.PKCS1v15()),
        (
            k.CARD_PADDING_PSS,
            BCRYPT_PSS_PADDING_INFO("SHA256", 32),
            padding.PSS(padding.MGF1(hashes.SHA256()), 32),
        ),
    ]
    for pad_type, pad_info, scheme in schemes:
        out = ctx.sign_data(
            CARD_SIGNING_INFO(
                2,
                0,
                k.AT_KEYEXCHANGE,
                k.CARD_PADDING_INFO_PRESENT,
                0,
                digest,
                None,
                pad_info,
                pad_type,
            )
        )
        pub.verify((out.signed_data or b"")[::-1], digest, scheme, Prehashed(hashes.SHA256()))
    size = ctx.sign_data(
        CARD_SIGNING_INFO(2, 0, k.AT_KEYEXCHANGE, k.CARD_BUFFER_SIZE_ONLY, k.CALG_SHA_256, digest)
    )
    assert size.signed_data is None and size.signed_data_length == 256
    with pytest.raises(errors.SCARD_E_UNSUPPORTED_FEATURE):
        ctx.sign_data(CARD_SIGNING_INFO(2, 0, k.AT_SIGNATURE, 0, k.CALG_SHA_256, digest))
    # decryption
    ct = pub.encrypt(b"PKCS#1 plaintext", padding.PKCS1v15())
    dec = ctx.rsa_decrypt(
        CARD_RSA_DECRYPT_INFO(2, 0, k.AT_KEYEXCHANGE, ct[::-1], None, k.CARD_PADDING_PKCS1)
    )
    assert (dec.data or b"")[::-1] == b"PKCS#1 plaintext"
    ct = pub.encrypt(
        b"OAEP on the card", padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)
    )
    dec = ctx.rsa_decrypt(
        CARD_RSA_DECRYPT_INFO(
            2, 0, k.AT_KEYEXCHANGE, ct[::-1], BCRYPT_OAEP_PADDING_INFO("SHA1"), k.CARD_PADDING_OAEP
        )
    )
    assert (dec.data or b"")[::-1] == b"OAEP on the card"
    ct = pub.encrypt(
        b"OAEP-256 label", padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), b"lbl")
    )
    oaep = BCRYPT_OAEP_PADDING_INFO("SHA256", b"lbl")
    dec = ctx.rsa_decrypt(
        CARD_RSA_DECRYPT_INFO(2, 0, k.AT_KEYEXCHANGE, ct[::-1], oaep, k.CARD_PADDING_OAEP)
    )
    assert (dec.data or b"")[::-1] == b"OAEP-256 label"
    dec = ctx.rsa_decrypt(
        CARD_RSA_DECRYPT_INFO(2, 0, k.AT_KEYEXCHANGE, ct[::-1], None, k.CARD_PADDING_NONE)
    )
    block = (dec.data or b"")[::-1]
    assert len(block) == 256 and block[0] == 0
    with pytest.raises(errors.ERROR_REVISION_MISMATCH):
        ctx.rsa_decrypt(CARD_RSA_DECRYPT_INFO(1, 0, k.AT_KEYEXCHANGE, ct[::-1]))
    with pytest.raises(errors.SCARD_E_NO_KEY_CONTAINER):
        ctx.rsa_decrypt(
            CARD_RSA_DECRYPT_INFO(2, 5, k.AT_KEYEXCHANGE, ct[::-1], None, k.CARD_PADDING_NONE)
        )
    ctx.deauthenticate_ex(k.PIN_SET_ALL_ROLES)
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.sign_data(CARD_SIGNING_INFO(2, 0, k.AT_KEYEXCHANGE, 0, k.CALG_SHA_256, digest))


def test_ecdsa_and_ecdh_agree_with_a_software_peer(ctx: CardContext, card: CardKind) -> None:
    ctx.authenticate_pin("user", PIN)
    ctx.create_container(1, k.CARD_CREATE_CONTAINER_KEY_GEN, k.AT_ECDSA_P256, 0, None)
    blob = ctx.get_container_info(1).sig_public_key or b""
    assert blob[:4] == b"ECS1" and len(blob) == 72
    public = blobs.parse_ecc_public_blob(blob)[0]
    digest = hashlib.sha256(b"ecdsa").digest()
    sig = ctx.sign_data(CARD_SIGNING_INFO(2, 1, k.AT_ECDSA_P256, 0, 0, digest)).signed_data or b""
    assert len(sig) == 64
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    public.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    ctx.create_container(2, k.CARD_CREATE_CONTAINER_KEY_GEN, k.AT_ECDHE_P384, 0, None)
    card_key = blobs.parse_ecc_public_blob(ctx.get_container_info(2).key_ex_public_key or b"")[0]
    peer = ec.generate_private_key(ec.SECP384R1())
    z = peer.exchange(ec.ECDH(), card_key)
    peer_blob = blobs.ecc_public_blob(peer.public_key(), ecdsa=False)
    with pytest.raises(errors.ERROR_REVISION_MISMATCH):
        ctx.construct_dh_agreement(CARD_DH_AGREEMENT_INFO(1, 2, 0, peer_blob))
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.construct_dh_agreement(CARD_DH_AGREEMENT_INFO(2, 1, 0, peer_blob))  # an ECDSA key
    index = ctx.construct_dh_agreement(
        CARD_DH_AGREEMENT_INFO(2, 2, 0, peer_blob)
    ).secret_agreement_index
    sha = NCryptBuffer.wide(k.KDF_HASH_ALGORITHM, "SHA256")
    out = ctx.derive_key(CARD_DERIVE_KEY(1, 0, "HASH", index, NCryptBufferDesc([sha])))
    assert out.derived_key == hashlib.sha256(z).digest()
    out = ctx.derive_key(CARD_DERIVE_KEY(2, 0, "TRUNCATE", index, None))
    assert out.derived_key == z[::-1]
    ctx.destroy_dh_agreement(index)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.destroy_dh_agreement(index)
    key = ec.generate_private_key(ec.SECP521R1())
    p521 = blobs.ecc_private_blob(key, True)
    if 521 not in card.ec_curves:
        with pytest.raises(errors.SCARD_E_UNSUPPORTED_FEATURE):
            ctx.create_container(3, k.CARD_CREATE_CONTAINER_KEY_IMPORT, k.AT_ECDSA_P521, 0, p521)
        return
    ctx.create_container(3, k.CARD_CREATE_CONTAINER_KEY_IMPORT, k.AT_ECDSA_P521, 0, p521)
    assert ctx.get_container_info(3).sig_public_key == blobs.ecc_public_blob(key.public_key(), True)
    digest = hashlib.sha512(b"p521").digest()
    sig = ctx.sign_data(CARD_SIGNING_INFO(2, 3, k.AT_ECDSA_P521, 0, 0, digest)).signed_data or b""
    assert len(sig) == 132
    der = encode_dss_signature(int.from_bytes(sig[:66], "big"), int.from_bytes(sig[66:], "big"))
    key.public_key().verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA512())))


def test_secure_key_injection_is_unsupported(ctx: CardContext) -> None:
    with pytest.raises(errors.SCARD_E_UNSUPPORTED_FEATURE):
        ctx.get_shared_key_handle()
    with pytest.raises(errors.SCARD_E_UNSUPPORTED_FEATURE):
        ctx.import_session_key(0, None, "KeyDataBlob", "AES", b"x", k.CARD_PADDING_PKCS1)
    with pytest.raises(errors.SCARD_E_UNSUPPORTED_FEATURE):
        ctx.process_encrypted_data(1, k.CSF_AUTHENTICATE, [b"x" * 16])
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.md_encrypt_data(1, k.CSF_AUTHENTICATE, b"x")  # no-card mode only
