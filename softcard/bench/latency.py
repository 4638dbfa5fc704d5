"""Per-APDU round trip over pyscard -> pcscd -> vpcd, for several card processes."""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..harness import wait_card_state
from ..stack import PcscStack
from .report import Section, Target


@dataclass
class Timing:
    name: str
    apdu: str
    count: int
    median_ms: float
    p95_ms: float

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


VICC_PATH = "/usr/lib/python3/site-packages/virtualsmartcard"


@contextmanager
def card_process(
    cmd: list[str], stack: PcscStack, slot: int, extra_env: dict[str, str] | None = None
) -> Iterator[None]:
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**stack.env(), **(extra_env or {})},
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_card_state(stack.reader(slot).name, True, 20)
        yield
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        wait_card_state(stack.reader(slot).name, False, 20)


def _connect(reader: str, setup: list[bytes]) -> Any:
    from smartcard.System import readers

    conn = next(r for r in readers() if str(r) == reader).createConnection()
    conn.connect()
    for cmd in setup:
        conn.transmit(list(cmd))
    return conn


def measure_interleaved(
    targets: list[tuple[str, bytes, list[bytes]]], count: int
) -> list[list[float]]:
    """Time APDUs to several readers in turn, so machine drift hits all of them alike."""
    conns = [_connect(reader, setup) for reader, _, setup in targets]
    commands = [list(apdu) for _, apdu, _ in targets]
    samples: list[list[float]] = [[] for _ in targets]
    try:
        for i in range(count + min(20, count)):
            for k, conn in enumerate(conns):
                t = time.perf_counter()
                conn.transmit(commands[k])
                if i >= min(20, count):  # the first rounds warm up
                    samples[k].append((time.perf_counter() - t) * 1000)
        return samples
    finally:
        for conn in conns:
            conn.disconnect()
            conn.release()


def measure(reader: str, apdu: bytes, count: int, setup: list[bytes] | None = None) -> list[float]:
    return measure_interleaved([(reader, apdu, setup or [])], count)[0]


def summarise(name: str, apdu: str, samples: list[float]) -> Timing:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return Timing(name, apdu, len(samples), statistics.median(samples), p95)


SELECT_EF = bytes.fromhex("00A4000C022F01")
READ_BINARY = bytes.fromhex("00B0000010")


# The iso card OS in the floor's bare process: what softcard's card path alone costs.
BARE = "iso card OS in the floor's bare process"
TARGET_FLOOR_RATIO = 1.25
TARGET_VICC_SPEEDUP = 300


def section(stack: PcscStack, count: int, slow_count: int) -> Section:
    timings = run(stack, count, slow_count)
    sec = Section(
        "per-APDU round trip, pyscard -> pcscd -> vpcd -> card process",
        ["card", "APDU", "n", "median ms", "p95 ms"],
        [[t.name, t.apdu, t.count, t.median_ms, t.p95_ms] for t in timings],
    )
    floor = timings[0].median_ms
    soft = [t for t in timings if t.name == "softcard"]
    for t in soft:
        sec.targets.append(
            Target(
                f"softcard {t.apdu} / floor",
                t.median_ms / floor,
                TARGET_FLOOR_RATIO,
                higher_is_better=False,
            )
        )
    vicc = [t for t in timings if "vicc" in t.name]
    if vicc and soft:
        sec.targets.append(
            Target(
                "upstream vicc / softcard",
                vicc[0].median_ms / soft[0].median_ms,
                TARGET_VICC_SPEEDUP,
                higher_is_better=True,
            )
        )
    bare = [t for t in timings if t.name == BARE]
    if bare and soft:
        sec.notes.append(
            f"softcard run / the same card OS in a bare process = "
            f"{soft[0].median_ms / bare[0].median_ms:.2f}x (what the CLI process adds); "
            f"bare card OS / floor = {bare[0].median_ms / floor:.2f}x (the card path alone)"
        )
    plain = [t for t in timings if "without" in t.name]
    if plain:
        sec.notes.append(
            f"TCP_NODELAY + re-armed TCP_QUICKACK buy {plain[0].median_ms / floor:,.0f}x per APDU"
        )
    return sec


def run(stack: PcscStack, count: int, slow_count: int) -> list[Timing]:
    py = sys.executable
    floor_r, soft_r, bare_r = stack.reader(0), stack.reader(1), stack.reader(2)
    floor_cmd = [py, "-m", "softcard.bench.floor", "--port"]
    out: list[Timing] = []
    with (
        card_process([*floor_cmd, str(floor_r.port)], stack, 0),
        card_process(
            [py, "-m", "softcard", "run", "--card", "iso", "--vpcd", f"127.0.0.1:{soft_r.port}"],
            stack,
            1,
        ),
        card_process([*floor_cmd, str(bare_r.port), "--card", "iso"], stack, 2),
    ):
        floor, read, select, bare_read = measure_interleaved(
            [
                (floor_r.name, READ_BINARY, []),
                (soft_r.name, READ_BINARY, [SELECT_EF]),
                (soft_r.name, SELECT_EF, []),
                (bare_r.name, READ_BINARY, [SELECT_EF]),
            ],
            count,
        )
        out.append(summarise("floor (fixed 9000, same link)", "any", floor))
        out.append(summarise("softcard", "READ BINARY 16", read))
        out.append(summarise("softcard", "SELECT EF", select))
        out.append(summarise(BARE, "READ BINARY 16", bare_read))
    port = str(floor_r.port)
    with card_process([py, "-m", "softcard.bench.floor", "--plain", "--port", port], stack, 0):
        out.append(
            summarise(
                "floor without TCP_NODELAY/QUICKACK",
                "any",
                measure(floor_r.name, READ_BINARY, slow_count),
            )
        )
    vicc = shutil.which("vicc")
    if vicc:
        # Debian's vicc script cannot import its own package (it lies off sys.path) and
        # wants PyCrypto: run it with our interpreter (pycryptodome) and the path added.
        with card_process(
            [py, vicc, "-t", "iso7816", "-H", "127.0.0.1", "-P", port],
            stack,
            0,
            {"PYTHONPATH": VICC_PATH},
        ):
            out.append(
                summarise(
                    "upstream vicc (Debian vsmartcard-vpicc)",
                    "SELECT MF",
                    measure(floor_r.name, bytes.fromhex("00A4000C023F00"), slow_count),
                )
            )
    return out
