"""Commands per second with no I/O: the card OS alone, in this process."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from emulator import make_card

from .report import Section, Target


@dataclass
class Throughput:
    apdu: str
    count: int
    per_second: float

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _rate(commands: list[bytes], seconds: float) -> tuple[int, float]:
    card = make_card("iso", seed=1)
    card.power_on()
    transmit = card.transmit
    n = 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        for _ in range(200):
            for c in commands:
                transmit(c)
        n += 200
    return n, n / (time.perf_counter() - start)


TARGET_READS_PER_SECOND = 100_000


def section(seconds: float) -> Section:
    rates = run(seconds)
    sec = Section(
        "embedded transport: commands per second, no I/O, one core",
        ["APDU", "commands", "per second"],
        [[r.apdu, r.count, r.per_second] for r in rates],
    )
    sec.targets.append(
        Target(
            "READ BINARY per second",
            rates[0].per_second,
            TARGET_READS_PER_SECOND,
            higher_is_better=True,
            unit="/s",
        )
    )
    return sec


def run(seconds: float) -> list[Throughput]:
    select = bytes.fromhex("00A4000C022F01")
    read = bytes.fromhex("00B0000010")
    verify = bytes.fromhex("0020008106") + b"123456"
    results = []
    card = make_card("iso", seed=1)
    card.transmit(select)
    t_end = time.perf_counter() + seconds
    n = 0
    start = time.perf_counter()
    while time.perf_counter() < t_end:
        for _ in range(500):
            card.transmit(read)
        n += 500
    results.append(Throughput("READ BINARY 16", n, n / (time.perf_counter() - start)))
    n, rate = _rate([select], seconds)
    results.append(Throughput("SELECT EF", n, rate))
    n, rate = _rate([verify], seconds)
    results.append(Throughput("VERIFY (right PIN)", n, rate))
    return results
