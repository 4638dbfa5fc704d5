"""The GIDS card module against the emulated GIDS card, in process (EmbeddedConnection)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from importlib import import_module

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

import driver
from driver import blobs, errors
from driver.cardmodules.gids import admin_response
from driver.cardmodules.gids.tables import parse_keymap, parse_masterfile
from driver.context import CardContext
from driver.csp import Csp
from driver.structures import CARD_CACHE_FILE_FORMAT, CARD_RSA_DECRYPT_INFO, CARD_SIGNING_INFO
from emulator import make_card
from emulator.transports.embedded import EmbeddedConnection
from wire import minidriver as k
from wire import tlv

PROFILE = import_module("emulator.profiles.gids")
PIN: bytes = PROFILE.USER_PIN
ADMIN_KEY: bytes = PROFILE.ADMIN_KEY


@pytest.fixture
def ctx() -> Iterator[CardContext]:
    conn = EmbeddedConnection(make_card("gids", seed=7))
    conn.connect()
    with driver.acquire_context(connection=conn) as context:
        yield context


def _do(ctx: CardContext, ef: int, tag: int) -> bytes:
    from driver.cardmodules.gids import commands

    assert ctx.transport is not None
    raw = commands.get_data(ctx.transport, ef, tag)
    return tlv.parse_one(raw, tag).value


def test_the_default_file_system(ctx: CardContext) -> None:
    assert ctx.card.name == "gids"
    assert sorted(ctx.enum_files(None)) == ["cardapps", "cardcf", "cardid"]
    assert ctx.read_file(None, "cardapps") == b"mscp\0\0\0\0"
    assert len(ctx.read_file(None, "cardid")) == 16
    assert ctx.get_file_info("mscp", "cmapfile").file_size == 0


def test_keygen_sign_decrypt_and_the_card_tables(ctx: CardContext) -> None:
    ctx.authenticate_pin("user", PIN)
    index = Csp(ctx).enroll(k.AT_KEYEXCHANGE, 1024)
    keymap = parse_keymap(_do(ctx, 0xA000, 0xDF20))
    assert (
        keymap[index].present and keymap[index].key_file == 0xB081 and keymap[index].algorithm == 6
    )
    public = blobs.parse_rsa_public_blob(ctx.get_container_info(index).key_ex_public_key or b"")
    digest = hashlib.sha256(b"x").digest()
    sig = ctx.sign_data(CARD_SIGNING_INFO(2, index, k.AT_KEYEXCHANGE, 0, k.CALG_SHA_256, digest))
    public.verify(
        (sig.signed_data or b"")[::-1], digest, padding.PKCS1v15(), Prehashed(hashes.SHA256())
    )
    ct = public.encrypt(b"abc", padding.PKCS1v15())
    out = ctx.rsa_decrypt(
        CARD_RSA_DECRYPT_INFO(2, index, k.AT_KEYEXCHANGE, ct[::-1], None, k.CARD_PADDING_PKCS1)
    )
    assert (out.data or b"")[::-1] == b"abc"
    Csp(ctx).put_certificate(index, k.AT_KEYEXCHANGE, b"\x30\x82\x01\x00" + bytes(256))
    records = parse_masterfile(_do(ctx, 0xA000, 0xDF1F))
    cert = next(r for r in records if r.name == "kxc00")
    assert (cert.directory, cert.ef, cert.do_tag) == ("mscp", 0xA010, 0xDF24)
    cf = CARD_CACHE_FILE_FORMAT.from_bytes(ctx.read_file(None, "cardcf"))
    assert cf.containers_freshness == 1 and cf.files_freshness >= 3


def test_admin_authentication(ctx: CardContext) -> None:
    with pytest.raises(errors.SCARD_W_WRONG_CHV):
        ctx.authenticate_challenge(admin_response(ADMIN_KEY, b"\0" * 8))
    ctx.authenticate_challenge(admin_response(ADMIN_KEY, ctx.get_challenge()))
    assert ctx.authenticated == 4
    ctx.deauthenticate("admin")
    assert ctx.authenticated == 0


def test_a_blank_card_has_no_file_system_yet() -> None:
    conn = EmbeddedConnection(make_card("gids-blank"))
    conn.connect()
    with driver.acquire_context(connection=conn) as blank:
        assert blank.card.name == "gids"
        with pytest.raises(errors.SCARD_E_FILE_NOT_FOUND):
            blank.read_file(None, "cardid")
        with pytest.raises(errors.SCARD_E_FILE_NOT_FOUND):
            blank.enum_files(None)
        blank.authenticated = 2  # a blank card checks no access rule
        with pytest.raises(errors.SCARD_E_UNSUPPORTED_FEATURE, match="gids-tool --initialize"):
            blank.create_file(None, "cardid", 0, k.EveryoneReadAdminWriteAc)
