"""Several cards in one process, one per reader, each with insert/remove/reset, faults and a trace.

    specs = load_config("readers.toml")               # or specs_from_kinds(["piv", "gids"], 0)
    with MultiServer.open(specs) as server:           # every card connected to vpcd
        server.reader(1).remove()                     # by slot, or by reader name
        server.reader("Virtual PCD 00 00").trace()    # decoded records, secrets masked

A `CardReader` is the unit: a card and how it reaches PC/SC clients, either a
vpcd link (pcscd sees a reader) or nothing at all (the in-process transport of
the pytest plugin, where a test holds an `EmbeddedConnection`). `softcard run`,
the control socket (softcard.control) and the pytest plugin all drive cards
through it, so they behave the same.

The config file (TOML or JSON) lists readers; paths are relative to the file:

    [[reader]]
    slot = 0
    kind = "piv"
    seed = 1

    [[reader]]
    slot = 1
    image = "card_images/gids-enrolled.json"
    trace = "gids-trace.jsonl"
    faults = "faults.toml"
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import signal
import tempfile
import threading
import tomllib
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smartcard.Exceptions import CardConnectionException

from emulator.core.card import CardOS
from emulator.core.errors import CardRemoved
from emulator.core.events import ApduEvent, PowerEvent
from emulator.profiles import kinds, make_card
from emulator.transports.embedded import CardConnectionError, EmbeddedConnection
from emulator.transports.vpcd import VPCD_BASE_PORT, Endpoint, LinkError, VpcdLink

from .readers import vpcd_reader_name

log = logging.getLogger(__name__)

MAX_SLOT = 99  # `softcard run --reader` accepts 0-99 (ports 35963-36062)
TRACE_KEEP = 5000  # exchanges a reader keeps for `trace` (the oldest go first)
SPEC_FIELDS = frozenset({"slot", "kind", "image", "seed", "trace", "faults"})


class MultiError(Exception):
    """A reader set-up or control request that cannot be done; one-line message."""


@dataclass(frozen=True)
class ReaderSpec:
    """What one reader holds: a factory-fresh card of `kind`, or the card in `image`."""

    slot: int
    kind: str | None = None
    image: Path | None = None
    seed: int | None = None
    trace: Path | None = None  # JSONL trace file (as `softcard run --trace`)
    faults: Path | None = None  # fault rules file (as `softcard run --faults`)

    def __post_init__(self) -> None:
        if not 0 <= self.slot <= MAX_SLOT:
            raise MultiError(f"reader slot {self.slot} out of range 0-{MAX_SLOT}")
        if self.kind is not None and self.kind not in kinds():
            raise MultiError(f"unknown card kind {self.kind!r} (known: {', '.join(kinds())})")
        if self.kind is None and self.image is None:
            raise MultiError(f"reader {self.slot}: give a card kind or an image")

    @property
    def label(self) -> str:
        return str(self.image) if self.image is not None else f"{self.kind} card"


def specs_from_kinds(
    card_kinds: Sequence[str], first_slot: int = 0, seed: int | None = None
) -> list[ReaderSpec]:
    """`softcard run --card A --card B`: consecutive readers from `first_slot`.

    With a seed, reader i gets seed + i: the same seed twice would give two cards
    with the same serial number and keys, which clients would take for one card.
    """
    return [
        ReaderSpec(first_slot + i, kind, seed=None if seed is None else seed + i)
        for i, kind in enumerate(card_kinds)
    ]


def load_config(path: Path | str) -> list[ReaderSpec]:
    """Readers from a TOML (`[[reader]]` tables) or JSON (`{"readers": [...]}`) file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise MultiError(f"cannot read the config {path}: {e.strerror}") from None
    try:
        document: Any = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as e:
        raise MultiError(f"{path}: not valid {path.suffix.lstrip('.') or 'TOML'}: {e}") from None
    if not isinstance(document, dict):
        raise MultiError(f"{path}: expected a table with a list of readers")
    entries = document.get("reader", document.get("readers"))
    if not isinstance(entries, list) or not entries:
        raise MultiError(f"{path}: no readers (a list 'reader' or 'readers' of tables)")
    specs = [_spec_from_entry(entry, i, path.parent, path) for i, entry in enumerate(entries)]
    slots = [s.slot for s in specs]
    duplicates = sorted({s for s in slots if slots.count(s) > 1})
    if duplicates:
        raise MultiError(f"{path}: reader slot {duplicates[0]} given twice")
    return specs


def _spec_from_entry(entry: Any, index: int, base: Path, source: Path) -> ReaderSpec:
    where = f"{source}: reader {index + 1}"
    if not isinstance(entry, dict):
        raise MultiError(f"{where}: expected a table")
    unknown = sorted(set(entry) - SPEC_FIELDS)
    if unknown:
        raise MultiError(f"{where}: unknown field {unknown[0]!r} (known: {sorted(SPEC_FIELDS)})")

    def number(name: str) -> int | None:
        value = entry.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise MultiError(f"{where}: {name} must be a whole number, not {value!r}")
        return value

    def file(name: str) -> Path | None:
        value = entry.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise MultiError(f"{where}: {name} must be a file name")
        return Path(value) if value.startswith("sample:") else base / value

    slot = number("slot")
    kind = entry.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise MultiError(f"{where}: kind must be a string")
    try:
        return ReaderSpec(
            index if slot is None else slot,
            kind,
            file("image"),
            number("seed"),
            file("trace"),
            file("faults"),
        )
    except MultiError as e:
        raise MultiError(f"{where}: {e}") from None


# -- the in-memory trace ----------------------------------------------------------------------


class MemoryTrace:
    """The last TRACE_KEEP exchanges of a card, decoded and masked when `trace` asks.

    The card's hot path only appends its raw events to a ring; decoding costs as much
    as a whole APDU, so it happens on `read`, never per command.
    """

    def __init__(self, card: CardOS, reader: str, kind: str) -> None:
        self.card = card
        self.reader = reader
        self.kind = kind
        self.events: deque[ApduEvent | PowerEvent] = deque(maxlen=TRACE_KEEP)
        card.observers.append(self)

    def on_apdu(self, event: ApduEvent) -> None:
        self.events.append(event)

    def on_power(self, event: PowerEvent) -> None:
        self.events.append(event)

    def read(self, last: int | None = None) -> list[Any]:
        from emulator.trace import CardTracer, TraceRecorder

        records: list[Any] = []
        recorder = TraceRecorder(records.append, reader=self.reader, card=self.kind)
        tracer = CardTracer(recorder)
        for event in list(self.events):
            if isinstance(event, ApduEvent):
                tracer.on_apdu(event)
            else:
                tracer.on_power(event)
        recorder.flush()
        # The recorder opens with a file header; `trace` wants the exchanges only.
        records = [r for r in records if getattr(r, "type", "") != "header"]
        return records[-last:] if last else records

    def clear(self) -> None:
        self.events.clear()

    def close(self) -> None:
        with contextlib.suppress(ValueError):
            self.card.observers.remove(self)


# -- one reader -------------------------------------------------------------------------------


class NoCardError(CardConnectionError, CardConnectionException):  # type: ignore[misc]
    """No card in the reader: pyscard's exception, so a test need not know the transport."""


class ReaderConnection(EmbeddedConnection):
    """The in-process transport: a pyscard-shaped connection that knows the card can leave."""

    def __init__(self, reader: CardReader) -> None:
        super().__init__(reader.card, reader.name)
        self.card_reader = reader

    def connect(self, *args: object, **kwargs: object) -> None:
        if not self.card_reader.present:
            raise NoCardError(f"no card in reader '{self.reader}'")
        super().connect()

    def transmit(
        self, command: Sequence[int], protocol: object = None
    ) -> tuple[list[int], int, int]:
        if not self.card_reader.present:
            self._connected = False
            raise NoCardError(f"the card was removed from reader '{self.reader}'")
        try:
            return super().transmit(command, protocol)
        except CardRemoved:
            self.card_reader.remove()  # a fault rule pulled the card mid-command
            self._connected = False
            raise NoCardError(f"the card was removed from reader '{self.reader}'") from None


@dataclass
class CardReader:
    """A card in a reader: served over a vpcd link, or in-process when `link` is None."""

    slot: int
    name: str
    card: CardOS
    kind: str
    link: VpcdLink | None = None
    image: Path | None = None
    persistent: Any = None  # the emulator.image.PersistentCard saving the card to `image`
    source: str = ""  # what the card came from, for `list`
    trace_file: Any = None  # a CardTrace writing JSONL, when asked for
    memory_trace: MemoryTrace | None = None
    present: bool = True
    _closers: list[Any] = field(default_factory=list, repr=False)
    _initial: tuple[dict[str, Any], bytes] = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        # For `reset(factory=True)`: the state the reader started with, as JSON owns it.
        self._initial = (json.loads(json.dumps(self.card.export_state())), self.card.atr)

    @property
    def transport(self) -> str:
        return "vpcd" if self.link is not None else "embedded"

    # -- card movements -------------------------------------------------------------------

    def remove(self) -> None:
        """Take the card out: PC/SC clients see SCARD_STATE_EMPTY, the card loses power."""
        with self._lock:
            self.present = False
            if self.link is not None:
                self.link.remove()
            else:
                self.card.power_off()

    def insert(self) -> None:
        with self._lock:
            self.present = True
            if self.link is not None:
                self.link.insert()

    def reset(self, factory: bool = False) -> None:
        """Pull the card and put it back (volatile state lost: PINs, selections).

        `factory`: also put back the persistent state the reader started with (the
        kind's factory state, or the image as it was loaded), saved to the image.
        """
        was_present = self.present
        self.remove()
        if factory:
            state, atr = self._initial
            self.card.replace_state(json.loads(json.dumps(state)), atr)
        if was_present:
            self.insert()

    # -- faults ---------------------------------------------------------------------------

    def _injector(self) -> Any:
        from emulator.faults import FaultInjector

        return FaultInjector.attach(self.card)

    def add_fault(self, rule: Any) -> int:
        """Add a fault rule (a FaultRule, or its one-line text form); returns its id."""
        from emulator.faults import FaultError, FaultRule, parse_rule

        try:
            parsed = rule if isinstance(rule, FaultRule) else parse_rule(str(rule))
        except FaultError as e:
            raise MultiError(f"fault rule: {e}") from None
        rule_id: int = self._injector().add(parsed)
        return rule_id

    def faults(self) -> list[dict[str, Any]]:
        return [state.to_dict() for state in self._injector().list()]

    def remove_fault(self, rule_id: int) -> None:
        try:
            self._injector().remove(rule_id)
        except KeyError:
            raise MultiError(f"reader {self.slot} has no fault rule {rule_id}") from None

    def clear_faults(self) -> None:
        self._injector().clear()

    # -- trace ----------------------------------------------------------------------------

    def trace(self, last: int | None = None) -> list[Any]:
        """The decoded trace records (emulator.trace.Record) since start or the last clear."""
        if self.memory_trace is None:
            raise MultiError(f"reader {self.slot} keeps no trace")
        return self.memory_trace.read(last)

    def clear_trace(self) -> None:
        if self.memory_trace is not None:
            self.memory_trace.clear()

    # -- facts and life cycle ---------------------------------------------------------------

    def connection(self) -> ReaderConnection:
        """An in-process connection (the embedded transport); vpcd readers use pyscard."""
        return ReaderConnection(self)

    def info(self) -> dict[str, Any]:
        endpoint = str(self.link.endpoint) if self.link is not None else None
        return {
            "slot": self.slot,
            "reader": self.name,
            "kind": self.kind,
            "source": self.source,
            "image": str(self.image) if self.image is not None else None,
            "transport": self.transport,
            "endpoint": endpoint,
            "present": self.present,
            "connected": self.link.connected.is_set() if self.link is not None else self.present,
            "atr": self.card.atr.hex().upper(),
        }

    def start(self) -> None:
        if self.link is not None:
            self.link.start()

    def close(self) -> None:
        if self.link is not None:
            self.link.stop()
        if self.memory_trace is not None:
            self.memory_trace.close()
        if self.trace_file is not None:
            self.trace_file.close()
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                closer()
        self._closers.clear()


def build_card(spec: ReaderSpec, fork_to: Path | None = None) -> tuple[CardOS, str, Any, list[Any]]:
    """The card a spec asks for: (card, kind, PersistentCard or None, closers).

    An image is served in place (every change saved to it, locked against a second
    server) unless `fork_to` names a private copy to serve instead.
    """
    from emulator.image import ImageError, ImageLock, PersistentCard, fork

    from .samples import SampleError, is_ref, resolve

    if spec.image is None:
        assert spec.kind is not None
        return make_card(spec.kind, seed=spec.seed), spec.kind, None, []
    try:
        source = resolve(spec.image)
    except SampleError as e:
        raise MultiError(str(e)) from None
    scratch: Path | None = None
    if is_ref(spec.image) and fork_to is None:
        # A shipped sample stays as shipped: serve a private copy, gone when the card stops.
        scratch = Path(tempfile.mkdtemp(prefix="softcard-sample-"))
        fork_to = scratch / source.name
    try:
        if fork_to is not None:
            persistent = fork(source, fork_to)
            if spec.seed is not None:
                persistent = PersistentCard.open(fork_to, seed=spec.seed)
            lock = None
        else:
            lock = ImageLock(spec.image)
            lock.__enter__()
            try:
                persistent = PersistentCard.open(spec.image, seed=spec.seed)
            except BaseException:
                lock.release()
                raise
    except ImageError as e:
        raise MultiError(str(e)) from None
    if spec.kind is not None and spec.kind != persistent.kind:
        if lock is not None:
            lock.release()
        raise MultiError(f"{spec.image}: holds a {persistent.kind} card, not {spec.kind}")
    closers: list[Any] = [lock.release] if lock is not None else []
    if scratch is not None:
        closers.append(lambda: shutil.rmtree(scratch, ignore_errors=True))
    return persistent.card, persistent.kind, persistent, closers


def open_reader(
    spec: ReaderSpec,
    *,
    name: str | None = None,
    endpoint: Endpoint | None = None,
    embedded: bool = False,
    fork_to: Path | None = None,
    memory_trace: bool = True,
) -> CardReader:
    """A reader for a spec, not yet started: a vpcd link to `endpoint` (default
    127.0.0.1:35963+slot), or no link at all with `embedded`."""
    card, kind, persistent, closers = build_card(spec, fork_to)
    reader_name = name or (
        f"softcard embedded {spec.slot:02d}" if embedded else vpcd_reader_name(spec.slot)
    )
    try:
        if spec.faults is not None:
            from emulator.faults import FaultError, FaultInjector

            try:
                FaultInjector.attach(card).load(spec.faults)
            except FaultError as e:
                raise MultiError(f"reader {spec.slot}: {e}") from None
        trace_file = None
        if spec.trace is not None:
            from emulator.trace import CardTrace

            try:
                trace_file = CardTrace(card, spec.trace, reader=reader_name, card_kind=kind)
            except OSError as e:
                raise MultiError(f"cannot write the trace {spec.trace}: {e.strerror}") from None
        link = None
        if not embedded:
            link = VpcdLink(card, endpoint or Endpoint(port=VPCD_BASE_PORT + spec.slot))
    except BaseException:
        for closer in closers:
            closer()
        raise
    reader = CardReader(
        spec.slot,
        reader_name,
        card,
        kind,
        link,
        persistent.path if persistent is not None else None,
        persistent,
        source=spec.label,
        trace_file=trace_file,
        memory_trace=MemoryTrace(card, reader_name, kind) if memory_trace else None,
    )
    reader._closers.extend(closers)
    return reader


# -- many readers -----------------------------------------------------------------------------


class MultiServer:
    """The readers of one process; `reader(key)` finds one by slot or by reader name."""

    def __init__(self, readers: Iterable[CardReader]) -> None:
        self.readers = list(readers)
        self._stopped = threading.Event()

    @classmethod
    def open(
        cls, specs: Sequence[ReaderSpec], host: str = "127.0.0.1", base_port: int = VPCD_BASE_PORT
    ) -> MultiServer:
        """Build every card and connect each to vpcd; nothing is left open on failure."""
        readers: list[CardReader] = []
        try:
            for spec in specs:
                endpoint = Endpoint(host, base_port + spec.slot)
                reader = open_reader(spec, endpoint=endpoint)
                readers.append(reader)
                assert reader.link is not None
                try:
                    reader.link.open()
                except LinkError as e:
                    raise MultiError(f"reader {spec.slot}: {e}") from None
        except BaseException:
            for reader in readers:
                reader.close()
            raise
        return cls(readers)

    def reader(self, key: int | str) -> CardReader:
        for reader in self.readers:
            if key in (reader.slot, reader.name) or str(key) in (str(reader.slot), reader.name):
                return reader
        known = ", ".join(f"{r.slot} ('{r.name}')" for r in self.readers)
        raise MultiError(f"no reader {key!r} here (readers: {known})")

    def start(self) -> MultiServer:
        for reader in self.readers:
            reader.start()
        self.watch_restore_requests()
        return self

    def watch_restore_requests(self) -> None:
        """`softcard image restore` into a served image signals us (SIGHUP), as it does
        a single-card `softcard run --image`."""
        from emulator.image import PersistentCard

        if threading.current_thread() is not threading.main_thread():
            return
        served = [r.persistent for r in self.readers if isinstance(r.persistent, PersistentCard)]
        if served:

            def on_hangup(signum: int, frame: object) -> None:
                for persistent in served:
                    persistent.apply_restore_request()

            signal.signal(signal.SIGHUP, on_hangup)

    def stop(self) -> None:
        self._stopped.set()
        for reader in self.readers:
            reader.close()

    def __enter__(self) -> MultiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
