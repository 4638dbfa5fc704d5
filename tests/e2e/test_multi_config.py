"""`softcard run --config FILE` and `--card` repeated: which readers hold which cards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from softcard.multi import MultiError, ReaderSpec, load_config, specs_from_kinds


def test_toml_config(tmp_path: Path) -> None:
    config = tmp_path / "readers.toml"
    config.write_text(
        '[[reader]]\nslot = 2\nkind = "piv"\nseed = 4\n\n'
        '[[reader]]\nslot = 3\nimage = "cards/gids.json"\ntrace = "t.jsonl"\n'
    )
    assert load_config(config) == [
        ReaderSpec(2, "piv", seed=4),
        ReaderSpec(3, None, tmp_path / "cards/gids.json", trace=tmp_path / "t.jsonl"),
    ]


def test_json_config_and_default_slots(tmp_path: Path) -> None:
    config = tmp_path / "readers.json"
    config.write_text('{"readers": [{"kind": "iso"}, {"kind": "gids", "faults": "f.toml"}]}')
    assert load_config(config) == [
        ReaderSpec(0, "iso"),
        ReaderSpec(1, "gids", faults=tmp_path / "f.toml"),
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "no readers"),
        ('[[reader]]\nslot = 0\nkind = "iso"\ncolour = "red"\n', "unknown field 'colour'"),
        ('[[reader]]\nslot = 0\nkind = "iso"\n[[reader]]\nslot = 0\nkind = "piv"\n', "slot 0"),
        ('[[reader]]\nslot = 0\nkind = "nfc"\n', "unknown card kind 'nfc'"),
        ("[[reader]]\nslot = 0\n", "give a card kind or an image"),
        ('[[reader]]\nslot = "one"\nkind = "iso"\n', "whole number"),
        ('[[reader]]\nslot = 100\nkind = "iso"\n', "out of range"),
        ("[[reader]\n", "not valid"),
    ],
)
def test_config_errors_name_the_problem(tmp_path: Path, text: str, error: str) -> None:
    config = tmp_path / "readers.toml"
    config.write_text(text)
    with pytest.raises(MultiError, match=error):
        load_config(config)


def test_repeated_cards_take_consecutive_slots_and_seeds() -> None:
    assert specs_from_kinds(["iso", "piv"], 4, seed=10) == [
        ReaderSpec(4, "iso", seed=10),
        ReaderSpec(5, "piv", seed=11),
    ]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--card", "iso", "--card", "piv", "--image", "x.json"], "--image serves one card"),
        (["--card", "iso", "--card", "piv", "--reverse"], "--reverse serves one card"),
        (["--config", "nowhere.toml"], "cannot read the config"),
        (["--card", "iso", "--card", "piv", "--vpcd", "nonsense"], "expected HOST:PORT"),
    ],
)
def test_run_refuses_with_one_line(args: list[str], error: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "softcard", "run", *args, "--no-control"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert error in result.stderr and result.stderr.count("\n") == 1, result.stderr
