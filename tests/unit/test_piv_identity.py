"""The PIV application names its card for card images: serial and CHUID GUID."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from emulator import make_card
from emulator.apps.piv.app import PivApplication
from emulator.image import ImageError, build_card, capture
from wire import tlv
from wire.piv import ObjectId

SELECT = bytes.fromhex("00A4040005A000000308")
GET_CHUID = bytes.fromhex("00CB3FFF055C035FC10200")
GET_SERIAL = bytes.fromhex("00F8000000")


def _piv(card: object) -> PivApplication:
    app = card.application("piv")  # type: ignore[attr-defined]
    assert isinstance(app, PivApplication)
    return app


def test_identity_is_what_the_card_answers_over_apdus() -> None:
    card = make_card("piv", seed=21)
    assert card.transmit(SELECT)[-2:] == b"\x90\x00"
    chuid = card.transmit(GET_CHUID)
    assert chuid[-2:] == b"\x90\x00"
    guid = tlv.to_dict(tlv.parse_one(chuid[:-2], 0x53).value)[0x34]
    serial = card.transmit(GET_SERIAL)
    assert serial[-2:] == b"\x90\x00"
    assert _piv(card).identity() == {
        "serial": str(int.from_bytes(serial[:-2], "big")),
        "guid": str(uuid.UUID(bytes=guid)),
    }


def test_a_chuid_without_a_usable_guid_leaves_only_the_serial() -> None:
    app = _piv(make_card("piv", seed=21))
    for chuid in (b"\x34\x03abc", b"\x30\x01\x00", b"\xff\xff"):
        app.objects.put(ObjectId.CHUID, chuid)
        assert app.identity() == {"serial": str(app.serial)}
    app.objects.put(ObjectId.CHUID, b"")  # deleted
    assert app.identity() == {"serial": str(app.serial)}


def test_images_carry_the_guid_and_check_it_on_load() -> None:
    card = make_card("piv", seed=22)
    image = capture(card, "piv", seed=22)
    assert image.identity == _piv(card).identity() and "guid" in image.identity
    assert build_card(image).export_state() == card.export_state()
    wrong = dataclasses.replace(image, identity={**image.identity, "guid": str(uuid.UUID(int=1))})
    with pytest.raises(ImageError, match=r"identity\.guid"):
        build_card(wrong)
