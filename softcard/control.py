"""The control socket of `softcard run`: insert, remove, reset, faults and traces per reader.

A Unix domain socket, mode 0600 in a directory of mode 0700 ($XDG_RUNTIME_DIR/softcard,
else /tmp/softcard-<uid>), one per `softcard run` process (`run-<pid>.sock`), so
any number of them coexist and `softcard ctl` finds them by listing the directory.

The protocol is one JSON object per line each way. A request names a command and
its arguments; the answer is {"ok": true, ...} or {"ok": false, "error": "..."}:

    {"cmd": "list"}                                   -> {"ok": true, "pid": 123, "readers": [...]}
    {"cmd": "insert", "reader": 1}                    (a slot number or a reader name)
    {"cmd": "remove", "reader": "Virtual PCD 00 01"}
    {"cmd": "reset", "reader": 1, "factory": false}
    {"cmd": "fault", "reader": 1, "action": "add", "rule": "status sw=6581 ins=D6"}
                                        (fault actions: add, list, remove (with "id"), clear)
    {"cmd": "trace", "reader": 1, "last": 20, "clear": false}   -> {"records": [...]}

Trace records are emulator.trace's JSON form (secrets masked), as in a JSONL trace.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .multi import CardReader, MultiError, MultiServer

MAX_LINE = 64 * 1024
SOCKET_PREFIX = "run-"
SOCKET_SUFFIX = ".sock"
CLIENT_TIMEOUT = 30.0


class ControlError(Exception):
    """The control socket cannot be reached or refused a request; one-line message."""


def control_dir() -> Path:
    """Where control sockets live: $XDG_RUNTIME_DIR/softcard, else /tmp/softcard-<uid>."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "softcard"
    return Path("/tmp") / f"softcard-{os.getuid()}"


def private_dir(path: Path) -> Path:
    """Create `path` 0700, or check that the existing one is ours and private.

    /tmp is shared: a directory someone else made there could let them swap our
    socket for theirs and read every command (PINs in traces are masked, but
    insert/remove/fault are powers of their own).
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise ControlError(f"{path}: not a directory of this user; refusing to use it")
    if info.st_mode & 0o077:
        raise ControlError(f"{path}: readable by others (mode {info.st_mode & 0o777:o})")
    return path


def default_socket_path(pid: int | None = None) -> Path:
    return control_dir() / f"{SOCKET_PREFIX}{pid or os.getpid()}{SOCKET_SUFFIX}"


# -- the server -------------------------------------------------------------------------------


def _reader_key(request: dict[str, Any]) -> int | str:
    key = request.get("reader")
    if isinstance(key, bool) or not isinstance(key, int | str) or key == "":
        raise MultiError("which reader? give 'reader': a slot number or a reader name")
    return key


def _records_json(records: list[Any]) -> list[dict[str, Any]]:
    return [record.to_json() for record in records]


class Dispatcher:
    """Requests -> MultiServer calls; one small function per command."""

    def __init__(self, server: MultiServer) -> None:
        self.server = server
        self.commands: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "list": self.cmd_list,
            "insert": self.cmd_insert,
            "remove": self.cmd_remove,
            "reset": self.cmd_reset,
            "fault": self.cmd_fault,
            "trace": self.cmd_trace,
        }

    def handle(self, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict):
            return {"ok": False, "error": "a request is a JSON object"}
        name = request.get("cmd")
        command = self.commands.get(name) if isinstance(name, str) else None
        if command is None:
            known = ", ".join(self.commands)
            return {"ok": False, "error": f"unknown command {name!r} (known: {known})"}
        try:
            return {"ok": True, **command(request)}
        except MultiError as e:
            return {"ok": False, "error": str(e)}

    def _reader(self, request: dict[str, Any]) -> CardReader:
        return self.server.reader(_reader_key(request))

    def cmd_list(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"pid": os.getpid(), "readers": [r.info() for r in self.server.readers]}

    def cmd_insert(self, request: dict[str, Any]) -> dict[str, Any]:
        reader = self._reader(request)
        reader.insert()
        return {"reader": reader.info()}

    def cmd_remove(self, request: dict[str, Any]) -> dict[str, Any]:
        reader = self._reader(request)
        reader.remove()
        return {"reader": reader.info()}

    def cmd_reset(self, request: dict[str, Any]) -> dict[str, Any]:
        reader = self._reader(request)
        reader.reset(factory=bool(request.get("factory", False)))
        return {"reader": reader.info()}

    def cmd_fault(self, request: dict[str, Any]) -> dict[str, Any]:
        reader = self._reader(request)
        action = request.get("action", "list")
        if action == "add":
            rule = request.get("rule")
            if not isinstance(rule, str) or not rule.strip():
                raise MultiError("fault add: give the rule, e.g. 'status sw=6581 ins=D6'")
            return {"id": reader.add_fault(rule), "rules": reader.faults()}
        if action == "remove":
            rule_id = request.get("id")
            if isinstance(rule_id, bool) or not isinstance(rule_id, int):
                raise MultiError("fault remove: give the rule's id (a number)")
            reader.remove_fault(rule_id)
        elif action == "clear":
            reader.clear_faults()
        elif action != "list":
            raise MultiError(f"unknown fault action {action!r} (add, list, remove, clear)")
        return {"rules": reader.faults()}

    def cmd_trace(self, request: dict[str, Any]) -> dict[str, Any]:
        reader = self._reader(request)
        last = request.get("last")
        if last is not None and (isinstance(last, bool) or not isinstance(last, int) or last < 0):
            raise MultiError("trace: 'last' must be a whole number")
        records = _records_json(reader.trace(last or None))
        if request.get("clear"):
            reader.clear_trace()
        return {"records": records}


class ControlServer:
    """Serves the control protocol for a MultiServer on a Unix socket until closed."""

    def __init__(self, server: MultiServer, path: Path | None = None) -> None:
        self.dispatcher = Dispatcher(server)
        self.path = Path(path) if path is not None else default_socket_path()
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ControlServer:
        parent = self.path.parent
        if parent == control_dir():
            private_dir(parent)
        else:
            parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() or self.path.is_symlink():
            if _answers(self.path):
                raise ControlError(f"control socket {self.path} is in use by another process")
            self.path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket is 0600 from the start, never briefly wider
        try:
            sock.bind(str(self.path))
        except OSError as e:
            sock.close()
            raise ControlError(f"cannot create control socket {self.path}: {e.strerror}") from None
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        sock.listen(8)
        sock.settimeout(0.2)
        self._sock = sock
        self._thread = threading.Thread(target=self._accept, name="softcard-control", daemon=True)
        self._thread.start()
        return self

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as stream:
            while not self._stop.is_set():
                line = stream.readline(MAX_LINE + 1)
                if not line:
                    return
                if len(line) > MAX_LINE:
                    answer: dict[str, Any] = {"ok": False, "error": "request too long"}
                else:
                    try:
                        answer = self.dispatcher.handle(json.loads(line))
                    except ValueError:
                        answer = {"ok": False, "error": "a request is one line of JSON"}
                stream.write(json.dumps(answer).encode() + b"\n")
                stream.flush()

    def close(self) -> None:
        self._stop.set()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self.path.unlink()

    def __enter__(self) -> ControlServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _answers(path: Path) -> bool:
    """Is a live server behind this socket file?"""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


# -- the client -------------------------------------------------------------------------------


def live_sockets(directory: Path | None = None) -> list[Path]:
    """Control sockets of running `softcard run` processes; stale ones are removed."""
    directory = directory or control_dir()
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob(f"{SOCKET_PREFIX}*{SOCKET_SUFFIX}")):
        if _answers(path):
            found.append(path)
        else:
            with contextlib.suppress(OSError):
                path.unlink()  # its process is gone (killed without cleaning up)
    return found


@dataclass
class ControlClient:
    """The Python API of `softcard ctl`: one `softcard run` process, by its socket."""

    path: Path
    timeout: float = CLIENT_TIMEOUT

    @classmethod
    def find(cls, reader: int | str | None = None) -> ControlClient:
        """The one running `softcard run` (serving `reader`, if given) on this machine."""
        candidates = []
        for path in live_sockets():
            client = cls(path)
            if reader is None or any(
                str(reader) in (str(r["slot"]), r["reader"]) for r in client.readers()
            ):
                candidates.append(client)
        what = "softcard run" + (f" serving reader {reader!r}" if reader is not None else "")
        if not candidates:
            raise ControlError(f"no running {what} found in {control_dir()}")
        if len(candidates) > 1:
            paths = ", ".join(str(c.path) for c in candidates)
            raise ControlError(f"several {what}: {paths}; choose one with --socket")
        return candidates[0]

    def request(self, cmd: str, **args: Any) -> dict[str, Any]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(self.timeout)
            try:
                sock.connect(str(self.path))
                sock.sendall(json.dumps({"cmd": cmd, **args}).encode() + b"\n")
                with sock.makefile("rb") as stream:
                    line = stream.readline()
            except OSError as e:
                raise ControlError(f"control socket {self.path}: {e.strerror or e}") from None
        if not line:
            raise ControlError(f"control socket {self.path}: no answer")
        answer: dict[str, Any] = json.loads(line)
        if not answer.get("ok"):
            raise ControlError(str(answer.get("error", "request refused")))
        return answer

    def readers(self) -> list[dict[str, Any]]:
        readers: list[dict[str, Any]] = self.request("list")["readers"]
        return readers

    def insert(self, reader: int | str) -> dict[str, Any]:
        info: dict[str, Any] = self.request("insert", reader=reader)["reader"]
        return info

    def remove(self, reader: int | str) -> dict[str, Any]:
        info: dict[str, Any] = self.request("remove", reader=reader)["reader"]
        return info

    def reset(self, reader: int | str, factory: bool = False) -> dict[str, Any]:
        info: dict[str, Any] = self.request("reset", reader=reader, factory=factory)["reader"]
        return info

    def add_fault(self, reader: int | str, rule: str) -> int:
        rule_id: int = self.request("fault", reader=reader, action="add", rule=rule)["id"]
        return rule_id

    def faults(self, reader: int | str) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = self.request("fault", reader=reader, action="list")["rules"]
        return rules

    def remove_fault(self, reader: int | str, rule_id: int) -> None:
        self.request("fault", reader=reader, action="remove", id=rule_id)

    def clear_faults(self, reader: int | str) -> None:
        self.request("fault", reader=reader, action="clear")

    def trace(self, reader: int | str, last: int | None = None, clear: bool = False) -> list[Any]:
        """Trace records (emulator.trace.Record), oldest first."""
        from emulator.trace.model import record_from_json

        answer = self.request("trace", reader=reader, last=last, clear=clear)
        return [record_from_json(r) for r in answer["records"]]
