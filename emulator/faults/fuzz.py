"""The fuzz target: byte strings in, a card session out, and the oracle that judges it.

One input is a whole session on a factory-fresh card (restored from a snapshot,
so inputs are independent and a finding replays from its bytes alone):

    input := op*
    op    := L(1 byte, < 0xF0) APDU(L bytes)      one command APDU
           | 0xEF HI LO APDU(HI*256+LO bytes)    a long (extended) command APDU
           | 0xF0 | 0xF1 | 0xF2                  power off / power on / warm reset
           | 0xF3..0xFF                          helper k = byte - 0xF3 (kind-specific:
                                                 VERIFY the right PIN, authenticate the
                                                 management key, select the application)

Helpers let a coverage-guided fuzzer reach the authenticated half of a card,
which no fuzzer would reach by guessing a PIN within 3 tries.

The oracle, after every command: a response of at least 2 bytes ending in a
valid status word (61xx-6Fxx, 9xxx), no internal error logged (a handler
exception becomes 6F00 and a log line), no secret in the response (unless the
session wrote it as data itself), an answer within `HANG_SECONDS`. After every
input: the state exports as JSON, loads into a fresh card and exports the same,
PIN counters are within bounds, and after a power cycle the card still answers
its probe command as when new.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from wire.piv import PIV_AID

from ..core.card import CardOS
from ..profiles import make_card
from .secrets import DATA_WRITE_INS, Secret, find_secrets, logical_responses, state_secrets

HANG_SECONDS = 30.0  # RSA-4096 generation from a seed takes seconds; a hang is forever
LONG_APDU = 0xEF
POWER_OFF, POWER_ON, RESET = 0xF0, 0xF1, 0xF2
FIRST_HELPER = 0xF3

Send = Callable[[bytes], bytes]
Helper = Callable[[CardOS, Send], None]


class Finding(AssertionError):  # noqa: N818 - a fuzzing finding, as fuzzers call it
    """The oracle caught the card misbehaving; the message says how."""


# -- per-kind knowledge ---------------------------------------------------------------------


def _iso_verify(card: CardOS, send: Send) -> None:
    send(bytes.fromhex("0020008106") + b"123456")


def _iso_select_secret(card: CardOS, send: Send) -> None:
    send(bytes.fromhex("00A4000C025000"))
    send(bytes.fromhex("00A4020C025002"))


def _piv_select(card: CardOS, send: Send) -> None:
    send(bytes.fromhex("00A4040C0B") + PIV_AID)


def _piv_verify(card: CardOS, send: Send) -> None:
    app: Any = card.application("piv")
    send(bytes.fromhex("0020008008") + bytes(app.pins.pin.value))


def _piv_management(card: CardOS, send: Send) -> None:
    """External authentication with the card's current management key."""
    app: Any = card.application("piv")
    key = app.mgmkey
    answer = send(bytes([0x00, 0x87, int(key.algorithm), 0x9B, 0x04, 0x7C, 0x02, 0x81, 0x00]))
    if len(answer) < 6 or answer[-2:] != b"\x90\x00":
        return
    challenge = answer[4:-2]
    cryptogram = key.encrypt(challenge)
    body = bytes([0x7C, len(cryptogram) + 2, 0x82, len(cryptogram)]) + cryptogram
    send(bytes([0x00, 0x87, int(key.algorithm), 0x9B, len(body)]) + body)


GIDS_AID = bytes.fromhex("A0000003974254465901")


def _gids_select(card: CardOS, send: Send) -> None:
    send(bytes.fromhex("00A4040C09") + GIDS_AID[:9])


def _gids_verify(card: CardOS, send: Send) -> None:
    pin: Any = getattr(card.application("gids"), "pin", None)
    if pin is not None:
        send(bytes([0x00, 0x20, 0x00, 0x80, len(pin.value)]) + bytes(pin.value))


@dataclass(frozen=True)
class KindProfile:
    """What the fuzzer knows of a card kind: helpers, a probe, seed inputs."""

    helpers: tuple[Helper, ...] = ()
    # A command a healthy card answers 9000 to after a power cycle.
    probe: bytes = b""
    # Typical commands, for the seed corpus and the dictionary.
    seeds: tuple[bytes, ...] = ()


PROFILES: dict[str, KindProfile] = {
    "iso": KindProfile(
        helpers=(_iso_verify, _iso_select_secret),
        probe=bytes.fromhex("00A4000C023F00"),
        seeds=(
            bytes.fromhex("00A4000C023F00"),
            bytes.fromhex("00A4020C022F01"),
            bytes.fromhex("00B0000000"),
            bytes.fromhex("00D6000003414243"),
            bytes.fromhex("00A4040C09F0736F667463617264"),
            bytes.fromhex("0020008100"),
            bytes.fromhex("002C008208") + b"12345678",
            bytes.fromhex("0024008106") + b"123456",
            bytes.fromhex("00E000000D620B8201018302AB018001108C00"),
            bytes.fromhex("00E40000022F01"),
            bytes.fromhex("0084000008"),
            bytes.fromhex("0070000000"),
            bytes.fromhex("10D600000241"),
            bytes.fromhex("00C0000000"),
        ),
    ),
    "piv": KindProfile(
        helpers=(_piv_select, _piv_verify, _piv_management),
        probe=bytes.fromhex("00A4040C0B") + PIV_AID,
        seeds=(
            bytes.fromhex("00A4040C0B") + PIV_AID,
            bytes.fromhex("00CB3FFF055C035FC102"),
            bytes.fromhex("00CB3FFF035C017E"),
            bytes.fromhex("00DB3FFF095C035FC1055302AABB"),
            bytes.fromhex("0020008000"),
            bytes.fromhex("002C008010") + b"12345678123456\xff\xff",
            bytes.fromhex("0024008010") + b"123456\xff\xff654321\xff\xff",
            bytes.fromhex("0047009A05AC03800111"),
            bytes.fromhex("00879A9A0A7C088200810433445566"),
            bytes.fromhex("00FD000000"),
            bytes.fromhex("00F8000000"),
            bytes.fromhex("00F7009B00"),
            bytes.fromhex("00FB000000"),
            bytes.fromhex("00F99A0000"),
        ),
    ),
}
PROFILES["gids"] = PROFILES["gids-blank"] = KindProfile(
    helpers=(_gids_select, _gids_verify),
    probe=bytes.fromhex("00A4040C09") + GIDS_AID[:9],
    seeds=(
        bytes.fromhex("00A4040C09") + GIDS_AID[:9],
        bytes.fromhex("00CB3FFF04 5C02 7F71".replace(" ", "")),
        bytes.fromhex("00CBA0000 25C00".replace(" ", "").replace("00CBA00002", "00CBA00002")),
        bytes.fromhex("00CBA010035C02DF21"),
        bytes.fromhex("00DBA010 08 DF22 04 01020304".replace(" ", "")),
        bytes.fromhex("0020008000"),
        bytes.fromhex("0020008006") + b"123456",
        bytes.fromhex("00240180 06".replace(" ", "")) + b"654321",
        bytes.fromhex("002200C1 06 840180 800106".replace(" ", "")),
        bytes.fromhex("00870000 04 7C028100".replace(" ", "")),
        bytes.fromhex("00E00000 0E 620C 8201 39 8302A020 8C03033000".replace(" ", "")),
        bytes.fromhex("00460000 05 AC03 800107".replace(" ", "")),
    ),
)


def profile(kind: str) -> KindProfile:
    return PROFILES.get(kind, KindProfile())


# -- decoding an input ----------------------------------------------------------------------


def operations(data: bytes) -> Iterator[tuple[str, bytes | int]]:
    """("apdu", bytes) | ("power", byte) | ("helper", index), from an input."""
    i = 0
    while i < len(data):
        op = data[i]
        i += 1
        if op < LONG_APDU:
            yield "apdu", data[i : i + op]
            i += op
        elif op == LONG_APDU:
            size = int.from_bytes(data[i : i + 2], "big")
            yield "apdu", data[i + 2 : i + 2 + size]
            i += 2 + size
        elif op <= RESET:
            yield "power", op
        else:
            yield "helper", op - FIRST_HELPER


def encode(ops: list[tuple[str, bytes | int]]) -> bytes:
    """The input that `operations` decodes back to these operations (for seed corpora)."""
    out = bytearray()
    for kind, value in ops:
        if kind == "apdu":
            assert isinstance(value, bytes)
            if len(value) < LONG_APDU:
                out += bytes((len(value),)) + value
            else:
                out += bytes((LONG_APDU,)) + len(value).to_bytes(2, "big") + value
        elif kind == "power":
            assert isinstance(value, int)
            out.append(value)
        else:
            assert isinstance(value, int)
            out.append(FIRST_HELPER + value)
    return bytes(out)


def seed_inputs(kind: str) -> list[bytes]:
    """Starting points: each seed command alone, and after the helpers."""
    prof = profile(kind)
    helpers: list[tuple[str, bytes | int]] = [("helper", k) for k in range(len(prof.helpers))]
    out = [encode([("apdu", s)]) for s in prof.seeds]
    out += [encode([*helpers, ("apdu", s)]) for s in prof.seeds]
    return out


# -- the target -----------------------------------------------------------------------------


class _Errors(logging.Handler):
    """Collects ERROR records: the core logs every handler exception it turns into 6F00."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f": {record.exc_info[1]!r}"
        self.records.append(text)


@dataclass
class FuzzStats:
    inputs: int = 0
    commands: int = 0
    power_events: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    slowest: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "commands": self.commands,
            "power_events": self.power_events,
            "distinct_status_words": len(self.statuses),
            "slowest_command_ms": round(self.slowest * 1000, 2),
        }


def _valid_sw(response: bytes) -> bool:
    if len(response) < 2:
        return False
    sw1 = response[-2]
    return 0x61 <= sw1 <= 0x6F or 0x90 <= sw1 <= 0x9F


def _pins(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "tries" in node and "max_tries" in node:
            yield node
        for child in node.values():
            yield from _pins(child)


class FuzzTarget:
    """A card of one kind and the oracle; `run(data)` raises Finding on a violation."""

    def __init__(self, kind: str, seed: int = 1, deep_checks: bool = True) -> None:
        self.kind = kind
        self.seed = seed
        self.deep_checks = deep_checks
        self.card = make_card(kind, seed=seed)
        self.factory = self.card.export_state()
        self.profile = profile(kind)
        self.secrets: list[Secret] = state_secrets(self.factory)
        self.stats = FuzzStats()
        self._errors = _Errors()
        logging.getLogger("emulator").addHandler(self._errors)
        self._answer, self._chained = b"", False
        self.probe_answer = self._probe() if self.profile.probe else b""

    def close(self) -> None:
        logging.getLogger("emulator").removeHandler(self._errors)

    def _probe(self) -> bytes:
        self.card.power_off()
        self.card.power_on()
        return self.card.transmit(self.profile.probe)[-2:]

    # -- one input ----------------------------------------------------------------------

    def run(self, data: bytes) -> None:
        self.stats.inputs += 1
        card = self.card
        card.replace_state(self.factory)
        card.power_on()
        self._errors.records.clear()
        self._answer, self._chained = b"", False
        written = bytearray()  # data the session wrote: reading it back is no leak
        responses: list[tuple[bytes, bytes]] = []

        def send(command: bytes) -> bytes:
            started = time.perf_counter()
            response = card.transmit(command)
            elapsed = time.perf_counter() - started
            self.stats.commands += 1
            self.stats.slowest = max(self.stats.slowest, elapsed)
            if len(command) > 5 and command[1] in DATA_WRITE_INS:
                written.extend(command[5:])
            self._check_response(command, response, elapsed, bytes(written))
            responses.append((command, response))
            return response

        for kind, value in operations(data):
            if kind == "apdu":
                assert isinstance(value, bytes)
                send(value)
            elif kind == "power":
                self.stats.power_events += 1
                if value == POWER_OFF:
                    card.power_off()
                elif value == POWER_ON:
                    card.power_on()
                else:
                    card.reset()
            else:
                assert isinstance(value, int)
                helpers = self.profile.helpers
                if helpers:
                    helpers[value % len(helpers)](card, send)
        if self.deep_checks:
            self._check_state(responses, bytes(written))

    def _check_response(
        self, command: bytes, response: bytes, elapsed: float, written: bytes
    ) -> None:
        where = f"command {command[:12].hex().upper()}"
        if not _valid_sw(response):
            raise Finding(f"{where}: invalid response {response.hex().upper()!r}")
        self.stats.statuses[int.from_bytes(response[-2:], "big")] += 1
        if self._errors.records:
            raise Finding(f"{where}: internal error: {self._errors.records[0]}")
        if elapsed > HANG_SECONDS:
            raise Finding(f"{where}: answered after {elapsed:.1f} s")
        # A secret may be split over 61xx parts: search the answer joined so far.
        body = self._answer = (self._answer if self._chained else b"") + response[:-2]
        self._chained = response[-2] == 0x61
        if body:
            leaked = [s for s in find_secrets(body, self.secrets) if not find_secrets(written, [s])]
            if leaked:
                raise Finding(f"{where}: response carries {leaked[0].label}")

    def _check_state(self, responses: list[tuple[bytes, bytes]], written: bytes) -> None:
        state = self.card.export_state()
        try:
            text = json.dumps(state, sort_keys=True)
        except (TypeError, ValueError) as e:
            raise Finding(f"state does not export as JSON: {e}") from None
        fresh = (
            make_card(self.kind, seed=self.seed) if self.kind not in _FRESH else _FRESH[self.kind]
        )
        _FRESH[self.kind] = fresh
        try:
            fresh.replace_state(json.loads(text))
        except Exception as e:
            raise Finding(f"exported state does not load: {e!r}") from None
        if json.dumps(fresh.export_state(), sort_keys=True) != text:
            raise Finding("state changes when exported, loaded and exported again")
        for pin in _pins(state):
            if not 0 <= int(pin["tries"]) <= int(pin["max_tries"]):
                raise Finding(f"PIN counter out of bounds: {pin['tries']}/{pin['max_tries']}")
        # Secrets born in this session (a changed PIN, a generated key) must not have left.
        known = {s.value for s in self.secrets}
        born = [s for s in state_secrets(state) if s.value not in known]
        born = [s for s in born if not find_secrets(written, [s])]
        for command, answer in logical_responses(responses):
            leaked = find_secrets(answer, born)
            if leaked:
                raise Finding(
                    f"command {command[:12].hex().upper()}: response carries {leaked[0].label}"
                )
        if self.profile.probe and self._probe() != self.probe_answer:
            raise Finding(
                f"after a power cycle the probe answers {self._probe().hex().upper()}, "
                f"not {self.probe_answer.hex().upper()}"
            )


_FRESH: dict[str, CardOS] = {}
