"""Yubico's PIV extensions, as ykman and yubico-piv-tool use them (piv.md section 5).

GET VERSION, GET SERIAL, GET METADATA, SET MANAGEMENT KEY, IMPORT KEY, RESET,
SET PIN RETRIES, ATTEST, MOVE/DELETE KEY.
"""

from __future__ import annotations

from wire import tlv
from wire.apdu import CommandApdu
from wire.iso7816 import SW
from wire.piv import (
    DEFAULT_PIN,
    DEFAULT_PUK,
    DELETE_KEY_P1,
    FIRMWARE_VERSION,
    KEY_SLOTS,
    SET_MGMKEY_NO_TOUCH,
    SET_MGMKEY_P1,
    SET_MGMKEY_TOUCH,
    SET_MGMKEY_TOUCH_CACHED,
    Algorithm,
    Ins,
    KeyRef,
    MetadataTag,
    ObjectId,
    Origin,
    TouchPolicy,
)

from ...core.application import Result, Session, command
from ...core.errors import CardError
from . import attestation
from . import keys as slot_keys
from .base import PivBase
from .keys import SlotKey
from .mgmkey import check_key
from .nist import WRITABLE_KEY_SLOTS, key_algorithm, parse_policies
from .session import PivSession

_TOUCH_BY_P2 = {
    SET_MGMKEY_NO_TOUCH: TouchPolicy.NEVER,
    SET_MGMKEY_TOUCH: TouchPolicy.ALWAYS,
    SET_MGMKEY_TOUCH_CACHED: TouchPolicy.CACHED,
}


def _session(session: Session) -> PivSession:
    assert isinstance(session, PivSession)
    return session


def _no_parameters(apdu: CommandApdu) -> None:
    if apdu.p1 or apdu.p2:
        raise CardError(SW.INCORRECT_P1P2)


def _meta(tag: int, value: bytes) -> bytes:
    return tlv.encode(tag, value)


class YubicoCommands(PivBase):
    @command(Ins.GET_VERSION, chaining=False)
    def get_version(self, session: Session, apdu: CommandApdu) -> Result:
        _no_parameters(apdu)
        return bytes(FIRMWARE_VERSION)

    @command(Ins.GET_SERIAL, chaining=False)
    def get_serial(self, session: Session, apdu: CommandApdu) -> Result:
        _no_parameters(apdu)
        return self.serial.to_bytes(4, "big")

    # -- metadata -------------------------------------------------------------------------

    @command(Ins.GET_METADATA, chaining=False)
    def get_metadata(self, session: Session, apdu: CommandApdu) -> Result:
        if apdu.p1:
            raise CardError(SW.INCORRECT_P1P2)
        ref = apdu.p2
        if ref in (KeyRef.PIV_PIN, KeyRef.PUK):
            pin = self.pins.pin if ref == KeyRef.PIV_PIN else self.pins.puk
            default = DEFAULT_PIN if ref == KeyRef.PIV_PIN else DEFAULT_PUK
            return (
                _meta(MetadataTag.ALGORITHM, bytes((Algorithm.PIN,)))
                + _meta(MetadataTag.IS_DEFAULT, bytes((self.pins.is_default(pin, default),)))
                + _meta(MetadataTag.RETRIES, bytes((pin.max_tries, max(pin.tries, 0))))
            )
        if ref == KeyRef.CARD_MANAGEMENT:
            m = self.mgmkey
            return (
                _meta(MetadataTag.ALGORITHM, bytes((m.algorithm,)))
                + _meta(MetadataTag.POLICY, bytes((0, m.touch_policy)))
                + _meta(MetadataTag.IS_DEFAULT, bytes((m.is_default,)))
            )
        key = self.slot_key(ref)
        if key is None:
            # ykman lists all slots and takes exactly 6A88 for "empty" (also Bio's 96).
            raise CardError(SW.REFERENCE_NOT_FOUND)
        return (
            _meta(MetadataTag.ALGORITHM, bytes((key.algorithm,)))
            + _meta(MetadataTag.POLICY, bytes((key.pin_policy, key.touch_policy)))
            + _meta(MetadataTag.ORIGIN, bytes((key.origin,)))
            + _meta(MetadataTag.PUBLIC_KEY, slot_keys.public_key_template(key.public))
        )

    # -- management key -------------------------------------------------------------------

    @command(Ins.SET_MANAGEMENT_KEY, chaining=False)
    def set_management_key(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        if apdu.p1 != SET_MGMKEY_P1 or apdu.p2 not in _TOUCH_BY_P2:
            raise CardError(SW.INCORRECT_P1P2)
        self.require_management(s)
        if len(apdu.data) < 3:
            raise CardError(SW.WRONG_DATA)
        item = tlv.parse_one(apdu.data[1:], KeyRef.CARD_MANAGEMENT)
        algorithm = check_key(apdu.data[0], item.value)
        self.mgmkey.algorithm = algorithm
        self.mgmkey.key = item.value
        self.mgmkey.touch_policy = _TOUCH_BY_P2[apdu.p2]
        self.changed()
        return b""

    # -- keys -----------------------------------------------------------------------------

    @command(Ins.IMPORT_KEY)
    def import_key(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        if apdu.p2 not in WRITABLE_KEY_SLOTS:
            raise CardError(SW.INCORRECT_P1P2)
        self.require_management(s)
        algorithm = key_algorithm(apdu.p1)
        fields = tlv.to_dict(apdu.data)
        private = slot_keys.from_import(algorithm, fields)
        pin_policy, touch_policy = parse_policies(fields, apdu.p2)
        key = SlotKey(algorithm, private, pin_policy, touch_policy, Origin.IMPORTED)
        if apdu.p2 == KeyRef.ATTESTATION:
            self.attestation_key = key
        else:
            self.keys[apdu.p2] = key
        self.changed()
        return b""

    @command(Ins.MOVE_KEY, chaining=False)
    def move_key(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        target, source = apdu.p1, apdu.p2
        if source not in KEY_SLOTS or (target != DELETE_KEY_P1 and target not in KEY_SLOTS):
            raise CardError(SW.INCORRECT_P1P2)
        self.require_management(s)
        if source not in self.keys:
            raise CardError(SW.REFERENCE_NOT_FOUND, "no key in the source slot")
        if target == DELETE_KEY_P1:
            del self.keys[source]
        else:
            if target in self.keys:
                raise CardError(SW.WRONG_DATA, "the target slot holds a key")
            self.keys[target] = self.keys.pop(source)
        self.changed()
        return b""

    @command(Ins.ATTEST, chaining=False)
    def attest(self, session: Session, apdu: CommandApdu) -> Result:
        if apdu.p2 != 0 or apdu.p1 not in KEY_SLOTS:
            raise CardError(SW.INCORRECT_P1P2)
        key = self.keys.get(apdu.p1)
        if key is None:
            raise CardError(SW.REFERENCE_NOT_FOUND)
        if key.origin != Origin.GENERATED:
            raise CardError(SW.WRONG_DATA, "only keys generated on the card can be attested")
        value = self.objects.get(ObjectId.ATTESTATION_CERTIFICATE)
        ca_cert = attestation.certificate_from_object(value) if value else None
        if ca_cert is None:
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "no attestation certificate")
        return attestation.attest(
            self.card.rng,
            apdu.p1,
            key,
            self.attestation_key.private,
            ca_cert,
            FIRMWARE_VERSION,
            self.serial,
        )

    # -- PIN and PUK administration -------------------------------------------------------

    @command(Ins.SET_PIN_RETRIES, chaining=False)
    def set_pin_retries(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        self.require_management(s)
        self.require_pin(s)
        if not apdu.p1 or not apdu.p2:
            raise CardError(SW.INCORRECT_P1P2, "retry counts must be 1-255")
        # Yubico: the new counts come with the default PIN and PUK.
        self.pins.reset(apdu.p1, apdu.p2)
        s.reset_pin_status()
        self.changed()
        return b""

    @command(Ins.RESET, chaining=False)
    def reset(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        _no_parameters(apdu)
        if not (self.pins.pin.blocked and self.pins.puk.blocked):
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "PIN and PUK must both be blocked")
        self.factory_reset()
        s.reset_pin_status()
        s.management_authenticated = False
        s.pending = None
        return b""
