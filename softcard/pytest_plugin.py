"""softcard's pytest plugin: every test gets a real-looking smart card, no hardware needed.

Installed with softcard (entry point `pytest11`: softcard), so a project that has
softcard in its test dependencies just uses the fixtures:

    def test_reads_the_card(softcard_card):
        data, sw1, sw2 = softcard_card.connection.transmit([0x00, 0xA4, 0x04, 0x00, ...])

    @pytest.mark.softcard(kind="piv", seed=1)
    def test_piv(softcard_card):
        subprocess.run(["yubico-piv-tool", "-r", softcard_card.reader, "-a", "status"],
                       env=softcard_card.env, check=True)

Fixtures:

* `softcard_card`: the test's card (kind, image, seed, transport from the `softcard`
  marker), a fresh one per test; `softcard_reader` (its reader name) and
  `softcard_connection` (a connected pyscard-shaped connection) for short tests.
* `softcard_factory`: `softcard_factory(kind=..., image=..., seed=..., transport=...,
  fork=True)` for several cards in one test.
* `softcard_stack`: the session's pcscd (softcard.stack.PcscStack).

Transports: "vpcd" (default) serves the card into a vpcd reader of a real pcscd, so
pyscard, OpenSC, ykman and every other PC/SC client see it; "embedded" keeps it in
this process behind a pyscard-shaped connection (no pcscd needed, no other client
can reach it). Choose with `--softcard-transport`, the `softcard_transport` ini
option, or per test with the marker.

Parallel runs: as root, each pytest-xdist worker (and each plain pytest process)
starts a pcscd of its own in a private mount namespace, with its own socket
(PCSCLITE_CSOCK_NAME, set in os.environ before the first PC/SC call) and its own
vpcd ports: workers never share a reader. Without root (or where unshare is not
allowed, as in unprivileged containers) the machine's pcscd is used, and workers
share its readers out between them. See docs/ci.md.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from emulator.core.card import CardOS
from emulator.transports.vpcd import Endpoint

from .harness import wait_card_state
from .multi import CardReader, ReaderSpec, open_reader
from .stack import PcscStack, StackError, free_port_block

TRANSPORTS = ("vpcd", "embedded")
STACK_MODES = ("auto", "isolated", "system")
DEFAULT_READERS = 8  # readers of an isolated pcscd (pcscd serves at most 16)
PORT_ATTEMPTS = 5  # another process may take the ports we chose; choose again
WAIT = 10.0  # seconds for PC/SC to see a card come or go

MARKER = (
    "softcard(kind='iso', image=None, seed=None, transport=None, fork=True): "
    "the card the softcard_card fixture gives this test"
)


# -- options ----------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("softcard", "softcard: software smart cards for tests")
    group.addoption(
        "--softcard-transport",
        choices=TRANSPORTS,
        default=None,
        help="how cards reach the test: vpcd (through pcscd, default) or embedded "
        "(in-process, no pcscd)",
    )
    group.addoption(
        "--softcard-stack",
        choices=STACK_MODES,
        default=None,
        help="pcscd to use: isolated (own pcscd per worker, needs root), system (the "
        "machine's), auto (isolated when possible; default)",
    )
    group.addoption(
        "--softcard-readers",
        type=int,
        default=None,
        metavar="N",
        help=f"readers of an isolated pcscd, 1-16 (default {DEFAULT_READERS})",
    )
    parser.addini("softcard_transport", "default card transport: vpcd or embedded", default="vpcd")
    parser.addini("softcard_stack", "pcscd to use: auto, isolated or system", default="auto")
    parser.addini("softcard_readers", "readers of an isolated pcscd", default=str(DEFAULT_READERS))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


def _setting(config: pytest.Config, name: str, choices: tuple[str, ...] | None = None) -> str:
    value = config.getoption(f"--softcard-{name}") or config.getini(f"softcard_{name}")
    text = str(value).strip()
    if choices is not None and text not in choices:
        raise pytest.UsageError(f"softcard_{name} = {text!r}: choose one of {', '.join(choices)}")
    return text


# -- the stack --------------------------------------------------------------------------------


def can_isolate() -> bool:
    """Root, and allowed a private mount namespace (containers often are not)."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "true"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def start_stack(workdir: Path, mode: str, readers: int) -> PcscStack:
    """The pcscd of this process: isolated (own socket and ports) or the machine's."""
    isolate = mode == "isolated" or (mode == "auto" and can_isolate())
    if not isolate:
        return PcscStack.system(workdir).start()
    for attempt in range(PORT_ATTEMPTS):
        stack = PcscStack.isolated_stack(workdir, free_port_block(readers), readers)
        # libpcsclite reads the socket name once per process: set before pyscard's first call.
        os.environ["PCSCLITE_CSOCK_NAME"] = str(stack.socket_path)
        try:
            return stack.start()
        except StackError as e:
            if "already in use" not in str(e) or attempt == PORT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


class SlotPool:
    """The reader slots this process may use; a test takes one per card, gives it back after."""

    def __init__(self, slots: list[int]) -> None:
        self.free = list(slots)
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            if not self.free:
                raise StackError(
                    "every reader is in use: raise --softcard-readers (at most 16) "
                    "or use fewer cards at once"
                )
            return self.free.pop(0)

    def give(self, slot: int) -> None:
        # Lowest free slot first: a test alone in its process always gets slot 0.
        with self._lock:
            bisect.insort(self.free, slot)


def worker_slots(readers: int, isolated: bool) -> list[int]:
    """An isolated stack is this worker's alone; the machine's is shared out between workers."""
    if isolated:
        return list(range(readers))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    slots = [slot for slot in range(readers) if slot % count == index]
    if not slots:
        raise StackError(
            f"the machine's pcscd has {readers} readers, too few for {count} workers; "
            "run as root for an isolated pcscd per worker, or with fewer workers"
        )
    return slots


@pytest.fixture(scope="session")
def softcard_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PcscStack]:
    """The session's pcscd with vpcd readers (isolated per xdist worker when root)."""
    config = request.config
    mode = _setting(config, "stack", STACK_MODES)
    try:
        readers = int(_setting(config, "readers"))
    except ValueError:
        raise pytest.UsageError("softcard_readers: give a number of readers, 1-16") from None
    if not 1 <= readers <= 16:
        raise pytest.UsageError("softcard_readers: pcscd serves 1 to 16 readers")
    stack = start_stack(tmp_path_factory.mktemp("softcard-pcscd"), mode, readers)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def softcard_slots(softcard_stack: PcscStack) -> SlotPool:
    """The reader slots of `softcard_stack` this process may use."""
    return SlotPool(worker_slots(softcard_stack.readers, softcard_stack.isolated))


# -- cards ------------------------------------------------------------------------------------


@dataclass
class SoftCard:
    """A card in a reader for one test: its reader name, connections, and the hands that
    insert, remove and reset it, inject faults and read its decoded trace."""

    reader_handle: CardReader
    transport: str
    stack: PcscStack | None = None
    slot_pool: SlotPool | None = None
    _connections: list[Any] = field(default_factory=list, repr=False)
    _current: Any = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"SoftCard({self.kind!r} in {self.reader!r}, transport {self.transport!r})"

    # -- facts ----------------------------------------------------------------------------

    @property
    def reader(self) -> str:
        """The reader name, as PC/SC clients list it (`-r` of opensc-tool, ykman --reader)."""
        return self.reader_handle.name

    @property
    def kind(self) -> str:
        return self.reader_handle.kind

    @property
    def card(self) -> CardOS:
        """The emulated card itself (its state: `card.export_state()`)."""
        return self.reader_handle.card

    @property
    def image(self) -> Path | None:
        """The image file holding this card's state (a private fork unless fork=False)."""
        return self.reader_handle.image

    @property
    def present(self) -> bool:
        return self.reader_handle.present

    @property
    def env(self) -> dict[str, str]:
        """Environment for a PC/SC client subprocess (opensc-tool, ykman, ...) of this card."""
        return self.stack.env() if self.stack is not None else dict(os.environ)

    @property
    def socket_path(self) -> Path | None:
        """The pcscd socket this card's reader is on (None for the embedded transport)."""
        return self.stack.socket_path if self.stack is not None else None

    # -- connections ----------------------------------------------------------------------

    def connect(self) -> Any:
        """A new connected connection: pyscard's through pcscd, or the in-process one."""
        if self.transport == "embedded":
            conn: Any = self.reader_handle.connection()
            conn.connect()
        else:
            from smartcard.System import readers

            found = [r for r in readers() if str(r) == self.reader]
            if not found:
                raise StackError(f"reader '{self.reader}' not found")
            conn = found[0].createConnection()
            conn.connect()
        self._connections.append(conn)
        self._current = conn
        return conn

    @property
    def connection(self) -> Any:
        """A connected connection, made on first use (and again after insert or reset)."""
        if self._current is None:
            return self.connect()
        return self._current

    def _drop_connections(self) -> None:
        for conn in self._connections:
            with contextlib.suppress(Exception):
                conn.disconnect()
        self._connections.clear()
        self._current = None

    # -- card movements -------------------------------------------------------------------

    def _wait(self, present: bool, wait: bool) -> None:
        if wait and self.transport == "vpcd":
            wait_card_state(self.reader, present, WAIT)

    def remove(self, wait: bool = True) -> None:
        """Take the card out; with `wait`, return once PC/SC reports the reader empty."""
        self.reader_handle.remove()
        self._current = None
        self._wait(False, wait)

    def insert(self, wait: bool = True) -> None:
        """Put the card back; with `wait`, return once PC/SC reports it present."""
        self.reader_handle.insert()
        self._current = None
        self._wait(True, wait)

    def reset(self, factory: bool = False) -> None:
        """Pull the card and put it back (PINs and selections are lost; clients see both
        events); `factory` also restores the state it started the test with."""
        self.remove()
        if factory:
            self.reader_handle.reset(factory=True)  # out of the reader, it stays out
        self.insert()

    # -- faults and trace -----------------------------------------------------------------

    def add_fault(self, rule: Any) -> int:
        """A fault rule (emulator.faults.FaultRule or its text, 'status sw=6581 ins=D6')."""
        return self.reader_handle.add_fault(rule)

    def faults(self) -> list[dict[str, Any]]:
        return self.reader_handle.faults()

    def clear_faults(self) -> None:
        self.reader_handle.clear_faults()

    def trace(self, last: int | None = None) -> list[Any]:
        """The decoded trace (emulator.trace records, secrets masked) since the card started."""
        return self.reader_handle.trace(last)

    def trace_text(self, verbosity: int = 0, last: int | None = None) -> str:
        """The trace as `softcard trace` shows it."""
        from emulator.trace import Renderer

        renderer = Renderer(verbosity)
        return "\n".join(line for r in self.trace(last) for line in renderer.lines(r))

    def clear_trace(self) -> None:
        self.reader_handle.clear_trace()

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> SoftCard:
        self.reader_handle.start()
        self._wait(True, True)
        return self

    def close(self) -> None:
        self._drop_connections()
        self.reader_handle.close()
        if self.transport == "vpcd":
            # The next test's card may go into this reader: let PC/SC see this one leave.
            with contextlib.suppress(StackError):
                wait_card_state(self.reader, False, 5.0)
        if self.slot_pool is not None:
            self.slot_pool.give(self.reader_handle.slot)


CardFactory = Callable[..., SoftCard]


@pytest.fixture
def softcard_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CardFactory]:
    """softcard_factory(kind="iso", image=None, seed=None, transport=None, fork=True) -> SoftCard.

    A card of `kind`, or the card in `image` (a private copy in tmp_path unless
    fork=False, which serves the image file itself). Every card is stopped after the test.
    """
    cards: list[SoftCard] = []
    embedded_count = 0

    def make(
        kind: str | None = None,
        *,
        image: str | Path | None = None,
        seed: int | None = None,
        transport: str | None = None,
        fork: bool = True,
    ) -> SoftCard:
        nonlocal embedded_count
        chosen = transport or _setting(request.config, "transport", TRANSPORTS)
        if chosen not in TRANSPORTS:
            raise pytest.UsageError(f"softcard transport {chosen!r}: choose vpcd or embedded")
        if kind is None and image is None:
            kind = "iso"
        if image is not None and not fork and str(image).startswith("sample:"):
            raise pytest.UsageError(f"{image}: a shipped sample is served as a private copy only")
        fork_to = tmp_path / f"softcard-{len(cards) + 1}.json" if image and fork else None
        image_path = Path(image) if image is not None else None
        if chosen == "embedded":
            spec = ReaderSpec(embedded_count, kind, image_path, seed)
            embedded_count += 1
            handle = open_reader(spec, embedded=True, fork_to=fork_to)
            softcard = SoftCard(handle, chosen)
        else:
            stack: PcscStack = request.getfixturevalue("softcard_stack")
            pool: SlotPool = request.getfixturevalue("softcard_slots")
            slot = pool.take()
            reader = stack.reader(slot)
            try:
                spec = ReaderSpec(slot, kind, image_path, seed)
                handle = open_reader(
                    spec, name=reader.name, endpoint=Endpoint(port=reader.port), fork_to=fork_to
                )
            except BaseException:
                pool.give(slot)
                raise
            softcard = SoftCard(handle, chosen, stack, pool)
        cards.append(softcard)
        try:
            softcard.start()
        except BaseException:
            cards.remove(softcard)
            softcard.close()
            raise
        _report(request, softcard)
        return softcard

    yield make
    for softcard in reversed(cards):
        softcard.close()


def _report(request: pytest.FixtureRequest, softcard: SoftCard) -> None:
    """Where the card is, in the test's report (-rP, junitxml): parallel runs show their
    own pcscd per worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    where = f"pcscd {softcard.socket_path}" if softcard.socket_path else "in-process"
    text = f"softcard: {softcard.kind} card in reader '{softcard.reader}', {where}, worker {worker}"
    request.node.add_report_section("setup", "softcard", text)
    request.node.user_properties.append(("softcard", text))


@pytest.fixture
def softcard_card(request: pytest.FixtureRequest, softcard_factory: CardFactory) -> SoftCard:
    """This test's card, as its `@pytest.mark.softcard(...)` marker says (default: iso)."""
    marker = request.node.get_closest_marker("softcard")
    args: tuple[Any, ...] = marker.args if marker is not None else ()
    kwargs: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    return softcard_factory(*args, **kwargs)


@pytest.fixture
def softcard_reader(softcard_card: SoftCard) -> str:
    """The reader name of this test's card."""
    return softcard_card.reader


@pytest.fixture
def softcard_connection(softcard_card: SoftCard) -> Any:
    """A connected connection to this test's card (pyscard's, or the in-process one)."""
    return softcard_card.connection


def pytest_report_header(config: pytest.Config) -> str:
    transport = _setting(config, "transport", TRANSPORTS)
    return f"softcard: transport {transport}, pcscd {_setting(config, 'stack', STACK_MODES)}"
