"""The card's secrets, and scans that prove they never leave it.

`card_secrets(card)` collects, from the card's exported state, every value a
secure element must keep: PIN and PUK values (as stored and without their FF
padding), symmetric admin/management keys, and private keys as PKCS#8 DER and
as the big-endian bytes of their private numbers (RSA d, p, q, dP, dQ, qInv; the
EC scalar; the Ed25519/X25519 seed).

`SecretScanner` is a card observer: it records every exchange and, on `scan()`,
reports each secret (or a 16-byte window of a long one, so a secret split over
GET RESPONSE parts is still caught) found in a response. A secret the client
itself wrote as data (UPDATE BINARY, PUT DATA) may come back when read, and is
excused; secrets presented as credentials (VERIFY, CHANGE REFERENCE DATA, ...)
are not.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519

from ..core.card import CardOS
from ..core.events import ApduEvent, PowerEvent

MIN_SECRET = 4  # shorter values would match by chance
MIN_DISTINCT = 3
WINDOW = 16  # long secrets are also searched as windows of this size ...
STRIDE = 8  # ... every STRIDE bytes: any fragment of WINDOW+STRIDE bytes is caught

# Field names (in exported states) whose hex values are secrets.
SECRET_FIELDS = ("pin", "puk", "key", "secret", "pkcs8", "private")
PUBLIC_FIELDS = ("public", "policy", "algorithm", "origin", "touch", "tries", "type")
# INS bytes that write data a client may read back (an echo of it is no leak).
DATA_WRITE_INS = frozenset({0xD6, 0xD7, 0xDA, 0xDB, 0xE0, 0xE2, 0xD2, 0xD0})


@dataclass(frozen=True)
class Secret:
    label: str
    value: bytes
    # Search windows too; not for a PKCS#8 blob, which also holds the public key.
    windows: bool = True

    def needles(self) -> Iterator[bytes]:
        yield self.value
        if self.windows and len(self.value) > WINDOW + STRIDE:
            for i in range(0, len(self.value) - WINDOW + 1, STRIDE):
                yield self.value[i : i + WINDOW]


@dataclass(frozen=True)
class Leak:
    secret: str
    where: str  # "response to 00CB3FFF..." / "trace line 12" / "log"
    excerpt: str

    def __str__(self) -> str:
        return f"{self.secret} in {self.where}: {self.excerpt}"


def _hex(value: Any) -> bytes | None:
    if not isinstance(value, str) or len(value) % 2:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _int_bytes(n: int, size: int | None = None) -> bytes:
    return n.to_bytes(size or max(1, (n.bit_length() + 7) // 8), "big")


def private_numbers(der: bytes) -> list[tuple[str, bytes]]:
    """The raw private values of a PKCS#8 key; [] when it is not one."""
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError):
        return []
    if isinstance(key, rsa.RSAPrivateKey):
        n = key.private_numbers()
        return [
            ("RSA d", _int_bytes(n.d)),
            ("RSA p", _int_bytes(n.p)),
            ("RSA q", _int_bytes(n.q)),
            ("RSA dP", _int_bytes(n.dmp1)),
            ("RSA dQ", _int_bytes(n.dmq1)),
            ("RSA qInv", _int_bytes(n.iqmp)),
        ]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        return [("EC private scalar", _int_bytes(key.private_numbers().private_value, size))]
    if isinstance(
        key,
        ed25519.Ed25519PrivateKey
        | x25519.X25519PrivateKey
        | ed448.Ed448PrivateKey
        | x448.X448PrivateKey,
    ):
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return [("raw private key", raw)]
    return []


def _is_pin(node: dict[str, Any]) -> bool:
    return "value" in node and "max_tries" in node


def _walk(node: Any, path: str, out: list[Secret]) -> None:
    if isinstance(node, dict):
        if _is_pin(node):
            value = _hex(node["value"])
            if value:
                out.append(Secret(f"{path} value", value))
                bare = value.rstrip(b"\xff")
                if bare != value:
                    out.append(Secret(f"{path} value (unpadded)", bare))
        for key, child in node.items():
            _walk(child, f"{path}/{key}", out)
        return
    if isinstance(node, list):
        for i, child in enumerate(node):
            _walk(child, f"{path}[{i}]", out)
        return
    # The field and its parent: GIDS keeps a key as {"key": {"type": ..., "value": ...}}.
    name = "/".join(path.lower().rsplit("/", 2)[-2:])
    value = _hex(node)
    if value is None or any(p in name for p in PUBLIC_FIELDS):
        return
    if value[:1] == b"\x30" and len(value) > 32:
        numbers = private_numbers(value)
        if numbers:
            out.append(Secret(f"{path} (PKCS#8)", value, windows=False))
            out.extend(Secret(f"{path} {label}", raw) for label, raw in numbers)
            return
    if any(s in name for s in SECRET_FIELDS):
        out.append(Secret(path, value))


def state_secrets(state: dict[str, Any]) -> list[Secret]:
    found: list[Secret] = []
    _walk(state, "", found)
    unique: dict[bytes, Secret] = {}
    for s in found:
        # A value of one or two repeated bytes (GIDS' default admin key is 24 zeros) cannot
        # be told from padding or an empty file: scanning for it would only cry wolf.
        if len(s.value) >= MIN_SECRET and len(set(s.value)) >= MIN_DISTINCT:
            unique.setdefault(s.value, s)
    return list(unique.values())


def card_secrets(card: CardOS) -> list[Secret]:
    return state_secrets(card.export_state())


def find_secrets(data: bytes, secrets: Iterable[Secret]) -> list[Secret]:
    """The secrets (or windows of them) that occur in binary data, raw or as hex text."""
    hits = []
    lowered = data.lower()
    for secret in secrets:
        for needle in secret.needles():
            if needle in data or needle.hex().encode() in lowered:
                hits.append(secret)
                break
    return hits


def find_secrets_in_text(text: str, secrets: Iterable[Secret]) -> list[Secret]:
    """The secrets in text (a trace, a log line): as hex, as a Python bytes repr, quoted.

    A bare digit string is not searched: "123456" is part of every timestamp.
    """
    hits = []
    lowered = text.lower()
    for secret in secrets:
        for needle in secret.needles():
            forms = [needle.hex(), repr(needle)]
            if needle.isascii() and needle.decode().isprintable():
                ascii_ = needle.decode()
                forms += [f"'{ascii_}'", f'"{ascii_}"']
            if any(f.lower() in lowered for f in forms):
                hits.append(secret)
                break
    return hits


def logical_responses(exchanges: Iterable[tuple[bytes, bytes]]) -> Iterator[tuple[bytes, bytes]]:
    """(first command, whole data) per answer: parts chained with 61xx are joined."""
    first: bytes | None = None
    data = bytearray()
    for command, response in exchanges:
        if first is None:
            first = command
        data += response[:-2]
        if response[-2:-1] == b"\x61":
            continue
        yield first, bytes(data)
        first, data = None, bytearray()
    if first is not None:
        yield first, bytes(data)


@dataclass
class SecretScanner:
    """Records a card's exchanges (and its log) and finds secrets in what left the card."""

    card: CardOS
    secrets: dict[bytes, Secret] = field(default_factory=dict)
    exchanges: list[tuple[bytes, bytes]] = field(default_factory=list)
    log_lines: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _handler: logging.Handler | None = field(default=None, repr=False)

    def attach(self) -> SecretScanner:
        self.refresh()
        self.card.observers.append(self)
        scanner = self

        class _Capture(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                text = record.getMessage()
                if record.exc_info and record.exc_info[1] is not None:
                    text += f" {record.exc_info[1]!r}"
                with scanner._lock:
                    scanner.log_lines.append(text)

        self._handler = _Capture(logging.DEBUG)
        logging.getLogger("emulator").addHandler(self._handler)
        return self

    def detach(self) -> None:
        if self in self.card.observers:
            self.card.observers.remove(self)
        if self._handler is not None:
            logging.getLogger("emulator").removeHandler(self._handler)
            self._handler = None

    def refresh(self) -> None:
        """Add the card's current secrets (a changed PIN, a generated key)."""
        for s in card_secrets(self.card):
            self.secrets.setdefault(s.value, s)

    def on_apdu(self, event: ApduEvent) -> None:
        with self._lock:
            self.exchanges.append((event.command, event.response))

    def on_power(self, event: PowerEvent) -> None:
        return None

    @property
    def responses(self) -> int:
        return len(self.exchanges)

    def excused(self) -> set[bytes]:
        """Secrets the client wrote as plain data before: reading them back is no leak."""
        written = b"".join(
            c[5:] for c, _ in self.exchanges if len(c) > 5 and c[1] in DATA_WRITE_INS
        )
        return {s.value for s in find_secrets(written, self.secrets.values())}

    def scan(self, extra_text: Iterable[tuple[str, str]] = ()) -> list[Leak]:
        """Leaks in every recorded response, the card's log, and extra (name, text) sources."""
        self.refresh()
        excused = self.excused()
        watch = [s for s in self.secrets.values() if s.value not in excused]
        leaks: list[Leak] = []
        with self._lock:
            exchanges = list(self.exchanges)
            log_lines = list(self.log_lines)
        for command, data in logical_responses(exchanges):
            for s in find_secrets(data, watch):
                where = f"response to {command[:5].hex().upper()}"
                leaks.append(Leak(s.label, where, data[:24].hex()))
        for line in log_lines:
            for s in find_secrets_in_text(line, watch):
                leaks.append(Leak(s.label, "card log", line[:80]))
        for name, text in extra_text:
            for s in find_secrets_in_text(text, watch):
                leaks.append(Leak(s.label, name, ""))
        return leaks
