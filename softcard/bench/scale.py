"""Scale: 1, 4, 16 cards at once, one reader and one client process per card."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time

from ..harness import wait_card_state
from ..stack import PcscStack
from .report import Section, Target

TARGET_MB_PER_CARD = 30.0
READ = [0x00, 0xB0, 0x00, 0x00, 0x10]


def _client(reader: str, seconds: float, start_at: float, out: mp.Queue[int]) -> None:
    from smartcard.System import readers

    conn = next(r for r in readers() if str(r) == reader).createConnection()
    conn.connect()
    conn.transmit([0x00, 0xA4, 0x00, 0x0C, 0x02, 0x2F, 0x01])
    while time.time() < start_at:
        time.sleep(0.001)
    n = 0
    end = start_at + seconds
    while time.time() < end:
        conn.transmit(READ)
        n += 1
    conn.disconnect()
    out.put(n)


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_one(stack: PcscStack, cards: int, seconds: float) -> tuple[float, float]:
    procs = []
    try:
        for slot in range(cards):
            r = stack.reader(slot)
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "softcard",
                        "run",
                        "--card",
                        "iso",
                        "--vpcd",
                        f"127.0.0.1:{r.port}",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=stack.env(),
                )
            )
        for slot in range(cards):
            wait_card_state(stack.reader(slot).name, True, 20)
        ctx = mp.get_context("fork")
        q: mp.Queue[int] = ctx.Queue()
        start_at = time.time() + 0.5
        clients = [
            ctx.Process(target=_client, args=(stack.reader(s).name, seconds, start_at, q))
            for s in range(cards)
        ]
        for c in clients:
            c.start()
        total = sum(q.get(timeout=seconds + 30) for _ in clients)
        for c in clients:
            c.join()
        rss = sum(_rss_mb(p.pid) for p in procs) / cards
        return total / seconds, rss
    finally:
        for p in procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(timeout=10)
        for slot in range(cards):
            wait_card_state(stack.reader(slot).name, False, 20)


def section(stack: PcscStack, sizes: list[int], seconds: float) -> Section:
    rows = []
    for n in sizes:
        rate, rss = run_one(stack, n, seconds)
        rows.append([n, rate, rate / n, rss])
    sec = Section(
        "scale: N cards (one `softcard run` process each), one client per card",
        ["cards", "aggregate APDU/s", "APDU/s per card", "RSS MB per card"],
        rows,
    )
    sec.targets.append(
        Target(
            f"aggregate throughput {sizes[-1]} cards / 1 card",
            rows[-1][1] / rows[0][1],
            1.0,
            higher_is_better=True,
        )
    )
    sec.targets.append(
        Target(
            "memory per card",
            max(r[3] for r in rows),
            TARGET_MB_PER_CARD,
            higher_is_better=False,
            unit=" MB",
        )
    )
    sec.notes.append(
        f"this machine has {os.cpu_count()} cores; pcscd serialises nothing "
        "across readers, so the clients and cards share the cores"
    )
    return sec
