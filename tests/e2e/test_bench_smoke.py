"""scripts/bench works (a quick run): figures are produced, never asserted as timings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_bench_quick_run_produces_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    r = subprocess.run(
        [sys.executable, "-m", "softcard.bench", "--quick", "--json", str(out)],
        capture_output=True, text=True, timeout=240,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(out.read_text())
    names = {t["name"] for t in data["latency"]}
    assert {"floor (fixed 9000, same link)", "softcard"} <= names
    assert any("vicc" in n for n in names), "Debian's vicc is installed by scripts/setup"
    assert all(t["median_ms"] > 0 for t in data["latency"])
    assert [r["apdu"] for r in data["embedded"]] == ["READ BINARY 16", "SELECT EF",
                                                     "VERIFY (right PIN)"]
    assert "softcard READ BINARY 16 / floor" in data["targets"]
