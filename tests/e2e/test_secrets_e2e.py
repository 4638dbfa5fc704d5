"""Secrets stay on the card: client sessions scanned in responses, logs and default traces.

Every served card's responses are scanned by the `serve_card` fixture already
(tests/conftest.py); these tests add the trace written with default masking, and
show the scan is not blind: a trace written with `show_secrets` fails it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from emulator import make_card
from emulator.faults.secrets import SecretScanner, card_secrets, find_secrets_in_text
from emulator.trace import CardTrace
from softcard.stack import PcscStack
from tests.conftest import ServeCard

pytestmark = pytest.mark.e2e

NEW_KEY = "0807060504030201" * 3


def ypt(stack: PcscStack, reader: str, cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["yubico-piv-tool", "-r", reader, *args],
        capture_output=True, text=True, env=stack.env(), cwd=cwd, timeout=120, check=False,
    )  # fmt: skip
    return proc.stdout + proc.stderr


def test_piv_client_session_leaks_nothing_into_responses_logs_or_masked_trace(
    serve_card: ServeCard, pcsc_stack: PcscStack, tmp_path: Path
) -> None:
    card = make_card("piv", seed=21)
    trace_path = tmp_path / "session.jsonl"
    trace = CardTrace(card, trace_path, card_kind="piv")
    scanner = SecretScanner(card).attach()
    served = serve_card(card)
    key_pem = tmp_path / "imported.pem"
    key_pem.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    run = lambda *a: ypt(pcsc_stack, served.reader, tmp_path, *a)  # noqa: E731
    assert "Successfully verified PIN" in run("-a", "verify-pin", "-P", "123456")
    run("-a", "change-pin", "-P", "123456", "-N", "654321")
    run("-a", "change-puk", "-P", "12345678", "-N", "87654321")
    run("-a", "verify-pin", "-P", "000000")
    run("-a", "unblock-pin", "-P", "87654321", "-N", "111111")
    run("-a", "set-mgm-key", "-n", NEW_KEY)
    run(f"--key={NEW_KEY}", "-s", "9a", "-a", "generate", "-A", "ECCP256", "-o", "9a.pem")
    run(f"--key={NEW_KEY}", "-s", "9c", "-a", "import-key", "-i", str(key_pem))
    trace.close()
    scanner.detach()
    state = card.export_state()["piv"]
    assert set(state["keys"]) == {"9A", "9C"}, "the session did not reach its key steps"

    # Everything the card ever held: factory PIN/PUK/key and the ones the session set.
    labels = {s.label for s in scanner.secrets.values()} | {s.label for s in card_secrets(card)}
    assert any("9C" in label and "EC private scalar" in label for label in labels)
    assert scanner.responses > 20
    trace_text = trace_path.read_text()
    assert "00 20" in trace_text or "0020" in trace_text.replace(" ", "")
    leaks = scanner.scan([("masked trace", trace_text)])
    assert leaks == []


def test_the_scan_catches_a_trace_written_with_secrets_shown(
    serve_card: ServeCard, tmp_path: Path
) -> None:
    card = make_card("iso", seed=4)
    trace_path = tmp_path / "clear.jsonl"
    trace = CardTrace(card, trace_path, card_kind="iso", show_secrets=True)
    scanner = SecretScanner(card).attach()
    conn = serve_card(card).connect()
    assert conn.transmit([0x00, 0x20, 0x00, 0x81, 0x06, *b"123456"])[1:] == (0x90, 0x00)
    trace.close()
    scanner.detach()
    leaks = scanner.scan([("clear trace", trace_path.read_text())])
    assert [leak.where for leak in leaks] == ["clear trace"]
    assert "81 value" in leaks[0].secret
    assert find_secrets_in_text(trace_path.read_text(), scanner.secrets.values())
