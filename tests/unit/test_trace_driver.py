"""The minidriver under a host-side tracer, in process (EmbeddedConnection): each API call owns
exactly the APDUs it caused, with their timings, and no PIN or admin key reaches the trace.

(tests/e2e/test_minidriver_enrollment.py checks that call names appear at all; the same flow
through pcscd and vpcd is tests/e2e/test_trace_driver_e2e.py.)"""

from __future__ import annotations

from pathlib import Path

import driver
from driver.csp import Csp
from driver.structures import CARD_SIGNING_INFO
from emulator import make_card
from emulator.trace import ApduRecord, CallRecord, TracingConnection, read_trace
from emulator.transports.embedded import EmbeddedConnection
from tests.trace_driver_flow import (
    DIGEST,
    PIN,
    assert_sign_call_owns_its_apdus,
    leaked,
    run_flow,
    trace_texts,
    traced_calls,
)
from wire import minidriver as k


def _traced(path: Path, show_secrets: bool = False) -> TracingConnection:
    conn = EmbeddedConnection(make_card("gids", seed=11))
    conn.connect()
    return TracingConnection(conn, path, show_secrets=show_secrets)


def test_card_sign_data_owns_its_freshness_check_mse_and_pso(tmp_path: Path) -> None:
    path = tmp_path / "md.jsonl"
    conn = _traced(path)
    run_flow(conn)
    conn.tracer.close()
    records = list(read_trace(path))
    [sign] = traced_calls(records, "CardSignData")
    # A call outside a transaction checks cardcf first (the Base CSP's freshness rule).
    assert_sign_call_owns_its_apdus(sign, freshness_checked=True)
    # Every APDU of the flow belongs to exactly one outermost call: none is left unowned.
    apdus = [r for r in records if isinstance(r, ApduRecord)]
    assert apdus and all(r.call is not None for r in apdus)
    ends = [r for r in records if isinstance(r, CallRecord) and r.end]
    assert sum(r.apdus for r in ends if r.parent is None) == len(apdus)


def test_in_a_transaction_card_sign_data_sends_only_mse_and_pso(tmp_path: Path) -> None:
    path = tmp_path / "md.jsonl"
    conn = _traced(path)
    with driver.acquire_context(connection=conn) as ctx:
        ctx.authenticate_pin("user", PIN)
        index = Csp(ctx).enroll(k.AT_KEYEXCHANGE, 1024)
        info = CARD_SIGNING_INFO(2, index, k.AT_KEYEXCHANGE, 0, k.CALG_SHA_256, DIGEST)
        with ctx.transaction():
            ctx.sign_data(info)  # checks cardcf once for the transaction
            ctx.sign_data(info)  # served from what the transaction already checked
    conn.tracer.close()
    first, second = traced_calls(list(read_trace(path)), "CardSignData")
    assert_sign_call_owns_its_apdus(first, freshness_checked=True)
    assert_sign_call_owns_its_apdus(second, freshness_checked=False)


def test_the_public_key_read_of_a_sign_belongs_to_card_sign_data(tmp_path: Path) -> None:
    path = tmp_path / "md.jsonl"
    conn = _traced(path)
    with driver.acquire_context(connection=conn) as ctx:
        ctx.authenticate_pin("user", PIN)
        ctx.create_container(0, k.CARD_CREATE_CONTAINER_KEY_GEN, k.AT_KEYEXCHANGE, 2048, None)
        # No CardGetContainerInfo: the sign itself must learn the key size from the card.
        ctx.sign_data(CARD_SIGNING_INFO(2, 0, k.AT_KEYEXCHANGE, 0, k.CALG_SHA_256, DIGEST))
    conn.tracer.close()
    records = list(read_trace(path))
    [sign] = traced_calls(records, "CardSignData")
    assert_sign_call_owns_its_apdus(sign, freshness_checked=True, public_key_read=True)
    # The 2048-bit public key does not fit a short response: its GET RESPONSE is the sign's too.
    [create] = traced_calls(records, "CardCreateContainer")
    assert not {r.seq for r in create.apdus} & {r.seq for r in sign.apdus}


def test_a_failed_sign_is_recorded_with_its_error_and_apdus(tmp_path: Path) -> None:
    path = tmp_path / "md.jsonl"
    conn = _traced(path)
    with driver.acquire_context(connection=conn) as ctx:
        try:
            ctx.sign_data(CARD_SIGNING_INFO(2, 0, k.AT_KEYEXCHANGE, 0, k.CALG_SHA_256, DIGEST))
        except driver.MinidriverError:
            pass
        else:
            raise AssertionError("signing with no container must fail")
    conn.tracer.close()
    [sign] = traced_calls(list(read_trace(path)), "CardSignData")
    assert sign.end.result.startswith("SCARD_E_NO_KEY_CONTAINER")
    assert sign.end.apdus == len(sign.apdus)
    assert not any(r.ins in (0x22, 0x2A) for r in sign.apdus)  # refused before MSE


def test_no_pin_or_admin_key_in_the_driver_trace(tmp_path: Path) -> None:
    path = tmp_path / "md.jsonl"
    conn = _traced(path)
    secrets = run_flow(conn)
    conn.tracer.close()
    texts = trace_texts(path)
    assert leaked(texts, secrets) == []
    # The VERIFY and the admin key's PUT DATA are there, masked with their labels.
    labels = {
        span.label
        for r in read_trace(path)
        if isinstance(r, ApduRecord)
        for span in (*r.command_masks, *r.response_masks)
    }
    assert {"user PIN", "admin key"} <= labels, labels


def test_the_scan_finds_the_secrets_when_they_are_shown(tmp_path: Path) -> None:
    path = tmp_path / "md.jsonl"
    conn = _traced(path, show_secrets=True)
    secrets = run_flow(conn)
    conn.tracer.close()
    found = leaked(trace_texts(path), secrets)
    for value in secrets.values:
        assert value.hex().upper() in " ".join(found).upper(), value.hex()
