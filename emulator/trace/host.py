"""The host side: a tracing wrapper for any pyscard-shaped connection.

Works for real cards as well as for the emulator. The driver marks which of its
calls caused which APDUs:

    conn = TracingConnection(pyscard_connection, "driver.jsonl")
    with conn.tracer.call("CardSignData", container=0, key_spec="AT_SIGNATURE"):
        conn.transmit([...])
    conn.tracer.close()

Arguments whose names say PIN, PUK, key data, secret... (or wrapped in
`Secret`) are masked like APDU secrets unless `show_secrets` is set.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from .jsonl import JsonlWriter
from .recorder import Sink, TraceRecorder


class Connection(Protocol):
    def transmit(self, command: list[int], *args: Any) -> tuple[list[int], int, int]: ...


class HostTracer:
    """A recorder for the host side plus the file it writes; `call()` marks driver calls."""

    def __init__(
        self,
        target: str | Path | Sink | list[Sink],
        *,
        reader: str = "",
        show_secrets: bool = False,
    ) -> None:
        self.writer: JsonlWriter | None = None
        if isinstance(target, str | Path):
            self.writer = JsonlWriter(target)
            sinks: list[Sink] = [self.writer]
        elif isinstance(target, list):
            sinks = target
        else:
            sinks = [target]
        self.recorder = TraceRecorder(
            sinks, reader=reader, source="host", show_secrets=show_secrets
        )
        self.call = self.recorder.call

    def close(self) -> None:
        self.recorder.close()
        if self.writer is not None:
            self.writer.close()

    def __enter__(self) -> HostTracer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TracingConnection:
    """Wraps `connection`; every transmit() is recorded, everything else passes through."""

    def __init__(
        self,
        connection: Any,
        target: str | Path | Sink | list[Sink] | HostTracer,
        *,
        show_secrets: bool = False,
    ) -> None:
        self.connection = connection
        reader = ""
        get_reader = getattr(connection, "getReader", None)
        if callable(get_reader):
            try:
                reader = str(get_reader())
            except Exception:  # a closed or odd connection still gets traced
                reader = ""
        self.tracer = (
            target
            if isinstance(target, HostTracer)
            else HostTracer(target, reader=reader, show_secrets=show_secrets)
        )

    def transmit(self, command: Sequence[int], *args: Any) -> tuple[list[int], int, int]:
        started_wall = time.time()
        started = time.perf_counter_ns()
        data, sw1, sw2 = self.connection.transmit(list(command), *args)
        elapsed = time.perf_counter_ns() - started
        self.tracer.recorder.exchange(
            bytes(command),
            bytes(data) + bytes((sw1, sw2)),
            timestamp=started_wall,
            duration_ns=elapsed,
        )
        return data, sw1, sw2

    def transmit_bytes(self, command: bytes) -> bytes:
        data, sw1, sw2 = self.transmit(list(command))
        return bytes(data) + bytes((sw1, sw2))

    def disconnect(self) -> None:
        self.tracer.recorder.power("power_off")
        self.connection.disconnect()

    def connect(self, *args: Any, **kwargs: Any) -> None:
        self.connection.connect(*args, **kwargs)
        self.tracer.recorder.power("power_on")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)
