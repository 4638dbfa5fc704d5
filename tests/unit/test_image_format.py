"""The card image format: complete, stable text, deterministic, versioned and migrated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.image import (
    FORMAT,
    VERSION,
    CardImage,
    build_card,
    capture,
    check,
    load,
    new_image,
    save,
)
from emulator.image.format import WARNING
from emulator.profiles import make_card

KINDS_UNDER_TEST = ["iso", "piv"]


@pytest.mark.parametrize("kind", KINDS_UNDER_TEST)
def test_image_round_trips_the_whole_card(kind: str, tmp_path: Path) -> None:
    card = make_card(kind)
    image = capture(card, kind)
    save(image, tmp_path / "c.json")
    loaded = load(tmp_path / "c.json")
    assert loaded == image
    rebuilt = build_card(loaded)
    assert rebuilt.export_state() == card.export_state()
    assert rebuilt.atr == card.atr


@pytest.mark.parametrize("kind", KINDS_UNDER_TEST)
def test_same_seed_gives_byte_identical_images(kind: str) -> None:
    assert new_image(kind, seed=42).to_text() == new_image(kind, seed=42).to_text()
    assert new_image(kind, seed=42).state != new_image(kind, seed=43).state


def test_unseeded_cards_differ() -> None:
    assert new_image("iso").state != new_image("iso").state


def test_text_is_sorted_indented_json_with_hex_bytes() -> None:
    text = new_image("iso", seed=1, description="x").to_text()
    doc = json.loads(text)
    assert text == json.dumps(doc, indent=2, sort_keys=True) + "\n"
    assert doc["format"] == FORMAT and doc["version"] == VERSION
    assert doc["warning"] == WARNING and "TEST MATERIAL" in WARNING
    assert doc["identity"]["atr"] == make_card("iso").atr.hex().upper()
    welcome = doc["state"]["iso"]["mf"]["children"][0]
    assert bytes.fromhex(welcome["data"]).startswith(b"Welcome")


def test_changes_show_as_small_line_diffs() -> None:
    card = make_card("iso", seed=1)
    before = capture(card, "iso", 1).to_text().splitlines()
    card.transmit(bytes.fromhex("0020008102" + "0000"))  # wrong PIN: counter 3 -> 2
    after = capture(card, "iso", 1).to_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) == 1 and '"tries": 2' in changed[0][1]


def test_piv_identity_names_the_serial_of_the_state() -> None:
    image = new_image("piv", seed=5)
    assert image.identity["serial"] == str(image.state["piv"]["serial"])


def test_seed_is_stored_and_reproduces_the_randomness(tmp_path: Path) -> None:
    save(new_image("iso", seed=9), tmp_path / "a.json")
    image = load(tmp_path / "a.json")
    assert image.seed == 9
    challenge = bytes.fromhex("0084000008")
    first = build_card(image).transmit(challenge)
    assert build_card(image).transmit(challenge) == first
    assert make_card("iso", seed=9).transmit(challenge) == first  # same as a fresh seeded card
    assert build_card(image, seed=10).transmit(challenge) != first  # --seed overrides


def test_version_1_image_is_migrated_on_load(tmp_path: Path) -> None:
    current = new_image("iso", seed=3)
    v1 = {
        "format": FORMAT,
        "version": 1,
        "kind": "iso",
        "atr": current.atr.hex(),
        "state": current.state,
    }
    path = tmp_path / "old.json"
    text = json.dumps(v1)
    path.write_text(text)
    image = check(path)
    assert image.migrated and image.source_version == 1
    assert image.state == current.state and image.atr == current.atr and image.seed is None
    assert path.read_text() == text  # loading never rewrites the file
    save(image, path)
    assert json.loads(path.read_text())["version"] == VERSION


def test_card_image_is_plain_data() -> None:
    image = CardImage("iso", b"\x3b\x00", {"iso": {}})
    assert image.to_document()["identity"] == {"atr": "3B00"}
