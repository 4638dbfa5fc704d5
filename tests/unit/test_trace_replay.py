"""Record and replay: the same card passes, a changed card fails at the exact APDU."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator import make_card
from emulator.trace import (
    ApduRecord,
    CardTrace,
    ReplayError,
    TracingConnection,
    read_trace,
    replay,
)
from emulator.transports.embedded import EmbeddedConnection
from tests.scenarios import tx
from tests.trace_flows import piv_flow

ISO_FLOW = [
    "00 A4 00 0C 02 2F01",
    "00 B0 00 00 00",
    "00 20 00 81 06 313233343536",
    "00 A4 08 0C 04 5000 5001",
    "00 B0 00 00 00",  # "serial <8 random bytes>": depends on the card's seed
    "00 84 00 00 08",  # a challenge: differs on every card, not a divergence
    "00 A4 08 0C 04 5000 5002",
    "00 B0 00 00 00",
]


def record_iso(path: Path, seed: int, show_secrets: bool, host: bool = False) -> None:
    card = make_card("iso", seed=seed)
    conn = EmbeddedConnection(card)
    if host:
        conn.connect()
        traced = TracingConnection(conn, path, show_secrets=show_secrets)
        for apdu in ISO_FLOW:
            tx(traced, apdu)
        traced.tracer.close()
        return
    with CardTrace(card, path, show_secrets=show_secrets):
        conn.connect()
        for apdu in ISO_FLOW:
            tx(conn, apdu)


def test_replay_passes_on_the_same_card(tmp_path: Path) -> None:
    path = tmp_path / "iso.jsonl"
    record_iso(path, seed=1, show_secrets=True)
    result = replay(read_trace(path), make_card("iso", seed=1))
    assert result.passed and result.compared == len(ISO_FLOW)
    assert result.loosely == 1  # the challenge


def test_replay_points_at_the_diverging_apdu_on_a_changed_card(tmp_path: Path) -> None:
    path = tmp_path / "iso.jsonl"
    record_iso(path, seed=1, show_secrets=True)
    result = replay(read_trace(path), make_card("iso", seed=2))
    divergence = result.divergence
    assert divergence is not None and result.compared == 5
    assert divergence.seq == 5 and divergence.name.startswith("READ BINARY")
    assert divergence.expected.startswith(b"serial ") and divergence.actual.startswith(b"serial ")
    assert divergence.expected != divergence.actual
    assert divergence.reason == "data differs from byte 7"
    text = divergence.describe()
    assert "APDU #5 (READ BINARY" in text
    assert divergence.expected.hex(" ").upper() in text
    assert divergence.actual.hex(" ").upper() in text


def test_a_changed_status_word_is_a_divergence(tmp_path: Path) -> None:
    path = tmp_path / "iso.jsonl"
    record_iso(path, seed=1, show_secrets=True)
    card = make_card("iso", seed=1)
    card.transmit(bytes.fromhex("0020008106000000000000"))  # one wrong PIN first
    card.transmit(bytes.fromhex("0020008106000000000000"))
    card.transmit(bytes.fromhex("0020008106000000000000"))  # now blocked
    result = replay(read_trace(path), card)
    assert result.divergence is not None and result.divergence.seq == 3
    assert result.divergence.reason == "status word 6983 instead of 9000"


def test_a_masked_trace_needs_the_secret_values(tmp_path: Path) -> None:
    path = tmp_path / "iso.jsonl"
    record_iso(path, seed=1, show_secrets=False, host=True)
    with pytest.raises(ReplayError, match=r"APDU #3 \(VERIFY\) has masked bytes 'PIN 81'"):
        replay(read_trace(path), make_card("iso", seed=1))
    with pytest.raises(ReplayError, match="is 4 bytes, APDU #3 needs 6"):
        replay(read_trace(path), make_card("iso", seed=1), secrets={"PIN 81": b"1234"})
    result = replay(read_trace(path), make_card("iso", seed=1), secrets={"PIN 81": b"123456"})
    assert result.passed


def test_piv_flow_replays_with_signatures_and_challenges_allowed_to_vary(tmp_path: Path) -> None:
    path = tmp_path / "piv.jsonl"
    card = make_card("piv", seed=5)
    with CardTrace(card, path, show_secrets=True):
        conn = EmbeddedConnection(card)
        conn.connect()
        piv_flow(conn)
    assert replay(read_trace(path), make_card("piv", seed=5)).passed
    # Another card draws another witness: the recorded answer to it no longer fits.
    result = replay(read_trace(path), make_card("piv", seed=6))
    assert result.divergence is not None
    records = [r for r in read_trace(path) if isinstance(r, ApduRecord)]
    second_auth = [r for r in records if r.ins == 0x87][1]
    assert result.divergence.seq == second_auth.seq
    assert result.divergence.reason == "status word 6982 instead of 9000"


def test_an_empty_trace_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    with CardTrace(make_card("iso"), path):
        pass
    with pytest.raises(ReplayError, match="no APDUs"):
        replay(read_trace(path), make_card("iso"))
