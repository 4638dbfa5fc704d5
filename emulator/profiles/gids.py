"""The GIDS cards: `gids-blank` (creation state) and `gids` (initialised, empty).

`gids-blank` is GidsApplet freshly installed: no files, no PIN, every access rule
open, waiting for `gids-tool --initialize` (or Windows' profile) to personalise it.

`gids` is that card after `gids-tool --initialize --pin 123456 --admin-key` with 24
zero bytes: the factory state is made by sending the very APDU sequence gids-tool
sends (gids.md 3.5) to a blank card, so both are the same by construction. It has
a random 16-byte cardid, an empty cmapfile, a zero cardcf and cardapps "mscp".

GIDS uses short APDUs only (EF.ATR byte 3 = 80): no extended length, one channel.
The application is selected at power-on, as Windows' minidriver expects after its
PIV probe fails.
"""

from __future__ import annotations

from ..apps.gids import GidsApplication
from ..apps.gids.constants import (
    ADMIN_KEY_REFERENCE,
    CARDAPPS_RECORD,
    CARDCF_SIZE,
    CARDID_SIZE,
    GIDS_AID_TRUNCATED,
    Ef,
    Tag,
)
from ..apps.gids.formats import DEFAULT_MASTERFILE, encode_masterfile
from ..core import tlv
from ..core.atr import Capabilities
from ..core.card import CardOS
from ..core.rng import RandomSource

CARD_NAME = "softcard"
USER_PIN = b"123456"
ADMIN_KEY = bytes(24)
# OpenSC sends these key check value bytes whatever the key is; the card ignores them.
GIDS_TOOL_KCV = bytes.fromhex("B073DC")

# The DO EFs gids-tool creates: FID -> access rule (8C value: AM 03, PUT SCB, GET SCB).
PROFILE_EFS: tuple[tuple[int, bytes], ...] = (
    (Ef.USER_CREATE_DELETE_DIR, bytes.fromhex("033000")),
    (Ef.EVERYONE_READ_USER_WRITE, bytes.fromhex("033000")),
    (Ef.USER_WRITE_EXECUTE, bytes.fromhex("0330FF")),
    (Ef.EVERYONE_READ_ADMIN_WRITE, bytes.fromhex("032000")),
    (Ef.USER_READ_WRITE, bytes.fromhex("033030")),
    (Ef.ADMIN_READ_WRITE, bytes.fromhex("032020")),
)
ADMIN_KEY_FCP = bytes.fromhex("621A 820118 8302B080 8C04870020FF A50B A409 800102 830180 9501C0")


def _capabilities() -> Capabilities:
    return Capabilities(command_chaining=True, extended_length=False, logical_channels=1)


def build_blank(rng: RandomSource) -> CardOS:
    app = GidsApplication()
    return CardOS(
        [app], name=CARD_NAME, default_application=app, capabilities=_capabilities(), rng=rng
    )


def apdu(cla: int, ins: int, p1: int, p2: int, data: bytes = b"") -> bytes:
    return bytes((cla, ins, p1, p2)) + (bytes((len(data),)) + data if data else b"")


def initialize_sequence(pin: bytes, admin_key: bytes, cardid: bytes) -> list[bytes]:
    """The APDUs `gids-tool --initialize` sends after its checks (gids.md 3.5)."""
    out = [
        apdu(0, 0xA4, 0x04, 0x0C, GIDS_AID_TRUNCATED),
        apdu(0, 0x24, 0x01, 0x80, pin),
    ]
    for fid, rule in PROFILE_EFS:
        fcp = tlv.encode(
            0x62,
            tlv.encode(0x82, b"\x39")
            + tlv.encode(0x83, fid.to_bytes(2, "big"))
            + tlv.encode(0x8C, rule),
        )
        out += [apdu(0, 0xE0, 0, 0, fcp), apdu(0, 0x44, 0, 0)]
    key_template = tlv.encode(
        0x70,
        tlv.encode(0x84, bytes((ADMIN_KEY_REFERENCE,)))
        + tlv.encode(0xA5, tlv.encode(0x87, admin_key) + tlv.encode(0x88, GIDS_TOOL_KCV)),
    )
    out += [apdu(0, 0xE0, 0, 0, ADMIN_KEY_FCP), apdu(0, 0x44, 0, 0)]
    out.append(apdu(0, 0xDB, 0x3F, 0xFF, key_template))
    put = [
        (Ef.USER_CREATE_DELETE_DIR, Tag.MASTERFILE, encode_masterfile(DEFAULT_MASTERFILE)),
        (Ef.EVERYONE_READ_USER_WRITE, Tag.CARDAPPS, CARDAPPS_RECORD),
        (Ef.EVERYONE_READ_USER_WRITE, Tag.CARDCF, bytes(CARDCF_SIZE)),
        (Ef.EVERYONE_READ_USER_WRITE, Tag.CMAPFILE, b""),
        (Ef.EVERYONE_READ_ADMIN_WRITE, Tag.CARDID, cardid),
    ]
    for ef, tag, value in put:
        out.append(apdu(0, 0xDB, ef >> 8, ef & 0xFF, tlv.encode(tag, value)))
    out += [apdu(0, 0xA4, 0x00, 0x0C, b"\x3f\xff"), apdu(0, 0x44, 0, 0)]
    return out


def initialize(card: CardOS, pin: bytes, admin_key: bytes, cardid: bytes) -> None:
    """Personalise a blank card as gids-tool does; every step must answer 9000."""
    for command in initialize_sequence(pin, admin_key, cardid):
        response = card.transmit(command)
        if response[-2:] != b"\x90\x00":
            raise RuntimeError(
                f"GIDS initialisation failed at {command[:4].hex()}: {response.hex()}"
            )
    card.reset()  # personalisation leaves no session behind


def build(rng: RandomSource) -> CardOS:
    card = build_blank(rng)
    initialize(card, USER_PIN, ADMIN_KEY, rng.token_bytes(CARDID_SIZE))
    return card
