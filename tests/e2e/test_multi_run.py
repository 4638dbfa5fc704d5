"""One `softcard run` serving several readers, driven by `softcard ctl` and its Python API,
with the events PC/SC clients see (pyscard's CardMonitor) and the image it saves to."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from softcard.control import ControlClient
from softcard.harness import wait_card_state
from softcard.pytest_plugin import SlotPool
from softcard.readers import vpcd_reader_name
from softcard.stack import PcscStack
from tests.e2e.test_plugin_monitor import monitor_events

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent.parent
SELECT_NOTES = [0x00, 0xA4, 0x04, 0x0C, 0x09, 0xF0, *b"softcard"]
READ_5001 = [[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x50, 0x01], [0x00, 0xB0, 0x00, 0x00, 0x00]]
WRONG_PIN = [0x00, 0x20, 0x00, 0x81, 0x06, *b"000000"]


@dataclass
class Run:
    process: subprocess.Popen[str]
    lines: list[str]
    socket: Path
    slots: list[int]
    env: dict[str, str]

    def reader(self, index: int) -> str:
        return vpcd_reader_name(self.slots[index])

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "softcard", "ctl", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result


def take_consecutive(pool: SlotPool, count: int) -> list[int]:
    """`--card A --card B` uses slots N, N+1: find such a run among the free slots."""
    free = sorted(pool.free)
    for i in range(len(free) - count + 1):
        if free[i + count - 1] - free[i] == count - 1:
            chosen = free[i : i + count]
            for slot in chosen:
                pool.free.remove(slot)
            return chosen
    pytest.fail(f"no {count} consecutive free reader slots in {free}")


def start_run(
    stack: PcscStack, pool: SlotPool, tmp_path: Path, args: list[str], slots: list[int]
) -> Iterator[Run]:
    env = stack.env()
    env["XDG_RUNTIME_DIR"] = str(tmp_path / "xdg")  # ctl finds the socket here, as users' does
    (tmp_path / "xdg").mkdir(exist_ok=True)
    cmd = [sys.executable, "-m", "softcard", "run", *args]
    if "--vpcd" not in args:
        cmd += ["--vpcd", f"127.0.0.1:{stack.base_port}"]  # several cards: slot k at base + k
    process = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        while not lines or "control socket" not in lines[-1]:
            line = process.stdout.readline()
            assert line, f"softcard run ended: {''.join(lines)}"
            lines.append(line.strip())
        socket = Path(lines[-1].split("control socket ")[1].split(" ")[0])
        run = Run(process, lines, socket, slots, env)
        for i in range(len(slots)):
            wait_card_state(run.reader(i), True)
        yield run
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        for slot in slots:
            wait_card_state(vpcd_reader_name(slot), False, 5.0)
            pool.give(slot)


@pytest.fixture
def two_cards(pcsc_stack: PcscStack, slot_pool: SlotPool, tmp_path: Path) -> Iterator[Run]:
    """`softcard run --config`: an iso card (seed 1001) and the iso card of an image (a copy)."""
    slots = [slot_pool.take(), slot_pool.take()]
    image = tmp_path / "iso.json"
    shutil.copyfile(ROOT / "card_images" / "iso-fresh.json", image)
    config = tmp_path / "readers.toml"
    config.write_text(
        f'[[reader]]\nslot = {slots[0]}\nkind = "iso"\nseed = 1001\n\n'
        f'[[reader]]\nslot = {slots[1]}\nimage = "iso.json"\n'
    )
    yield from start_run(pcsc_stack, slot_pool, tmp_path, ["--config", str(config)], slots)


def connect(reader: str):  # type: ignore[no-untyped-def]
    from smartcard.System import readers

    conn = next(r for r in readers() if str(r) == reader).createConnection()
    conn.connect()
    return conn


def serial_note(reader: str) -> bytes:
    conn = connect(reader)
    try:
        assert conn.transmit(SELECT_NOTES)[1:] == (0x90, 0x00)
        for apdu in READ_5001:
            data, sw1, sw2 = conn.transmit(apdu)
            assert (sw1, sw2) == (0x90, 0x00)
        return bytes(data)
    finally:
        conn.disconnect()


def image_pin_tries(image: Path) -> int:
    tries: int = json.loads(image.read_text())["state"]["iso"]["pins"]["81"]["tries"]
    return tries


def test_one_process_serves_two_readers(two_cards: Run) -> None:
    notes = {serial_note(two_cards.reader(i)) for i in range(2)}
    assert len(notes) == 2 and all(n.startswith(b"serial ") for n in notes)
    assert sum("card ready in reader" in line for line in two_cards.lines) == 2
    listed = two_cards.ctl("list").stdout
    assert two_cards.reader(0) in listed and two_cards.reader(1) in listed
    assert "iso.json" in listed  # what the second reader serves


def test_ctl_remove_and_insert_are_seen_by_a_monitor(two_cards: Run) -> None:
    reader = two_cards.reader(1)
    for monitor in monitor_events(reader):
        monitor.expect("added")
        out = two_cards.ctl("remove", str(two_cards.slots[1])).stdout
        assert f"removed from reader '{reader}'" in out
        monitor.expect("removed")
        two_cards.ctl("insert", reader)  # by name this time
        monitor.expect("added")
        two_cards.ctl("reset", str(two_cards.slots[1]))
        monitor.expect("removed")
        monitor.expect("added")
    # The other reader never noticed.
    assert serial_note(two_cards.reader(0)).startswith(b"serial ")


def test_ctl_factory_reset_restores_the_image(two_cards: Run, tmp_path: Path) -> None:
    image = tmp_path / "iso.json"
    conn = connect(two_cards.reader(1))
    conn.transmit(SELECT_NOTES)
    assert conn.transmit(WRONG_PIN)[1:] == (0x63, 0xC2)
    conn.disconnect()
    assert image_pin_tries(image) == 2  # saved to the image before the answer
    two_cards.ctl("reset", "--factory", str(two_cards.slots[1]))
    assert image_pin_tries(image) == 3
    conn = connect(two_cards.reader(1))
    conn.transmit(SELECT_NOTES)
    assert conn.transmit([0x00, 0x20, 0x00, 0x81])[1:] == (0x63, 0xC3)
    conn.disconnect()


def test_ctl_faults_and_trace(two_cards: Run) -> None:
    slot = str(two_cards.slots[0])
    assert (
        "fault rule 1 added"
        in two_cards.ctl("fault", "add", slot, "status", "sw=6581", "ins=B0", "times=1").stdout
    )
    conn = connect(two_cards.reader(0))
    conn.transmit(SELECT_NOTES)
    conn.transmit(READ_5001[0])
    assert conn.transmit(READ_5001[1])[1:] == (0x65, 0x81)
    assert conn.transmit(READ_5001[1])[1:] == (0x90, 0x00)  # times=1: once only
    conn.transmit([0x00, 0x20, 0x00, 0x81, 0x06, *b"123456"])
    conn.disconnect()
    rules = json.loads(two_cards.ctl("--json", "fault", "list", slot).stdout)
    assert [(r["id"], r["fired"]) for r in rules] == [(1, 1)]
    trace = two_cards.ctl("trace", slot, "-vv").stdout
    # The injected 6581 never reached the card, so its trace shows the real exchanges only.
    assert "READ BINARY" in trace and "VERIFY" in trace
    assert "31 32 33 34 35 36" not in trace  # the PIN is masked
    records = [
        json.loads(line)
        for line in two_cards.ctl("--json", "trace", slot, "--last", "2").stdout.splitlines()
    ]
    assert len(records) == 2
    assert "no fault rules" in two_cards.ctl("fault", "clear", slot).stdout


def test_python_api_drives_the_same_socket(two_cards: Run) -> None:
    client = ControlClient(two_cards.socket)
    slot = two_cards.slots[0]
    assert [r["slot"] for r in client.readers()] == two_cards.slots
    info = client.remove(two_cards.slots[0])
    assert info["present"] is False
    wait_card_state(two_cards.reader(0), False)
    client.insert(two_cards.reader(0))
    wait_card_state(two_cards.reader(0), True)
    rule = client.add_fault(two_cards.slots[0], "status sw=6A82 ins=A4")
    assert [r["id"] for r in client.faults(two_cards.slots[0])] == [rule]
    client.clear_faults(two_cards.slots[0])
    serial_note(two_cards.reader(0))
    names = [getattr(getattr(r, "decoded", None), "name", "") for r in client.trace(slot)]
    assert "READ BINARY" in names


def test_repeated_card_options(pcsc_stack: PcscStack, slot_pool: SlotPool, tmp_path: Path) -> None:
    slots = take_consecutive(slot_pool, 2)
    args = ["--card", "iso", "--card", "piv", "--reader", str(slots[0]), "--seed", "5"]
    for run in start_run(pcsc_stack, slot_pool, tmp_path, args, slots):
        assert "iso card ready" in run.lines[0] and "piv card ready" in run.lines[1]
        kinds = {r["reader"]: r["kind"] for r in ControlClient(run.socket).readers()}
        assert kinds == {run.reader(0): "iso", run.reader(1): "piv"}
        # Found without --socket: the only softcard run serving that reader.
        run.ctl("remove", run.reader(1))
        run.ctl("insert", run.reader(1))


def test_single_card_run_has_a_control_socket_too(
    pcsc_stack: PcscStack, slot_pool: SlotPool, tmp_path: Path
) -> None:
    slot = slot_pool.take()
    env_port = pcsc_stack.reader(slot).port
    args = ["--card", "iso", "--reader", str(slot)]
    # For one card, --vpcd is that card's own port.
    for run in start_run(
        pcsc_stack, slot_pool, tmp_path, [*args, "--vpcd", f"127.0.0.1:{env_port}"], [slot]
    ):
        assert run.lines[0].startswith("softcard: iso card ready in reader")
        assert oct(run.socket.stat().st_mode & 0o777) == "0o600"
        assert oct(run.socket.parent.stat().st_mode & 0o777) == "0o700"
        run.ctl("remove", str(slot))
        run.ctl("insert", str(slot))
        assert serial_note(run.reader(0)).startswith(b"serial ")
    deadline = time.monotonic() + 5
    while run.socket.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not run.socket.exists()  # removed when the run ends
