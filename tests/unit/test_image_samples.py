"""The sample images in card_images/: they load, pass the check, are described, reproduce."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from emulator.image import check
from emulator.profiles import KINDS

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "card_images"
# Sample -> its card kind; a sample of a kind that does not exist yet is not expected.
EXPECTED = {
    "iso-fresh.json": "iso",
    "gids-fresh.json": "gids",
    "gids-enrolled.json": "gids",
    "piv-fresh.json": "piv",
    "piv-demo.json": "piv",
}


def expected() -> list[str]:
    return sorted(name for name, kind in EXPECTED.items() if kind in KINDS)


@pytest.mark.parametrize("name", expected())
def test_sample_loads_and_passes_check(name: str) -> None:
    path = SAMPLES / name
    assert path.exists(), f"{name} missing: run scripts/make-sample-images"
    image = check(path)
    assert image.kind == EXPECTED[name] and not image.migrated
    r = subprocess.run(
        [sys.executable, "-m", "softcard", "image", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and r.stdout.strip() == f"{path}: ok ({image.kind} card)"


@pytest.mark.parametrize("name", expected())
def test_sample_is_described_in_the_readme(name: str) -> None:
    assert f"`{name}`" in (SAMPLES / "README.md").read_text()


def test_no_unexpected_files() -> None:
    extra = {p.name for p in SAMPLES.iterdir()} - set(EXPECTED) - {"README.md", "demo-ca.pem"}
    assert not extra


def test_piv_demo_holds_four_keys_with_certificates() -> None:
    from emulator.image.summary import find_certificate

    piv = check(SAMPLES / "piv-demo.json").state["piv"]
    assert sorted(piv["keys"]) == ["9A", "9C", "9D", "9E"]
    for object_id in ("5FC105", "5FC10A", "5FC10B", "5FC101"):
        cert = find_certificate(bytes.fromhex(piv["objects"]["values"][object_id]))
        assert cert is not None and "Demo User" in cert.subject.rfc4514_string()


def test_samples_regenerate_byte_for_byte() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make-sample-images"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
