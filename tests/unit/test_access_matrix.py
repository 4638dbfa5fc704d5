"""Access control: every protected operation of each application, in every authentication state.

The table says what each operation needs; the test runs every (operation, state)
cell on a fresh card and expects success exactly when the state includes what
is needed, and 6982 otherwise. Another test checks that the security state is
gone after power off, reset and (where the spec says so) reselection.
`SOFTCARD_ACCESS_MATRIX_LOG=FILE` writes the matrix for scripts/reliability-report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from emulator import make_card
from emulator.core.card import CardOS
from emulator.faults.fuzz import _piv_management

Step = Callable[[CardOS], None]
PIN = "PIN"
ADMIN = "admin"
STATES: tuple[frozenset[str], ...] = (
    frozenset(),
    frozenset({PIN}),
    frozenset({ADMIN}),
    frozenset({PIN, ADMIN}),
)


@dataclass(frozen=True)
class Operation:
    name: str
    apdus: tuple[str, ...]  # the last one is judged; earlier ones set it up (selection)
    needs: frozenset[str] = frozenset()
    # Done with full rights before the cell's own power cycle (a key to sign with).
    prepare: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class AppTable:
    kind: str
    select: str  # selects the application after power-on
    authenticate: dict[str, Step]
    operations: tuple[Operation, ...]
    states: tuple[frozenset[str], ...]


def send(card: CardOS, apdu: str) -> int:
    out = card.transmit(bytes.fromhex(apdu.replace(" ", "")))
    return int.from_bytes(out[-2:], "big")


ISO = AppTable(
    kind="iso",
    select="00 A4 00 0C 02 3F00",
    authenticate={PIN: lambda c: _check(c, "00 20 00 81 06" + b"123456".hex())},
    states=STATES[:2],
    operations=(
        Operation("READ BINARY public EF 2F01", ("00 A4 02 0C 02 2F01", "00 B0 00 00 05")),
        Operation(
            "READ BINARY secret EF 5002",
            ("00 A4 08 0C 04 5000 5002", "00 B0 00 00 05"),
            frozenset({PIN}),
        ),
        Operation(
            "UPDATE BINARY EF 2F01",
            ("00 A4 02 0C 02 2F01", "00 D6 00 00 02 4142"),
            frozenset({PIN}),
        ),
        Operation(
            "UPDATE BINARY EF 5002",
            ("00 A4 08 0C 04 5000 5002", "00 D6 00 00 02 4142"),
            frozenset({PIN}),
        ),
        Operation(
            "CREATE FILE EF under MF",
            ("00 E0 00 00 10 62 0E 82 01 01 83 02 6001 80 02 0010 8C 01 00",),
            frozenset({PIN}),
        ),
        Operation("DELETE FILE EF 2F01", ("00 E4 00 00 02 2F01",), frozenset({PIN})),
        Operation(
            "DELETE FILE EF 5002 (never)",
            ("00 A4 08 0C 02 5000", "00 E4 00 00 02 5002"),
            frozenset({"never"}),
        ),
    ),
)

PIV_SIGN = "00 87 11 9A 26 7C 24 82 00 81 20" + "11" * 32

PIV = AppTable(
    kind="piv",
    select="00 A4 04 0C 0B A000000308000010000100",
    authenticate={
        PIN: lambda c: _check(c, "00 20 00 80 08 313233343536FFFF"),
        ADMIN: lambda c: _piv_management(c, c.transmit),
    },
    states=STATES,
    operations=(
        Operation("GET DATA CHUID", ("00 CB 3F FF 05 5C 03 5FC102 00",)),
        Operation("GET DATA discovery", ("00 CB 3F FF 03 5C 01 7E 00",)),
        Operation(
            "PUT DATA certificate 9A",
            ("00 DB 3F FF 0A 5C 03 5FC105 53 03 700100",),
            frozenset({ADMIN}),
        ),
        Operation("GENERATE KEY 9A P-256", ("00 47 00 9A 05 AC 03 80 01 11",), frozenset({ADMIN})),
        Operation(
            "SET MANAGEMENT KEY",
            ("00 FF FF FF 1B 03 9B 18" + "0102030405060708" * 3,),
            frozenset({ADMIN}),
        ),
        Operation("SET PIN RETRIES", ("00 FA 05 05",), frozenset({PIN, ADMIN})),
        Operation(
            "SIGN with 9A (PIN policy once)",
            (PIV_SIGN,),
            frozenset({PIN}),
            prepare=("00 47 00 9A 05 AC 03 80 01 11",),
        ),
        Operation(
            "IMPORT KEY 9C (P-256)", ("00 FE 11 9C 22 06 20" + "01" * 32,), frozenset({ADMIN})
        ),
    ),
)

TABLES = {"iso": ISO, "piv": PIV}


def _check(card: CardOS, apdu: str) -> None:
    sw = send(card, apdu)
    assert sw == 0x9000, f"{apdu}: {sw:04X}"


def run_cell(table: AppTable, op: Operation, state: frozenset[str]) -> int:
    card = make_card(table.kind, seed=2)
    card.power_on()
    if op.prepare:
        send(card, table.select)
        for step in table.authenticate.values():
            step(card)
        for apdu in op.prepare:
            _check(card, apdu)
        card.power_off()
        card.power_on()
    send(card, table.select)
    for auth in sorted(state):
        table.authenticate[auth](card)
    sw = 0
    for apdu in op.apdus:
        sw = send(card, apdu)
    return sw


def allowed(sw: int) -> bool:
    return sw == 0x9000 or sw >> 8 == 0x61


CELLS = [(t, op, s) for t in TABLES.values() for op in t.operations for s in t.states]


@pytest.mark.parametrize(
    ("table", "op", "state"),
    CELLS,
    ids=[f"{t.kind}-{op.name}-{'+'.join(sorted(s)) or 'none'}" for t, op, s in CELLS],
)
def test_operation_succeeds_exactly_with_the_authentication_it_needs(
    table: AppTable, op: Operation, state: frozenset[str]
) -> None:
    sw = run_cell(table, op, state)
    if op.needs <= state:
        assert allowed(sw), f"{op.name} with {sorted(state)}: {sw:04X}"
    else:
        assert sw == 0x6982, f"{op.name} with {sorted(state)}: {sw:04X}, expected 6982"
    record(table.kind, op.name, state, sw, op.needs <= state)


def record(kind: str, op: str, state: frozenset[str], sw: int, expected_allowed: bool) -> None:
    target = os.environ.get("SOFTCARD_ACCESS_MATRIX_LOG")
    if target:
        line = {
            "kind": kind,
            "operation": op,
            "state": "+".join(sorted(state)) or "none",
            "sw": f"{sw:04X}",
            "expected": "allowed" if expected_allowed else "denied",
            "ok": allowed(sw) == expected_allowed,
        }
        with open(target, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")


# -- the security state is volatile where the specs say ----------------------------------------

LOSSES = {
    "power off": lambda c, t: (c.power_off(), c.power_on(), send(c, t.select)),
    "reset": lambda c, t: (c.reset(), send(c, t.select)),
}


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize(
    ("kind", "probe"),
    [("iso", "READ BINARY secret EF 5002"), ("piv", "PUT DATA certificate 9A"),
     ("piv", "SET PIN RETRIES")],
)  # fmt: skip
def test_authentication_is_gone_after_power_off_and_reset(kind: str, probe: str, loss: str) -> None:
    table = TABLES[kind]
    op = next(o for o in table.operations if o.name == probe)
    card = make_card(kind, seed=2)
    card.power_on()
    send(card, table.select)
    for step in table.authenticate.values():
        step(card)
    LOSSES[loss](card, table)
    sw = 0
    for apdu in op.apdus:
        sw = send(card, apdu)
    assert sw == 0x6982


def test_piv_reselection_keeps_and_other_selection_clears_the_security_state() -> None:
    card = make_card("piv", seed=2)
    card.power_on()
    send(card, PIV.select)
    PIV.authenticate[ADMIN](card)
    send(card, PIV.select)  # reselecting PIV: state kept (SP 800-73-4 part 2, 3.1.1)
    assert send(card, PIV.operations[2].apdus[0]) == 0x9000


def test_iso_pin_state_survives_file_selection_but_not_reset_status() -> None:
    card = make_card("iso", seed=2)
    card.power_on()
    ISO.authenticate[PIN](card)
    assert send(card, "00 A4 08 0C 04 5000 5002") == 0x9000
    assert send(card, "00 B0 00 00 05") == 0x9000
    assert send(card, "00 20 FF 81") == 0x9000  # VERIFY P1=FF: reset the security status
    assert send(card, "00 B0 00 00 05") == 0x6982
