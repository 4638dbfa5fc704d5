"""Fuzzing: a short atheris run per card kind, hypothesis over the same target, and proof
that the oracle catches what it claims to catch."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.core.application import Result, Session
from emulator.faults.fuzz import Finding, FuzzTarget, encode, operations, seed_inputs
from emulator.profiles import kinds
from wire.apdu import CommandApdu

TARGETS: dict[str, FuzzTarget] = {}


def target(kind: str) -> FuzzTarget:
    if kind not in TARGETS:
        TARGETS[kind] = FuzzTarget(kind)
    return TARGETS[kind]


def test_input_format_round_trips() -> None:
    ops: list[tuple[str, bytes | int]] = [
        ("apdu", b"\x00\xa4\x00\x0c"),
        ("power", 0xF2),
        ("helper", 1),
        ("apdu", bytes(300)),
    ]
    assert list(operations(encode(ops))) == ops


def test_short_atheris_run_per_kind_finds_nothing(project_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    proc = subprocess.run(
        [str(project_root / "scripts" / "fuzz"), "--runs", "2000", "--json", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = {r["kind"]: r for r in json.loads(out.read_text())}
    assert set(results) == set(kinds())
    for kind, r in results.items():
        assert r["findings"] == [], kind
        assert r["inputs"] == 2000, kind
        assert r["commands"] > r["inputs"], kind  # inputs are sessions of several commands
        assert r["coverage_edges"] > 50, kind  # atheris really instrumented the emulator


@pytest.mark.parametrize("kind", kinds())
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_hypothesis_sessions_keep_every_invariant(kind: str, data: st.DataObject) -> None:
    seeds = seed_inputs(kind)
    prefix = data.draw(st.sampled_from(seeds)) if seeds else b""
    target(kind).run(prefix + data.draw(st.binary(max_size=300)))


# -- the oracle is not blind -----------------------------------------------------------------


def test_oracle_reports_a_handler_exception() -> None:
    t = FuzzTarget("iso")
    app = t.card.application("iso")

    def broken(session: Session, apdu: CommandApdu) -> Result:
        raise IndexError("planted bug")

    app.get_challenge = broken  # type: ignore[method-assign]
    with pytest.raises(Finding, match=r"internal error.*planted bug"):
        t.run(encode([("apdu", bytes.fromhex("0084000008"))]))
    t.close()


def test_oracle_reports_a_secret_in_a_response() -> None:
    t = FuzzTarget("iso")
    app = t.card.application("iso")

    def leaky(session: Session, apdu: CommandApdu) -> Result:
        return b"pin=" + app.pins[0x81].value  # type: ignore[attr-defined]

    app.get_challenge = leaky  # type: ignore[method-assign]
    with pytest.raises(Finding, match="response carries /iso/pins/81 value"):
        t.run(encode([("apdu", bytes.fromhex("0084000000"))]))
    # Split over 61xx parts ("pin=1234" 61 02, then "56"): the joined answer is searched.
    get_rest = bytes.fromhex("00C0000002")
    with pytest.raises(Finding, match="response carries /iso/pins/81 value"):
        t.run(encode([("apdu", bytes.fromhex("0084000008")), ("apdu", get_rest)]))
    t.close()


def test_oracle_excuses_data_the_session_wrote_itself() -> None:
    t = FuzzTarget("iso")
    write = bytes.fromhex("00D6000006") + b"123456"
    read = bytes.fromhex("00B0000006")
    t.run(encode([("helper", 0), ("apdu", bytes.fromhex("00A4020C022F01")), ("apdu", write),
                  ("apdu", read)]))  # fmt: skip
    t.close()


def test_oracle_reports_an_invalid_status_word_and_a_lost_card() -> None:
    t = FuzzTarget("iso")
    t.card.interceptor = lambda command, process: b"\x12"
    with pytest.raises(Finding, match="invalid response"):
        t.run(encode([("apdu", bytes.fromhex("00A4000C023F00"))]))
    t.card.interceptor = lambda command, process: (
        b"\x6a\x82" if command[:2] == b"\x00\xa4" else process(command)
    )
    with pytest.raises(Finding, match="probe answers 6A82"):
        t.run(b"")
    t.close()
