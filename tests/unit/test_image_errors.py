"""A corpus of broken images: one clear line naming the file and the problem, a non-zero
exit, no traceback, and the file exactly as it was."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emulator.image import FORMAT, ImageError, check, new_image
from softcard.cli.main import main

Doc = dict[str, Any]
ISO = json.loads(new_image("iso", seed=1).to_text())
PIV = json.loads(new_image("piv", seed=1).to_text())
VALID_TEXT = new_image("iso", seed=1).to_text()


def edit(base: Doc, change: Callable[[Doc], None]) -> str:
    doc = copy.deepcopy(base)
    change(doc)
    return json.dumps(doc, indent=2)


def iso(change: Callable[[Doc], None]) -> str:
    return edit(ISO, change)


def piv(change: Callable[[Doc], None]) -> str:
    return edit(PIV, change)


def iso_app(doc: Doc) -> Doc:
    state: Doc = doc["state"]["iso"]
    return state


def set_in(path: str, value: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        *parents, last = path.split("/")
        node = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value

    return change


def drop(path: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        *parents, last = path.split("/")
        node = doc
        for key in parents:
            node = node[key]
        del node[last]

    return change


def duplicate_fid(doc: Doc) -> None:
    children = iso_app(doc)["mf"]["children"]
    children.append(copy.deepcopy(children[0]))


def bad_tck(doc: Doc) -> None:
    atr = bytearray.fromhex(doc["identity"]["atr"])
    atr[-1] ^= 0xFF
    doc["identity"]["atr"] = atr.hex()


def v1(extra: Doc) -> str:
    return json.dumps({"format": FORMAT, "version": 1, **extra})


# name -> (file content, what the one line must say)
CORPUS: dict[str, tuple[str | bytes, str]] = {
    "empty": ("", "empty file"),
    "blank": ("  \n\n", "empty file"),
    "truncated": (VALID_TEXT[: len(VALID_TEXT) // 2], "truncated"),
    "truncated_one_byte": (VALID_TEXT.rstrip()[:-1], "truncated"),
    "binary": (b"\x00\xff\xfe\x80garbage", "not UTF-8"),
    "syntax": (VALID_TEXT.replace('"kind": "iso"', '"kind": iso'), "not valid JSON"),
    "json_array": ("[1, 2, 3]", "not a softcard card image"),
    "other_json": ('{"name": "something else"}', "not a softcard card image"),
    "wrong_format": (iso(set_in("format", "softcard-image")), "not a softcard card image"),
    "future_version": (iso(set_in("version", 99)), "newer than this softcard reads"),
    "version_zero": (iso(set_in("version", 0)), "unknown format version 0"),
    "version_text": (iso(set_in("version", "2")), "whole number"),
    "version_missing": (iso(drop("version")), "whole number"),
    "unknown_field": (iso(set_in("extra", 1)), "unknown field 'extra'"),
    "missing_state": (iso(drop("state")), "missing field 'state'"),
    "kind_unknown": (iso(set_in("kind", "nfc-tag")), "unknown card kind 'nfc-tag'"),
    "kind_not_text": (iso(set_in("kind", 7)), "kind: must be text"),
    "seed_text": (iso(set_in("seed", "abc")), "seed: must be a whole number"),
    "description_list": (iso(set_in("description", [])), "description: must be text"),
    "state_list": (iso(set_in("state", [])), "state: must be an object"),
    "app_state_text": (iso(set_in("state/iso", "x")), "state.iso: must be an object"),
    "atr_missing": (iso(drop("identity/atr")), "identity: missing field 'atr'"),
    "atr_not_hex": (iso(set_in("identity/atr", "3BZZ")), "identity.atr: not a hex string"),
    "atr_bad_ts": (iso(set_in("identity/atr", "0102")), "identity.atr: not an ATR"),
    "atr_bad_length": (iso(set_in("identity/atr", "3B8E8001")), "does not match"),
    "atr_bad_tck": (iso(bad_tck), "wrong check byte (TCK)"),
    "app_missing": (iso(lambda d: d["state"].pop("iso")), "state: must be an object"),
    "app_extra": (iso(set_in("state/gids", {})), "the iso card has no application 'gids'"),
    "piv_app_missing": (piv(set_in("state", {"iso": {}})), "no application 'iso'"),
    "pin_tries_above_max": (iso(set_in("state/iso/pins/81/tries", 7)), "pins.81.tries"),
    "pin_tries_negative": (iso(set_in("state/iso/pins/81/tries", -1)), "pins.81.tries"),
    "pin_value_not_hex": (iso(set_in("state/iso/pins/81/value", "12345g")), "pins.81.value"),
    "pin_value_too_long": (
        iso(set_in("state/iso/pins/81/value", "31" * 20)),
        "pins.81.value: 20 bytes, outside its length range 4-8",
    ),
    "pin_max_tries_zero": (iso(set_in("state/iso/pins/81/max_tries", 0)), "pins.81.max_tries"),
    "mf_missing": (iso(drop("state/iso/mf")), "refuses its state (missing field 'mf')"),
    "file_duplicate_fid": (iso(duplicate_fid), "iso application refuses its state"),
    "file_type_unknown": (
        iso(set_in("state/iso/mf/children/0/type", "XF")),
        "unknown file type 'XF'",
    ),
    "file_data_not_hex": (
        iso(set_in("state/iso/mf/children/0/data", "not hex")),
        "iso application refuses its state",
    ),
    "private_key_garbage": (
        piv(set_in("state/piv/attestation_key/pkcs8", "3003020100")),
        "attestation_key.pkcs8: not an unencrypted PKCS#8 private key",
    ),
    "identity_mismatch": (piv(set_in("identity/serial", "1")), "identity.serial: says '1'"),
    "piv_missing_field": (piv(drop("state/piv/management_key")), "missing field"),
    "v1_without_atr": (v1({"kind": "iso", "state": ISO["state"]}), "without its 'atr'"),
    "v1_unknown_field": (v1({"kind": "iso", "colour": 1}), "unknown field 'colour'"),
}


def write(path: Path, content: str | bytes) -> bytes:
    raw = content if isinstance(content, bytes) else content.encode()
    path.write_bytes(raw)
    return raw


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_broken_image_gives_one_line_and_is_untouched(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content, needle = CORPUS[name]
    path = tmp_path / f"{name}.json"
    raw = write(path, content)
    stamp = path.stat().st_mtime_ns
    for argv in (["image", "check", str(path)], ["image", "show", str(path)]):
        code = main(argv)
        out = capsys.readouterr()
        assert code != 0, argv
        lines = out.err.strip().splitlines()
        assert len(lines) == 1, out.err
        assert lines[0].startswith(f"softcard: {path}: "), lines[0]
        assert needle in lines[0], lines[0]
    with pytest.raises(ImageError):
        check(path)
    assert path.read_bytes() == raw and path.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


@pytest.mark.parametrize("name", ["truncated", "pin_tries_above_max", "future_version"])
def test_run_refuses_a_broken_image_in_one_line(name: str, tmp_path: Path) -> None:
    """As a user sees it: a real process, no traceback, the file unchanged."""
    content, needle = CORPUS[name]
    path = tmp_path / "card.json"
    raw = write(path, content)
    # Port 9 (discard): nothing listens, but the image is refused before any connection.
    r = subprocess.run(
        [sys.executable, "-m", "softcard", "run", "--image", str(path), "--vpcd", "127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and str(path) in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert path.read_bytes() == raw


def test_missing_and_unreadable_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["image", "check", str(tmp_path / "nope.json")]) == 1
    assert (
        capsys.readouterr().err.strip() == f"softcard: {tmp_path / 'nope.json'}: no such card image"
    )
    assert main(["image", "show", str(tmp_path)]) == 1
    assert "is a directory" in capsys.readouterr().err
    locked = tmp_path / "locked.json"
    write(locked, VALID_TEXT)
    os.chmod(locked, 0)
    if os.geteuid() != 0:  # root reads anything
        assert main(["image", "check", str(locked)]) == 1
        assert "cannot read" in capsys.readouterr().err


def test_check_reports_every_bad_file_and_passes_good_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    write(good, VALID_TEXT)
    write(bad, "")
    assert main(["image", "check", str(good), str(bad)]) == 1
    out = capsys.readouterr()
    assert out.out.strip() == f"{good}: ok (iso card)"
    assert out.err.strip() == f"softcard: {bad}: empty file, not a card image"
