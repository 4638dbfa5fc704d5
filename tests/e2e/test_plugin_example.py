"""A foreign project (tests/example_project) tested with nothing but softcard's pytest plugin.

Its pytest runs in a subprocess from its own directory, so it sees only what an
installed softcard gives it: the `pytest11` entry point and the public fixtures.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "example_project"
EXAMPLE_TESTS = 12
REPORT = re.compile(
    r"softcard: (\w[\w-]*) card in reader '([^']+)', (pcscd (\S+)|in-process), worker (\w+)"
)

pytestmark = pytest.mark.e2e


def run_example(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        # Ours, not the example's: the socket of this worker's pcscd, xdist's worker identity.
        if k != "PCSCLITE_CSOCK_NAME" and not k.startswith(("PYTEST_", "SOFTCARD_"))
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rP", *args],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def passed(result: subprocess.CompletedProcess[str]) -> int:
    summary = re.search(r"(\d+) passed", result.stdout)
    return int(summary.group(1)) if summary else 0


def test_example_project_passes_with_two_isolated_workers() -> None:
    result = run_example("-n", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert passed(result) == EXAMPLE_TESTS
    sockets: dict[str, set[str]] = {}
    for _kind, _reader, _, socket, worker in REPORT.findall(result.stdout):
        if socket:
            sockets.setdefault(worker, set()).add(socket)
    print("\n".join(f"{w}: {sorted(s)}" for w, s in sorted(sockets.items())))
    # Two workers, each with one pcscd of its own, and never the same one.
    assert sorted(sockets) == ["gw0", "gw1"]
    assert all(len(s) == 1 for s in sockets.values())
    assert sockets["gw0"].isdisjoint(sockets["gw1"])


def test_example_project_runs_without_pcscd() -> None:
    result = run_example("-p", "no:xdist", "--softcard-transport=embedded")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert passed(result) == EXAMPLE_TESTS
    reports = REPORT.findall(result.stdout)
    # Every card in-process except the one whose test asks for a real client (marker).
    assert sum(1 for r in reports if r[2] == "in-process") == len(reports) - 1
    assert [r[0] for r in reports if r[3]] == ["piv"]


def test_the_plugin_comes_from_the_installed_entry_point() -> None:
    result = run_example("--co", "-p", "no:xdist", "--softcard-transport=embedded")
    assert result.returncode == 0, result.stdout + result.stderr
    help_text = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--softcard-transport" in help_text
    # Without the entry point's plugin, its option is unknown: the option came from it.
    disabled = run_example("--co", "-p", "no:softcard", "--softcard-transport=embedded")
    assert disabled.returncode == 4
    assert "unrecognized arguments: --softcard-transport" in disabled.stderr
