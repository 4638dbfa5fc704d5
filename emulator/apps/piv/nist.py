"""The SP 800-73-4 card commands: SELECT, GET/PUT DATA, VERIFY, CHANGE REFERENCE
DATA, RESET RETRY COUNTER, GENERAL AUTHENTICATE, GENERATE ASYMMETRIC KEY PAIR."""

from __future__ import annotations

from wire import tlv
from wire.apdu import CommandApdu
from wire.iso7816 import SW
from wire.piv import (
    DATA_P1P2,
    EC_ALGORITHMS,
    KEY_SLOTS,
    MAX_OBJECT_SIZE,
    NIST_RID,
    PIN_LENGTH,
    PIV_AID,
    RSA_ALGORITHMS,
    VERIFY_CHECK,
    VERIFY_RESET_STATUS,
    Algorithm,
    Ins,
    KeyRef,
    ObjectId,
    Origin,
    PinPolicy,
    Tag,
    TouchPolicy,
    default_pin_policy,
    default_touch_policy,
)

from ...core.application import Result, Session, command
from ...core.errors import CardError
from ...core.pin import Pin
from . import keys as slot_keys
from . import mgmkey, objects
from .base import PivBase
from .keys import SlotKey
from .pins import check_new_value
from .session import PivSession

APPLICATION_LABEL = b"softcard PIV"
# Slots GENERATE and IMPORT KEY accept: the PIV key slots and Yubico's attestation key.
WRITABLE_KEY_SLOTS = frozenset({*KEY_SLOTS, KeyRef.ATTESTATION})
SELECT_P2_NO_ANSWER = 0x0C


def _session(session: Session) -> PivSession:
    assert isinstance(session, PivSession)
    return session


def application_property_template() -> bytes:
    return tlv.encode(
        Tag.APPLICATION_PROPERTY_TEMPLATE,
        tlv.encode(Tag.AID, PIV_AID)
        + tlv.encode(Tag.COEXISTENT_TAG_ALLOCATION_AUTHORITY, tlv.encode(Tag.AID, NIST_RID))
        + tlv.encode(Tag.APPLICATION_LABEL, APPLICATION_LABEL),
    )


def parse_policies(fields: dict[int, bytes], slot: int) -> tuple[PinPolicy, TouchPolicy]:
    """AA/AB of GENERATE and IMPORT KEY, defaults resolved per slot; 6A80 if unknown."""
    try:
        pin = (
            PinPolicy(fields[Tag.PIN_POLICY][0]) if Tag.PIN_POLICY in fields else PinPolicy.DEFAULT
        )
        touch = (
            TouchPolicy(fields[Tag.TOUCH_POLICY][0])
            if Tag.TOUCH_POLICY in fields
            else TouchPolicy.DEFAULT
        )
    except (ValueError, IndexError):
        raise CardError(SW.WRONG_DATA, "unknown PIN or touch policy") from None
    if pin == PinPolicy.DEFAULT:
        pin = default_pin_policy(slot)
    if touch == TouchPolicy.DEFAULT:
        touch = default_touch_policy(slot)
    return pin, touch


def key_algorithm(value: int) -> Algorithm:
    if (
        value not in RSA_ALGORITHMS
        and value not in EC_ALGORITHMS
        and value
        not in (
            Algorithm.ED25519,
            Algorithm.X25519,
        )
    ):
        raise CardError(SW.WRONG_DATA, f"unsupported algorithm {value:02X}")
    return Algorithm(value)


class NistCommands(PivBase):
    # -- SELECT ---------------------------------------------------------------------------

    def select(self, session: Session, apdu: CommandApdu, reselected: bool) -> Result:
        if apdu.p2 == SELECT_P2_NO_ANSWER:
            return b""
        return application_property_template()

    # -- data objects ---------------------------------------------------------------------

    @command(Ins.GET_DATA)
    def get_data(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        if apdu.p1p2 != DATA_P1P2:
            raise CardError(SW.INCORRECT_P1P2)
        object_id = objects.parse_object_id(apdu.data)
        if objects.needs_pin_to_read(object_id):
            self.require_pin(s)
        value = self.objects.get(object_id)
        if value is None:
            raise CardError(SW.FILE_NOT_FOUND)
        if object_id == ObjectId.DISCOVERY:
            return value  # the discovery object answers its own 7E TLV
        return tlv.encode(Tag.DATA, value)

    @command(Ins.PUT_DATA)
    def put_data(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        if apdu.p1p2 != DATA_P1P2:
            raise CardError(SW.INCORRECT_P1P2)
        self.require_management(s)
        items = tlv.parse(apdu.data)
        if len(items) == 1 and items[0].tag == Tag.DISCOVERY:
            self.objects.discovery = items[0].to_bytes()
            self.changed()
            return b""
        if len(items) != 2 or items[0].tag != Tag.TAG_LIST or items[1].tag != Tag.DATA:
            raise CardError(SW.WRONG_DATA, "PUT DATA needs 5C tag and 53 value")
        object_id = int.from_bytes(items[0].value, "big")
        if not 1 <= len(items[0].value) <= 3 or not objects.writable(object_id):
            raise CardError(SW.WRONG_DATA, f"object {object_id:X} cannot be written")
        if objects.needs_pin_to_write(object_id):
            self.require_pin(s)
        if len(items[1].value) > MAX_OBJECT_SIZE:
            raise CardError(SW.NOT_ENOUGH_MEMORY)
        self.objects.put(object_id, items[1].value)
        self.changed()
        return b""

    # -- PIN and PUK ----------------------------------------------------------------------

    def _verifiable(self, p2: int) -> Pin:
        """The PIN VERIFY may check: PIV PIN, or the Global PIN if discovery offers it."""
        if p2 == KeyRef.PIV_PIN:
            return self.pins.pin
        if p2 == KeyRef.GLOBAL_PIN and self.objects.global_pin_usable:
            return self.pins.global_pin
        # The PUK cannot be verified; OCC and pairing code are not offered.
        raise CardError(SW.REFERENCE_NOT_FOUND)

    @command(Ins.VERIFY, chaining=False)
    def verify(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        pin = self._verifiable(apdu.p2)
        if apdu.p1 == VERIFY_RESET_STATUS:
            if apdu.data:
                raise CardError(SW.WRONG_LENGTH)
            s.reset_pin_status()
            return b""
        if apdu.p1 != VERIFY_CHECK:
            raise CardError(SW.INCORRECT_P1P2)
        if not apdu.data:
            if s.pin_verified:
                return b""
            raise CardError(pin.status())
        if len(apdu.data) != PIN_LENGTH:
            raise CardError(SW.WRONG_DATA, "PIN must be 8 bytes")
        s.reset_pin_status()
        try:
            pin.verify(apdu.data)
        finally:
            self.changed()
        # Either PIN satisfies the access rules (SP 800-73-4 part 1, section 3.5).
        s.pin_verified = s.pin_always_armed = True
        return b""

    def _reference(self, p2: int) -> Pin:
        if p2 == KeyRef.PUK:
            return self.pins.puk
        return self._verifiable(p2)

    @command(Ins.CHANGE_REFERENCE_DATA, chaining=False)
    def change_reference_data(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        if apdu.p1 != 0:
            raise CardError(SW.INCORRECT_P1P2)
        ref = self._reference(apdu.p2)
        if len(apdu.data) != 2 * PIN_LENGTH:
            raise CardError(SW.WRONG_DATA, "old and new value, 8 bytes each")
        old, new = apdu.data[:PIN_LENGTH], apdu.data[PIN_LENGTH:]
        is_pin = apdu.p2 != KeyRef.PUK
        if is_pin:
            s.reset_pin_status()
        try:
            ref.verify(old)
        finally:
            self.changed()
        ref.value = check_new_value(new)
        if is_pin:
            s.pin_verified = True
        return b""

    @command(Ins.RESET_RETRY_COUNTER, chaining=False)
    def reset_retry_counter(self, session: Session, apdu: CommandApdu) -> Result:
        if apdu.p1 != 0:
            raise CardError(SW.INCORRECT_P1P2)
        if apdu.p2 != KeyRef.PIV_PIN:
            raise CardError(SW.REFERENCE_NOT_FOUND)
        if len(apdu.data) != 2 * PIN_LENGTH:
            raise CardError(SW.WRONG_DATA, "PUK and new PIN, 8 bytes each")
        puk, new = apdu.data[:PIN_LENGTH], apdu.data[PIN_LENGTH:]
        try:
            self.pins.puk.verify(puk)
        finally:
            self.changed()
        self.pins.pin.unblock(check_new_value(new))
        return b""

    # -- keys -----------------------------------------------------------------------------

    @command(Ins.GENERATE_ASYMMETRIC_KEY_PAIR)
    def generate_key_pair(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        if apdu.p1 != 0 or apdu.p2 not in WRITABLE_KEY_SLOTS:
            raise CardError(SW.INCORRECT_P1P2)
        self.require_management(s)
        template = tlv.to_dict(tlv.parse_one(apdu.data, Tag.CRYPTOGRAPHIC_MECHANISM_TEMPLATE).value)
        mechanism = template.get(Tag.MECHANISM)
        if not mechanism or len(mechanism) != 1:
            raise CardError(SW.WRONG_DATA, "no algorithm")
        algorithm = key_algorithm(mechanism[0])
        pin_policy, touch_policy = parse_policies(template, apdu.p2)
        private = slot_keys.generate(self.card.rng, algorithm)
        key = SlotKey(algorithm, private, pin_policy, touch_policy, Origin.GENERATED)
        self._store_key(apdu.p2, key)
        return tlv.encode(Tag.PUBLIC_KEY_TEMPLATE, slot_keys.public_key_template(key.public))

    def _store_key(self, slot: int, key: SlotKey) -> None:
        if slot == KeyRef.ATTESTATION:
            self.attestation_key = key
        else:
            self.keys[slot] = key
        self.changed()

    @command(Ins.GENERAL_AUTHENTICATE)
    def general_authenticate(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        template = tlv.to_dict(tlv.parse_one(apdu.data, Tag.DYNAMIC_AUTHENTICATION_TEMPLATE).value)
        if apdu.p2 == KeyRef.CARD_MANAGEMENT:
            answer = mgmkey.authenticate(s, self.mgmkey, self.card.rng, apdu.p1, template)
        elif apdu.p2 in KEY_SLOTS:
            answer = tlv.encode(Tag.RESPONSE, self._private_key_operation(s, apdu, template))
        else:
            raise CardError(SW.INCORRECT_P1P2, "no such key")
        if not answer:
            return b""
        return tlv.encode(Tag.DYNAMIC_AUTHENTICATION_TEMPLATE, answer)

    def _private_key_operation(
        self, session: PivSession, apdu: CommandApdu, template: dict[int, bytes]
    ) -> bytes:
        key = self.keys.get(apdu.p2)
        if key is None or key.algorithm != apdu.p1:
            raise CardError(SW.WRONG_DATA, "no key of this algorithm in the slot")
        if template.get(Tag.RESPONSE) != b"":
            raise CardError(SW.WRONG_DATA, "the template must request a response")
        challenge = template.get(Tag.CHALLENGE)
        peer = template.get(Tag.EXPONENTIATION)
        if (challenge is None) == (peer is None):
            raise CardError(SW.WRONG_DATA, "need exactly one of challenge or exponentiation")
        self.require_policy(session, key.pin_policy)
        if key.algorithm in RSA_ALGORITHMS and challenge is not None:
            return key.raw_rsa(challenge)
        if key.algorithm in EC_ALGORITHMS:
            return key.ecdsa(challenge) if challenge is not None else key.ecdh(peer or b"")
        if key.algorithm == Algorithm.ED25519 and challenge is not None:
            return key.ed25519(challenge)
        if key.algorithm == Algorithm.X25519 and peer is not None:
            return key.x25519(peer)
        raise CardError(SW.WRONG_DATA, "operation not possible with this key")
