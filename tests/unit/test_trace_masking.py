"""No PIN or key bytes in any default trace output: JSONL of both sides, every render level."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator import make_card
from emulator.trace import (
    ApduRecord,
    CardTrace,
    JsonlWriter,
    Record,
    Renderer,
    TraceRecorder,
    TracingConnection,
    read_trace,
)
from emulator.trace.model import dumps
from emulator.transports.embedded import EmbeddedConnection
from tests.trace_flows import PIN, Secrets, piv_flow


def outputs(path: Path) -> list[str]:
    """Everything a user can get out of a trace file with the default tools."""
    text = [path.read_text()]
    records = list(read_trace(path))
    for verbosity in (0, 1, 2):
        for colour in (False, True):
            text.append("\n".join(Renderer(verbosity, colour).render(records)))
    return text


def assert_clean(texts: list[str], secrets: Secrets) -> None:
    for form in secrets.forms():
        for text in texts:
            assert form not in text, f"secret {form!r} leaked"


@pytest.fixture(scope="module")
def piv_traces(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, Secrets]:
    """One PIV flow traced on both sides with secrets masked, and once with them shown."""
    base = tmp_path_factory.mktemp("traces")
    card = make_card("piv", seed=5)
    card_side, host_side = base / "card.jsonl", base / "host.jsonl"
    with CardTrace(card, card_side, reader="test reader", card_kind="piv"):
        conn = EmbeddedConnection(card)
        conn.connect()
        traced = TracingConnection(conn, host_side)
        with traced.tracer.call("Flow", pin=PIN, new_admin_key=b"\x01" * 24, container=0):
            secrets = piv_flow(traced)
        traced.tracer.close()
    shown = base / "shown.jsonl"
    card = make_card("piv", seed=5)
    with CardTrace(card, shown, show_secrets=True):
        conn = EmbeddedConnection(card)
        conn.connect()
        piv_flow(conn)
    return card_side, host_side, shown, secrets


def test_the_scan_finds_secrets_when_they_are_shown(
    piv_traces: tuple[Path, Path, Path, Secrets],
) -> None:
    # The scan itself must be able to fail: with secrets shown, every kind is there.
    _, _, shown, secrets = piv_traces
    text = shown.read_text()
    found = [v for v in secrets.values if v.hex().upper() in text]
    assert len(found) == len(secrets.values)


def test_emulator_trace_outputs_hold_no_secret(
    piv_traces: tuple[Path, Path, Path, Secrets],
) -> None:
    card_side, _, _, secrets = piv_traces
    assert_clean(outputs(card_side), secrets)


def test_host_trace_outputs_hold_no_secret(piv_traces: tuple[Path, Path, Path, Secrets]) -> None:
    _, host_side, _, secrets = piv_traces
    texts = outputs(host_side)
    assert_clean(texts, secrets)
    assert "pin=<masked, 6 bytes>" in texts[1]
    assert "new_admin_key=<masked, 24 bytes>" in texts[1]
    assert "container=0" in texts[1]


def test_masked_spans_are_labelled_in_jsonl(piv_traces: tuple[Path, Path, Path, Secrets]) -> None:
    card_side, _, _, _ = piv_traces
    labels = set()
    for line in card_side.read_text().splitlines():
        record = json.loads(line)
        for span in record.get("masked", {}).get("command", []) + record.get("masked", {}).get(
            "response", []
        ):
            labels.add(span[2])
    assert {
        "PIV PIN 80",
        "management key auth",
        "private key",
        "management key",
        "PIV PIN 80 old+new",
        "PUK+new PIV PIN",
    } <= labels


def test_chained_import_key_is_masked_in_every_block(
    piv_traces: tuple[Path, Path, Path, Secrets],
) -> None:
    card_side, _, _, _ = piv_traces
    blocks = [r for r in read_trace(card_side) if isinstance(r, ApduRecord) and r.ins == 0xFE]
    assert len(blocks) == 3
    for block in blocks:
        assert block.command_masks, f"block #{block.seq} not masked"
    # Tags and lengths stay visible: the first block starts 01 81 80 <masked p>.
    assert dumps(blocks[0]).count('"command":"10FE079DFF018180****') == 1


def gids_exchanges() -> list[tuple[str, str, str]]:
    """(command, response, secret) from gids.md: PIN set, PUT KEY, mutual authentication,
    RESET RETRY COUNTER, decipher."""
    key = "9A8B7C6D5E4F30219A8B7C6D5E4F30219A8B7C6D5E4F3021"
    r1, r2 = "1011121314151617 18191A1B1C1D1E1F", "A0A1A2A3A4A5A6A7 A8A9AAABACADAEAF"
    cryptogram = (
        "E5CEACB549AAA8DC FC5C74E2BE1E1D3B 4D73020703DA4BFF EF16BD8B176457CE 229F5716105FD093"
    )
    plain = "5EC12E75EC12E7"
    return [
        ("00 24 01 80 08 3132333435363738", "9000", "3132333435363738"),
        (f"00 DB 3F FF 26 70 24 84 01 80 A5 1F 87 18 {key} 88 03 B0 73 DC", "9000", key),
        (f"00 87 00 00 14 7C 12 81 10 {r1} 00", f"7C 12 81 10 {r2} 9000", r2),
        (f"00 87 00 00 2C 7C 2A 82 28 {cryptogram} 00", "9000", cryptogram),
        ("00 2C 02 80 08 3837363534333231", "9000", "3837363534333231"),
        ("00 2A 80 86 04 01020304 00", f"{plain} 9000", plain),
    ]


def test_gids_secrets_are_masked(tmp_path: Path) -> None:
    path = tmp_path / "gids.jsonl"
    records: list[Record] = []
    writer = JsonlWriter(path)
    recorder = TraceRecorder([writer, records.append], reader="r")
    secrets = Secrets()
    for command, response, secret in gids_exchanges():
        raw = bytes.fromhex(command.replace(" ", ""))
        recorder.exchange(raw, bytes.fromhex(response.replace(" ", "")), app="gids")
        secrets.add(bytes.fromhex(secret.replace(" ", "")))
    recorder.close()
    writer.close()
    assert_clean(outputs(path), secrets)
    apdus = [r for r in records if isinstance(r, ApduRecord)]
    assert all(r.masked for r in apdus)


def test_a_malformed_verify_is_hidden_too(tmp_path: Path) -> None:
    records: list[Record] = []
    recorder = TraceRecorder(records.append)
    # Lc says 8 but 6 PIN bytes follow: the card answers 6700, the PIN must not leak.
    recorder.exchange(bytes.fromhex("0020008008313233343536"), b"\x67\x00", app="piv")
    recorder.close()
    (apdu,) = [r for r in records if isinstance(r, ApduRecord)]
    assert "313233343536" not in dumps(apdu)
    assert apdu.decoded is not None and apdu.decoded.name == "malformed VERIFY"
