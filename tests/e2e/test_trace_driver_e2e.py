"""A traced minidriver flow through pyscard -> pcscd -> vpcd -> the emulated GIDS card: the
host's CardSignData owns exactly its APDUs, the card saw the very same APDUs, and neither trace
holds a PIN or the admin key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulator import make_card
from emulator.trace import ApduRecord, CardTrace, TracingConnection, read_trace
from tests.trace_driver_flow import (
    assert_sign_call_owns_its_apdus,
    leaked,
    run_flow,
    trace_texts,
    traced_calls,
)

pytestmark = pytest.mark.e2e


def test_card_sign_data_through_pcscd_is_correlated_with_its_apdus(
    serve_card: Any, tmp_path: Path
) -> None:
    card = make_card("gids")
    card_side, host_side = tmp_path / "card.jsonl", tmp_path / "host.jsonl"
    card_trace = CardTrace(card, card_side, card_kind="gids")
    served = serve_card(card)
    conn = TracingConnection(served.connect(), host_side)
    secrets = run_flow(conn, bits=2048)
    conn.tracer.close()
    card_trace.close()

    host = list(read_trace(host_side))
    [sign] = traced_calls(host, "CardSignData")
    assert_sign_call_owns_its_apdus(sign, freshness_checked=True)

    # The card handled exactly what the host sent, in order: nothing added or lost on the way.
    host_apdus = [r for r in host if isinstance(r, ApduRecord)]
    card_apdus = [r for r in read_trace(card_side) if isinstance(r, ApduRecord)]
    assert [r.command for r in card_apdus] == [r.command for r in host_apdus]
    assert [r.response for r in card_apdus] == [r.response for r in host_apdus]
    by_seq = dict(zip((r.seq for r in host_apdus), card_apdus, strict=True))
    for apdu in sign.apdus:
        # The host's time is the round trip through pcscd; the card's is its own part of it.
        assert apdu.duration_ns > by_seq[apdu.seq].duration_ns > 0

    assert leaked(trace_texts(host_side) + trace_texts(card_side), secrets) == []
