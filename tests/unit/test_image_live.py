"""Live cards on image files: durable before 9000, PIN counters, snapshot, restore, fork."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from emulator.image import (
    ImageError,
    PersistentCard,
    fork,
    load,
    new_image,
    save,
)

VERIFY_PIN = bytes.fromhex("0020008106") + b"123456"
WRONG_PIN = bytes.fromhex("0020008106") + b"000000"
SELECT_2F01 = bytes.fromhex("00A4000C022F01")


def tx(card: PersistentCard, apdu: bytes | str) -> int:
    raw = bytes.fromhex(apdu) if isinstance(apdu, str) else apdu
    response = card.card.transmit(raw)
    return int.from_bytes(response[-2:], "big")


def read(card: PersistentCard) -> bytes:
    return card.card.transmit(bytes.fromhex("00B0810004"))[:-2]


def disk_data(path: Path) -> bytes:
    return bytes.fromhex(load(path).state["iso"]["mf"]["children"][0]["data"])


def disk_tries(path: Path, ref: str = "81") -> int:
    tries: int = load(path).state["iso"]["pins"][ref]["tries"]
    return tries


@pytest.fixture
def card(tmp_path: Path) -> PersistentCard:
    return fork(new_image("iso", seed=1), tmp_path / "card.json")


def test_a_change_is_on_disk_when_the_card_answers(card: PersistentCard) -> None:
    assert tx(card, VERIFY_PIN) == 0x9000
    assert tx(card, "00D6810003414243") == 0x9000
    assert disk_data(card.path).startswith(b"ABC")


def test_a_refused_command_writes_nothing(card: PersistentCard) -> None:
    stamp = card.path.stat().st_mtime_ns
    assert tx(card, "00D6810003414243") == 0x6982  # no PIN
    assert tx(card, SELECT_2F01) == 0x9000
    assert card.path.stat().st_mtime_ns == stamp


def test_pin_counter_is_durable_before_the_comparison(
    card: PersistentCard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even a correct PIN costs a try on disk first: a kill mid-VERIFY buys nothing."""
    seen: list[int] = []
    real_save = card.save

    def observe() -> None:
        real_save()
        seen.append(disk_tries(card.path))

    monkeypatch.setattr(card, "save", observe)
    card.card.persist = card.save
    assert tx(card, VERIFY_PIN) == 0x9000
    assert seen[0] == 2 and seen[-1] == 3


def test_pin_counters_survive_a_reload(card: PersistentCard) -> None:
    assert tx(card, WRONG_PIN) == 0x63C2
    reopened = PersistentCard.open(card.path)
    assert tx(reopened, "0020008100") == 0x63C2
    assert tx(reopened, WRONG_PIN) == 0x63C1
    assert tx(reopened, WRONG_PIN) == 0x63C0
    assert tx(PersistentCard.open(card.path), VERIFY_PIN) == 0x6983  # blocked stays blocked


def test_a_failed_save_answers_6581_and_the_card_keeps_working(
    card: PersistentCard, monkeypatch: pytest.MonkeyPatch
) -> None:
    import emulator.image.live as live

    assert tx(card, VERIFY_PIN) == 0x9000
    before = card.path.read_bytes()

    def disk_full(image: object, path: object) -> None:
        raise ImageError("cannot write: No space left on device", card.path)

    monkeypatch.setattr(live, "save", disk_full)
    assert tx(card, "00D6810003414243") == 0x6581  # never 9000 for a change not on disk
    assert card.path.read_bytes() == before
    monkeypatch.undo()
    assert tx(card, "00D6810003444546") == 0x9000
    assert disk_data(card.path).startswith(b"DEF")


def test_snapshot_and_restore(card: PersistentCard, tmp_path: Path) -> None:
    snap = card.snapshot(tmp_path / "snap.json")
    assert tx(card, VERIFY_PIN) == 0x9000
    assert tx(card, "00D6810003414243") == 0x9000
    assert tx(card, bytes.fromhex("0020008208") + b"00000000") == 0x63C4
    card.restore(snap)
    # As after a reset: the PIN is no longer verified; content and counters as snapshotted.
    assert tx(card, "00D6810003444546") == 0x6982
    assert read(card) == b"Welc"
    assert tx(card, "0020008200") == 0x63C5
    assert disk_data(card.path).startswith(b"Welcome")
    assert load(snap).state == load(card.path).state


def test_restore_refuses_another_kind_and_bad_images(card: PersistentCard, tmp_path: Path) -> None:
    save(new_image("piv", seed=1), tmp_path / "piv.json")
    with pytest.raises(ImageError, match="holds a 'piv' card"):
        card.restore(tmp_path / "piv.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ImageError, match="truncated"):
        card.restore(tmp_path / "bad.json")
    assert tx(card, VERIFY_PIN) == 0x9000  # the card is unharmed


def test_fork_gives_independent_cards_and_leaves_the_source(tmp_path: Path) -> None:
    source = tmp_path / "sample.json"
    save(new_image("iso", seed=1), source)
    before = source.read_bytes()
    a = fork(source, tmp_path / "a.json")
    b = fork(source, tmp_path / "b.json")
    assert tx(a, WRONG_PIN) == 0x63C2
    assert tx(b, "0020008100") == 0x63C3
    assert source.read_bytes() == before
    c = a.fork(tmp_path / "c.json")
    assert tx(c, "0020008100") == 0x63C2


def test_fork_card_fixture_gives_a_private_card(fork_card: object) -> None:
    assert callable(fork_card)
    mine = fork_card("iso")
    assert isinstance(mine, PersistentCard) and mine.kind == "iso"
    assert tx(mine, WRONG_PIN) == 0x63C2
    assert tx(fork_card("iso"), "0020008100") == 0x63C3


def test_restore_between_commands_of_another_thread(card: PersistentCard, tmp_path: Path) -> None:
    """Restores and commands interleave: every state on disk is one the card acknowledged."""
    snap = card.snapshot(tmp_path / "snap.json")
    assert tx(card, VERIFY_PIN) == 0x9000
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            tx(card, VERIFY_PIN)
            tx(card, f"00D68100 04 {i:08X}".replace(" ", ""))
            i += 1

    worker = threading.Thread(target=writer)
    worker.start()
    try:
        for _ in range(20):
            card.restore(snap)
            load(card.path)
    finally:
        stop.set()
        worker.join()
    card.restore(snap)
    assert disk_data(card.path).startswith(b"Welcome")
