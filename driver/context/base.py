"""CARD_DATA: one context's state, its life (`with`, CardDeleteContext), transactions, and the
cache kept coherent with cardcf that every function family reads through.

The function families (capabilities, containers, authentication, ...) are mixins over this
base; `card.CardContext` puts them together. Helpers several families need live here: the
freshness check and counter bump, the PIN lookups and the "who is authenticated" check, and
the cached list of a container's keys.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Self

from wire.minidriver import files as f
from wire.minidriver import pins as p

from .. import symmetric
from ..api import Tracer, api
from ..cache import Category, FreshnessCache
from ..cardmodules import CardModule, ContainerKey
from ..errors import (
    SCARD_E_DIR_NOT_FOUND,
    SCARD_E_FILE_NOT_FOUND,
    SCARD_E_INVALID_PARAMETER,
    SCARD_W_SECURITY_VIOLATION,
)
from ..structures import CARD_CACHE_FILE_FORMAT, PIN_INFO
from ..transport import Connection, Transport
from .callbacks import DhAgreementCallback, UnpadCallback, default_unpad

USER = p.CREATE_PIN_SET(p.ROLE_USER)
ADMIN = p.CREATE_PIN_SET(p.ROLE_ADMIN)


class ContextBase:
    """The state of one minidriver context on one card (or a no-card SKI context)."""

    def __init__(
        self,
        transport: Transport | None,
        card: CardModule | None,
        version: int,
        atr: bytes = b"",
        card_name: str = "",
        *,
        connection: Connection | None = None,
        owns_connection: bool = False,
        tracer: Tracer | None = None,
        bump_freshness: bool = True,
    ) -> None:
        self.transport = transport
        self._card = card
        self.version = version
        self.atr = atr
        self.card_name = card_name
        self.connection = connection
        self._owns_connection = owns_connection
        self.tracer = tracer
        # The CSP's part of freshness: this driver bumps cardcf itself before each change.
        self.bump_freshness = bump_freshness
        self.no_card = card is None
        self.closed = False
        self.cache = FreshnessCache()
        self.authenticated = p.PIN_SET_NONE
        self.parent_window: int | None = None
        self.pin_context_string: str | None = None
        # CARD_DATA's caller-supplied callbacks.
        self.csp_unpad_data: UnpadCallback = default_unpad
        self.csp_get_dh_agreement_callback: DhAgreementCallback | None = None
        # Reject CARD_SIGNING_INFO v1 in a v7 context (one of the spec's three rules, off by
        # default as in most real minidrivers).
        self.strict_signing_version = False
        self.keys = symmetric.KeyTable()
        self._agreements: dict[int, tuple[int, bytes]] = {}
        self._depth = 0
        self._transaction = 0
        self._fresh_checked = False

    # --- plumbing -------------------------------------------------------------------------

    @property
    def card(self) -> CardModule:
        if self._card is None:
            raise SCARD_E_INVALID_PARAMETER("no card in no-card mode")
        return self._card

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.closed:
            self.delete_context()

    @api("CardDeleteContext", no_card=True)
    def delete_context(self) -> None:
        if self.closed:
            raise SCARD_E_INVALID_PARAMETER("the context was already deleted")
        self.closed = True
        self._agreements.clear()
        self.keys.clear()
        self.cache.clear()
        if self._owns_connection and self.connection is not None:
            # The card may already be gone: deleting a context never fails for that.
            close_connection(self.connection)

    def _end_call(self) -> None:
        """Called by `@api` when the outermost call returns."""
        if not self._transaction:
            self._fresh_checked = False

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Self]:
        """Hold the card (SCardBeginTransaction when the connection allows it): cardcf is
        checked once, then cached data is served with no card I/O until the end."""
        hcard = getattr(self.connection, "hcard", None)
        began = False
        if hcard is not None and self._transaction == 0:
            with contextlib.suppress(Exception):
                from smartcard.scard import SCARD_LEAVE_CARD, SCardBeginTransaction

                began = SCardBeginTransaction(hcard) == 0
        self._transaction += 1
        try:
            yield self
        finally:
            self._transaction -= 1
            if self._transaction == 0:
                self._fresh_checked = False
                if began:
                    with contextlib.suppress(Exception):
                        from smartcard.scard import SCardEndTransaction

                        SCardEndTransaction(hcard, SCARD_LEAVE_CARD)

    # --- freshness (cardcf) ---------------------------------------------------------------

    def _read_cardcf(self) -> CARD_CACHE_FILE_FORMAT | None:
        try:
            raw = self.card.read_file(None, f.szCACHE_FILE)
        except (SCARD_E_FILE_NOT_FOUND, SCARD_E_DIR_NOT_FOUND):
            return None
        if len(raw) < CARD_CACHE_FILE_FORMAT.SIZE:
            return None
        return CARD_CACHE_FILE_FORMAT.from_bytes(raw)

    def _fresh(self) -> None:
        """Once per call (or transaction): compare cardcf with what the cache was built on."""
        if self._fresh_checked:
            return
        stale = self.cache.validate(self._read_cardcf())
        if stale:
            self.card.invalidate(
                pins=Category.PINS in stale,
                containers=Category.CONTAINERS in stale,
                files=Category.FILES in stale,
            )
        self._fresh_checked = True

    def _bump(self, pins: bool = False, containers: bool = False, files: bool = False) -> None:
        """Move the freshness counters before a change, as the Base CSP does."""
        if not self.bump_freshness:
            return
        self._fresh()
        known = self.cache.known
        if known is None:
            return  # no cardcf on this card
        new = known.bumped(pins=pins, containers=containers, files=files)
        self.card.write_file(None, f.szCACHE_FILE, new.to_bytes())
        self.cache.known = new

    # --- PINs and rights ------------------------------------------------------------------

    def _require_auth(self, pin_set: int, what: str) -> None:
        if not self.authenticated & pin_set:
            raise SCARD_W_SECURITY_VIOLATION(f"{what} needs {_roles(pin_set)} to be authenticated")

    def _pin_ids(self) -> set[int]:
        return {i for i in range(p.MAX_PINS) if p.IS_PIN_SET(self.card.pin_set, i)}

    def _pin(self, pin_id: int) -> PIN_INFO:
        if (
            not isinstance(pin_id, int)
            or pin_id == p.ROLE_EVERYONE
            or pin_id not in self._pin_ids()
        ):
            raise SCARD_E_INVALID_PARAMETER(f"PIN {pin_id!r} is not a PIN of this card")
        return self.card.pin_info(pin_id)

    # --- container keys (cached) ----------------------------------------------------------

    def _container_keys(self, index: int) -> list[ContainerKey]:
        if index >= self.card.max_containers:
            return []
        self._fresh()
        cached = self.cache.get(Category.CONTAINERS, index)
        if cached is None:
            cached = self.card.container_keys(index)
            self.cache.put(Category.CONTAINERS, index, cached)
        return list(cached)


def _roles(pin_set: int) -> str:
    names = {p.ROLE_USER: "the user", p.ROLE_ADMIN: "the admin"}
    return " or ".join(
        names.get(i, f"PIN {i}") for i in range(p.MAX_PINS) if p.IS_PIN_SET(pin_set, i)
    )


def close_connection(connection: Any) -> None:
    """Disconnect and release a connection the driver opened; the card may already be gone."""
    for name in ("disconnect", "release"):
        with contextlib.suppress(Exception):
            getattr(connection, name, lambda: None)()
