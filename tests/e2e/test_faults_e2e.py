"""Fault injection end to end: real clients through pcscd + vpcd meet a misbehaving card."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from smartcard.Exceptions import CardConnectionException

from emulator import make_card
from emulator.faults import FaultInjector, parse_rule
from softcard.harness import ServedCard, wait_card_state
from softcard.stack import PcscStack
from tests.conftest import ServeCard, SlotPool

pytestmark = pytest.mark.e2e

SELECT_WELCOME = [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x2F, 0x01]
READ_5 = [0x00, 0xB0, 0x00, 0x00, 0x05]
VERIFY_OK = [0x00, 0x20, 0x00, 0x81, 0x06, *b"123456"]


def faulty(serve_card: ServeCard, kind: str = "iso") -> tuple[ServedCard, FaultInjector]:
    card = make_card(kind, seed=11)
    injector = FaultInjector.attach(card)
    return serve_card(card), injector


def run(stack: PcscStack, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd), capture_output=True, text=True, env=stack.env(), timeout=60, check=False
    )


def wait_pulled_and_back(served: ServedCard) -> None:
    """pcscd saw the card leave, then come back (the rule's reinsert_after)."""
    wait_card_state(served.reader, False, 5)
    wait_card_state(served.reader, True, 10)


def test_status_word_on_the_nth_matching_command(serve_card: ServeCard) -> None:
    served, injector = faulty(serve_card)
    injector.add(parse_rule("status sw=6581 ins=B0 nth=2"))
    conn = served.connect()
    conn.transmit(SELECT_WELCOME)
    assert [conn.transmit(READ_5)[1:] for _ in range(3)] == [(0x90, 0), (0x65, 0x81), (0x90, 0)]


def test_opensc_tool_sees_the_card_pulled_mid_command_and_recovers(
    serve_card: ServeCard, pcsc_stack: PcscStack
) -> None:
    served, injector = faulty(serve_card)
    injector.add(parse_rule("remove ins=B0 reinsert_after=1.0"))
    args = ("opensc-tool", "-r", served.reader, "-s", "00A4020C022F01", "-s", "00B0000005")
    pulled = run(pcsc_stack, *args)
    assert pulled.returncode != 0
    assert "APDU transmit failed" in pulled.stderr
    wait_pulled_and_back(served)
    again = run(pcsc_stack, *args)
    assert again.returncode == 0, again.stderr
    assert "57 65 6C 63 6F" in again.stdout  # "Welco"


def test_pkcs15_tool_cannot_bind_a_piv_card_pulled_during_its_reads(
    serve_card: ServeCard, pcsc_stack: PcscStack, tmp_path: Path
) -> None:
    served, injector = faulty(serve_card, "piv")
    injector.add(parse_rule("remove ins=CB nth=2 reinsert_after=1.0"))
    pulled = run(pcsc_stack, "pkcs15-tool", "-r", served.reader, "--list-data-objects")
    assert pulled.returncode != 0
    assert "Card is invalid or cannot be handled" in pulled.stderr
    assert injector.fired and injector.fired[0].kind == "remove"
    wait_pulled_and_back(served)
    again = run(pcsc_stack, "pkcs15-tool", "-r", served.reader, "--list-data-objects")
    assert again.returncode == 0, again.stderr
    assert "Card Holder Unique Identifier" in again.stdout


def test_truncated_response_is_refused_by_pyscard_and_the_card_goes_on(
    serve_card: ServeCard,
) -> None:
    served, injector = faulty(serve_card)
    injector.add(parse_rule("truncate keep=1 ins=B0"))
    conn = served.connect()
    conn.transmit(SELECT_WELCOME)
    with pytest.raises(CardConnectionException, match="no valid response"):
        conn.transmit(READ_5)
    assert conn.transmit(READ_5) == (list(b"Welco"), 0x90, 0x00)


def test_delayed_response_arrives_late_and_intact(serve_card: ServeCard) -> None:
    served, injector = faulty(serve_card)
    injector.add(parse_rule("delay seconds=0.3 ins=B0"))
    conn = served.connect()
    conn.transmit(SELECT_WELCOME)
    started = time.monotonic()
    assert conn.transmit(READ_5) == (list(b"Welco"), 0x90, 0x00)
    assert time.monotonic() - started >= 0.3


def test_spontaneous_reset_loses_the_pin_the_client_verified(serve_card: ServeCard) -> None:
    served, injector = faulty(serve_card)
    injector.add(parse_rule("reset ins=B0"))
    conn = served.connect()
    assert conn.transmit(VERIFY_OK)[1:] == (0x90, 0x00)
    conn.transmit([0x00, 0xA4, 0x08, 0x0C, 0x04, 0x50, 0x00, 0x50, 0x02])
    # The reset took the selection and the PIN: READ BINARY has no current EF.
    assert conn.transmit(READ_5)[1:] == (0x69, 0x86)
    conn.transmit([0x00, 0xA4, 0x08, 0x0C, 0x04, 0x50, 0x00, 0x50, 0x02])
    assert conn.transmit(READ_5)[1:] == (0x69, 0x82)


def test_torn_update_leaves_part_of_the_write_and_no_acknowledgement(
    serve_card: ServeCard,
) -> None:
    served, injector = faulty(serve_card)
    injector.add(parse_rule("tear after_bytes=3 ins=D6 reinsert_after=1.0"))
    conn = served.connect()
    assert conn.transmit(VERIFY_OK)[1:] == (0x90, 0x00)
    conn.transmit(SELECT_WELCOME)
    with pytest.raises(CardConnectionException):
        conn.transmit([0x00, 0xD6, 0x00, 0x00, 0x06, *b"ABCDEF"])
    wait_pulled_and_back(served)
    conn = served.connect()
    conn.transmit(SELECT_WELCOME)
    assert bytes(conn.transmit([0x00, 0xB0, 0x00, 0x00, 0x08])[0]) == b"ABCcome "


def test_softcard_run_applies_a_faults_file(
    pcsc_stack: PcscStack, slot_pool: SlotPool, tmp_path: Path
) -> None:
    rules = tmp_path / "faults.toml"
    rules.write_text('[[rules]]\naction = "status"\nsw = "6A82"\nmatch = { ins = "A4" }\n')
    slot = slot_pool.take()
    reader = pcsc_stack.reader(slot)
    proc = subprocess.Popen(
        [sys.executable, "-m", "softcard", "run", "--card", "iso", "--faults", str(rules),
         "--vpcd", f"127.0.0.1:{reader.port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ},
    )  # fmt: skip
    try:
        wait_card_state(reader.name, True, 10)
        from smartcard.System import readers

        conn = next(r for r in readers() if str(r) == reader.name).createConnection()
        conn.connect()
        assert conn.transmit(SELECT_WELCOME)[1:] == (0x6A, 0x82)
        assert conn.transmit(SELECT_WELCOME)[1:] == (0x90, 0x00)
        conn.disconnect()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        wait_card_state(reader.name, False, 5)
        slot_pool.give(slot)
