"""The vpcd link: the card side of vsmartcard's virtual reader protocol.

Frames in both directions are a 2-byte big-endian length and a payload. A
1-byte payload from vpcd is a control message; anything else is a command APDU,
answered with exactly one response frame.

Latency: Debian's vpcd writes the length and the payload of a frame in two
send() calls. With Nagle's algorithm on our side and delayed ACKs on both, each
APDU then waits for the 40 ms delayed-ACK timer (about 48 ms per APDU measured
on this stack). TCP_NODELAY on our socket and TCP_QUICKACK re-armed before
every receive (Linux clears it after each ACK) bring it to about 0.1 ms.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from ..core.card import CardOS
from ..core.errors import CardRemoved

log = logging.getLogger(__name__)

VPCD_BASE_PORT = 35963  # 0x8C7B, reader slot N listens on base + N
DEFAULT_HOST = "127.0.0.1"
_TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


class Control(IntEnum):
    POWER_OFF = 0x00
    POWER_ON = 0x01
    RESET = 0x02
    ATR = 0x04


class LinkError(Exception):
    """The link cannot be set up (vpcd unreachable, port taken); one-line message."""


def tune(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    quickack(sock)


def quickack(sock: socket.socket) -> None:
    if _TCP_QUICKACK is not None:
        # Best effort: not every platform (or socket state) accepts it.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)


def recv_exact(sock: socket.socket, n: int, quick: bool = True) -> bytes | None:
    """Read exactly n bytes; None when the peer closed the connection first."""
    buf = bytearray()
    while len(buf) < n:
        if quick:
            quickack(sock)
        try:
            chunk = sock.recv(n - len(buf))
        except InterruptedError:
            continue
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def recv_frame(sock: socket.socket, quick: bool = True) -> bytes | None:
    header = recv_exact(sock, 2, quick)
    if header is None:
        return None
    size = int.from_bytes(header, "big")
    if size == 0:
        return b""
    return recv_exact(sock, size, quick)


def send_frame(sock: socket.socket, payload: bytes) -> None:
    if len(payload) > 0xFFFF:
        raise ValueError("a vpcd frame carries at most 65535 bytes")
    sock.sendall(len(payload).to_bytes(2, "big") + payload)


Responder = Callable[[bytes], bytes]


@dataclass
class Endpoint:
    host: str = DEFAULT_HOST
    port: int = VPCD_BASE_PORT

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        host, sep, port = text.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"expected HOST:PORT, got {text!r}")
        return cls(host.strip("[]") or DEFAULT_HOST, int(port))

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class VpcdLink:
    """Serves one card over one vpcd reader slot until stopped.

    Normal mode connects to vpcd (which listens); reversed mode listens (on
    loopback unless told otherwise) and vpcd connects to us. Either way a lost
    connection is retried, so a pcscd restart is survived. `remove()` and
    `insert()` drop and restore the connection: pcscd sees the card leave and
    come back. A command whose processing raises CardRemoved (emulator.faults)
    gets no answer: the connection closes, as with `remove()`.
    """

    def __init__(
        self,
        card: CardOS,
        endpoint: Endpoint,
        *,
        reverse: bool = False,
        retry_interval: float = 0.05,
        low_latency: bool = True,
    ) -> None:
        self.card = card
        # Only the benchmark turns this off, to measure what the socket options buy.
        self.low_latency = low_latency
        self.endpoint = endpoint
        self.reverse = reverse
        self.retry_interval = retry_interval
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._inserted = threading.Event()
        self._inserted.set()
        self._sock: socket.socket | None = None
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- life cycle -----------------------------------------------------------------------

    def open(self) -> None:
        """Bind (reversed mode) or make the first connection; LinkError if impossible."""
        if self.reverse:
            self._server = self._listen()
        else:
            self._sock = self._connect()
            self.connected.set()

    def start(self) -> None:
        """Open (unless already open), then serve in a background thread."""
        if self._server is None and self._sock is None:
            self.open()
        self._thread = threading.Thread(
            target=self.serve_forever, name=f"vpcd-{self.endpoint}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._inserted.set()
        self._close_client()
        if self._server is not None:
            with contextlib.suppress(OSError):
                self._server.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def remove(self) -> None:
        """Take the card out of the reader (the connection closes)."""
        self._inserted.clear()
        self._close_client()
        self.card.power_off()

    def insert(self) -> None:
        self._inserted.set()

    def wait_connected(self, timeout: float) -> bool:
        return self.connected.wait(timeout)

    # -- sockets --------------------------------------------------------------------------

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.endpoint.host, self.endpoint.port), timeout=5)
        except OSError as e:
            reason = e.strerror or str(e)
            raise LinkError(
                f"cannot reach vpcd at {self.endpoint}: {reason} (is pcscd running with vpcd?)"
            ) from None
        sock.settimeout(None)
        self._tune(sock)
        return sock

    def _tune(self, sock: socket.socket) -> None:
        if self.low_latency:
            tune(sock)

    def _listen(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.endpoint.host else socket.AF_INET
        server = socket.socket(family, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            server.bind((self.endpoint.host, self.endpoint.port))
        except OSError as e:
            server.close()
            raise LinkError(f"cannot listen on {self.endpoint}: {e.strerror or e}") from None
        server.listen(1)
        server.settimeout(0.2)
        return server

    def _close_client(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
        self.connected.clear()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def _next_connection(self) -> socket.socket | None:
        """Wait for (reverse) or re-establish (normal) a connection; None when stopping."""
        while not self._stop.is_set():
            if not self._inserted.wait(0.2):
                continue
            if self._stop.is_set():
                return None
            if self.reverse:
                assert self._server is not None
                try:
                    sock, _ = self._server.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return None
                sock.settimeout(None)
                self._tune(sock)
                return sock
            try:
                return self._connect()
            except LinkError:
                self._stop.wait(self.retry_interval)
        return None

    # -- serving --------------------------------------------------------------------------

    def serve_forever(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                sock = self._sock
            if sock is None:
                sock = self._next_connection()
                if sock is None:
                    break
                with self._lock:
                    self._sock = sock
                self.connected.set()
                log.info("vpcd connected at %s", self.endpoint)
            try:
                self._serve_connection(sock)
            except OSError as e:
                if e.errno not in (errno.EBADF, errno.ECONNRESET, errno.EPIPE, None):
                    log.warning("vpcd link error: %s", e)
            self._close_client()
            self.card.power_off()
            if not self._stop.is_set():
                log.info("vpcd disconnected from %s; waiting to reconnect", self.endpoint)

    def _serve_connection(self, sock: socket.socket) -> None:
        card = self.card
        while True:
            payload = recv_frame(sock, self.low_latency)
            if payload is None:
                return
            if len(payload) == 1:
                ctrl = payload[0]
                if ctrl == Control.POWER_OFF:
                    card.power_off()
                elif ctrl == Control.POWER_ON:
                    card.power_on()
                elif ctrl == Control.RESET:
                    card.reset()
                elif ctrl == Control.ATR:
                    send_frame(sock, card.atr)
                else:
                    log.warning("unknown vpcd control byte %02X", ctrl)
                continue
            if not payload:
                continue
            try:
                response = card.transmit(payload)
            except CardRemoved as removed:
                # Fault injection: the card leaves mid-command, no answer; pcscd sees it go.
                self._pulled(removed.reinsert_after)
                return
            send_frame(sock, response)

    def _pulled(self, reinsert_after: float | None) -> None:
        self._inserted.clear()
        if reinsert_after is not None:
            timer = threading.Timer(reinsert_after, self._inserted.set)
            timer.daemon = True
            timer.start()
