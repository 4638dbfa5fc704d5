"""Start-up: from launching `softcard run` to the card answering its first APDU."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time

from ..harness import wait_card_state
from ..stack import PcscStack
from .report import Section, Target

TARGET_SECONDS = 0.5


def _once(stack: PcscStack, slot: int) -> tuple[float, float]:
    from smartcard.System import readers

    reader = stack.reader(slot)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "softcard",
            "run",
            "--card",
            "iso",
            "--vpcd",
            f"127.0.0.1:{reader.port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=stack.env(),
        text=True,
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        ready = time.perf_counter() - start
        wait_card_state(reader.name, True, 10)
        conn = next(r for r in readers() if str(r) == reader.name).createConnection()
        conn.connect()
        _, sw1, _ = conn.transmit([0x00, 0xA4, 0x00, 0x0C, 0x02, 0x2F, 0x01])
        first = time.perf_counter() - start
        conn.disconnect()
        conn.release()
        if sw1 != 0x90:
            raise RuntimeError("the card did not answer its first APDU")
        return ready, first
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        wait_card_state(reader.name, False, 10)


def section(stack: PcscStack, runs: int) -> Section:
    samples = [_once(stack, 0) for _ in range(runs)]
    ready = statistics.median(s[0] for s in samples)
    first = statistics.median(s[1] for s in samples)
    sec = Section(
        f"start-up of `softcard run` (median of {runs})",
        ["milestone", "seconds"],
        [
            ["process prints 'ready' (connected to vpcd)", ready],
            ["first APDU answered through pcscd", first],
        ],
    )
    sec.targets.append(
        Target("start to first APDU", first, TARGET_SECONDS, higher_is_better=False, unit=" s")
    )
    sec.notes.append(
        "pcscd polls vpcd every 400 ms and only then accepts the card: "
        "on average 0.2 s of the total is that poll"
    )
    return sec
