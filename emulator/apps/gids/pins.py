"""User PIN commands: VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER, PIN status (gids.md 3.2).

One application PIN, reference 80 (00 is an alias), 4-16 bytes, 3 tries. There
is no PUK: the admin key unblocks the PIN (RESET RETRY COUNTER P1=02).
"""

from __future__ import annotations

from wire import tlv
from wire.apdu import CommandApdu
from wire.gids import (
    PIN_MAX_LENGTH,
    PIN_MIN_LENGTH,
    RESET_RETRY_COUNTER_NEW_PIN,
    ChangeP1,
    Ins,
    PinRef,
    Tag,
)
from wire.iso7816 import SW, tries_left

from ...core.application import Result, Session, command
from ...core.errors import CardError
from ...core.pin import Pin
from .base import GidsBase
from .session import GidsSession

_PIN_REFERENCES = (PinRef.USER, PinRef.ALIAS)


def _session(session: Session) -> GidsSession:
    assert isinstance(session, GidsSession)
    return session


def pin_status(app: GidsBase, tag: int) -> bytes:
    """7F71/7F72 -> { 97 tries, 93 limit }; 7F73 (PUK) -> 6A88; other 7Fxx -> 6984."""
    if tag in (Tag.GLOBAL_PIN_STATUS, Tag.LOCAL_PIN_STATUS):
        pin = app.pin
        tries = pin.tries if pin is not None else 0
        limit = pin.max_tries if pin is not None else 0
        body = tlv.encode(Tag.TRY_COUNTER, bytes((tries,))) + tlv.encode(
            Tag.TRY_LIMIT, bytes((limit,))
        )
        return tlv.encode(tag, body)
    if tag == Tag.LOCAL_PUK_STATUS:
        raise CardError(SW.REFERENCE_NOT_FOUND, "no PUK: the admin key unblocks the PIN")
    raise CardError(SW.DATA_INVALID)


def _valid_length(value: bytes) -> bool:
    return PIN_MIN_LENGTH <= len(value) <= PIN_MAX_LENGTH


class PinCommands(GidsBase):
    def _pin(self) -> Pin:
        if self.pin is None:
            raise CardError(SW.DATA_INVALID, "the PIN has not been set")
        return self.pin

    @command(Ins.VERIFY, chaining=False)
    def verify(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        if apdu.p1:
            raise CardError(SW.INCORRECT_P1P2)
        if apdu.p2 == PinRef.RESET_SECURITY_STATUS:
            s.log_out()
            return b""
        if apdu.p2 not in _PIN_REFERENCES:
            raise CardError(SW.REFERENCE_NOT_FOUND)
        if not apdu.data and self.initialization_mode:
            return b""
        pin = self._pin()
        if pin.blocked:
            raise CardError(SW.AUTH_METHOD_BLOCKED)
        if not _valid_length(apdu.data):
            # Status query (no data, answered 63Cx even when verified) or a length that
            # cannot be the PIN: neither costs a try.
            raise CardError(tries_left(pin.tries))
        s.pin_verified = False
        s.environment = None
        pin.verify(apdu.data)
        s.pin_verified = True
        self.changed()  # the counter went back to its limit
        return b""

    @command(Ins.CHANGE_REFERENCE_DATA, chaining=False)
    def change_reference_data(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        if apdu.p1 == ChangeP1.NEW_ONLY:
            if apdu.p2 not in _PIN_REFERENCES:
                raise CardError(SW.REFERENCE_NOT_FOUND)
            if not _valid_length(apdu.data):
                raise CardError(SW.WRONG_LENGTH)
            if not self.initialization_mode and not s.pin_verified:
                raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED)
            self.set_pin(apdu.data)
            s.pin_verified = False
            self.changed()
            return b""
        if apdu.p1 != ChangeP1.OLD_AND_NEW:
            raise CardError(SW.INCORRECT_P1P2)
        if apdu.p2 not in _PIN_REFERENCES:
            raise CardError(SW.REFERENCE_NOT_FOUND)
        pin = self._pin()
        if not 2 * PIN_MIN_LENGTH <= len(apdu.data) <= 2 * PIN_MAX_LENGTH:
            raise CardError(tries_left(pin.tries))
        if pin.blocked:
            raise CardError(SW.AUTH_METHOD_BLOCKED)
        split = min(len(apdu.data), len(pin.value))
        s.pin_verified = False
        pin.verify(apdu.data[:split])
        new = apdu.data[split:]
        if not _valid_length(new):
            raise CardError(SW.WRONG_LENGTH)
        pin.value = bytes(new)
        s.pin_verified = True
        self.changed()
        return b""

    @command(Ins.RESET_RETRY_COUNTER, chaining=False)
    def reset_retry_counter(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        if self.initialization_mode:
            raise CardError(SW.COMMAND_NOT_ALLOWED_NO_EF)
        if apdu.p1 != RESET_RETRY_COUNTER_NEW_PIN:
            raise CardError(SW.INCORRECT_P1P2)
        if apdu.p2 != PinRef.USER:
            raise CardError(SW.REFERENCE_NOT_FOUND)
        if not s.admin_authenticated:
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "admin key not authenticated")
        if not _valid_length(apdu.data):
            raise CardError(SW.WRONG_LENGTH)
        self.set_pin(apdu.data)
        s.log_out()
        self.changed()
        return b""
