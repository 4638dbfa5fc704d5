"""The `softcard` command as a user runs it: help, version, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from softcard import __version__


def softcard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "softcard", *args], capture_output=True, text=True, timeout=60
    )


def test_version() -> None:
    r = softcard("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"softcard {__version__}"


def test_help_lists_every_subcommand() -> None:
    from softcard.cli.main import SUBCOMMANDS

    r = softcard("--help")
    assert r.returncode == 0
    for module in SUBCOMMANDS:
        name = module.rsplit(".", 1)[1]
        assert f"    {name}" in r.stdout or f" {name} " in r.stdout, name


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "--card", "no-such-kind"], "invalid choice"),
        (["run", "--reader", "x"], "invalid int value"),
        (["run", "--vpcd", "nohostport"], "expected HOST:PORT"),
        (["no-such-command"], "invalid choice"),
        (["run", "--reader", "500"], "out of range"),
    ],
)
def test_bad_usage_is_one_line_without_traceback(args: list[str], needle: str) -> None:
    r = softcard(*args)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert needle in lines[0] and lines[0].startswith("softcard")
    assert "Traceback" not in r.stderr
