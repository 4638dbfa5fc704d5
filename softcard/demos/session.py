"""What every demo needs: the stack, a card started with `softcard run`, and narration."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wire.iso7816 import describe

from ..harness import wait_card_state
from ..stack import PcscStack, StackError


def _hex(data: bytes) -> str:
    return data.hex(" ").upper()


@dataclass
class DemoSession:
    """Starts what it needs, narrates, and stops by PID exactly what it started."""

    out: Any = sys.stdout
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="softcard-demo-")))
    stack: PcscStack | None = None
    card_process: subprocess.Popen[str] | None = None
    reader: str = ""
    connection: Any = None
    step_no: int = 0
    # The decoded APDU trace of the card, shown after each step (softcard run --trace).
    show_trace: bool = True
    trace_lines: int = 30  # per step; the whole trace stays in trace_path
    trace_path: Path | None = None
    _trace_offset: int = 0
    _trace_renderer: Any = None

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def step(self, title: str) -> None:
        self.flush_trace()
        self.step_no += 1
        self.say(f"\n{self.step_no}. {title}")

    def start_stack(self) -> None:
        self.stack = PcscStack.system(self.workdir)
        self.stack.start()
        if self.stack.started:
            assert self.stack.process is not None
            self.say(f"started pcscd (pid {self.stack.process.pid}, log {self.stack.log_path})")
        else:
            self.say("using the pcscd that is already running")

    def start_card(self, kind: str, slot: int = 0, extra: list[str] | None = None) -> None:
        """Run `softcard run` as a user would and wait for its card in the reader."""
        assert self.stack is not None
        cmd = [sys.executable, "-m", "softcard", "run", "--card", kind, "--reader", str(slot)]
        cmd += extra or []
        if self.show_trace and "--trace" not in cmd:
            self.trace_path = self.workdir / f"trace-{kind}-{slot}.jsonl"
            cmd += ["--trace", str(self.trace_path)]
        self.card_process = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.stack.env(),
        )
        assert self.card_process.stdout is not None
        line = self.card_process.stdout.readline().strip()
        if self.card_process.poll() is not None or "ready" not in line:
            raise StackError(f"softcard run failed: {line or 'no output'}")
        self.say(f"$ softcard run --card {kind} --reader {slot}\n  {line}")
        self.reader = self.stack.reader(slot).name
        wait_card_state(self.reader, True)

    def connect(self) -> None:
        from smartcard.System import readers

        for r in readers():
            if str(r) == self.reader:
                self.connection = r.createConnection()
                self.connection.connect()
                return
        raise StackError(f"reader {self.reader!r} not found")

    def send(self, apdu_hex: str, note: str = "", secret: bool = False) -> tuple[bytes, int]:
        """Transmit, printing the exchange (PIN data masked when `secret`)."""
        apdu = bytes.fromhex(apdu_hex.replace(" ", ""))
        shown = _hex(apdu[:5]) + (
            " " + "**" * (len(apdu) - 5)
            if secret and len(apdu) > 5
            else (" " + _hex(apdu[5:]) if len(apdu) > 5 else "")
        )
        self.say(f"   > {shown}" + (f"   ({note})" if note else ""))
        data, sw1, sw2 = self.connection.transmit(list(apdu))
        sw = (sw1 << 8) | sw2
        body = bytes(data)
        if body:
            self.say(f"   < {_hex(body[:32])}{' ...' if len(body) > 32 else ''}")
        self.say(f"   < {sw:04X}  {describe(sw)}")
        return body, sw

    def flush_trace(self) -> None:
        """Show what the card saw since the last call: one decoded line per APDU, secrets
        masked (the trace the card process writes; `softcard trace FILE` shows it too)."""
        if self.trace_path is None or not self.trace_path.exists():
            return
        from emulator.trace import Header, Renderer
        from emulator.trace.model import TraceFormatError, loads

        if self._trace_renderer is None:
            self._trace_renderer = Renderer(0)
        with open(self.trace_path, encoding="utf-8") as f:
            f.seek(self._trace_offset)
            text = f.read()
        complete = text[: text.rfind("\n") + 1]  # a line still being written waits
        self._trace_offset += len(complete.encode())
        shown_lines: list[str] = []
        for line in complete.splitlines():
            try:
                record = loads(line)
            except TraceFormatError:
                continue
            if isinstance(record, Header):
                continue
            for shown in self._trace_renderer.lines(record):
                shown = shown[14:] if shown[:2].isdigit() else shown  # the clock: noise here
                shown_lines.append("   │ " + re.sub(r" {3,}", "  ", shown))
        for shown in shown_lines[: self.trace_lines]:
            self.say(shown)
        if len(shown_lines) > self.trace_lines:
            more = len(shown_lines) - self.trace_lines
            self.say(f"   │ ... {more} more (softcard trace {self.trace_path})")

    def close(self) -> None:
        self.flush_trace()
        if self.connection is not None:
            # Release while pcscd is still up, or pyscard complains at exit.
            for close in (self.connection.disconnect, getattr(self.connection, "release", None)):
                try:
                    if close is not None:
                        close()
                except Exception:
                    pass
            self.connection = None
        if self.card_process is not None and self.card_process.poll() is None:
            os.kill(self.card_process.pid, signal.SIGTERM)
            self.card_process.wait(timeout=10)
            self.say(f"\nstopped the card (pid {self.card_process.pid})")
        if self.stack is not None and self.stack.started:
            assert self.stack.process is not None
            pid = self.stack.process.pid
            self.stack.stop()
            self.say(f"stopped pcscd (pid {pid})")
