"""`softcard image` as a user runs it: new, show, check, snapshot, restore."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.image import load, new_image, save
from emulator.image.store import ImageLock

ROOT = Path(__file__).resolve().parents[2]


def softcard(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "softcard", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_new_then_check_then_show(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    r = softcard("image", "new", "--card", "piv", "--seed", "7", path)
    assert r.returncode == 0, r.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text() == new_image("piv", seed=7).to_text()
    r = softcard("image", "check", path)
    assert (r.returncode, r.stdout.strip()) == (0, f"{path}: ok (piv card)")
    r = softcard("image", "show", path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "kind         piv" in out and "seed         7 (deterministic)" in out
    assert "PIN   pins.pin                     3 of 3 tries left" in out
    assert "key   attestation_key              ECC P-256, SHA-256 " in out
    assert "cert  objects.values.5FFF01" in out and "Attestation CA" in out
    serial = load(path).state["piv"]["serial"]
    assert f"serial       {serial}" in out


def test_show_reveals_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    image = new_image("piv", seed=1)
    save(image, path)
    out = softcard("image", "show", path).stdout
    piv = image.state["piv"]
    secrets = [
        piv["pins"]["pin"]["value"],
        piv["pins"]["puk"]["value"],
        piv["management_key"]["key"],
        piv["attestation_key"]["pkcs8"][-64:],
        b"123456".decode(),
    ]
    for secret in secrets:
        assert secret.lower() not in out.lower()


def test_new_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    path.write_text("keep me")
    r = softcard("image", "new", "--card", "iso", path)
    assert r.returncode == 1 and "exists already" in r.stderr and path.read_text() == "keep me"
    assert softcard("image", "new", "--card", "iso", "--force", path).returncode == 0
    assert load(path).kind == "iso"


def test_new_unknown_kind_is_a_usage_error(tmp_path: Path) -> None:
    r = softcard("image", "new", "--card", "nfc", tmp_path / "x.json")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.json").exists()


def test_snapshot_and_restore_files(tmp_path: Path) -> None:
    card, snap = tmp_path / "card.json", tmp_path / "snap.json"
    save(new_image("iso", seed=1), card)
    r = softcard("image", "snapshot", card, snap)
    assert r.returncode == 0, r.stderr
    assert snap.read_text() == card.read_text() and snap.stat().st_mode & 0o777 == 0o600
    assert softcard("image", "snapshot", card, snap).returncode == 1  # no silent overwrite
    save(new_image("iso", seed=2), card)
    r = softcard("image", "restore", snap, card)
    assert r.returncode == 0, r.stderr
    assert "restored" in r.stdout and card.read_text() == snap.read_text()


def test_restore_refuses_another_kind_and_leaves_the_image(tmp_path: Path) -> None:
    card, other = tmp_path / "card.json", tmp_path / "piv.json"
    save(new_image("iso", seed=1), card)
    save(new_image("piv", seed=1), other)
    before = card.read_bytes()
    r = softcard("image", "restore", other, card)
    assert r.returncode == 1 and "holds a 'iso' card, the snapshot a 'piv' card" in r.stderr
    assert card.read_bytes() == before


def test_restore_into_a_served_image_whose_server_does_not_answer(tmp_path: Path) -> None:
    """A lock held by a process that ignores the request: a clear timeout, nothing left."""
    card = tmp_path / "card.json"
    save(new_image("iso", seed=1), card)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, sys, time\n"
            "from emulator.image.store import ImageLock\n"
            "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
            "lock = ImageLock(sys.argv[1]); assert lock.acquire()\n"
            "print('locked', flush=True); sys.stdin.read()\n",
            str(card),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        assert not ImageLock(card).acquire()
        from emulator.image import restore_file

        with pytest.raises(Exception, match="did not take the snapshot"):
            restore_file(card, card, timeout=0.3)
        assert not list(tmp_path.glob(".card.json.restore"))
    finally:
        holder.kill()
        holder.wait()


def test_image_help_lists_the_actions() -> None:
    r = softcard("image", "--help")
    assert r.returncode == 0
    for action in ("new", "show", "check", "snapshot", "restore"):
        assert action in r.stdout


def test_written_json_is_what_the_docs_promise(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    softcard("image", "new", "--card", "iso", "--description", "hello", path)
    doc = json.loads(path.read_text())
    assert sorted(doc) == [
        "description",
        "format",
        "identity",
        "kind",
        "seed",
        "state",
        "version",
        "warning",
    ]
    assert doc["description"] == "hello" and doc["seed"] is None
