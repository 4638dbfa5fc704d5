"""Card images survive SIGKILL: `softcard run --image` killed at random points of a burst.

The card runs as users run it (python -m softcard run --image ...) in a reader of
the test stack; pyscard sends a burst of state-changing commands through pcscd and
vpcd and notes every one the card acknowledged (9000); the process is killed at
a random moment. Afterwards the image must load, pass the full check, and hold
every acknowledged change (and at most the one command that was in flight).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from emulator.image import check, load, new_image, save
from softcard.harness import wait_card_state
from softcard.stack import PcscStack
from tests.conftest import SlotPool

pytestmark = pytest.mark.e2e

ROUNDS = 12
ROOT = Path(__file__).resolve().parents[2]
PIN = b"123456".hex()
VERIFY_PIN = f"00 20 00 81 06 {PIN}"
SFI_2F01 = 0x81  # UPDATE BINARY P1: b8 set, SFI 1 (EF 2F01, whatever EF is current)
CREATED_BASE = 0x6000
# Every fifth command creates an EF; the others write the counter into EF 2F01.
CREATE_EVERY = 5


@dataclass
class CardModel:
    """What the image must hold: the counter in EF 2F01 and the EFs created."""

    counter: int = 0
    created: set[int] = field(default_factory=set)

    def after(self, op: tuple[str, int]) -> CardModel:
        kind, value = op
        if kind == "update":
            return CardModel(value, set(self.created))
        return CardModel(self.counter, self.created | {value})


def op_for(i: int) -> tuple[str, int]:
    if i % CREATE_EVERY == 0:
        return ("create", CREATED_BASE + i // CREATE_EVERY)
    return ("update", i)


def apdu_for(op: tuple[str, int]) -> str:
    kind, value = op
    if kind == "update":
        return f"00 D6 {SFI_2F01:02X} 00 04 {value:08X}"
    fcp = f"82 01 01 83 02 {value:04X} 80 02 00 10"
    body = bytes.fromhex(fcp.replace(" ", ""))
    return f"00 E0 00 00 {len(body) + 2:02X} 62 {len(body):02X} {fcp}"


def on_disk(path: Path) -> CardModel:
    """The model as the image file holds it (after the full check passed)."""
    mf = load(path).state["iso"]["mf"]
    model = CardModel()
    for child in mf["children"]:
        fid = int(child["fid"], 16)
        if fid == 0x2F01:
            model.counter = int.from_bytes(bytes.fromhex(child["data"])[:4], "big")
        elif fid >= CREATED_BASE:
            model.created.add(fid)
    return model


@pytest.fixture
def reader_slot(slot_pool: SlotPool) -> Iterator[int]:
    slot = slot_pool.take()
    yield slot
    slot_pool.give(slot)


class Emulator:
    """`python -m softcard run --image` in a reader of the test stack, as a real process."""

    def __init__(self, stack: PcscStack, slot: int, image: Path) -> None:
        self.reader = stack.reader(slot)
        self.image = image
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "softcard",
                "run",
                "--image",
                str(self.image),
                "--vpcd",
                f"127.0.0.1:{self.reader.port}",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_card_state(self.reader.name, True, 15)

    def kill(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        wait_card_state(self.reader.name, False, 10)

    def connect(self) -> Any:
        from smartcard.System import readers

        for r in readers():
            if str(r) == self.reader.name:
                conn = r.createConnection()
                conn.connect()
                return conn
        raise AssertionError(f"reader {self.reader.name} not found")


def release(conn: Any) -> None:
    """Drop a handle to a card that is gone, before the next card comes: left to the
    garbage collector, its disconnect would reset the next card in the reader."""
    with contextlib.suppress(Exception):
        conn.disconnect()


def tx(conn: Any, hexstr: str) -> int:
    _, sw1, sw2 = conn.transmit(list(bytes.fromhex(hexstr.replace(" ", ""))))
    return int((sw1 << 8) | sw2)


def test_sigkill_during_bursts_loses_no_acknowledged_change(
    pcsc_stack: PcscStack, reader_slot: int, tmp_path: Path
) -> None:
    from smartcard.Exceptions import CardConnectionException

    seed = random.randrange(1 << 30)
    rnd = random.Random(seed)
    image = tmp_path / "card.json"
    save(new_image("iso"), image)
    emulator = Emulator(pcsc_stack, reader_slot, image)
    model, i, acknowledged_total = CardModel(), 1, 0
    for round_no in range(ROUNDS):
        emulator.start()
        conn = emulator.connect()
        assert tx(conn, VERIFY_PIN) == 0x9000
        killer = threading.Timer(rnd.uniform(0.02, 0.5), emulator.kill)
        killer.start()
        in_flight: tuple[str, int] | None = None
        try:
            while True:
                op = op_for(i)
                in_flight = op
                sw = tx(conn, apdu_for(op))
                assert sw == 0x9000, f"{op}: {sw:04X}"
                model = model.after(op)
                acknowledged_total += 1
                in_flight = None
                i += 1
        except CardConnectionException:
            pass
        finally:
            killer.join()
            release(conn)
        context = f"round {round_no}, random seed {seed}, command {i}"
        check(image)  # loads, migrates, builds the card: a torn file fails here
        found = on_disk(image)
        allowed = [model] + ([model.after(in_flight)] if in_flight is not None else [])
        assert found in allowed, context
        if found != model:  # the in-flight command was durable but its answer was lost
            assert in_flight is not None
            model = found
            i += 1
        assert oct(image.stat().st_mode & 0o777) == oct(0o600)
    assert acknowledged_total > ROUNDS, "the bursts were too short to test anything"


def test_pin_counter_decremented_before_a_kill_stays_decremented(
    pcsc_stack: PcscStack, reader_slot: int, tmp_path: Path
) -> None:
    image = tmp_path / "card.json"
    save(new_image("iso"), image)
    emulator = Emulator(pcsc_stack, reader_slot, image)
    emulator.start()
    conn = emulator.connect()
    assert tx(conn, "00 20 00 82 08 " + b"00000000".hex()) == 0x63C4  # PUK: 5 -> 4
    assert tx(conn, "00 20 00 81 06 " + b"000000".hex()) == 0x63C2  # PIN: 3 -> 2
    emulator.kill()
    release(conn)
    emulator.start()
    conn = emulator.connect()
    assert tx(conn, "00 20 00 82") == 0x63C4
    assert tx(conn, "00 20 00 81") == 0x63C2
    emulator.kill()
    release(conn)
    pins = load(image).state["iso"]["pins"]
    assert (pins["81"]["tries"], pins["82"]["tries"]) == (2, 4)


def test_restore_reaches_the_running_card(
    pcsc_stack: PcscStack, reader_slot: int, tmp_path: Path
) -> None:
    """`softcard image restore` into an image a running card serves: the card switches."""
    image, snapshot = tmp_path / "card.json", tmp_path / "base.json"
    save(new_image("iso"), image)
    emulator = Emulator(pcsc_stack, reader_slot, image)
    emulator.start()
    conn = emulator.connect()
    try:
        assert tx(conn, VERIFY_PIN) == 0x9000
        assert tx(conn, "00 D6 81 00 04 00000001") == 0x9000
        cli = [sys.executable, "-m", "softcard", "image"]
        snap = subprocess.run([*cli, "snapshot", str(image), str(snapshot)], cwd=ROOT, timeout=30)
        assert snap.returncode == 0
        assert tx(conn, "00 D6 81 00 04 00000002") == 0x9000
        assert tx(conn, "00 20 00 82 08 " + b"00000000".hex()) == 0x63C4
        started = time.monotonic()
        r = subprocess.run(
            [*cli, "restore", str(snapshot), str(image)],
            cwd=ROOT,
            timeout=30,
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stderr
        assert "running card" in r.stdout
        assert time.monotonic() - started < 10
        # The card answers as after a reset: PIN no longer verified, restored content.
        assert tx(conn, "00 D6 81 00 04 00000003") == 0x6982
        assert tx(conn, "00 20 00 82") == 0x63C5
        data, sw1, sw2 = conn.transmit(list(bytes.fromhex("00B0810004")))
        assert (bytes(data), sw1, sw2) == (bytes.fromhex("00000001"), 0x90, 0x00)
        assert on_disk(image).counter == 1
    finally:
        emulator.kill()
        release(conn)
