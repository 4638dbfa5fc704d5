"""Writing and reading JSON Lines traces, and following one that is being written."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from .model import Header, Record, TraceFormatError, dumps, loads


class JsonlWriter:
    """A sink that appends one line per record and flushes it at once (for --follow)."""

    def __init__(self, target: str | Path | IO[str]) -> None:
        if isinstance(target, str | Path):
            self._file: IO[str] = open(target, "w", encoding="utf-8")  # noqa: SIM115
            self._owned = True
        else:
            self._file, self._owned = target, False
        self._lock = threading.Lock()

    def __call__(self, record: Record) -> None:
        line = dumps(record)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._owned and not self._file.closed:
                self._file.close()


def parse_lines(lines: Iterator[str], source: str = "trace") -> Iterator[Record]:
    """Records of a trace; the header must come first. Errors name the line."""
    first = True
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = loads(line)
        except TraceFormatError as e:
            raise TraceFormatError(f"{source}, line {number}: {e}") from None
        if first and not isinstance(record, Header):
            raise TraceFormatError(f"{source}, line {number}: no softcard trace header")
        first = False
        yield record


def read_trace(path: str | Path) -> Iterator[Record]:
    with open(path, encoding="utf-8") as f:
        yield from parse_lines(iter(f), str(path))


def follow_lines(
    path: str | Path,
    stop: Callable[[], bool] = lambda: False,
    interval: float = 0.1,
) -> Iterator[str]:
    """Complete lines of a growing file, like tail -f from its beginning; waits for the
    file to appear. Ends when stop() says so."""
    path = Path(path)
    while not path.exists():
        if stop():
            return
        time.sleep(interval)
    with open(path, encoding="utf-8") as f:
        pending = ""
        while True:
            chunk = f.readline()
            if chunk:
                pending += chunk
                if pending.endswith("\n"):
                    yield pending
                    pending = ""
                continue
            if stop():
                return
            time.sleep(interval)


def follow_trace(
    path: str | Path, stop: Callable[[], bool] = lambda: False, interval: float = 0.1
) -> Iterator[Record]:
    yield from parse_lines(follow_lines(path, stop, interval), str(path))
