"""The control socket's protocol and `softcard ctl`'s errors, over in-process cards (no pcscd)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from softcard.cli.main import main
from softcard.control import ControlClient, ControlError, ControlServer
from softcard.multi import MultiServer, ReaderSpec, open_reader

SELECT_NOTES = [0x00, 0xA4, 0x04, 0x0C, 0x09, 0xF0, *b"softcard"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[MultiServer, ControlServer]]:
    readers = [open_reader(ReaderSpec(slot, "iso", seed=slot), embedded=True) for slot in (0, 1)]
    server = MultiServer(readers).start()
    control = ControlServer(server, tmp_path / "ctl.sock").start()
    yield server, control
    control.close()
    server.stop()


def raw(path: Path, payload: bytes) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(path))
        s.sendall(payload)
        with s.makefile("rb") as f:
            answer: dict[str, object] = json.loads(f.readline())
    return answer


def test_list_insert_remove(served: tuple[MultiServer, ControlServer]) -> None:
    server, control = served
    client = ControlClient(control.path)
    assert [(r["slot"], r["kind"], r["present"]) for r in client.readers()] == [
        (0, "iso", True),
        (1, "iso", True),
    ]
    assert client.remove(1)["present"] is False
    conn = server.reader(1).connection()
    with pytest.raises(Exception, match="no card in reader"):
        conn.connect()
    assert client.insert("softcard embedded 01")["present"] is True
    conn.connect()
    assert conn.transmit(SELECT_NOTES)[1:] == (0x90, 0x00)


def test_factory_reset_restores_the_pin_counter(served: tuple[MultiServer, ControlServer]) -> None:
    server, control = served
    conn = server.reader(0).connection()
    conn.connect()
    conn.transmit(SELECT_NOTES)
    assert conn.transmit([0x00, 0x20, 0x00, 0x81, 0x02, 0x30, 0x30])[1:] == (0x63, 0xC2)
    ControlClient(control.path).reset(0)
    conn.connect()
    conn.transmit(SELECT_NOTES)
    assert conn.transmit([0x00, 0x20, 0x00, 0x81])[1:] == (0x63, 0xC2)  # a reset keeps it
    ControlClient(control.path).reset(0, factory=True)
    conn.connect()
    conn.transmit(SELECT_NOTES)
    assert conn.transmit([0x00, 0x20, 0x00, 0x81])[1:] == (0x63, 0xC3)


def test_faults_and_trace(served: tuple[MultiServer, ControlServer]) -> None:
    server, control = served
    client = ControlClient(control.path)
    rule = client.add_fault(0, "remove ins=B0")
    conn = server.reader(0).connection()
    conn.connect()
    conn.transmit(SELECT_NOTES)
    conn.transmit([0x00, 0xA4, 0x02, 0x0C, 0x02, 0x50, 0x01])
    with pytest.raises(Exception, match="removed"):
        conn.transmit([0x00, 0xB0, 0x00, 0x00, 0x00])  # the rule pulls the card
    assert client.readers()[0]["present"] is False
    assert client.faults(0)[0]["fired"] == 1
    client.remove_fault(0, rule)
    with pytest.raises(ControlError, match="no fault rule"):
        client.remove_fault(0, rule)
    client.insert(0)
    conn.connect()
    conn.transmit(SELECT_NOTES)
    conn.transmit([0x00, 0x20, 0x00, 0x81, 0x06, *b"123456"])
    records = client.trace(0, clear=True)
    verify = [r for r in records if getattr(getattr(r, "decoded", None), "name", "") == "VERIFY"]
    assert verify and b"123456" not in verify[-1].command
    assert client.trace(0) == []  # cleared


@pytest.mark.parametrize(
    ("request_line", "error"),
    [
        (b"not json\n", "one line of JSON"),
        (b"[1]\n", "JSON object"),
        (b'{"cmd": "explode"}\n', "unknown command"),
        (b'{"cmd": "insert"}\n', "which reader"),
        (b'{"cmd": "insert", "reader": 7}\n', "no reader 7"),
        (b'{"cmd": "fault", "reader": 0, "action": "add", "rule": "nonsense x"}\n', "fault rule"),
        (b'{"cmd": "fault", "reader": 0, "action": "smash"}\n', "unknown fault action"),
        (b'{"cmd": "trace", "reader": 0, "last": -1}\n', "whole number"),
    ],
)
def test_bad_requests_get_an_error_and_the_server_goes_on(
    served: tuple[MultiServer, ControlServer], request_line: bytes, error: str
) -> None:
    _, control = served
    answer = raw(control.path, request_line)
    assert answer["ok"] is False and error in str(answer["error"])
    assert raw(control.path, b'{"cmd": "list"}\n')["ok"] is True


def test_socket_is_private_and_not_taken_twice(
    served: tuple[MultiServer, ControlServer], tmp_path: Path
) -> None:
    server, control = served
    assert control.path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(ControlError, match="in use"):
        ControlServer(server, control.path).start()
    stale = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(str(stale))  # a socket file nobody listens on: left by a killed run
    second = ControlServer(server, stale).start()
    assert ControlClient(stale).readers()
    second.close()
    assert not stale.exists()


def test_ctl_cli(
    served: tuple[MultiServer, ControlServer], capsys: pytest.CaptureFixture[str]
) -> None:
    _, control = served
    sock = str(control.path)
    assert main(["ctl", "--socket", sock, "list"]) == 0
    out = capsys.readouterr().out
    assert "softcard embedded 00" in out and "card in" in out
    assert main(["ctl", "--socket", sock, "remove", "1", "--no-wait"]) == 0
    assert "removed from reader 'softcard embedded 01'" in capsys.readouterr().out
    assert main(["ctl", "--socket", sock, "fault", "add", "0", "status", "sw=6581"]) == 0
    assert "fault rule 1 added" in capsys.readouterr().out
    assert main(["ctl", "--socket", sock, "fault", "list", "0"]) == 0
    assert "sw" in capsys.readouterr().out
    assert main(["ctl", "--socket", sock, "insert", "9", "--no-wait"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("softcard: no reader 9") and err.count("\n") == 1


def test_ctl_without_a_running_softcard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert main(["ctl", "list"]) == 0
    assert "no softcard run is running" in capsys.readouterr().out
    assert main(["ctl", "remove", "0"]) == 1
    err = capsys.readouterr().err
    assert "no running softcard run serving reader 0" in err and "Traceback" not in err
    assert main(["ctl", "--socket", str(tmp_path / "none.sock"), "list"]) == 1
    assert "control socket" in capsys.readouterr().err
