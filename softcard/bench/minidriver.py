"""The minidriver API over the real stack: what each call costs in time and in APDUs.

The card is a `softcard run --card gids` process in a vpcd reader, the driver is
`driver` over pyscard through pcscd. The card is enrolled first as Windows does
it (a container with an on-card RSA-2048 key, then its certificate in
mscp/kxc00); then each call is timed and its APDUs counted:

* CardAcquireContext cold: SCardConnect (the card powers up) + identification;
  warm: a new context on a connection that is already open.
* CardSignData: a PKCS#1 v1.5 signature over a SHA-256 hash, PIN verified once.
* CardReadFile of the certificate: the first read of a context (freshness check,
  then the file) and warm reads (cardcf unchanged: the freshness check only).
"""

from __future__ import annotations

import datetime
import hashlib
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import NameOID

from ..stack import PcscStack
from .latency import card_process
from .report import Section, Target

T = TypeVar("T")
PIN = b"123456"  # the `gids` kind's factory user PIN (emulator.profiles.gids.USER_PIN)


class CountingConnection:
    """A pyscard connection that counts the APDUs sent through it."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.apdus = 0

    def transmit(self, command: list[int], *args: Any) -> tuple[list[int], int, int]:
        self.apdus += 1
        result: tuple[list[int], int, int] = self.connection.transmit(command, *args)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)


@dataclass
class Call:
    name: str
    apdus: int
    samples_ms: list[float]

    def add(self, sample: tuple[object, float, int]) -> None:
        """One (result, ms, APDUs) from _timed."""
        self.samples_ms.append(sample[1])
        self.apdus = sample[2]

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _timed(conn: CountingConnection, fn: Callable[[], T]) -> tuple[T, float, int]:
    """fn's result, its time in ms and the APDUs it sent."""
    before = conn.apdus
    t = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - t) * 1000, conn.apdus - before


def _certificate(public: rsa.RSAPublicKey) -> x509.Certificate:
    issuer_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "softcard benchmark")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(issuer_key, hashes.SHA256())
    )


def _connect(reader: str) -> CountingConnection:
    from smartcard.System import readers

    conn = next(r for r in readers() if str(r) == reader).createConnection()
    conn.connect()
    return CountingConnection(conn)


def _close(conn: CountingConnection) -> None:
    conn.connection.disconnect()
    conn.connection.release()


def _enroll(conn: CountingConnection) -> rsa.RSAPublicKey:
    import driver
    from driver import blobs
    from driver.csp import Csp
    from wire import minidriver as k

    with driver.acquire_context(connection=conn) as ctx:
        ctx.authenticate_pin("user", PIN)
        csp = Csp(ctx)
        index = csp.enroll(k.AT_KEYEXCHANGE, 2048)
        public = blobs.parse_rsa_public_blob(ctx.get_container_info(index).key_ex_public_key or b"")
        csp.put_certificate(index, k.AT_KEYEXCHANGE, _certificate(public))
        return public


def run(stack: PcscStack, slot: int, count: int) -> tuple[list[Call], int]:
    """The calls, and the APDUs of the freshness check alone (reading cardcf)."""
    import driver
    from driver.structures import CARD_SIGNING_INFO
    from wire import minidriver as k

    reader = stack.reader(slot).name
    cmd = [sys.executable, "-m", "softcard", "run", "--card", "gids"]
    calls = {
        name: Call(name, 0, [])
        for name in (
            "CardAcquireContext cold (SCardConnect + identify)",
            "CardAcquireContext warm (connection open)",
            "CardSignData RSA-2048 PKCS#1 SHA-256",
            "CardReadFile mscp/kxc00, first in context",
            "CardReadFile mscp/kxc00, warm (cardcf unchanged)",
        )
    }
    cold, warm, sign, first_read, warm_read = calls.values()

    port = stack.reader(slot).port
    with card_process([*cmd, "--vpcd", f"127.0.0.1:{port}"], stack, slot):
        conn = _connect(reader)
        public = _enroll(conn)
        digest = hashlib.sha256(b"softcard benchmark").digest()
        info = CARD_SIGNING_INFO(2, 0, k.AT_KEYEXCHANGE, 0, k.CALG_SHA_256, digest)
        with driver.acquire_context(connection=conn) as ctx:
            ctx.read_file(None, "cardcf")  # the first read of a context also finds the file
            _, _, fresh_apdus = _timed(conn, lambda: ctx.read_file(None, "cardcf"))
            ctx.authenticate_pin("user", PIN)
            signed = ctx.sign_data(info).signed_data or b""
            public.verify(signed[::-1], digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
            for _ in range(count):
                sign.add(_timed(conn, lambda: ctx.sign_data(info)))
        _close(conn)

        rounds = max(3, count // 10)
        for _ in range(rounds):
            _context_round(reader, count // rounds, cold, warm, first_read, warm_read)
    return list(calls.values()), fresh_apdus


def _context_round(
    reader: str, reads: int, cold: Call, warm: Call, first_read: Call, warm_read: Call
) -> None:
    import driver

    # Cold: a new card handle, as in a process that just started (pyscard disconnects
    # with SCARD_UNPOWER_CARD, so the card powers up again).
    started = time.perf_counter()
    conn = _connect(reader)
    ctx, _, apdus = _timed(conn, lambda: driver.acquire_context(connection=conn))
    cold.samples_ms.append((time.perf_counter() - started) * 1000)
    cold.apdus = apdus
    first_read.add(_timed(conn, lambda: ctx.read_file("mscp", "kxc00")))
    for _ in range(reads):
        warm_read.add(_timed(conn, lambda: ctx.read_file("mscp", "kxc00")))
    ctx.delete_context()
    for _ in range(3):
        sample = _timed(conn, lambda: driver.acquire_context(connection=conn))
        warm.add(sample)
        sample[0].delete_context()
    _close(conn)


def section(stack: PcscStack, slot: int, count: int) -> Section:
    calls, fresh_apdus = run(stack, slot, count)
    sec = Section(
        "minidriver API over pyscard -> pcscd -> vpcd -> GIDS card",
        ["call", "APDUs", "n", "median ms", "p95 ms"],
        [[c.name, c.apdus, len(c.samples_ms), c.median, c.p95] for c in calls],
    )
    warm_read = calls[-1]
    sec.targets.append(
        Target(
            "warm CardReadFile APDUs / freshness-check APDUs",
            warm_read.apdus / fresh_apdus,
            1.0,
            higher_is_better=False,
        )
    )
    sec.notes.append(
        f"the freshness check is reading cardcf: {fresh_apdus} APDU(s); "
        "card enrolled first (CardCreateContainer KEY_GEN RSA-2048, certificate in mscp/kxc00)"
    )
    return sec
