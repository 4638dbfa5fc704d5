"""Key generation on the card: GENERATE ASYMMETRIC KEY PAIR, timed on the card itself.

In process (the card OS alone, no I/O): PIV through its own APDUs, GIDS through
the minidriver (CardCreateContainer with KEY_GEN) over an in-process connection.
The time is the GENERATE APDU's own processing time as the card reports it to its
observers, so the driver's other APDUs do not count. Cards use the OS random
source, as `softcard run` does without --seed.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from emulator import make_card
from emulator.core.events import ApduEvent, PowerEvent
from wire.iso7816 import Ins
from wire.piv import Algorithm, KeyRef

from .pivhost import PivHost, card_exchange
from .report import Section

# GIDS generates with INS 47 as PIV does; ISO names 46 too.
GENERATE = (Ins.GENERATE_ASYMMETRIC_KEY_PAIR, Ins.GENERATE_ASYMMETRIC_KEY_PAIR_47)

PIV_KEYS = (
    ("RSA-2048", Algorithm.RSA_2048),
    ("RSA-4096", Algorithm.RSA_4096),
    ("P-256", Algorithm.ECC_P256),
    ("P-384", Algorithm.ECC_P384),
)


@dataclass
class KeyGen:
    card: str
    key: str
    samples_ms: list[float]


class _GenerateTimer:
    """Card observer: the processing time of every GENERATE APDU."""

    def __init__(self) -> None:
        self.samples_ms: list[float] = []

    def on_apdu(self, event: ApduEvent) -> None:
        if len(event.command) > 1 and event.command[1] in GENERATE:
            self.samples_ms.append(event.duration_ns / 1e6)

    def on_power(self, event: PowerEvent) -> None:
        return None


def _runs(label: str, count: int) -> int:
    return max(1, count // 5) if label == "RSA-4096" else count


def piv(count: int) -> list[KeyGen]:
    card = make_card("piv")
    timer = _GenerateTimer()
    card.observers.append(timer)
    card.power_on()
    host = PivHost(card_exchange(card.transmit))
    host.select()
    host.authenticate()
    out = []
    for label, algorithm in PIV_KEYS:
        timer.samples_ms = []
        for _ in range(_runs(label, count)):
            host.generate(KeyRef.PIV_AUTHENTICATION, algorithm)
        out.append(KeyGen("PIV", label, list(timer.samples_ms)))
    return out


def gids(count: int) -> list[KeyGen]:
    import driver
    from emulator.transports.embedded import EmbeddedConnection
    from wire import minidriver as k

    specs = (
        ("RSA-2048", k.AT_KEYEXCHANGE, 2048),
        ("RSA-4096", k.AT_KEYEXCHANGE, 4096),
        ("P-256", k.AT_ECDSA_P256, 0),
        ("P-384", k.AT_ECDSA_P384, 0),
    )
    card = make_card("gids")
    timer = _GenerateTimer()
    card.observers.append(timer)
    conn = EmbeddedConnection(card)
    conn.connect()
    out = []
    with driver.acquire_context(connection=conn) as ctx:
        ctx.authenticate_pin("user", b"123456")
        for index, (label, key_spec, bits) in enumerate(specs):
            timer.samples_ms = []
            for _ in range(_runs(label, count)):
                ctx.create_container(index, k.CARD_CREATE_CONTAINER_KEY_GEN, key_spec, bits, None)
            out.append(KeyGen("GIDS", label, list(timer.samples_ms)))
    return out


def section(count: int) -> Section:
    results = piv(count) + gids(count)
    sec = Section(
        "key generation on the card (in process, GENERATE APDU only)",
        ["card", "key", "n", "median ms", "min ms", "max ms"],
        [
            [
                r.card,
                r.key,
                len(r.samples_ms),
                statistics.median(r.samples_ms),
                min(r.samples_ms),
                max(r.samples_ms),
            ]
            for r in results
        ],
    )
    sec.notes.append(
        "RSA generation time varies widely by nature (a random search for primes): "
        "medians of few runs, min and max beside them; RSA-4096 runs a fifth as often"
    )
    return sec
