"""The PIV application's persistent state and the checks every command shares."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from wire.apdu import CommandApdu
from wire.iso7816 import SW
from wire.piv import (
    PIV_AID,
    Ins,
    KeyRef,
    ObjectId,
    Origin,
    PinPolicy,
    TouchPolicy,
)

from ...core.application import Application, Result, Session
from ...core.errors import CardError
from ...core.rng import RandomSource
from . import attestation, objects
from .keys import SlotKey, algorithm_of
from .mgmkey import ManagementKey
from .objects import ObjectStore
from .pins import PivPins
from .session import PivSession

# Commands that only read: they leave a PIN-always authorisation armed for the next
# command (OpenSC reads the discovery object between its VERIFY and the signature).
_READ_ONLY = frozenset({Ins.GET_DATA, Ins.GET_METADATA, Ins.GET_VERSION, Ins.GET_SERIAL})

SERIAL_MIN = 10_000_000
SERIAL_SPAN = 90_000_000


class PivBase(Application):
    name: ClassVar[str] = "piv"
    aid: ClassVar[bytes] = PIV_AID

    def __init__(
        self,
        serial: int,
        store: ObjectStore,
        attestation_key: SlotKey,
        pins: PivPins | None = None,
        mgmkey: ManagementKey | None = None,
        keys: dict[int, SlotKey] | None = None,
    ) -> None:
        super().__init__()
        self.serial = serial
        self.objects = store
        self.attestation_key = attestation_key
        self.pins = pins or PivPins()
        self.mgmkey = mgmkey or ManagementKey()
        self.keys: dict[int, SlotKey] = keys or {}

    @classmethod
    def factory(cls, rng: RandomSource) -> PivBase:
        """A card as it leaves the factory: own serial, CHUID, CCC and attestation CA."""
        serial = SERIAL_MIN + rng.randbelow(SERIAL_SPAN)
        ca_key, ca_cert = attestation.make_ca(rng, serial)
        store = ObjectStore()
        store.put(ObjectId.ATTESTATION_CERTIFICATE, attestation.certificate_object(ca_cert))
        store.put(ObjectId.CHUID, objects.make_chuid(rng))
        store.put(ObjectId.CARD_CAPABILITY_CONTAINER, objects.make_ccc(rng))
        key = SlotKey(
            algorithm_of(ca_key),
            ca_key,
            PinPolicy.NEVER,
            TouchPolicy.NEVER,
            Origin.GENERATED,
        )
        return cls(serial, store, key)

    def on_attach(self) -> None:
        for pin in (self.pins.pin, self.pins.puk, self.pins.global_pin):
            pin.commit = self.card.commit_now

    def new_session(self) -> PivSession:
        return PivSession()

    # -- shared checks --------------------------------------------------------------------

    def dispatch(self, session: Session, apdu: CommandApdu) -> Result:
        assert isinstance(session, PivSession)
        # The PIN-always authorisation a VERIFY armed is good for this command only.
        session.pin_always_ok = session.pin_always_armed
        if apdu.ins not in _READ_ONLY and not (apdu.ins == Ins.VERIFY and not apdu.data):
            session.pin_always_armed = False
        return super().dispatch(session, apdu)

    @staticmethod
    def require_management(session: PivSession) -> None:
        if not session.management_authenticated:
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "management key not authenticated")

    @staticmethod
    def require_pin(session: PivSession) -> None:
        if not session.pin_verified:
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "PIN not verified")

    @staticmethod
    def require_policy(session: PivSession, policy: PinPolicy) -> None:
        if policy == PinPolicy.NEVER:
            return
        if policy == PinPolicy.ALWAYS:
            if not session.pin_always_ok:
                raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "PIN needed before each use")
            session.pin_always_ok = session.pin_always_armed = False
            return
        if not session.pin_verified:
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "PIN not verified")

    def slot_key(self, slot: int) -> SlotKey | None:
        if slot == KeyRef.ATTESTATION:
            return self.attestation_key
        return self.keys.get(slot)

    # -- factory reset --------------------------------------------------------------------

    def factory_reset(self) -> None:
        """RESET: keys, objects, PIN, PUK and management key as new; F9 and its cert stay."""
        attestation_cert = self.objects.get(ObjectId.ATTESTATION_CERTIFICATE)
        rng = self.card.rng
        self.objects = ObjectStore()
        if attestation_cert is not None:
            self.objects.put(ObjectId.ATTESTATION_CERTIFICATE, attestation_cert)
        self.objects.put(ObjectId.CHUID, objects.make_chuid(rng))
        self.objects.put(ObjectId.CARD_CAPABILITY_CONTAINER, objects.make_ccc(rng))
        self.keys.clear()
        self.pins.reset()
        self.mgmkey = ManagementKey()
        self.changed()

    # -- identity -------------------------------------------------------------------------

    def identity(self) -> dict[str, str]:
        """What names this card in a card image: the serial (Yubico GET SERIAL) and the CHUID
        GUID as a UUID (SP 800-73-4 fills the GUID field with the card UUID)."""
        found = {"serial": str(self.serial)}
        guid = objects.chuid_guid(self.objects.get(ObjectId.CHUID))
        if guid is not None:
            found["guid"] = str(uuid.UUID(bytes=guid))
        return found

    # -- persistence ----------------------------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "objects": self.objects.to_state(),
            "pins": self.pins.to_state(),
            "management_key": self.mgmkey.to_state(),
            "keys": {f"{slot:02X}": key.to_state() for slot, key in sorted(self.keys.items())},
            "attestation_key": self.attestation_key.to_state(),
        }

    def import_state(self, state: dict[str, Any]) -> None:
        self.serial = int(state["serial"])
        self.objects = ObjectStore.from_state(state["objects"])
        self.pins = PivPins.from_state(state["pins"])
        self.mgmkey = ManagementKey.from_state(state["management_key"])
        self.keys = {int(k, 16): SlotKey.from_state(v) for k, v in state["keys"].items()}
        self.attestation_key = SlotKey.from_state(state["attestation_key"])
        if self._card is not None:
            self.on_attach()
