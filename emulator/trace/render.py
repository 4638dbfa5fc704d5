"""The human view of a trace: one aligned line per APDU, details with -v and -vv.

Level 0: time, sequence number, channel, application, command, summary, status
word and its meaning, card time. Level 1 adds P1/P2 meanings, the decoded command
and response data (TLV trees with tag names) and notes. Level 2 adds the raw
command and response bytes and shows long values in full. Secrets stay masked:
the renderer only ever sees what the trace holds.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from wire.iso7816 import describe

from .decoding import DataView, TlvNode
from .masking import Span, to_hex
from .model import ApduRecord, CallRecord, Header, PowerRecord, Record

RESET = "\033[0m"
BOLD = "\033[1m"
DIM = "\033[2m"
RED = "\033[31m"
GREEN = "\033[32m"
YELLOW = "\033[33m"
BLUE = "\033[34m"
MAGENTA = "\033[35m"
CYAN = "\033[36m"

SHORT_VALUE = 32  # bytes of a value shown at -v before it is cut


@dataclass
class Style:
    colour: bool = False

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if self.colour and text else text


def sw_colour(sw: int) -> str:
    if sw == 0x9000 or sw >> 8 == 0x61:
        return GREEN
    if sw >> 8 in (0x62, 0x63):
        return YELLOW
    return RED


def spaced(hexstr: str) -> str:
    return " ".join(hexstr[i : i + 2] for i in range(0, len(hexstr), 2))


@dataclass
class TraceFilter:
    """Which APDU records to show: by application, INS (hex or name) and status word
    (hex, with X as a wildcard digit: 63CX, 6AXX)."""

    apps: set[str] = field(default_factory=set)
    ins: set[str] = field(default_factory=set)
    sws: list[re.Pattern[str]] = field(default_factory=list)
    calls: set[str] = field(default_factory=set)

    @classmethod
    def build(
        cls,
        apps: Iterable[str] = (),
        ins: Iterable[str] = (),
        sws: Iterable[str] = (),
        calls: Iterable[str] = (),
    ) -> TraceFilter:
        patterns = []
        for sw in sws:
            text = sw.upper().replace(" ", "")
            if not re.fullmatch(r"[0-9A-FX]{4}", text):
                raise ValueError(f"status word filter {sw!r}: four hex digits, X for any")
            patterns.append(re.compile(text.replace("X", "[0-9A-F]")))
        names = {i.strip().upper() for i in ins}
        return cls({a.lower() for a in apps}, names, patterns, set(calls))

    @property
    def active(self) -> bool:
        return bool(self.apps or self.ins or self.sws or self.calls)

    def accepts(self, record: ApduRecord, call_names: dict[int, str]) -> bool:
        if self.apps and record.app.lower() not in self.apps:
            return False
        if self.ins:
            name = record.decoded.name.upper() if record.decoded else ""
            if f"{record.ins:02X}" not in self.ins and name not in self.ins:
                return False
        if self.sws and not any(p.fullmatch(f"{record.sw:04X}") for p in self.sws):
            return False
        return not self.calls or call_names.get(record.call or -1) in self.calls


class Renderer:
    """Turns records into lines; keeps the call names it has seen for filters and indents."""

    def __init__(
        self, verbosity: int = 0, colour: bool = False, filter: TraceFilter | None = None
    ) -> None:
        self.verbosity = verbosity
        self.style = Style(colour)
        self.filter = filter or TraceFilter()
        self.call_names: dict[int, str] = {}
        self.depth: dict[int, int] = {}

    def render(self, records: Iterable[Record]) -> Iterator[str]:
        for record in records:
            yield from self.lines(record)

    def lines(self, record: Record) -> list[str]:
        if isinstance(record, ApduRecord):
            if not self.filter.accepts(record, self.call_names):
                return []
            return self.apdu(record)
        if isinstance(record, CallRecord):
            return self.call(record)
        if isinstance(record, PowerRecord):
            if self.filter.active:
                return []
            return [
                self.style(DIM, f"{_clock(record.time)}  --- {record.kind.replace('_', ' ')} ---")
            ]
        if isinstance(record, Header):
            if self.verbosity == 0:
                return []
            when = _clock(record.created, date=True)
            reader = f", reader '{record.reader}'" if record.reader else ""
            card = f", card {record.card}" if record.card else ""
            return [
                self.style(
                    DIM,
                    f"# softcard trace from the {record.source}{reader}{card}, started {when}, "
                    f"secrets {record.secrets}",
                )
            ]
        return []

    def _indent(self, call: int | None) -> str:
        return "  " * (self.depth.get(call, 0) if call is not None else 0)

    def call(self, record: CallRecord) -> list[str]:
        s = self.style
        if not record.end:
            self.call_names[record.id] = record.name
            self.depth[record.id] = (self.depth.get(record.parent, 0) if record.parent else 0) + 1
            if self.filter.calls and record.name not in self.filter.calls:
                return []
            args = ", ".join(f"{k}={v}" for k, v in record.args.items())
            pad = "  " * (self.depth[record.id] - 1)
            return [f"{_clock(record.time)}  {pad}{s(BOLD + MAGENTA, '▶ ' + record.name)}({args})"]
        if self.filter.calls and record.name not in self.filter.calls:
            return []
        pad = "  " * (self.depth.get(record.id, 1) - 1)
        outcome = s(GREEN if record.result == "ok" else RED, record.result)
        return [
            f"{_clock(record.time)}  {pad}{s(BOLD + MAGENTA, '◀ ' + record.name)} {outcome}  "
            f"{record.duration_ns / 1e6:.3f} ms, {record.apdus} APDUs, "
            f"card {record.card_ns / 1e6:.3f} ms"
        ]

    def apdu(self, record: ApduRecord) -> list[str]:
        s = self.style
        decoded = record.decoded
        name = decoded.name if decoded else f"INS {record.ins:02X}"
        summary = decoded.summary if decoded else ""
        status = _sw_text(record)
        indent = self._indent(record.call)
        if len(summary) > 52 and self.verbosity == 0:
            summary = summary[:49] + "..."
        line = (
            f"{_clock(record.time)}  {indent}{s(DIM, f'#{record.seq:<4}')} "
            f"ch{record.channel} {record.app or '-':<5} {s(BOLD + CYAN, f'{name:<28}')} "
            f"{summary:<52} {s(sw_colour(record.sw), f'{record.sw:04X}')} {status:<36} "
            f"{s(DIM, _duration(record.duration_ns))}"
        )
        out = [line.rstrip()]
        if self.verbosity >= 1 and decoded is not None:
            pad = " " * 16 + indent
            for label, meaning in decoded.params:
                out.append(f"{pad}{s(DIM, label + ':')} {meaning}")
            out += self._data(pad, ">", decoded.command_data)
            out += self._data(pad, "<", decoded.response_data)
            for note in decoded.notes:
                out.append(f"{pad}{s(DIM, '· ' + note)}")
        if self.verbosity >= 2:
            pad = " " * 16 + indent
            out.append(f"{pad}{s(DIM, 'C:')} {spaced(_hex(record.command, record.command_masks))}")
            out.append(
                f"{pad}{s(DIM, 'R:')} {spaced(_hex(record.response, record.response_masks))}"
            )
        return out

    def _data(self, pad: str, arrow: str, view: DataView) -> list[str]:
        if view is None:
            return []
        s = self.style
        if isinstance(view, str):
            return [f"{pad}{s(BLUE, arrow)} {self._value(view)}"]
        out: list[str] = []
        for node in view:
            out += self._node(pad, arrow, node, 0)
        return out

    def _node(self, pad: str, arrow: str, node: TlvNode, depth: int) -> list[str]:
        s = self.style
        lead = f"{pad}{s(BLUE, arrow)} {'  ' * depth}{s(YELLOW, f'{node.tag:02X}')}"
        name = f" {node.name}" if node.name else ""
        head = f"{lead}{name} ({node.length})"
        if node.children or node.value is None:
            out = [head]
            for child in node.children:
                out += self._node(pad, arrow, child, depth + 1)
            return out
        text = f"  {s(GREEN, node.text)}" if node.text else ""
        masked = f"  {s(RED, '[masked: ' + node.masked + ']')}" if node.masked else ""
        value = self._value(node.value) if node.value else ""
        return [f"{head}: {value}{text}{masked}".rstrip(": ")]

    def _value(self, hexstr: str) -> str:
        size = len(hexstr) // 2
        if self.verbosity < 2 and size > SHORT_VALUE:
            return f"{spaced(hexstr[: SHORT_VALUE * 2])} ... ({size} bytes)"
        return spaced(hexstr)


def _hex(data: bytes, spans: Iterable[Span]) -> str:
    return to_hex(data, spans)


def _sw_text(record: ApduRecord) -> str:
    if record.decoded is not None and record.decoded.sw == record.sw:
        return record.decoded.status
    return describe(record.sw)


def _clock(timestamp: float, date: bool = False) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp)
    if date:
        return moment.isoformat(sep=" ", timespec="seconds")
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def _duration(ns: int) -> str:
    if ns >= 1_000_000:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e3:.0f} µs"
