"""The recorder: JSONL round trip, chains and GET RESPONSE grouped, driver calls correlated."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from emulator import make_card
from emulator.trace import (
    ApduRecord,
    CallRecord,
    CardTrace,
    Header,
    JsonlWriter,
    PowerRecord,
    Record,
    Secret,
    TraceFormatError,
    TraceRecorder,
    TracingConnection,
    follow_trace,
    read_trace,
)
from emulator.trace.model import VERSION, dumps, loads
from emulator.transports.embedded import EmbeddedConnection
from tests.trace_flows import piv_flow


@pytest.fixture(scope="module")
def piv_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rec") / "piv.jsonl"
    card = make_card("piv", seed=11)
    with CardTrace(card, path, reader="Virtual PCD 00 00", card_kind="piv"):
        conn = EmbeddedConnection(card)
        conn.connect()
        piv_flow(conn)
        conn.disconnect()
    return path


def apdus(records: list[Record]) -> list[ApduRecord]:
    return [r for r in records if isinstance(r, ApduRecord)]


def test_jsonl_round_trip_is_exact(piv_trace: Path) -> None:
    lines = piv_trace.read_text().splitlines()
    records = [loads(line) for line in lines]
    assert [dumps(r) for r in records] == lines
    assert [loads(dumps(r)) for r in records] == records


def test_jsonl_lines_carry_what_the_issue_asks_for(piv_trace: Path) -> None:
    lines = [json.loads(line) for line in piv_trace.read_text().splitlines()]
    header = lines[0]
    assert header["format"] == "softcard-trace" and header["version"] == VERSION
    assert header["secrets"] == "masked" and header["card"] == "piv"
    assert [line["kind"] for line in lines if line["type"] == "power"] == ["power_on", "power_off"]
    apdu = next(line for line in lines if line["type"] == "apdu")
    assert {"seq", "time", "reader", "channel", "app", "command", "response", "duration_ns"} <= set(
        apdu
    )
    assert apdu["reader"] == "Virtual PCD 00 00" and apdu["app"] == "piv"
    assert apdu["decoded"]["name"] == "SELECT" and apdu["duration_ns"] > 0
    assert [line["seq"] for line in lines if line["type"] == "apdu"] == list(
        range(1, 1 + sum(1 for line in lines if line["type"] == "apdu"))
    )


def test_chain_blocks_and_response_parts_point_at_the_logical_command(piv_trace: Path) -> None:
    records = apdus(list(read_trace(piv_trace)))
    put = [r for r in records if r.ins == 0xDB]
    assert [r.decoded.summary for r in put[:3] if r.decoded] == [
        "chain block 1 of 3, 260 bytes",
        "chain block 2 of 3, 260 bytes",
        "X.509 PIV authentication (5FC105)",
    ]
    final = put[2].decoded
    assert final is not None
    assert f"command chained in 3 blocks (#{put[0].seq}-#{put[2].seq})" in final.notes
    get = next(r for r in records if r.ins == 0xCB)
    assert get.decoded is not None and get.sw == 0x6100
    assert get.decoded.sw == 0x9000  # the logical status after the GET RESPONSEs
    size = sum(len(r.response) - 2 for r in records[records.index(get) : records.index(get) + 3])
    assert any(
        note.startswith(f"response of {size} bytes in 3 parts") for note in get.decoded.notes
    )
    following = records[records.index(get) + 1]
    assert following.decoded is not None
    assert following.decoded.summary == f"part 2 of the GET DATA response (#{get.seq}), 256 bytes"


def test_a_chain_interrupted_by_another_command_is_masked_when_it_may_hold_a_secret() -> None:
    records: list[Record] = []
    recorder = TraceRecorder(records.append)
    recorder.exchange(bytes.fromhex("10FE079D0401020304"), b"\x90\x00", app="piv")
    recorder.exchange(bytes.fromhex("00FD0000"), bytes.fromhex("0507019000"), app="piv")
    recorder.close()
    first, second = apdus(records)
    assert first.decoded is not None
    assert "command chain of 1 blocks not completed" in first.decoded.notes
    assert first.command_masks and "01020304" not in dumps(first)
    assert second.decoded is not None and second.decoded.summary == "5.7.1"


def test_host_side_follows_selection_per_channel() -> None:
    card = make_card("piv", seed=1)
    conn = EmbeddedConnection(card)
    conn.connect()
    records: list[Record] = []
    traced = TracingConnection(conn, records.append)
    traced.transmit(list(bytes.fromhex("00CB3FFF055C035FC102")))  # before any SELECT
    traced.transmit(list(bytes.fromhex("00A4040005A000000308")))
    traced.transmit(list(bytes.fromhex("00CB3FFF055C035FC102")))
    traced.tracer.close()
    before, select, after = apdus(records)
    assert (before.app, select.app, after.app) == ("", "piv", "piv")
    assert after.decoded is not None and after.decoded.summary == "CHUID (5FC102)"
    assert isinstance(records[0], Header) and records[0].source == "host"


def test_driver_calls_are_correlated_with_their_apdus() -> None:
    card = make_card("piv", seed=1)
    conn = EmbeddedConnection(card)
    conn.connect()
    records: list[Record] = []
    traced = TracingConnection(conn, records.append)
    tracer = traced.tracer
    with tracer.call("CardAcquireContext", flags=0):
        traced.transmit(list(bytes.fromhex("00A4040005A000000308")))
    with tracer.call("CardSignData", container=0, key_spec="AT_SIGNATURE", data=b"\xab" * 32):
        traced.transmit(list(bytes.fromhex("00FD0000")))
        with tracer.call("CardAuthenticatePin", user="user", pin=b"123456", secret=Secret(7)):
            traced.transmit(list(bytes.fromhex("0020008008313233343536FFFF")))
        traced.transmit(list(bytes.fromhex("00F80000")))
    with pytest.raises(RuntimeError), tracer.call("CardDeleteContext"):
        raise RuntimeError("boom")
    tracer.close()
    starts = {r.id: r for r in records if isinstance(r, CallRecord) and not r.end}
    ends = {r.id: r for r in records if isinstance(r, CallRecord) and r.end}
    sign = next(r for r in starts.values() if r.name == "CardSignData")
    pin = next(r for r in starts.values() if r.name == "CardAuthenticatePin")
    assert sign.args == {
        "container": "0",
        "key_spec": "AT_SIGNATURE",
        "data": "AB" * 32,
    }
    assert pin.args == {"user": "user", "pin": "<masked, 6 bytes>", "secret": "<masked>"}
    assert pin.parent == sign.id
    by_call: dict[int | None, list[str]] = {}
    for r in apdus(records):
        by_call.setdefault(r.call, []).append(r.decoded.name if r.decoded else "")
    assert by_call[sign.id] == ["GET VERSION", "GET SERIAL"]
    assert by_call[pin.id] == ["VERIFY"]
    assert ends[sign.id].apdus == 3 and ends[pin.id].apdus == 1
    assert ends[sign.id].duration_ns >= ends[sign.id].card_ns > 0
    assert ends[sign.id].result == "ok"
    failed = next(r for r in ends.values() if r.name == "CardDeleteContext")
    assert failed.result == "RuntimeError: boom"
    # Every APDU of a call is written before the call's end record.
    order = [r for r in records if isinstance(r, ApduRecord | CallRecord)]
    assert order.index(ends[sign.id]) > max(
        order.index(r) for r in apdus(records) if r.call == sign.id
    )


def test_emulator_observer_records_power_events_and_detaches(tmp_path: Path) -> None:
    card = make_card("iso", seed=1)
    trace = CardTrace(card, tmp_path / "t.jsonl")
    card.power_on()
    card.transmit(bytes.fromhex("00A4000C022F01"))
    card.reset()
    trace.close()
    card.transmit(bytes.fromhex("00A4000C022F01"))
    records = list(read_trace(tmp_path / "t.jsonl"))
    kinds = [r.kind for r in records if isinstance(r, PowerRecord)]
    assert kinds == ["power_on", "reset"]
    assert len(apdus(records)) == 1


def test_bad_trace_files_get_one_line_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"type":"power","time":1,"kind":"reset"}\n')
    with pytest.raises(TraceFormatError, match="line 1: no softcard trace header"):
        list(read_trace(path))
    path.write_text('{"type":"header","format":"softcard-trace","version":99}\n')
    with pytest.raises(TraceFormatError, match="unsupported trace version 99"):
        list(read_trace(path))
    path.write_text('{"type":"header","format":"softcard-trace","version":1}\nnot json\n')
    with pytest.raises(TraceFormatError, match="line 2: not JSON"):
        list(read_trace(path))


def test_follow_reads_records_as_they_are_written(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    writer = JsonlWriter(path)
    recorder = TraceRecorder(writer)
    seen: list[Record] = []
    done = threading.Event()
    got_two = threading.Event()

    def reader() -> None:
        for record in follow_trace(path, stop=done.is_set, interval=0.01):
            seen.append(record)
            if len(seen) == 2:
                got_two.set()

    thread = threading.Thread(target=reader)
    thread.start()
    recorder.exchange(bytes.fromhex("00A4040005A000000308"), b"\x90\x00", app="piv")
    assert got_two.wait(10)
    recorder.exchange(bytes.fromhex("00FD0000"), bytes.fromhex("0507019000"), app="piv")
    recorder.close()
    writer.close()
    deadline = threading.Event()
    for _ in range(1000):
        if len(seen) == 3:
            break
        deadline.wait(0.01)
    done.set()
    thread.join(10)
    assert [type(r).__name__ for r in seen] == ["Header", "ApduRecord", "ApduRecord"]
