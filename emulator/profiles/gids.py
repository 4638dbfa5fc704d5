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

from wire import tlv
from wire.apdu import CommandApdu
from wire.atr import Capabilities
from wire.client import ApduClient, ApduError, raw_transmit
from wire.gids import (
    ADMIN_KEY_REFERENCE,
    CARDAPPS_RECORD,
    CARDCF_SIZE,
    CARDID_SIZE,
    GIDS_AID_TRUNCATED,
    ChangeP1,
    Ef,
    Fid,
    FileDescriptor,
    Ins,
    PinRef,
    SelectP1,
    SelectP2,
    Tag,
)

from ..apps.gids import GidsApplication
from ..apps.gids.formats import DEFAULT_MASTERFILE, encode_masterfile
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


def commands(pin: bytes, admin_key: bytes, cardid: bytes) -> list[CommandApdu]:
    """The commands `gids-tool --initialize` sends after its checks (gids.md 3.5)."""
    app = Fid.CURRENT_APPLICATION
    out = [
        CommandApdu(0, Ins.SELECT, SelectP1.BY_DF_NAME, SelectP2.NO_DATA, GIDS_AID_TRUNCATED),
        CommandApdu(0, Ins.CHANGE_REFERENCE_DATA, ChangeP1.NEW_ONLY, PinRef.USER, pin),
    ]
    for fid, rule in PROFILE_EFS:
        fcp = tlv.encode(
            Tag.FCP,
            tlv.encode(Tag.FILE_DESCRIPTOR, bytes((FileDescriptor.DO_EF,)))
            + tlv.encode(Tag.FILE_ID, fid.to_bytes(2, "big"))
            + tlv.encode(Tag.SECURITY_ATTRIBUTE_COMPACT, rule),
        )
        out += [CommandApdu(0, Ins.CREATE_FILE, 0, 0, fcp), CommandApdu(0, Ins.ACTIVATE_FILE, 0, 0)]
    key_template = tlv.encode(
        Tag.KEY_USAGE_TEMPLATE,
        tlv.encode(Tag.KEY_REFERENCE, bytes((ADMIN_KEY_REFERENCE,)))
        + tlv.encode(
            Tag.KEY_VALUE_TEMPLATE,
            tlv.encode(Tag.KEY_VALUE, admin_key) + tlv.encode(Tag.KEY_CHECK_VALUE, GIDS_TOOL_KCV),
        ),
    )
    out += [
        CommandApdu(0, Ins.CREATE_FILE, 0, 0, ADMIN_KEY_FCP),
        CommandApdu(0, Ins.ACTIVATE_FILE, 0, 0),
        CommandApdu(0, Ins.PUT_DATA, app >> 8, app & 0xFF, key_template),
    ]
    put = [
        (Ef.USER_CREATE_DELETE_DIR, Tag.MASTERFILE, encode_masterfile(DEFAULT_MASTERFILE)),
        (Ef.EVERYONE_READ_USER_WRITE, Tag.CARDAPPS, CARDAPPS_RECORD),
        (Ef.EVERYONE_READ_USER_WRITE, Tag.CARDCF, bytes(CARDCF_SIZE)),
        (Ef.EVERYONE_READ_USER_WRITE, Tag.CMAPFILE, b""),
        (Ef.EVERYONE_READ_ADMIN_WRITE, Tag.CARDID, cardid),
    ]
    for ef, tag, value in put:
        out.append(CommandApdu(0, Ins.PUT_DATA, ef >> 8, ef & 0xFF, tlv.encode(tag, value)))
    select_app = app.to_bytes(2, "big")
    out += [
        CommandApdu(0, Ins.SELECT, SelectP1.BY_FID, SelectP2.NO_DATA, select_app),
        CommandApdu(0, Ins.ACTIVATE_FILE, 0, 0),
    ]
    return out


def initialize_sequence(pin: bytes, admin_key: bytes, cardid: bytes) -> list[bytes]:
    """The APDUs `gids-tool --initialize` sends after its checks, encoded."""
    return [c.to_bytes() for c in commands(pin, admin_key, cardid)]


def initialize(card: CardOS, pin: bytes, admin_key: bytes, cardid: bytes) -> None:
    """Personalise a blank card as gids-tool does; every step must answer 9000."""
    client = ApduClient(raw_transmit(card.transmit))
    for c in commands(pin, admin_key, cardid):
        try:
            client.send(c.cla, c.ins, c.p1, c.p2, c.data)
        except ApduError as e:
            raise RuntimeError(
                f"GIDS initialisation failed at {c.to_bytes()[:4].hex()}: "
                f"{(e.data + e.sw.to_bytes(2, 'big')).hex()}"
            ) from None
    card.reset()  # personalisation leaves no session behind


def build(rng: RandomSource) -> CardOS:
    card = build_blank(rng)
    initialize(card, USER_PIN, ADMIN_KEY, rng.token_bytes(CARDID_SIZE))
    return card
