"""`softcard trace`: the human view, its levels, colour, filters, replay and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator import make_card
from emulator.trace import CardTrace, TracingConnection
from emulator.transports.embedded import EmbeddedConnection
from softcard.cli.main import main
from tests.trace_flows import piv_flow

ANSI = "\033["


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "piv.jsonl"
    card = make_card("piv", seed=5)
    with CardTrace(card, path, reader="Virtual PCD 00 00", card_kind="piv", show_secrets=True):
        conn = EmbeddedConnection(card)
        conn.connect()
        piv_flow(conn)
    return path


def show(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(["trace", *argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_one_line_per_apdu_without_colour_off_a_terminal(
    trace_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, _ = show(capsys, str(trace_file))
    assert code == 0
    apdu_lines = [line for line in lines if "#" in line]
    assert len(apdu_lines) == 23
    assert ANSI not in "\n".join(lines)
    first = apdu_lines[0]
    assert "#1" in first and "piv" in first and "SELECT" in first and "PIV AID A000000308" in first
    verify = next(line for line in apdu_lines if "63C2" in line)
    assert "VERIFY" in verify and "verification failed, 2 tries left" in verify
    # Aligned: the status word starts in the same column on every APDU line.
    columns = {line.index(" 9000 ") for line in apdu_lines if " 9000 " in line}
    assert len(columns) == 1


def test_verbose_levels(trace_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, plain, _ = show(capsys, str(trace_file), "--ins", "GET DATA")
    _, v, _ = show(capsys, str(trace_file), "--ins", "GET DATA", "-v")
    _, vv, _ = show(capsys, str(trace_file), "--ins", "GET DATA", "-vv")
    assert len(plain) < len(v) < len(vv)
    text = "\n".join(v)
    assert "P1-P2: 3FFF current application" in text
    assert "5C tag list (3): 5F C1 05  X.509 PIV authentication" in text
    assert "70 certificate (516)" in text
    assert "... (512 bytes)" in text
    assert "C: 00 CB 3F FF 05 5C 03 5F C1 05" in "\n".join(vv)
    assert "... (512 bytes)" not in "\n".join(vv)


def test_colour_when_asked(trace_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, lines, _ = show(capsys, "--color", "always", str(trace_file))
    assert ANSI in "\n".join(lines)


def test_filters(trace_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, lines, _ = show(capsys, str(trace_file), "--sw", "63CX")
    assert len(lines) == 1 and "VERIFY" in lines[0]
    _, lines, _ = show(capsys, str(trace_file), "--ins", "87")
    assert len(lines) == 3 and all("GENERAL AUTHENTICATE" in line for line in lines)
    _, lines, _ = show(capsys, str(trace_file), "--app", "iso")
    assert lines == []
    _, lines, _ = show(capsys, str(trace_file), "--ins", "verify", "--sw", "9000")
    assert len(lines) == 2


def test_call_records_are_shown_with_their_apdus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = make_card("piv", seed=1)
    conn = EmbeddedConnection(card)
    conn.connect()
    path = tmp_path / "host.jsonl"
    traced = TracingConnection(conn, path)
    with traced.tracer.call("CardSignData", container=0):
        traced.transmit(list(bytes.fromhex("00A4040005A000000308")))
    traced.tracer.close()
    _, lines, _ = show(capsys, str(path))
    assert "▶ CardSignData(container=0)" in lines[0]
    assert lines[1].split()[1] == "#1"
    assert "◀ CardSignData ok" in lines[2] and "1 APDUs" in lines[2]
    _, lines, _ = show(capsys, str(path), "--call", "CardAcquireContext")
    assert lines == []


def test_replay_command(trace_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = show(capsys, "replay", str(trace_file), "--card", "piv", "--seed", "5")
    assert code == 0
    assert lines[0].startswith(
        "replayed 23 APDUs against an emulated piv card: all responses match"
    )
    code, lines, err = show(capsys, "replay", str(trace_file), "--card", "piv", "--seed", "6")
    assert code == 1
    assert "diverges: status word 6982 instead of 9000" in lines[0]
    assert lines[1].startswith("  command:") and lines[2].startswith("  expected:")
    assert "replay failed after" in err


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = show(capsys, str(tmp_path / "missing.jsonl"))
    assert code == 1 and err.strip() == f"softcard: no such trace file: {tmp_path}/missing.jsonl"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("hello\n")
    code, _, err = show(capsys, str(bad))
    assert code == 1 and err.count("\n") == 1 and "line 1: not JSON" in err
    code, _, err = show(capsys, str(bad), "--sw", "9")
    assert code == 1 and "four hex digits" in err
    code, _, err = show(capsys, "replay", str(bad), "--card", "iso", "--secret", "nothex")
    assert code == 1 and "expected LABEL=HEX" in err


def test_run_has_trace_options() -> None:
    from softcard.cli.main import build_parser

    args = build_parser().parse_args(["run", "--trace", "x.jsonl", "--trace-secrets"])
    assert args.trace == "x.jsonl" and args.trace_secrets
