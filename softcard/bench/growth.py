"""Cost growth: whole-file reads from 100 B to 64 KB, and cards holding 1 to 200 files."""

from __future__ import annotations

import statistics
import time

from emulator import make_card
from emulator.core.card import CardOS

from .report import Section

PIN = bytes.fromhex("0020008106") + b"123456"


def _card_with_files(count: int, size: int) -> CardOS:
    card = make_card("iso", seed=1)
    card.transmit(PIN)
    for i in range(count):
        fid = 0x4000 + i
        body = bytes.fromhex(f"820101 8302{fid:04X} 8003{size:06X} 8C03031100")
        fcp = bytes((0x62, len(body))) + body
        created = card.transmit(bytes.fromhex("00E00000") + bytes((len(fcp),)) + fcp)
        assert created[-2:] == b"\x90\x00"
        data = bytes(i % 251 for i in range(size))
        for off in range(0, size, 240):
            block = data[off : off + 240]
            apdu = bytes((0x00, 0xD6, off >> 8, off & 0xFF, len(block))) + block
            assert card.transmit(apdu)[-2:] == b"\x90\x00"
        card.transmit(bytes.fromhex("00A40000023F00"))
    return card


def _read_whole(card: CardOS, fid: int) -> int:
    card.transmit(bytes.fromhex(f"00A4000C02{fid:04X}"))
    resp = card.transmit(bytes.fromhex("00B00000"))
    got = len(resp) - 2
    while resp[-2] == 0x61:
        resp = card.transmit(bytes.fromhex("00C0000000"))
        got += len(resp) - 2
    return got


def _time(fn: object, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append((time.perf_counter() - t) * 1e6)
    return statistics.median(samples)


def section(repeat: int) -> Section:
    rows: list[list[object]] = []
    for size in (100, 1024, 8192, 32767):
        card = _card_with_files(1, size)
        us = _time(lambda c=card: _read_whole(c, 0x4000), repeat)
        rows.append([f"read {size:,} B file", us, us / max(1, size) * 1000])
    for count in (1, 50, 200):
        card = _card_with_files(count, 16)
        us = _time(lambda c=card, n=count: _read_whole(c, 0x4000 + n - 1), repeat)
        rows.append([f"card with {count} files, read one", us, "-"])
    sec = Section(
        "cost growth, embedded (card OS only)", ["case", "median us", "ns per byte"], rows
    )
    sec.notes.append(
        "ISO transparent EFs top out at 32767 bytes (15-bit offsets); 64 KB objects "
        "are measured on GIDS/PIV data objects"
    )
    return sec
