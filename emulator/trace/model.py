"""Trace records and their JSON Lines form (format "softcard-trace", version 1).

One JSON object per line. The first line is a header; then, in the order they
are written:

* ``apdu``: one command and its response: ``seq`` (arrival order, from 1),
  ``time`` (Unix seconds), ``reader``, ``channel``, ``app``, ``command`` and
  ``response`` as hex with masked bytes written ``**``, ``duration_ns`` (the
  card's time on the emulator; the round trip on the host side), ``masked``
  (labelled spans), ``call`` (the id of the driver call that sent it, if any) and
  ``decoded`` (the decoded view, see `decoding.Decoded`).
* ``power``: power on, power off, reset.
* ``call_start`` / ``call_end``: a driver call (``CardSignData``...) with its
  arguments (secrets masked), and at the end its duration, result, how many
  APDUs it sent and how long the card took for them.

Readers accept any version-1 file and ignore keys they do not know, so fields can
be added without a new version; a change of meaning gets version 2.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .decoding import Decoded
from .masking import Span, from_hex, to_hex

FORMAT = "softcard-trace"
VERSION = 1


class TraceFormatError(ValueError):
    """A line that is not a softcard trace record; the message names the line."""


@dataclass
class Header:
    source: str = "emulator"  # "emulator" or "host"
    created: float = 0.0
    reader: str = ""
    secrets: str = "masked"  # or "shown"
    card: str = ""
    type: str = "header"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "header", "format": FORMAT, "version": VERSION}
        out.update(source=self.source, created=self.created, secrets=self.secrets)
        if self.reader:
            out["reader"] = self.reader
        if self.card:
            out["card"] = self.card
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Header:
        if d.get("format") != FORMAT:
            raise TraceFormatError(f"not a softcard trace (format {d.get('format')!r})")
        if d.get("version") != VERSION:
            raise TraceFormatError(f"unsupported trace version {d.get('version')!r}")
        return cls(
            str(d.get("source", "")),
            float(d.get("created", 0.0)),
            str(d.get("reader", "")),
            str(d.get("secrets", "masked")),
            str(d.get("card", "")),
        )


@dataclass
class ApduRecord:
    seq: int
    time: float
    reader: str
    channel: int
    app: str
    command: bytes  # masked bytes are zero here; see command_masks
    response: bytes
    duration_ns: int
    command_masks: tuple[Span, ...] = ()
    response_masks: tuple[Span, ...] = ()
    call: int | None = None
    decoded: Decoded | None = None
    type: str = "apdu"

    @property
    def sw(self) -> int:
        return int.from_bytes(self.response[-2:], "big") if len(self.response) >= 2 else 0

    @property
    def ins(self) -> int:
        return self.command[1] if len(self.command) > 1 else -1

    @property
    def masked(self) -> bool:
        return bool(self.command_masks or self.response_masks)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "apdu",
            "seq": self.seq,
            "time": round(self.time, 6),
            "reader": self.reader,
            "channel": self.channel,
            "app": self.app,
            "command": to_hex(self.command, self.command_masks),
            "response": to_hex(self.response, self.response_masks),
            "duration_ns": self.duration_ns,
        }
        if self.masked:
            out["masked"] = {
                "command": [s.to_json() for s in self.command_masks],
                "response": [s.to_json() for s in self.response_masks],
            }
        if self.call is not None:
            out["call"] = self.call
        if self.decoded is not None:
            out["decoded"] = self.decoded.to_json()
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ApduRecord:
        command, command_hidden = from_hex(d["command"])
        response, response_hidden = from_hex(d["response"])
        masked = d.get("masked", {})
        command_masks = tuple(Span.from_json(s) for s in masked.get("command", []))
        response_masks = tuple(Span.from_json(s) for s in masked.get("response", []))
        return cls(
            int(d["seq"]),
            float(d["time"]),
            str(d.get("reader", "")),
            int(d.get("channel", 0)),
            str(d.get("app", "")),
            command,
            response,
            int(d.get("duration_ns", 0)),
            command_masks or command_hidden,
            response_masks or response_hidden,
            d.get("call"),
            Decoded.from_json(d["decoded"]) if "decoded" in d else None,
        )


@dataclass
class PowerRecord:
    time: float
    kind: str  # power_on, power_off, reset
    reader: str = ""
    type: str = "power"

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "power",
            "time": round(self.time, 6),
            "kind": self.kind,
            "reader": self.reader,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PowerRecord:
        return cls(float(d["time"]), str(d["kind"]), str(d.get("reader", "")))


@dataclass
class CallRecord:
    """The start or the end of a driver call."""

    id: int
    name: str
    time: float
    end: bool = False
    args: dict[str, str] = field(default_factory=dict)
    parent: int | None = None
    duration_ns: int = 0
    result: str = ""
    apdus: int = 0
    card_ns: int = 0

    @property
    def type(self) -> str:
        return "call_end" if self.end else "call_start"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "id": self.id,
            "name": self.name,
            "time": round(self.time, 6),
        }
        if self.parent is not None:
            out["parent"] = self.parent
        if self.end:
            out.update(
                duration_ns=self.duration_ns,
                result=self.result,
                apdus=self.apdus,
                card_ns=self.card_ns,
            )
        else:
            out["args"] = dict(self.args)
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CallRecord:
        return cls(
            int(d["id"]),
            str(d["name"]),
            float(d["time"]),
            d["type"] == "call_end",
            {str(k): str(v) for k, v in d.get("args", {}).items()},
            d.get("parent"),
            int(d.get("duration_ns", 0)),
            str(d.get("result", "")),
            int(d.get("apdus", 0)),
            int(d.get("card_ns", 0)),
        )


Record = Header | ApduRecord | PowerRecord | CallRecord


def record_from_json(d: dict[str, Any]) -> Record:
    kind = d.get("type")
    if kind == "apdu":
        return ApduRecord.from_json(d)
    if kind == "power":
        return PowerRecord.from_json(d)
    if kind in ("call_start", "call_end"):
        return CallRecord.from_json(d)
    if kind == "header":
        return Header.from_json(d)
    raise TraceFormatError(f"unknown record type {kind!r}")


def dumps(record: Record) -> str:
    return json.dumps(record.to_json(), separators=(",", ":"), ensure_ascii=False)


def loads(line: str) -> Record:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as e:
        raise TraceFormatError(f"not JSON ({e.msg})") from None
    if not isinstance(data, dict):
        raise TraceFormatError("a record must be a JSON object")
    try:
        return record_from_json(data)
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, TraceFormatError):
            raise
        raise TraceFormatError(f"malformed {data.get('type')} record ({e})") from None
