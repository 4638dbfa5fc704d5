"""The recorder: raw exchanges in, masked and decoded trace records out.

It groups the APDUs of one logical command per channel (a command chain, the
command itself, its GET RESPONSE parts), so masking rules and decoders see whole
commands and whole responses; the masks are then mapped back onto every raw APDU.
The parts are held until the logical command completes (at most until the next
command on that channel, a power event, a driver call boundary or close()).

Used by the emulator-side observer (`CardTracer`) and by the host-side wrapper
(`TracingConnection`) alike; `call()` marks which driver call sent which APDUs.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from wire.apdu import CommandApdu
from wire.errors import WireError
from wire.iso7816 import Ins

from ..core.card import decode_cla
from .decoding import (
    Decoded,
    app_for_aid,
    cla_params,
    command_name,
    decode,
    describe_sw,
    is_secret_capable,
    masks_for,
)
from .masking import NO_MASKS, Masks, Span, to_hex
from .model import ApduRecord, CallRecord, Header, PowerRecord, Record

Sink = Callable[[Record], None]

CHAINING_BIT = 0x10
SECRET_ARG = re.compile(
    r"pin|puk|authenticator|password|passphrase|secret|admin_?key|management_?key|"
    r"key_?(data|blob|value|material)|private",
    re.IGNORECASE,
)


class Secret:
    """Wrap a call argument to mask it whatever its name."""

    def __init__(self, value: object) -> None:
        self.value = value


@dataclass
class _Part:
    seq: int
    time: float
    reader: str
    channel: int
    app: str
    command: bytes
    response: bytes
    duration_ns: int
    call: int | None
    apdu: CommandApdu | None

    @property
    def sw(self) -> int:
        return int.from_bytes(self.response[-2:], "big") if len(self.response) >= 2 else 0

    @property
    def data_offset(self) -> int:
        """Where the command data starts in the raw command."""
        if self.apdu is None or not self.apdu.data:
            return len(self.command)
        return 7 if self.apdu.extended else 5


@dataclass
class _Transaction:
    chain: list[_Part] = field(default_factory=list)
    main: _Part | None = None
    more: list[_Part] = field(default_factory=list)  # GET RESPONSE parts

    @property
    def parts(self) -> list[_Part]:
        return [*self.chain, *([self.main] if self.main else []), *self.more]


@dataclass
class _Call:
    record: CallRecord
    started_ns: int
    apdus: int = 0
    card_ns: int = 0


def _is_chained(apdu: CommandApdu) -> bool:
    cla = decode_cla(apdu.cla)
    return cla is not None and cla.chaining


def _is_get_response(apdu: CommandApdu | None) -> bool:
    return apdu is not None and apdu.ins == Ins.GET_RESPONSE and not _is_chained(apdu)


class TraceRecorder:
    def __init__(
        self,
        sinks: Sink | list[Sink],
        *,
        reader: str = "",
        source: str = "emulator",
        show_secrets: bool = False,
        card: str = "",
    ) -> None:
        self.sinks = sinks if isinstance(sinks, list) else [sinks]
        self.reader = reader
        self.show_secrets = show_secrets
        self._lock = threading.RLock()
        self._seq = 0
        self._pending: dict[int, _Transaction] = {}
        self._apps: dict[int, str] = {}  # host side: what each channel has selected
        self._calls: list[_Call] = []
        self._call_ids = 0
        self._closed = False
        secrets = "shown" if show_secrets else "masked"
        self._emit(Header(source, time.time(), reader, secrets, card))

    # -- input ----------------------------------------------------------------------------

    def exchange(
        self,
        command: bytes,
        response: bytes,
        *,
        channel: int | None = None,
        app: str | None = None,
        timestamp: float | None = None,
        duration_ns: int = 0,
        reader: str | None = None,
    ) -> None:
        """One command and its response. Without `app`, the recorder follows SELECTs."""
        with self._lock:
            if self._closed:
                return
            try:
                apdu: CommandApdu | None = CommandApdu.parse(bytes(command))
            except WireError:
                apdu = None
            if channel is None:
                cla = decode_cla(command[0]) if command else None
                channel = cla.channel if cla else 0
            if app is None:
                app = self._follow_selection(channel, apdu, response)
            elif app:
                self._apps[channel] = app
            else:  # the card could not route it (malformed): keep the channel's application
                app = self._apps.get(channel, "")
            self._seq += 1
            call = self._calls[-1] if self._calls else None
            if call is not None:
                for active in self._calls:
                    active.apdus += 1
                    active.card_ns += duration_ns
            part = _Part(
                self._seq,
                time.time() if timestamp is None else timestamp,
                self.reader if reader is None else reader,
                channel,
                app,
                bytes(command),
                bytes(response),
                duration_ns,
                call.record.id if call else None,
                apdu,
            )
            self._add(part)

    def power(self, kind: str, timestamp: float | None = None) -> None:
        with self._lock:
            self._flush_all()
            self._apps.clear()
            self._emit(
                PowerRecord(time.time() if timestamp is None else timestamp, kind, self.reader)
            )

    @contextlib.contextmanager
    def call(self, name: str, /, **args: object) -> Iterator[CallRecord]:
        """Mark the APDUs sent inside the block as caused by driver call `name`."""
        with self._lock:
            self._flush_all()
            self._call_ids += 1
            parent = self._calls[-1].record.id if self._calls else None
            record = CallRecord(
                self._call_ids, name, time.time(), args=self._args(args), parent=parent
            )
            entry = _Call(record, time.perf_counter_ns())
            self._calls.append(entry)
            self._emit(record)
        result = "ok"
        try:
            yield record
        except BaseException as e:
            result = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
            raise
        finally:
            with self._lock:
                self._flush_all()
                self._calls.remove(entry)
                self._emit(
                    CallRecord(
                        record.id,
                        name,
                        time.time(),
                        end=True,
                        parent=parent,
                        duration_ns=time.perf_counter_ns() - entry.started_ns,
                        result=result,
                        apdus=entry.apdus,
                        card_ns=entry.card_ns,
                    )
                )

    def flush(self) -> None:
        with self._lock:
            self._flush_all()

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._flush_all()
                self._closed = True

    # -- selection tracking (host side) ---------------------------------------------------

    def _follow_selection(self, channel: int, apdu: CommandApdu | None, response: bytes) -> str:
        current = self._apps.get(channel, "")
        if apdu is None or apdu.ins != Ins.SELECT or apdu.p1 != 0x04 or len(response) < 2:
            return current
        sw1 = response[-2]
        if response[-2:] == b"\x90\x00" or sw1 == 0x61:
            decoder = app_for_aid(apdu.data)
            if decoder is not None:
                self._apps[channel] = current = decoder.name
        return current

    # -- assembling logical commands ------------------------------------------------------

    def _add(self, part: _Part) -> None:
        txn = self._pending.get(part.channel)
        apdu = part.apdu
        if txn is not None:
            if txn.main is None and apdu is not None and txn.chain:
                head = txn.chain[0].apdu
                assert head is not None
                if (head.ins, head.p1, head.p2) != (apdu.ins, apdu.p1, apdu.p2):
                    self._finish(part.channel)  # interrupted chain
                    txn = None
            elif txn.main is not None and not _is_get_response(apdu):
                self._finish(part.channel)
                txn = None
        if txn is None:
            txn = self._pending[part.channel] = _Transaction()
        if apdu is not None and _is_chained(apdu) and txn.main is None:
            txn.chain.append(part)
            if part.sw != 0x9000:  # the card refused the chain
                self._finish(part.channel)
            return
        if txn.main is None:
            txn.main = part
        else:
            txn.more.append(part)
        if part.sw >> 8 != 0x61:
            self._finish(part.channel)

    def _flush_all(self) -> None:
        for channel in list(self._pending):
            self._finish(channel)

    def _finish(self, channel: int) -> None:
        txn = self._pending.pop(channel, None)
        if txn is None or not txn.parts:
            return
        parts = txn.parts
        main = txn.main
        complete = main is not None and main.apdu is not None
        head = main if main is not None else txn.chain[-1]
        app = head.app
        if head.apdu is None:
            for p in parts:
                self._emit(self._malformed(p))
            return
        logical = CommandApdu(
            head.apdu.cla & ~CHAINING_BIT,
            head.apdu.ins,
            head.apdu.p1,
            head.apdu.p2,
            b"".join(p.apdu.data for p in [*txn.chain, *([main] if main else [])] if p.apdu),
            head.apdu.ne,
            head.apdu.extended,
        )
        answer_parts = ([main] if main else []) + txn.more
        answer = b"".join(p.response[:-2] for p in answer_parts)
        final_sw = parts[-1].sw
        if complete:
            masks = masks_for(app, logical, answer)
        elif is_secret_capable(app, logical):
            masks = Masks(command=(Span(0, len(logical.data), "incomplete chain"),))
        else:
            masks = NO_MASKS
        applied = NO_MASKS if self.show_secrets else masks
        command_spans = self._command_spans(txn, applied.command)
        response_spans = self._response_spans(answer_parts, applied.response)
        decoded = decode(app, logical, answer, final_sw, applied)
        total = len(txn.chain) + (1 if main else 0)
        if txn.chain:
            decoded.notes.append(
                f"command chained in {total} blocks (#{parts[0].seq}-#{head.seq})"
                if complete
                else f"command chain of {total} blocks not completed"
            )
        if txn.more:
            decoded.notes.append(
                f"response of {len(answer)} bytes in {len(answer_parts)} parts "
                f"(GET RESPONSE #{txn.more[0].seq}-#{txn.more[-1].seq}), final SW {final_sw:04X}"
            )
        if len(parts) > 1:
            card_ms = sum(p.duration_ns for p in parts) / 1e6
            decoded.notes.append(f"{len(parts)} APDUs, {card_ms:.3f} ms in all")
        name = command_name(app, logical)
        for index, part in enumerate(txn.chain):
            if part is head:
                continue
            spans = command_spans.get(part.seq, ())
            data_view = to_hex(
                part.command[part.data_offset :], [s.shifted(-part.data_offset) for s in spans]
            )
            self._emit(
                self._raw_record(
                    part,
                    Decoded(
                        name,
                        f"chain block {index + 1} of {total}, {len(part.command)} bytes",
                        cla_params(part.command[0]),
                        command_data=data_view or None,
                        sw=part.sw,
                        status=describe_sw(app, part.sw),
                    ),
                    spans,
                )
            )
        self._emit(
            self._raw_record(
                head, decoded, command_spans.get(head.seq, ()), response_spans.get(head.seq, ())
            )
        )
        for number, part in enumerate(txn.more, 2):
            self._emit(
                self._raw_record(
                    part,
                    Decoded(
                        "GET RESPONSE",
                        f"part {number} of the {name} response (#{head.seq}), "
                        f"{len(part.response) - 2} bytes",
                        sw=part.sw,
                        status=describe_sw(app, part.sw),
                    ),
                    (),
                    response_spans.get(part.seq, ()),
                )
            )

    @staticmethod
    def _command_spans(txn: _Transaction, spans: tuple[Span, ...]) -> dict[int, tuple[Span, ...]]:
        """Spans over the logical command data -> spans over each raw APDU."""
        out: dict[int, tuple[Span, ...]] = {}
        offset = 0
        for part in [*txn.chain, *([txn.main] if txn.main else [])]:
            size = len(part.apdu.data) if part.apdu else 0
            mapped = []
            for span in spans:
                clipped = span.clip(offset, offset + size)
                if clipped is not None:
                    mapped.append(clipped.shifted(part.data_offset - offset))
            out[part.seq] = tuple(mapped)
            offset += size
        return out

    @staticmethod
    def _response_spans(parts: list[_Part], spans: tuple[Span, ...]) -> dict[int, tuple[Span, ...]]:
        out: dict[int, tuple[Span, ...]] = {}
        offset = 0
        for part in parts:
            size = len(part.response) - 2
            mapped = []
            for span in spans:
                clipped = span.clip(offset, offset + size)
                if clipped is not None:
                    mapped.append(clipped.shifted(-offset))
            out[part.seq] = tuple(mapped)
            offset += size
        return out

    def _raw_record(
        self,
        part: _Part,
        decoded: Decoded,
        command_spans: tuple[Span, ...] = (),
        response_spans: tuple[Span, ...] = (),
    ) -> ApduRecord:
        command = bytearray(part.command)
        for s in command_spans:
            command[s.start : s.end] = bytes(s.end - s.start)
        response = bytearray(part.response)
        for s in response_spans:
            response[s.start : s.end] = bytes(s.end - s.start)
        return ApduRecord(
            part.seq,
            part.time,
            part.reader,
            part.channel,
            part.app,
            bytes(command),
            bytes(response),
            part.duration_ns,
            command_spans,
            response_spans,
            part.call,
            decoded,
        )

    def _malformed(self, part: _Part) -> ApduRecord:
        """An APDU the codec rejects; its body is hidden if the INS could carry a secret."""
        spans: tuple[Span, ...] = ()
        if len(part.command) >= 4 and not self.show_secrets:
            header = CommandApdu(*part.command[:4])
            if is_secret_capable(part.app, header) and len(part.command) > 5:
                spans = (Span(5, len(part.command), "malformed, may hold a secret"),)
        name = "malformed APDU"
        if len(part.command) >= 4:
            name = f"malformed {command_name(part.app, CommandApdu(*part.command[:4]))}"
        status = describe_sw(part.app, part.sw)
        return self._raw_record(part, Decoded(name, sw=part.sw, status=status), spans)

    # -- output ---------------------------------------------------------------------------

    def _args(self, args: dict[str, object]) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in args.items():
            secret = isinstance(value, Secret)
            if isinstance(value, Secret):
                value = value.value
            textual = isinstance(value, bytes | bytearray | str)
            if not self.show_secrets and (secret or (textual and SECRET_ARG.search(key))):
                size = len(value) if isinstance(value, bytes | bytearray | str) else 0
                out[key] = f"<masked, {size} bytes>" if size else "<masked>"
            elif isinstance(value, bytes | bytearray):
                out[key] = bytes(value).hex().upper()
            else:
                text = repr(value) if not isinstance(value, str) else value
                out[key] = text if len(text) <= 200 else text[:197] + "..."
        return out

    def _emit(self, record: Record) -> None:
        for sink in self.sinks:
            sink(record)
