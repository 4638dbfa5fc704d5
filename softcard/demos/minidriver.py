"""The minidriver flow: acquire a context on the GIDS card, show what `certutil -scinfo` shows,
create a key container on the card, sign, verify, decrypt - all through the minidriver API."""

from __future__ import annotations

import hashlib
from importlib import import_module

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from driver import MinidriverError, acquire_context, blobs
from driver.csp import Csp
from driver.structures import CARD_RSA_DECRYPT_INFO, CARD_SIGNING_INFO
from wire import minidriver as k

from .session import DemoSession


def _card_pin() -> bytes:
    """The user PIN the `gids` kind leaves the factory with."""
    profile = import_module("emulator.profiles.gids")
    pin = getattr(profile, "USER_PIN", getattr(profile, "PIN", b"12345678"))
    return pin if isinstance(pin, bytes) else str(pin).encode()


def run(s: DemoSession) -> None:
    s.say("softcard demo: the Windows smart card minidriver API, in Python, on the GIDS card")
    s.start_stack()
    s.start_card("gids")

    s.step(f"CardAcquireContext on reader '{s.reader}'")
    with acquire_context(reader=s.reader) as ctx:
        s.say(f"   card module {ctx.card.name!r}, CARD_DATA version {ctx.version}")

        s.step("Card information (CardGetProperty, CardQueryCapabilities, CardQueryKeySizes)")
        s.say(f"   CP_CARD_GUID        {ctx.get_property(k.CP_CARD_GUID).hex()}")
        caps = ctx.query_capabilities()
        s.say(
            f"   capabilities        key generation {bool(caps.key_gen)}, "
            f"card compresses certificates {bool(caps.certificate_compression)}"
        )
        sizes = ctx.query_key_sizes(k.AT_KEYEXCHANGE)
        s.say(f"   AT_KEYEXCHANGE      RSA {sizes.minimum_bitlen}..{sizes.maximum_bitlen} bits")
        free = ctx.query_free_space()
        s.say(
            f"   containers          {free.key_containers_available} of "
            f"{free.max_key_containers} free"
        )
        s.say(f"   files in /          {', '.join(ctx.enum_files(None))}")
        s.say(f"   files in /mscp      {', '.join(ctx.enum_files('mscp'))}")

        s.step("CardAuthenticatePin: a wrong PIN, then the right one")
        try:
            ctx.authenticate_pin("user", b"00000000")
        except MinidriverError as e:
            s.say(f"   {e}")
        ctx.authenticate_pin("user", _card_pin())
        s.say("   user PIN verified")

        s.step("Create a key container on the card (cmapfile record + CardCreateContainer KEY_GEN)")
        csp = Csp(ctx)
        index = csp.enroll(k.AT_KEYEXCHANGE, 2048)
        record = csp.read_cmapfile()[index]
        s.say(
            f"   container {index}: {record.guid}, flags 0x{record.flags:02X}, "
            f"{record.key_exchange_key_size_bits}-bit key-exchange key"
        )
        info = ctx.get_container_info(index)
        public = blobs.parse_rsa_public_blob(info.key_ex_public_key or b"")
        s.say(
            "   CONTAINER_INFO public key: PUBLICKEYBLOB of "
            f"{len(info.key_ex_public_key or b'')} bytes"
        )

        s.step("CardSignData: PKCS#1 v1.5 over a SHA-256 hash, verified with `cryptography`")
        message = b"signed through the minidriver API"
        digest = hashlib.sha256(message).digest()
        signed = ctx.sign_data(
            CARD_SIGNING_INFO(2, index, k.AT_KEYEXCHANGE, 0, k.CALG_SHA_256, digest)
        )
        signature = (signed.signed_data or b"")[::-1]  # CAPI order is little-endian
        public.verify(signature, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        s.say(f"   signature {signature[:16].hex()}... verifies")

        s.step("CardRSADecrypt: a message encrypted to the card's key, padding removed on the card")
        ciphertext = public.encrypt(b"hello from the host", padding.PKCS1v15())
        out = ctx.rsa_decrypt(
            CARD_RSA_DECRYPT_INFO(
                2, index, k.AT_KEYEXCHANGE, ciphertext[::-1], None, k.CARD_PADDING_PKCS1
            )
        )
        s.say(f"   plaintext {(out.data or b'')[::-1]!r}")

        s.step("CardDeauthenticateEx and CardDeleteContext")
        ctx.deauthenticate_ex(k.PIN_SET_ALL_ROLES)
        s.say("   logged out; the context closes when the block ends")
