"""The card OS: power, channels, chaining and routing of APDUs to applications.

`CardOS.transmit` is the whole interface a transport needs: bytes in, bytes out.
It never raises: malformed input and handler errors become status words, and the
next command works as usual.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wire.apdu import EXTENDED_MAX, SHORT_MAX, CommandApdu, ResponseApdu
from wire.atr import Capabilities, default_atr
from wire.errors import WireError
from wire.iso7816 import CLA_CHAINING, SW, Ins, bytes_remaining, wrong_le

from .application import Application, Result, Session
from .errors import CardError, sw_for
from .events import ApduEvent, CardObserver, PowerEvent
from .rng import RandomSource

log = logging.getLogger(__name__)

# Largest command a chain may build up; beyond it the chain is refused (6700).
MAX_CHAIN_BYTES = 65536 + 4096

# interceptor(command, process) -> response; `process` is the card's own transmit.
Interceptor = Callable[[bytes, Callable[[bytes], bytes]], bytes]

# ResponseApdu.extra key: send none of the data now, only 61xx; GET RESPONSE serves it
# (cards whose case-3 commands announce their output this way, e.g. GIDS GENERATE).
WITHHOLD_DATA = "withhold_data"

MANAGE_CHANNEL_OPEN = 0x00
MANAGE_CHANNEL_CLOSE = 0x80


@dataclass(slots=True)
class _Chain:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytearray


@dataclass
class Channel:
    """Per logical channel: what is selected, its sessions, pending chains."""

    number: int
    app: Application | None = None
    sessions: dict[str, Session] = field(default_factory=dict)
    chain: _Chain | None = None
    pending: bytes | None = None

    def session(self, app: Application) -> Session:
        s = self.sessions.get(app.name)
        if s is None:
            s = self.sessions[app.name] = app.new_session()
        return s


@dataclass(frozen=True, slots=True)
class _Cla:
    channel: int
    chaining: bool
    secure_messaging: bool


def _decode_cla(cla: int) -> _Cla | None:
    if cla & 0xE0 == 0x00:  # first interindustry: 000x SSCC
        return _Cla(cla & 0x03, bool(cla & 0x10), bool(cla & 0x0C))
    if cla & 0xC0 == 0x40:  # further interindustry: 01xS CCCC
        return _Cla(4 + (cla & 0x0F), bool(cla & 0x10), bool(cla & 0x20))
    return None


_CLA_TABLE = tuple(_decode_cla(cla) for cla in range(256))


def decode_cla(cla: int) -> _Cla | None:
    """Interindustry CLA (ISO 7816-4 section 5.4.1); None for anything else."""
    return _CLA_TABLE[cla]


class CardOS:
    """One card: its applications, its power state, its channels."""

    def __init__(
        self,
        applications: list[Application],
        *,
        name: str = "softcard",
        default_application: Application | None = None,
        capabilities: Capabilities | None = None,
        atr: bytes | None = None,
        rng: RandomSource | None = None,
    ) -> None:
        self.name = name
        self.capabilities = capabilities or Capabilities()
        self.atr = atr or default_atr(name, self.capabilities)
        self.rng = rng or RandomSource()
        self.applications = list(applications)
        self.default_application = default_application
        self.observers: list[CardObserver] = []
        # Called with no argument to make dirty state durable; set by the image store.
        self.persist: Callable[[], None] | None = None
        # Fault injection (emulator.faults): sees every command before the card does and
        # may answer, delay, tear or raise CardRemoved instead. None costs nothing.
        self.interceptor: Interceptor | None = None
        self._dirty = False
        self._lock = threading.RLock()
        self._powered = False
        self._channels: dict[int, Channel] = {}
        for app in self.applications:
            app.attach(self)
        self._open_basic_channel()

    # -- power ----------------------------------------------------------------------------

    @property
    def powered(self) -> bool:
        return self._powered

    def power_on(self) -> bytes:
        with self._lock:
            self._powered = True
            self._open_basic_channel()
            self._notify_power("power_on")
            return self.atr

    def power_off(self) -> None:
        with self._lock:
            self._powered = False
            self._channels.clear()
            self._notify_power("power_off")

    def reset(self) -> bytes:
        with self._lock:
            self._powered = True
            self._open_basic_channel()
            self._notify_power("reset")
            return self.atr

    def _open_basic_channel(self) -> None:
        self._channels = {0: self._new_channel(0)}

    def _new_channel(self, number: int) -> Channel:
        return Channel(number, self.default_application)

    def _notify_power(self, kind: str) -> None:
        event = PowerEvent(time.time(), kind)
        for observer in list(self.observers):
            observer.on_power(event)

    # -- persistence ----------------------------------------------------------------------

    def mark_dirty(self) -> None:
        self._dirty = True

    def commit_now(self) -> None:
        """Make the state durable immediately (PIN counters before a comparison)."""
        self._dirty = True
        self._flush()

    def _flush(self) -> None:
        if self._dirty and self.persist is not None:
            self._dirty = False
            self.persist()
        self._dirty = False

    def export_state(self) -> dict[str, Any]:
        with self._lock:  # between commands: a snapshot from another thread is consistent
            return {app.name: app.export_state() for app in self.applications}

    def import_state(self, state: dict[str, Any]) -> None:
        for app in self.applications:
            if app.name in state:
                app.import_state(state[app.name])

    def replace_state(self, state: dict[str, Any], atr: bytes | None = None) -> None:
        """Swap the persistent state of a live card (restore a snapshot), between commands.

        Channels and sessions go too: they may point into the old state (a selected
        file, a verified PIN), so the card answers the next command as after a reset.
        The new state is persisted before the lock is released.
        """
        with self._lock:
            self.import_state(state)
            if atr is not None:
                self.atr = atr
            self._open_basic_channel()
            self.commit_now()  # durable before any further command sees it

    def application(self, name: str) -> Application:
        for app in self.applications:
            if app.name == name:
                return app
        raise KeyError(name)

    # -- APDUs ----------------------------------------------------------------------------

    def transmit(self, command: bytes) -> bytes:
        """Process one command APDU and return the response APDU.

        With an interceptor installed, it decides; it may raise CardRemoved (the only
        exception that leaves here), which a transport answers by dropping the card.
        """
        interceptor = self.interceptor
        if interceptor is not None:
            return interceptor(command, self._transmit)
        return self._transmit(command)

    def _transmit(self, command: bytes) -> bytes:
        with self._lock:
            observed = bool(self.observers)
            if observed:
                started_wall = time.time()
                started = time.perf_counter_ns()
            channel_no, app_name = 0, ""
            try:
                if not self._powered:
                    # A transport that skipped power-on still gets a working card.
                    self._powered = True
                response, channel_no, app_name = self._process(command)
            except CardError as e:
                response = ResponseApdu(sw=e.sw)
            except WireError as e:  # malformed command bytes or TLV in it
                response = ResponseApdu(sw=sw_for(e))
            except Exception:  # a bug in a handler must not take the card down
                ins = command[1] if len(command) > 1 else 0
                log.exception("internal error handling INS %02X", ins)
                response = ResponseApdu(sw=SW.NO_PRECISE_DIAGNOSIS)
            if self._dirty:
                try:
                    # Durable before the answer leaves: 9000 means the change is on disk.
                    self._flush()
                except Exception:
                    log.exception("could not persist the card state")
                    response = ResponseApdu(sw=SW.MEMORY_FAILURE)
            raw = response.to_bytes()
            if observed:
                event = ApduEvent(
                    started_wall,
                    channel_no,
                    app_name,
                    bytes(command),
                    raw,
                    time.perf_counter_ns() - started,
                )
                for observer in list(self.observers):
                    observer.on_apdu(event)
            return raw

    def _process(self, raw: bytes) -> tuple[ResponseApdu, int, str]:
        apdu = CommandApdu.parse(raw)
        cla = decode_cla(apdu.cla)
        if cla is None:
            raise CardError(SW.CLA_NOT_SUPPORTED)
        if cla.secure_messaging:
            raise CardError(SW.SECURE_MESSAGING_NOT_SUPPORTED)
        channel = self._channels.get(cla.channel)
        if channel is None:
            raise CardError(SW.LOGICAL_CHANNEL_NOT_SUPPORTED)
        if apdu.extended and not self.capabilities.extended_length:
            raise CardError(SW.WRONG_LENGTH, "extended length not supported by this card")
        app_name = channel.app.name if channel.app else ""

        if apdu.ins == Ins.GET_RESPONSE and not cla.chaining:
            return self._get_response(channel, apdu), channel.number, app_name
        channel.pending = None

        if cla.chaining or channel.chain is not None:
            assembled = self._chain(channel, apdu, cla.chaining)
            if assembled is None:
                return ResponseApdu(), channel.number, app_name
            apdu = assembled

        result = self._route(channel, apdu)
        app_name = channel.app.name if channel.app else ""
        return self._shape_response(channel, apdu, result), channel.number, app_name

    def _chain(self, channel: Channel, apdu: CommandApdu, more: bool) -> CommandApdu | None:
        """Collect a command chain; return the whole command once its last block came."""
        if not self.capabilities.command_chaining and more:
            raise CardError(SW.COMMAND_CHAINING_NOT_SUPPORTED)
        if more and channel.app is not None and not channel.app.allows_chaining(apdu.ins):
            channel.chain = None
            raise CardError(SW.COMMAND_CHAINING_NOT_SUPPORTED)
        chain = channel.chain
        header = (apdu.ins, apdu.p1, apdu.p2)
        if chain is not None and (chain.ins, chain.p1, chain.p2) != header:
            # Another command interrupts the chain: the partial data is dropped and has
            # no effect (SP 800-73-4 section 3.4.3 behaviour, harmless elsewhere).
            chain = channel.chain = None
        if chain is None:
            if not more:
                return apdu
            chain = channel.chain = _Chain(apdu.cla & ~CLA_CHAINING, *header, bytearray())
        if len(chain.data) + len(apdu.data) > MAX_CHAIN_BYTES:
            channel.chain = None
            raise CardError(SW.WRONG_LENGTH, "command chain too long")
        chain.data += apdu.data
        if more:
            return None
        channel.chain = None
        return CommandApdu(
            apdu.cla & ~CLA_CHAINING,
            apdu.ins,
            apdu.p1,
            apdu.p2,
            bytes(chain.data),
            apdu.ne,
            apdu.extended,
        )

    def _route(self, channel: Channel, apdu: CommandApdu) -> Result:
        if apdu.ins == Ins.MANAGE_CHANNEL:
            return self._manage_channel(channel, apdu)
        if apdu.ins == Ins.SELECT and apdu.p1 == 0x04:
            target = self._find_application(apdu.data)
            if target is not None:
                return self._select_application(channel, target, apdu)
            if channel.app is None:
                raise CardError(SW.FILE_NOT_FOUND)
            return channel.app.select_unknown_name(channel.session(channel.app), apdu)
        if channel.app is None:
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "no application selected")
        return channel.app.dispatch(channel.session(channel.app), apdu)

    def _find_application(self, name: bytes) -> Application | None:
        for app in self.applications:
            if app.aid and app.matches(name):
                return app
        return None

    def _select_application(self, channel: Channel, app: Application, apdu: CommandApdu) -> Result:
        reselected = channel.app is app
        if not reselected:
            channel.sessions.pop(app.name, None)
        session = channel.session(app)
        result = app.select(session, apdu, reselected)
        if not reselected and channel.app is not None:
            channel.sessions.pop(channel.app.name, None)
        channel.app = app
        return result

    def _manage_channel(self, channel: Channel, apdu: CommandApdu) -> Result:
        limit = self.capabilities.logical_channels
        if limit <= 1:
            raise CardError(SW.FUNCTION_IN_CLA_NOT_SUPPORTED, "no logical channels")
        if apdu.p1 == MANAGE_CHANNEL_OPEN:
            if apdu.p2 == 0:
                free = [n for n in range(1, limit) if n not in self._channels]
                if not free:
                    raise CardError(SW.FUNC_NOT_SUPPORTED, "no free logical channel")
                number = free[0]
            else:
                number = apdu.p2
                if number >= limit or number in self._channels:
                    raise CardError(SW.INCORRECT_P1P2)
            opened = self._new_channel(number)
            if channel.number != 0 and channel.app is not None:
                opened.app = channel.app  # ISO: the new channel inherits the selection
            self._channels[number] = opened
            return bytes((number,)) if apdu.p2 == 0 else b""
        if apdu.p1 == MANAGE_CHANNEL_CLOSE:
            number = apdu.p2 or channel.number
            if number == 0:
                raise CardError(SW.INCORRECT_P1P2, "the basic channel cannot be closed")
            if number not in self._channels:
                raise CardError(SW.INCORRECT_P1P2)
            del self._channels[number]
            return b""
        raise CardError(SW.INCORRECT_P1P2)

    # -- response chaining ----------------------------------------------------------------

    def _shape_response(self, channel: Channel, apdu: CommandApdu, result: Result) -> ResponseApdu:
        response = result if isinstance(result, ResponseApdu) else ResponseApdu(result)
        if response.sw != SW.SUCCESS or not response.data:
            return response
        if response.extra.get(WITHHOLD_DATA):
            channel.pending = response.data
            return ResponseApdu(sw=bytes_remaining(len(response.data)))
        limit = self._chunk_limit(apdu)
        if len(response.data) <= limit:
            return response
        channel.pending = response.data[limit:]
        return ResponseApdu(response.data[:limit], bytes_remaining(len(channel.pending)))

    @staticmethod
    def _chunk_limit(apdu: CommandApdu) -> int:
        # An explicit extended Le is honoured in one piece; otherwise the answer goes
        # out in short chunks with 61xx, which every client handles.
        if apdu.extended and apdu.ne is not None:
            return min(apdu.ne, EXTENDED_MAX)
        return min(apdu.ne or SHORT_MAX, SHORT_MAX)

    def _get_response(self, channel: Channel, apdu: CommandApdu) -> ResponseApdu:
        if apdu.p1 != 0 or apdu.p2 != 0:
            channel.pending = None
            raise CardError(SW.INCORRECT_P1P2)
        pending = channel.pending
        if pending is None:
            if channel.app is not None and channel.app.idle_get_response_succeeds:
                return ResponseApdu()
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "no response data pending")
        wanted = apdu.ne
        short_le = wanted is not None and not apdu.extended and wanted != SHORT_MAX
        if short_le and wanted is not None and wanted > len(pending):
            # T=0 convention: tell the exact count and keep the data for a retry.
            return ResponseApdu(sw=wrong_le(len(pending)))
        limit = self._chunk_limit(apdu)
        chunk, rest = pending[:limit], pending[limit:]
        channel.pending = rest or None
        if rest:
            return ResponseApdu(chunk, bytes_remaining(len(rest)))
        return ResponseApdu(chunk)
