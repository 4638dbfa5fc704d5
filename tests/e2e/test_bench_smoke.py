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
    for needle in ("round trip", "embedded", "start-up", "scale", "cost growth"):
        assert any(needle in t for t in titles), needle
    latency = sections[0]
    cards = {row[0] for row in latency["rows"]}
    assert "softcard" in cards and any("floor" in c for c in cards)
    assert any("vicc" in c for c in cards), "Debian's vicc is installed by scripts/setup"
    assert all(row[3] > 0 for row in latency["rows"])
    for s in sections:
        for t in s["targets"]:
            assert t["value"] > 0 and isinstance(t["met"], bool)
    assert "target" in r.stdout
