"""End to end: `softcard run --trace FILE` serving a PIV card through pcscd + vpcd to pyscard
and yubico-piv-tool, the trace followed live and rendered by `softcard trace`."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.trace import ApduRecord, TracingConnection, read_trace
from softcard.harness import wait_card_state
from softcard.stack import PcscStack
from tests.conftest import SlotPool
from tests.trace_flows import piv_flow

pytestmark = pytest.mark.e2e


@pytest.fixture
def free_slot(slot_pool: SlotPool) -> Iterator[int]:
    slot = slot_pool.take()
    yield slot
    slot_pool.give(slot)


def softcard(*args: str) -> list[str]:
    return [sys.executable, "-m", "softcard", *args]


def lines_of(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    """The process's stdout lines, read by a thread so the test can wait with a deadline."""
    out: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return out


def wait_for_line(lines: queue.Queue[str], needle: str, timeout: float = 20) -> str:
    seen = []
    try:
        while True:
            line = lines.get(timeout=timeout)
            seen.append(line)
            if needle in line:
                return line
    except queue.Empty:
        raise AssertionError(f"{needle!r} not seen in {seen!r}") from None


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    proc.wait(timeout=10)


def test_run_with_trace_then_render(pcsc_stack: PcscStack, free_slot: int, tmp_path: Path) -> None:
    reader = pcsc_stack.reader(free_slot)
    trace = tmp_path / "card.jsonl"
    host_trace = tmp_path / "host.jsonl"
    card = subprocess.Popen(
        softcard(
            "run",
            "--card",
            "piv",
            "--seed",
            "5",
            "--vpcd",
            f"127.0.0.1:{reader.port}",
            "--trace",
            str(trace),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=pcsc_stack.env(),
    )
    follower = subprocess.Popen(
        softcard("trace", "--follow", str(trace)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        followed = lines_of(follower)
        wait_card_state(reader.name, True)
        from smartcard.System import readers

        conn = next(r for r in readers() if str(r) == reader.name).createConnection()
        conn.connect()
        traced = TracingConnection(conn, host_trace)
        with traced.tracer.call("piv_flow"):
            secrets = piv_flow(traced)
        traced.tracer.close()
        conn.disconnect()
        conn.release()
        # A real client too: yubico-piv-tool verifying the PIN.
        tool = shutil.which("yubico-piv-tool")
        assert tool, "yubico-piv-tool is installed by scripts/setup"
        result = subprocess.run(
            [tool, "-r", reader.name, "-a", "verify-pin", "-P", "123456"],
            env=pcsc_stack.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        # The live view has seen the flow's last command.
        wait_for_line(followed, "PIV PIN: log out")
    finally:
        stop(follower)
        stop(card)
        wait_card_state(reader.name, False)

    card_records = [r for r in read_trace(trace) if isinstance(r, ApduRecord)]
    host_records = [r for r in read_trace(host_trace) if isinstance(r, ApduRecord)]
    # Both sides saw the same commands, masked the same way (pcscd passes them unchanged).
    flow_commands = [r.command for r in host_records]
    assert [r.command for r in card_records[: len(flow_commands)]] == flow_commands
    assert all(r.reader == reader.name for r in card_records)
    assert len(card_records) > len(host_records)  # yubico-piv-tool's APDUs follow

    rendered = subprocess.run(
        softcard("trace", "-vv", str(trace)), capture_output=True, text=True, timeout=60
    )
    assert rendered.returncode == 0, rendered.stderr
    text = rendered.stdout
    assert "GENERAL AUTHENTICATE" in text and "management key (TDES): witness request" in text
    assert "verification failed, 2 tries left" in text
    assert "[masked: management key auth]" in text
    assert "\033[" not in text  # not a terminal: no colour
    for form in secrets.forms():
        assert form not in text
        assert form not in trace.read_text()
        assert form not in host_trace.read_text()
    # yubico-piv-tool's PIN is masked as well.
    assert "31 32 33 34 35 36 FF FF" not in text

    only_verify = subprocess.run(
        softcard("trace", str(trace), "--ins", "20", "--sw", "63C2"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert only_verify.stdout.count("\n") == 1 and "VERIFY" in only_verify.stdout
