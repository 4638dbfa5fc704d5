"""Cost growth: whole-file reads from 100 B to 64 KB, and cards holding 1 to 200 files."""

from __future__ import annotations

import statistics
import time

from emulator import make_card
from emulator.core.card import CardOS
from wire import tlv
from wire.piv import MAX_OBJECT_SIZE

from .pivhost import PivHost, card_exchange
from .report import Section, Target

# "Flat": within timing noise of each other.
FLAT = 1.25
GET_RESPONSE = bytes.fromhex("00C0000000")
# PIV objects for the object-count rows: Yubico's vendor range, past its named objects.
PIV_FIRST_OBJECT = 0x5FFF30
# A GIDS data object in EF A010 (everyone reads, the user writes), as the minidriver's files.
GIDS_EF = 0xA010
GIDS_TAG = 0xDF20

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


def _collect(card: CardOS, command: bytes) -> int:
    """Send a command and fetch its whole answer with GET RESPONSE; the bytes received."""
    resp = card.transmit(command)
    got = len(resp) - 2
    while resp[-2] == 0x61:
        resp = card.transmit(GET_RESPONSE)
        got += len(resp) - 2
    if resp[-2:] != b"\x90\x00":
        raise RuntimeError(f"the card answered {resp[-2:].hex()}")
    return got


def _read_whole(card: CardOS, fid: int) -> int:
    card.transmit(bytes.fromhex(f"00A4000C02{fid:04X}"))
    return _collect(card, bytes.fromhex("00B00000"))


def _piv_card(objects: list[bytes]) -> tuple[CardOS, PivHost]:
    card = make_card("piv", seed=1)
    card.power_on()
    host = PivHost(card_exchange(card.transmit))
    host.select()
    host.authenticate()
    for i, value in enumerate(objects):
        host.put_object(PIV_FIRST_OBJECT + i, value)
    return card, host


def _piv_read(card: CardOS, object_id: int) -> int:
    body = tlv.encode(0x5C, object_id.to_bytes(3, "big"))
    return _collect(card, bytes((0x00, 0xCB, 0x3F, 0xFF, len(body))) + body + b"\x00")


def _gids_card(size: int) -> CardOS:
    """A GIDS card with one data object of `size` bytes, written with command chaining."""
    card = make_card("gids", seed=1)
    card.power_on()
    assert card.transmit(bytes.fromhex("0020008006") + b"123456") == b"\x90\x00"
    data = tlv.encode(GIDS_TAG, bytes(i % 251 for i in range(size)))
    blocks = [data[i : i + 255] for i in range(0, len(data), 255)]
    for n, block in enumerate(blocks):
        cla = 0x00 if n == len(blocks) - 1 else 0x10
        apdu = bytes((cla, 0xDB, GIDS_EF >> 8, GIDS_EF & 0xFF, len(block))) + block
        assert card.transmit(apdu) == b"\x90\x00"
    return card


def _gids_read(card: CardOS) -> int:
    body = tlv.encode(0x5C, GIDS_TAG.to_bytes(2, "big"))
    return _collect(
        card, bytes((0x00, 0xCB, GIDS_EF >> 8, GIDS_EF & 0xFF, len(body))) + body + b"\x00"
    )


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
    for size in (100, 1024, 8192, MAX_OBJECT_SIZE):
        card, _ = _piv_card([bytes(i % 251 for i in range(size))])
        us = _time(lambda c=card: _piv_read(c, PIV_FIRST_OBJECT), repeat)
        rows.append([f"PIV object of {size:,} B (GET DATA)", us, us / size * 1000])
    for count in (1, 50, 200):
        card, _ = _piv_card([bytes(16)] * count)
        us = _time(lambda c=card, n=count: _piv_read(c, PIV_FIRST_OBJECT + n - 1), repeat)
        rows.append([f"PIV card with {count} objects, GET DATA one", us, "-"])
    for size in (100, 1024, 8192, 32768, 65536):
        card = _gids_card(size)
        us = _time(lambda c=card: _gids_read(c), repeat)
        rows.append([f"GIDS data object of {size:,} B (GET DATA)", us, us / size * 1000])
    sec = Section(
        "cost growth, embedded (card OS only)", ["case", "median us", "ns per byte"], rows
    )
    median = {str(r[0]): float(r[1]) for r in rows}  # type: ignore[arg-type]
    for kind, many, one in (
        ("files", "card with 200 files, read one", "card with 1 files, read one"),
        (
            "PIV objects",
            "PIV card with 200 objects, GET DATA one",
            "PIV card with 1 objects, GET DATA one",
        ),
    ):
        sec.targets.append(
            Target(
                f"flat in object count: 200 {kind} / 1",
                median[many] / median[one],
                FLAT,
                higher_is_better=False,
            )
        )
    sec.targets.append(
        Target(
            "linear in payload: ns per byte at 64 KB / at 8 KB (GIDS)",
            (median["GIDS data object of 65,536 B (GET DATA)"] / 65536)
            / (median["GIDS data object of 8,192 B (GET DATA)"] / 8192),
            FLAT,
            higher_is_better=False,
        )
    )
    sec.notes.append(
        "whole objects, short APDUs: 256-byte pieces with 61xx/GET RESPONSE. Size caps: ISO "
        f"transparent EFs 32,767 B (15-bit offsets), PIV objects {MAX_OBJECT_SIZE:,} B "
        "(softcard's PUT DATA limit), GIDS data objects 64 KB (one command chain)"
    )
    return sec
