"""Record and replay: a trace as a regression test against a card.

The trace's commands are sent again, in their original order, with the trace's
power events; each response is compared with the recorded one. The first
response that differs ends the replay and is reported with both responses.

What may legitimately differ:
* bytes masked in the recorded response (they were secrets);
* responses of commands whose decoder marks them `Varying` (challenges and
  witnesses, signatures, key generation, attestation): only the status word must
  match (for 61xx only SW1, since the remaining length may vary, e.g. ECDSA), and
  the GET RESPONSE parts that follow them count as the same response.
A command whose recorded bytes are masked (a PIN) cannot be sent again unless its
value is given in `secrets`, keyed by the mask label ("PIN 80": bytes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from wire.apdu import CommandApdu
from wire.errors import WireError
from wire.iso7816 import Ins

from .decoding import Varying, lookup
from .masking import masked_positions
from .model import ApduRecord, PowerRecord, Record


class ReplayError(Exception):
    """The trace cannot be replayed as it is (masked secrets, no APDUs)."""


class Card(Protocol):
    def transmit(self, command: bytes) -> bytes: ...


@dataclass
class Divergence:
    seq: int  # the APDU's number in the trace
    name: str
    command: bytes
    expected: bytes
    actual: bytes
    reason: str
    expected_masks: set[int] = field(default_factory=set)

    def describe(self) -> str:
        def show(data: bytes, hidden: set[int]) -> str:
            return " ".join("**" if i in hidden else f"{b:02X}" for i, b in enumerate(data))

        return (
            f"APDU #{self.seq} ({self.name}) diverges: {self.reason}\n"
            f"  command:  {self.command.hex(' ').upper()}\n"
            f"  expected: {show(self.expected, self.expected_masks)}\n"
            f"  actual:   {self.actual.hex(' ').upper()}"
        )


@dataclass
class ReplayResult:
    compared: int
    divergence: Divergence | None = None
    loosely: int = 0  # responses compared by status word only (varying)

    @property
    def passed(self) -> bool:
        return self.divergence is None


def _seq(record: ApduRecord) -> int:
    return record.seq


def _ordered(records: Iterable[Record]) -> list[ApduRecord | PowerRecord]:
    """APDUs in arrival order between power events (the recorder writes each channel's
    logical command as a whole, so channels can interleave in the file)."""
    out: list[ApduRecord | PowerRecord] = []
    segment: list[ApduRecord] = []
    for record in records:
        if isinstance(record, ApduRecord):
            segment.append(record)
        elif isinstance(record, PowerRecord):
            ordered: list[ApduRecord] = sorted(segment, key=_seq)
            out.extend(ordered)
            segment = []
            out.append(record)
    rest: list[ApduRecord] = sorted(segment, key=_seq)
    out.extend(rest)
    return out


def _command(record: ApduRecord, secrets: Mapping[str, bytes]) -> bytes:
    if not record.command_masks:
        return record.command
    command = bytearray(record.command)
    for span in record.command_masks:
        value = secrets.get(span.label)
        size = span.end - span.start
        name = record.decoded.name if record.decoded else f"INS {record.ins:02X}"
        if value is None:
            raise ReplayError(
                f"APDU #{record.seq} ({name}) has masked bytes '{span.label}': record the "
                f"trace with secrets shown, or give the value (--secret '{span.label}=HEX')"
            )
        if len(value) != size:
            raise ReplayError(
                f"secret '{span.label}' is {len(value)} bytes, APDU #{record.seq} needs {size}"
            )
        command[span.start : span.end] = value
    return bytes(command)


def _varying(record: ApduRecord) -> Varying:
    try:
        apdu = CommandApdu.parse(record.command)
    except WireError:
        return Varying.NO
    _, spec = lookup(record.app, apdu)
    return spec.varying if spec else Varying.NO


def _compare(record: ApduRecord, actual: bytes, varying: Varying) -> tuple[str, set[int]] | None:
    """Why the response differs, or None."""
    expected = record.response
    hidden = masked_positions(record.response_masks)
    expected_sw, actual_sw = expected[-2:], actual[-2:]
    if varying is not Varying.NO:
        if expected_sw[0] == 0x61 and actual_sw[:1] == b"\x61":
            return None
        if expected_sw != actual_sw:
            return (
                f"status word {actual_sw.hex().upper()} instead of {expected_sw.hex().upper()}",
                hidden,
            )
        return None
    if expected_sw != actual_sw:
        return (
            f"status word {actual_sw.hex().upper()} instead of {expected_sw.hex().upper()}",
            hidden,
        )
    if len(expected) != len(actual):
        return f"{len(actual) - 2} data bytes instead of {len(expected) - 2}", hidden
    for i, (a, b) in enumerate(zip(expected, actual, strict=True)):
        if i not in hidden and a != b:
            return f"data differs from byte {i}", hidden
    return None


def replay(
    records: Iterable[Record],
    card: Card,
    *,
    secrets: Mapping[str, bytes] | None = None,
) -> ReplayResult:
    """Send the trace's commands to `card` (a CardOS or anything with transmit(bytes));
    stop at the first response that differs."""
    secrets = secrets or {}
    events = _ordered(records)
    if not any(isinstance(e, ApduRecord) for e in events):
        raise ReplayError("the trace holds no APDUs")
    commands = {id(e): _command(e, secrets) for e in events if isinstance(e, ApduRecord)}
    power_on = getattr(card, "power_on", None)
    if callable(power_on):
        power_on()
    result = ReplayResult(0)
    carried: dict[int, Varying] = {}  # channel -> varying of the response being continued
    for event in events:
        if isinstance(event, PowerRecord):
            _power(card, event.kind)
            carried.clear()
            continue
        command = commands[id(event)]
        if event.ins == Ins.GET_RESPONSE and event.channel in carried:
            varying = carried[event.channel]
        else:
            varying = _varying(event)
        carried[event.channel] = varying
        actual = card.transmit(command)
        result.compared += 1
        if varying is not Varying.NO:
            result.loosely += 1
        problem = _compare(event, actual, varying)
        if problem is not None:
            reason, hidden = problem
            name = event.decoded.name if event.decoded else f"INS {event.ins:02X}"
            if event.decoded and event.decoded.summary:
                name += f" {event.decoded.summary}"
            result.divergence = Divergence(
                event.seq, name, event.command, event.response, actual, reason, hidden
            )
            return result
    return result


def _power(card: Card, kind: str) -> None:
    method = {"power_on": "power_on", "reset": "reset", "power_off": "power_off"}.get(kind)
    fn = getattr(card, method, None) if method else None
    if callable(fn):
        fn()
