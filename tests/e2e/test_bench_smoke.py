"""scripts/bench works (a quick run): every section produces figures; no timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_bench_quick_run_produces_every_section(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    r = subprocess.run(
        [sys.executable, "-m", "softcard.bench", "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    sections = json.loads(out.read_text())
    titles = [s["title"] for s in sections]
    needles = ["round trip", "embedded", "PIV sign", "minidriver", "key generation"]
    needles += ["start-up", "scale", "cost growth"]
    assert len(titles) == len(needles)
    for title, needle in zip(titles, needles, strict=True):
        assert needle in title, (needle, title)
    latency = sections[0]
    cards = {row[0] for row in latency["rows"]}
    assert "softcard" in cards and any("floor" in c for c in cards)
    assert any("vicc" in c for c in cards), "Debian's vicc is installed by scripts/setup"
    assert all(row[3] > 0 for row in latency["rows"])
    for s in sections:
        assert s["rows"], s["title"]
        for t in s["targets"]:
            assert t["value"] > 0 and isinstance(t["met"], bool)
    piv, md, keygen = sections[2], sections[3], sections[4]
    assert [row[0] for row in piv["rows"]] == ["RSA-2048", "P-256"]
    assert all(row[3] > 0 and row[6] > 0 for row in piv["rows"])  # median, YubiKey ratio
    calls = {row[0].split(" ")[0]: row[1] for row in md["rows"]}
    assert set(calls) == {"CardAcquireContext", "CardSignData", "CardReadFile"}
    assert all(row[1] >= 1 for row in md["rows"])  # every call counts its APDUs
    keys = {(row[0], row[1]) for row in keygen["rows"]}
    for card in ("PIV", "GIDS"):
        for key in ("RSA-2048", "RSA-4096", "P-256", "P-384"):
            assert (card, key) in keys
    growth = {row[0] for row in sections[7]["rows"]}
    assert "GIDS data object of 65,536 B (GET DATA)" in growth
    assert "PIV card with 200 objects, GET DATA one" in growth
    assert "target" in r.stdout
