"""CardAcquireContext: version negotiation, no-card mode, opening the reader, checking the
ATR and picking the card module whose application the card answers (never by configuration).
"""

from __future__ import annotations

import contextlib
from typing import Any

from wire.minidriver import ski
from wire.minidriver import versions as v

from ..api import Tracer
from ..cardmodules import card_module_classes
from ..errors import (
    ERROR_REVISION_MISMATCH,
    SCARD_E_INVALID_HANDLE,
    SCARD_E_INVALID_PARAMETER,
    SCARD_E_NO_SMARTCARD,
    SCARD_E_UNEXPECTED,
    SCARD_E_UNKNOWN_CARD,
    SCARD_E_UNKNOWN_READER,
    MinidriverError,
)
from ..transport import Connection, Transport
from .base import close_connection
from .card import CardContext

MAX_ATR = 33
MIN_ATR = 2


def _connect(reader: str) -> Any:
    try:
        from smartcard.System import readers
    except ImportError as err:  # pragma: no cover - pyscard is a dependency
        raise SCARD_E_UNKNOWN_READER(f"pyscard is not available: {err}") from None
    try:
        found = [r for r in readers() if str(r) == reader]
    # pyscard raises its own types, or a PC/SC error when pcscd is not there: all mean no list.
    except Exception as err:
        raise SCARD_E_UNKNOWN_READER(f"cannot list readers: {err}") from None
    if not found:
        raise SCARD_E_UNKNOWN_READER(f"no reader named {reader!r}")
    connection = found[0].createConnection()
    try:
        connection.connect()
    # pyscard raises NoCardException, CardConnectionException, ...: each means no usable card.
    except Exception as err:
        raise SCARD_E_NO_SMARTCARD(f"no card in {reader!r}: {err}") from None
    return connection


def acquire_context(
    reader: str | None = None,
    connection: Connection | None = None,
    *,
    version: int = v.CARD_DATA_CURRENT_VERSION,
    flags: int = 0,
    atr: bytes | None = None,
    card_name: str | None = None,
    tracer: Tracer | None = None,
    bump_freshness: bool = True,
) -> CardContext:
    """CardAcquireContext: open the card in `reader` (a PC/SC reader name) or on `connection`
    (anything with pyscard's transmit), identify it, negotiate the CARD_DATA version."""
    if tracer is None and connection is not None:
        # A tracing connection (emulator.trace.host.TracingConnection) brings its tracer.
        found = getattr(connection, "tracer", None)
        if callable(getattr(found, "call", None)):
            tracer = found
    with tracer.call("CardAcquireContext") if tracer is not None else contextlib.nullcontext():
        try:
            return _acquire(
                reader, connection, version, flags, atr, card_name, tracer, bump_freshness
            )
        except MinidriverError:
            raise
        # The API boundary (as in driver/api.py): a bug fails the call with an SCARD code.
        except Exception as err:
            raise SCARD_E_UNEXPECTED(f"CardAcquireContext: {type(err).__name__}: {err}") from err


def _acquire(
    reader: str | None,
    connection: Connection | None,
    version: int,
    flags: int,
    atr: bytes | None,
    card_name: str | None,
    tracer: Tracer | None,
    bump_freshness: bool,
) -> CardContext:
    if flags not in (0, ski.CARD_SECURE_KEY_INJECTION_NO_CARD_MODE):
        raise SCARD_E_INVALID_PARAMETER(f"dwFlags 0x{flags:X}")
    if not isinstance(version, int) or version < v.MINIMUM_CARD_DATA_VERSION:
        raise ERROR_REVISION_MISMATCH(f"CARD_DATA version {version} (this driver needs 4 or later)")
    negotiated = min(version, v.CARD_DATA_CURRENT_VERSION)
    if flags == ski.CARD_SECURE_KEY_INJECTION_NO_CARD_MODE:
        if reader is not None or connection is not None:
            raise SCARD_E_INVALID_PARAMETER("no-card mode takes no reader or connection")
        if negotiated < v.CARD_DATA_VERSION_SEVEN:
            raise SCARD_E_INVALID_PARAMETER("no-card mode is a CARD_DATA v7 feature")
        return CardContext(None, None, negotiated, tracer=tracer, bump_freshness=False)
    if reader is not None and connection is not None:
        raise SCARD_E_INVALID_PARAMETER("give a reader or a connection, not both")
    if reader is None and connection is None:
        raise SCARD_E_INVALID_HANDLE("no card handle (reader or connection)")
    owned = connection is None
    if connection is None:
        assert reader is not None
        connection = _connect(reader)
        wrap = getattr(tracer, "wrap", None)
        if callable(wrap):
            connection = wrap(connection)
    assert connection is not None
    try:
        if atr is None:
            get_atr = getattr(connection, "getATR", None)
            atr = bytes(get_atr()) if callable(get_atr) else b""
        if not MIN_ATR <= len(atr) <= MAX_ATR:
            raise SCARD_E_INVALID_PARAMETER(f"an ATR of {len(atr)} bytes")
        if atr[0] in (0x00, 0xFF):
            raise SCARD_E_UNKNOWN_CARD("not an ATR of a card this driver knows")
        transport = Transport(connection)
        for cls in card_module_classes():
            if cls.probe(transport, atr):
                card = cls(transport)
                card.open()
                break
        else:
            raise SCARD_E_UNKNOWN_CARD("no card module recognises this card")
        return CardContext(
            transport,
            card,
            negotiated,
            atr,
            card_name or f"softcard {card.name}",
            connection=connection,
            owns_connection=owned,
            tracer=tracer,
            bump_freshness=bump_freshness,
        )
    except BaseException:
        if owned:
            close_connection(connection)
        raise
