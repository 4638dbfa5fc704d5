"""The PIV card module: the minidriver view of a PIV card, and enrollment beyond the inbox one.

Read path as Windows' inbox minidriver gives it (minidriver.md 6.12): key slots are containers,
certificate objects are kxcNN/kscNN, the PIV PIN is the user PIN, cardid comes from the CHUID.
Beyond it, as the YubiKey minidriver does: keys are generated or imported into the slot of a
container, certificates and the container map are written to the card (the map in Yubico's
5FFF10, msroots in 5FFF11-15), and the management key (9B) is the admin challenge/response key.

Writing a PIV object needs the management key. The module authenticates it by itself once the
user PIN is verified, from the PIN-protected management key (Yubico's pivman convention, piv.md
5.10) or, on a card that still has the factory key, with that key; otherwise the admin must have
authenticated by challenge/response.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from wire import tlv
from wire.client import ApduError
from wire.iso7816 import SW
from wire.minidriver import files as f
from wire.minidriver import keyspecs as ks
from wire.minidriver import pins as p
from wire.piv import (
    DEFAULT_MANAGEMENT_KEY,
    MANAGEMENT_KEY_LENGTHS,
    MSROOTS_OBJECTS,
    PIN_MAX_LENGTH,
    PIN_MIN_LENGTH,
    PIV_AID_TRUNCATED,
    Algorithm,
    ImportTag,
    KeyRef,
    MetadataTag,
    ObjectId,
    PinPolicy,
    Tag,
    certificate_object,
    default_pin_policy,
)

from ...blobs import PrivateKey, PublicKey, key_bits
from ...errors import (
    SCARD_E_COMM_DATA_LOST,
    SCARD_E_DIR_NOT_FOUND,
    SCARD_E_FILE_NOT_FOUND,
    SCARD_E_INVALID_PARAMETER,
    SCARD_E_NO_KEY_CONTAINER,
    SCARD_E_UNSUPPORTED_FEATURE,
    SCARD_E_WRITE_TOO_MANY,
    SCARD_W_SECURITY_VIOLATION,
    SCARD_W_WRONG_CHV,
    MinidriverError,
)
from ...structures import (
    CARD_CACHE_FILE_FORMAT,
    CARD_KEY_SIZES,
    PIN_CACHE_POLICY,
    PIN_INFO,
    parse_cmapfile,
)
from ...transport import Transport
from ..base import CardModule, ContainerKey, DecryptMode, SignMode
from . import commands as cmd
from . import filesystem as fs
from . import mgmkey
from .cmap import MapRecord, build_mscmap, join_msroots, parse_mscmap, split_msroots
from .constants import CONTAINER_SLOTS, EC_BY_BITS, ROLE_PUK, RSA_BY_BITS
from .objects import (
    certificate_der,
    certificate_from_file,
    certificate_value,
    chuid_guid,
    container_name,
    parse_admin_data,
    parse_public_key,
    protected_data_with_key,
    protected_management_key,
)
from .snapshot import SlotKey, Snapshot, read_object, take

USER = p.CREATE_PIN_SET(p.ROLE_USER)
ADMIN = p.CREATE_PIN_SET(p.ROLE_ADMIN)
PUK = p.CREATE_PIN_SET(ROLE_PUK)
# GET METADATA arrived with YubiKey 5.3; MOVE/DELETE KEY and RSA-3072/4096 with 5.7.
METADATA_VERSION = (5, 3, 0)
LARGE_RSA_VERSION = (5, 7, 0)


# How PIV cards refuse a wrong management-key response.
WRONG_RESPONSE = (SW.SECURITY_STATUS_NOT_SATISFIED, SW.WRONG_DATA, SW.CONDITIONS_NOT_SATISFIED)


class PivCardModule(CardModule):
    name = "piv"
    # The CSP reads and writes plain DER; the module inflates what the card holds compressed.
    certificate_compression = True
    pin_set = USER | ADMIN | PUK
    max_containers = len(CONTAINER_SLOTS)

    def __init__(self, transport: Transport) -> None:
        super().__init__(transport)
        self.version: tuple[int, int, int] | None = None
        self._snap: Snapshot | None = None
        # cardcf as the CSP last wrote it, relative to the content it was written against.
        self._cardcf_base = CARD_CACHE_FILE_FORMAT()
        self._created: set[str] = set()  # mscp files created but not written yet
        self._pin: bytes | None = None  # for PIN-always keys (9C): re-presented before use
        self._puk: bytes | None = None  # verified PUK, for the RESET RETRY COUNTER it enables
        self._admin = False
        self._challenge_algorithm: int | None = None

    # --- identity -------------------------------------------------------------------------

    @classmethod
    def probe(cls, transport: Transport, atr: bytes) -> bool:
        try:
            template = tlv.parse_one(cmd.select(transport), Tag.APPLICATION_PROPERTY_TEMPLATE)
            aid = tlv.find(template.value, Tag.AID)
        except (ApduError, tlv.TlvError):  # refused, or an answer that is no PIV template
            return False
        # SP 800-73-4 answers the PIX of the AID; YubiKeys and this emulator the whole AID.
        return aid is not None and (
            PIV_AID_TRUNCATED.startswith(aid) or aid.startswith(PIV_AID_TRUNCATED)
        )

    def open(self) -> None:
        version = cmd.answer(cmd.get_version, self.transport)
        if version is not None and len(version) == 3:
            self.version = (version[0], version[1], version[2])

    @property
    def has_metadata(self) -> bool:
        return self.version is not None and self.version >= METADATA_VERSION

    @property
    def key_import(self) -> bool:  # type: ignore[override]
        return self.version is not None  # Yubico's IMPORT KEY

    def invalidate(self, pins: bool, containers: bool, files: bool) -> None:
        # The snapshot was re-read with the cardcf that told the context to invalidate.
        return

    def serial_number(self) -> bytes:
        return self._cardid()

    # --- the card's state -----------------------------------------------------------------

    def _state(self) -> Snapshot:
        if self._snap is None:
            self._snap = take(self.transport, self.has_metadata)
        return self._snap

    def _changed(self) -> None:
        self._snap = None

    def _object(self, object_id: int) -> bytes | None:
        snap = self._state()
        if object_id not in snap.objects:
            snap.objects[object_id] = read_object(self.transport, object_id)
        return snap.objects[object_id]

    def _put(self, object_id: int, value: bytes | None, what: str) -> None:
        self._ensure_admin(what)
        with cmd.refused(what):
            cmd.put_data(self.transport, object_id, value)
        if self._snap is not None:
            self._snap.objects[object_id] = value

    def _set_key(self, slot: int, key: SlotKey | None) -> None:
        if self._snap is not None:
            self._snap.keys[slot] = key

    def _metadata(self, ref: int) -> dict[int, bytes]:
        """GET METADATA's members; none when the card refuses it."""
        raw = cmd.answer(cmd.get_metadata, self.transport, ref)
        return {} if raw is None else cmd.members(raw, f"GET METADATA {ref:02X}")

    def _cardid(self) -> bytes:
        guid = chuid_guid(self._object(ObjectId.CHUID) or b"")
        if guid is not None:
            return guid
        serial = cmd.answer(cmd.get_serial, self.transport)
        if serial:
            # No CHUID: a stable identity from the Yubico serial number (ours).
            return hashlib.sha256(b"softcard PIV cardid" + serial).digest()[:16]
        raise SCARD_E_FILE_NOT_FOUND("the card has no CHUID (and no serial) to derive cardid from")

    def _mscmap(self) -> list[MapRecord]:
        return parse_mscmap(self._object(ObjectId.MSCMAP) or b"")

    def _records(self) -> list[MapRecord | None]:
        snap = self._state()
        guid = self._cardid()
        names = {s: container_name(guid, certificate_object(s)) for s in CONTAINER_SLOTS}
        return fs.container_records(snap.keys, self._mscmap(), names)

    def _write_map(self, records: list[MapRecord | None]) -> None:
        value = build_mscmap([r for r in records if r is not None])
        if value == self._object(ObjectId.MSCMAP):
            return
        self._put(ObjectId.MSCMAP, value, "write the container map (5FFF10)")

    def _slot_key(self, index: int) -> SlotKey | None:
        return self._state().keys.get(CONTAINER_SLOTS[index])

    # --- capabilities ---------------------------------------------------------------------

    def key_sizes(self, key_spec: int) -> CARD_KEY_SIZES | None:
        if key_spec in ks.RSA_KEY_SPECS:
            large = self.version is not None and self.version >= LARGE_RSA_VERSION
            return CARD_KEY_SIZES(1, 1024, 2048, 4096 if large else 2048, 1024)
        bits = ks.EC_KEY_BITS[key_spec]
        if bits in EC_BY_BITS:
            return CARD_KEY_SIZES(1, bits, bits, bits, 1)
        return None

    def sign_modes(self) -> frozenset[SignMode]:
        return frozenset({SignMode.RAW, SignMode.ECDSA})

    def decrypt_modes(self) -> frozenset[DecryptMode]:
        return frozenset({DecryptMode.RAW})

    def can_ecdh(self) -> bool:
        return True

    # --- logical file system --------------------------------------------------------------

    def directories(self) -> list[str]:
        return [fs.MSCP]

    def directory_ac(self, name: str) -> int:
        if name != fs.MSCP:
            raise SCARD_E_DIR_NOT_FOUND(f"no directory {name!r}")
        return f.UserCreateDeleteDirAc

    def files(self, directory: str | None) -> list[str]:
        if directory is None:
            return list(fs.ROOT_FILES)
        if directory != fs.MSCP:
            raise SCARD_E_DIR_NOT_FOUND(f"no directory {directory!r}")
        names = [f.szCONTAINER_MAP_FILE]
        for index, record in enumerate(self._records()):
            if self._object(certificate_object(CONTAINER_SLOTS[index])) is not None:
                spec = record.key_spec if record is not None else ks.AT_KEYEXCHANGE
                names.append(fs.cert_file_name(index, spec))
        if self._msroots() is not None:
            names.append(f.szROOT_STORE_FILE)
        names += sorted(n for n in self._created if n not in names)
        return names

    def file_ac(self, directory: str | None, name: str) -> int:
        if name not in self.files(directory):
            raise SCARD_E_FILE_NOT_FOUND(f"no file {_path(directory, name)}")
        return fs.ROOT_FILES[name] if directory is None else fs.MSCP_AC

    def read_file(self, directory: str | None, name: str) -> bytes:
        if directory is None:
            if name == f.szCARD_IDENTIFIER_FILE:
                return self._cardid()
            if name == f.szCACHE_FILE:
                return self._cardcf().to_bytes()
            if name == f.szCARD_APPS_FILE:
                return fs.CARDAPPS_VALUE
            raise SCARD_E_FILE_NOT_FOUND(f"no file /{name}")
        self.file_ac(directory, name)
        if name == f.szCONTAINER_MAP_FILE:
            return fs.build_cmapfile(self._records())
        if name == f.szROOT_STORE_FILE:
            return self._msroots() or b""
        found = fs.cert_file(name)
        assert found is not None
        value = self._object(certificate_object(CONTAINER_SLOTS[found[1]]))
        if value is None:
            return b""  # created, not written yet
        try:
            return certificate_der(value)
        except ValueError:  # not a certificate object (or a compressed one that is no zlib)
            raise SCARD_E_COMM_DATA_LOST(
                f"{_path(directory, name)}: malformed certificate object"
            ) from None

    def write_file(self, directory: str | None, name: str, data: bytes) -> None:
        if directory is None and name == f.szCACHE_FILE:
            self._write_cardcf(data)
            return
        if directory is None and name == f.szCARD_IDENTIFIER_FILE:
            self._write_cardid(data)
            return
        self.file_ac(directory, name)
        self._require_writer()
        if directory is None:
            if data == fs.CARDAPPS_VALUE:
                return
            raise SCARD_E_UNSUPPORTED_FEATURE("a PIV card has the mscp application only")
        if name == f.szCONTAINER_MAP_FILE:
            self._write_cmapfile(data)
        elif name == f.szROOT_STORE_FILE:
            self._write_msroots(data)
        else:
            found = fs.cert_file(name)
            assert found is not None
            self._write_certificate(found[1], data)
        self._created.discard(name)

    def create_file(self, directory: str | None, name: str, access_condition: int) -> None:
        if directory != fs.MSCP or (fs.cert_file(name) is None and name != f.szROOT_STORE_FILE):
            raise SCARD_E_UNSUPPORTED_FEATURE(
                "a PIV card holds only the minidriver's certificates (mscp/kxcNN, kscNN) and "
                "msroots: other files have no PIV object"
            )
        if access_condition != fs.MSCP_AC:
            raise SCARD_E_UNSUPPORTED_FEATURE("PIV objects are EveryoneReadUserWriteAc files")
        self._require_writer()
        self._created.add(name)

    def delete_file(self, directory: str | None, name: str) -> None:
        self.file_ac(directory, name)
        if name in self._created:
            self._created.discard(name)
            return
        self._require_writer()
        found = fs.cert_file(name) if directory == fs.MSCP else None
        if found is not None:
            slot = CONTAINER_SLOTS[found[1]]
            self._put(certificate_object(slot), None, f"delete {_path(directory, name)}")
            self._set_fingerprint(found[1], b"")
        elif directory == fs.MSCP and name == f.szROOT_STORE_FILE:
            for object_id in MSROOTS_OBJECTS:
                if self._object(object_id) is not None:
                    self._put(object_id, None, "delete msroots")
        else:
            raise SCARD_E_UNSUPPORTED_FEATURE(f"{_path(directory, name)} cannot be deleted on PIV")

    def create_directory(self, name: str, access_condition: int) -> None:
        raise SCARD_E_UNSUPPORTED_FEATURE("a PIV card has the mscp directory only")

    def delete_directory(self, name: str) -> None:
        raise SCARD_E_UNSUPPORTED_FEATURE("the mscp directory of a PIV card cannot be deleted")

    # --- the synthesised files ------------------------------------------------------------

    def _cardcf(self) -> CARD_CACHE_FILE_FORMAT:
        """The content's counters plus what the CSP wrote: a write reads back as written until
        the content changes, and any change of the content moves the counters."""
        self._changed()
        d = self._state().freshness()
        b = self._cardcf_base
        return CARD_CACHE_FILE_FORMAT(
            b.version,
            (b.pins_freshness + d.pins_freshness) & 0xFF,
            (b.containers_freshness + d.containers_freshness) & 0xFFFF,
            (b.files_freshness + d.files_freshness) & 0xFFFF,
            b.extra,
        )

    def _write_cardcf(self, data: bytes) -> None:
        if len(data) < CARD_CACHE_FILE_FORMAT.SIZE:
            raise SCARD_E_INVALID_PARAMETER("cardcf is at least 6 bytes")
        wanted = CARD_CACHE_FILE_FORMAT.from_bytes(data)
        d = self._state().freshness()
        self._cardcf_base = CARD_CACHE_FILE_FORMAT(
            wanted.version,
            (wanted.pins_freshness - d.pins_freshness) & 0xFF,
            (wanted.containers_freshness - d.containers_freshness) & 0xFFFF,
            (wanted.files_freshness - d.files_freshness) & 0xFFFF,
            wanted.extra,
        )

    def _write_cardid(self, data: bytes) -> None:
        """cardid is the CHUID's GUID: a new one rewrites the CHUID (and renames the containers
        the map does not name, as on the inbox minidriver)."""
        chuid = self._object(ObjectId.CHUID)
        if chuid is None or len(data) != 16:
            raise SCARD_E_UNSUPPORTED_FEATURE("cardid: 16 bytes, on a card with a CHUID")
        items = [(t.tag, data if t.tag == Tag.GUID else t.value) for t in tlv.parse(chuid)]
        value = b"".join(tlv.encode(tag, v) for tag, v in items)
        self._put(ObjectId.CHUID, value, "write the CHUID")

    def _write_cmapfile(self, data: bytes) -> None:
        written = parse_cmapfile(data)
        if any(r.valid for r in written[self.max_containers :]):
            raise SCARD_E_WRITE_TOO_MANY(f"a PIV card has {self.max_containers} containers")
        try:
            records = fs.map_from_cmapfile(written[: self.max_containers], self._records())
            self._write_map(list(records))
        except ValueError as err:
            raise SCARD_E_WRITE_TOO_MANY(str(err)) from None

    def _write_certificate(self, index: int, data: bytes) -> None:
        try:
            der = certificate_from_file(data)
        except ValueError as err:
            raise SCARD_E_INVALID_PARAMETER(str(err)) from None
        slot = CONTAINER_SLOTS[index]
        value = certificate_value(der) if der else None
        self._put(certificate_object(slot), value, f"write the certificate of {slot:02X}")
        self._set_fingerprint(index, der)

    def _set_fingerprint(self, index: int, der: bytes) -> None:
        """The map's cert_fingerprint: the first 20 bytes of the certificate's SHA-256, as the
        YubiKey minidriver keeps it (observed by sspi-rs); zero without a certificate."""
        records = self._records()
        record = records[index]
        if record is None or not self._mscmap():
            return
        fingerprint = hashlib.sha256(der).digest()[:20] if der else bytes(20)
        records[index] = MapRecord(
            record.name,
            record.slot,
            record.key_spec,
            record.key_size_bits,
            record.flags,
            record.pin_id,
            record.associated_ecdh_container,
            fingerprint,
        )
        self._write_map(records)

    def _msroots(self) -> bytes | None:
        return join_msroots([self._object(o) for o in MSROOTS_OBJECTS])

    def _write_msroots(self, data: bytes) -> None:
        try:
            parts = split_msroots(data)
        except ValueError as err:
            raise SCARD_E_WRITE_TOO_MANY(str(err)) from None
        for i, object_id in enumerate(MSROOTS_OBJECTS):
            value = parts[i] if i < len(parts) else None
            if value is not None or self._object(object_id) is not None:
                self._put(object_id, value, f"write msroots ({object_id:06X})")

    # --- PINs -----------------------------------------------------------------------------

    def pin_info(self, pin_id: int) -> PIN_INFO:
        normal = PIN_CACHE_POLICY(policy_type=p.PIN_CACHE_POLICY_TYPE.PinCacheNormal)
        if pin_id == p.ROLE_USER:
            return PIN_INFO(
                pin_type=p.SECRET_TYPE.AlphaNumericPinType,
                pin_purpose=p.SECRET_PURPOSE.PrimaryCardPin,
                change_permission=USER,
                unblock_permission=PUK,
                cache_policy=normal,
            )
        if pin_id == p.ROLE_ADMIN:
            return PIN_INFO(
                pin_type=p.SECRET_TYPE.ChallengeResponsePinType,
                pin_purpose=p.SECRET_PURPOSE.AdministratorPin,
                change_permission=ADMIN,
                unblock_permission=p.PIN_SET_NONE,
                cache_policy=normal,
            )
        if pin_id == ROLE_PUK:
            return PIN_INFO(
                pin_type=p.SECRET_TYPE.AlphaNumericPinType,
                pin_purpose=p.SECRET_PURPOSE.UnblockOnlyPin,
                change_permission=PUK,
                unblock_permission=p.PIN_SET_NONE,
                cache_policy=PIN_CACHE_POLICY(policy_type=p.PIN_CACHE_POLICY_TYPE.PinCacheNone),
            )
        raise SCARD_E_INVALID_PARAMETER(f"this card has no PIN {pin_id}")

    def pin_length(self, pin_id: int) -> tuple[int, int]:
        if pin_id == p.ROLE_ADMIN:
            return 16, 32
        return PIN_MIN_LENGTH, PIN_MAX_LENGTH

    def pin_tries_left(self, pin_id: int) -> int | None:
        ref = {p.ROLE_USER: KeyRef.PIV_PIN, ROLE_PUK: KeyRef.PUK}.get(pin_id)
        if ref is None:
            return None
        if self.has_metadata:
            retries = self._metadata(ref).get(MetadataTag.RETRIES)
            if retries and len(retries) == 2:
                return retries[1]
        if ref == KeyRef.PIV_PIN:
            r = cmd.verify_status(self.transport)
            if r.sw & 0xFFF0 == SW.VERIFY_FAIL_COUNTER_00:
                return r.sw & 0x0F
        return None

    def verify_pin(self, pin_id: int, pin: bytes) -> None:
        if pin_id == p.ROLE_USER:
            self._pin = None
            with cmd.refused("VERIFY"):
                cmd.verify(self.transport, pin)
            self._pin = bytes(pin)
            return
        if pin_id == ROLE_PUK:
            # PIV cannot VERIFY its PUK; changing it to itself checks it (as yubico-piv-tool's
            # block_puk does) and leaves it as it was.
            self._puk = None
            with cmd.refused("check the PUK"):
                cmd.change_reference_data(self.transport, KeyRef.PUK, pin, pin)
            self._puk = bytes(pin)
            return
        raise SCARD_E_INVALID_PARAMETER(f"PIN {pin_id} is not a plaintext PIN on this card")

    def change_pin(self, pin_id: int, old: bytes, new: bytes) -> None:
        ref = {p.ROLE_USER: KeyRef.PIV_PIN, ROLE_PUK: KeyRef.PUK}.get(pin_id)
        if ref is None:
            raise SCARD_E_INVALID_PARAMETER(f"PIN {pin_id} is not a plaintext PIN on this card")
        with cmd.refused("CHANGE REFERENCE DATA"):
            cmd.change_reference_data(self.transport, ref, old, new)
        if ref == KeyRef.PIV_PIN:
            self._pin = bytes(new)
            # CHANGE REFERENCE DATA verifies the old PIN; present the new one so it stays verified.
            with cmd.refused("VERIFY"):
                cmd.verify(self.transport, new)
        else:
            self._puk = bytes(new)

    def unblock_pin(self, target: int, new_pin: bytes) -> None:
        if target != p.ROLE_USER:
            raise SCARD_E_INVALID_PARAMETER(f"PIN {target} cannot be unblocked on this card")
        puk, self._puk = self._puk, None
        if puk is None:
            raise SCARD_W_SECURITY_VIOLATION("unblocking the PIN needs the PUK")
        self._pin = None
        with cmd.refused("RESET RETRY COUNTER"):
            cmd.reset_retry_counter(self.transport, puk, new_pin)

    def deauthenticate(self, pin_set: int) -> int:
        out = 0
        if pin_set & USER:
            self._pin = None
            try:
                cmd.logout(self.transport)
            except ApduError as e:
                # A card without VERIFY P1=FF (reset the status) refuses it: nothing to undo.
                if e.sw not in (SW.INCORRECT_P1P2, SW.WRONG_P1P2):
                    raise cmd.error(e.sw, "log out") from e
            out |= USER
        if pin_set & PUK:
            self._puk = None
            out |= PUK
        if pin_set & ADMIN:
            # PIV has no command that ends the management key's authentication short of a
            # card reset: the module stops using it (docs/minidriver-piv.md).
            self._admin = False
            self._challenge_algorithm = None
            out |= ADMIN
        return out

    # --- the management key ---------------------------------------------------------------

    def _management_algorithm(self) -> int:
        if self.has_metadata:
            alg = self._metadata(KeyRef.CARD_MANAGEMENT).get(MetadataTag.ALGORITHM)
            if alg and alg[0] in MANAGEMENT_KEY_LENGTHS:
                return alg[0]
        return Algorithm.TDES

    def _management_is_default(self) -> bool:
        if not self.has_metadata:
            return False
        flag = self._metadata(KeyRef.CARD_MANAGEMENT).get(MetadataTag.IS_DEFAULT)
        return flag == b"\x01"

    def get_challenge(self, pin_id: int) -> bytes:
        self._require_admin_id(pin_id)
        self._challenge_algorithm = None
        self._admin = False
        algorithm = self._management_algorithm()
        template = tlv.encode(Tag.CHALLENGE, b"")
        what = "GENERAL AUTHENTICATE (challenge)"
        with cmd.refused(what):
            raw = cmd.general_authenticate(
                self.transport, algorithm, KeyRef.CARD_MANAGEMENT, template
            )
        members = cmd.members(raw, what)
        challenge = members.get(Tag.CHALLENGE)
        if not challenge or len(challenge) != mgmkey.block_size(algorithm):
            raise SCARD_E_COMM_DATA_LOST("malformed challenge from the card")
        self._challenge_algorithm = algorithm
        return challenge

    def answer_challenge(self, pin_id: int, response: bytes) -> None:
        self._require_admin_id(pin_id)
        algorithm, self._challenge_algorithm = self._challenge_algorithm, None
        if algorithm is None:
            raise SCARD_W_WRONG_CHV(
                "no challenge outstanding", attempts_remaining=p.UNKNOWN_ATTEMPTS
            )
        template = tlv.encode(Tag.RESPONSE, response)
        try:
            cmd.general_authenticate(self.transport, algorithm, KeyRef.CARD_MANAGEMENT, template)
        except ApduError as e:
            if e.sw in WRONG_RESPONSE:
                raise SCARD_W_WRONG_CHV(
                    "wrong challenge response", attempts_remaining=p.UNKNOWN_ATTEMPTS
                ) from e
            raise cmd.error(e.sw, "GENERAL AUTHENTICATE (response)") from e
        self._admin = True

    def change_challenge_key(self, pin_id: int, new_key: bytes) -> None:
        self._require_admin_id(pin_id)
        current = self._management_algorithm()
        try:
            algorithm = mgmkey.algorithm_for_key(new_key, current)
        except ValueError as err:
            raise SCARD_E_INVALID_PARAMETER(str(err)) from None
        protected = parse_admin_data(self._object(ObjectId.ADMIN_DATA) or b"").protected
        if protected and self._pin is None:
            raise SCARD_W_SECURITY_VIOLATION(
                "the management key is kept behind the PIN: verify the PIN to change it"
            )
        with cmd.refused("SET MANAGEMENT KEY"):
            cmd.set_management_key(self.transport, algorithm, new_key)
        if protected:
            old = self._object(ObjectId.PRINTED_INFORMATION)
            self._put(
                ObjectId.PRINTED_INFORMATION,
                protected_data_with_key(old, new_key),
                "store the management key",
            )

    def _authenticate_management(self, key: bytes) -> bool:
        algorithm = self._management_algorithm()
        try:
            challenge = self.get_challenge(p.ROLE_ADMIN)
            self.answer_challenge(p.ROLE_ADMIN, mgmkey.admin_response(key, challenge, algorithm))
        except (MinidriverError, ValueError):
            return False
        return True

    def _ensure_admin(self, what: str) -> None:
        """The management key, for writing a PIV object or a key."""
        if self._admin:
            return
        if self._pin is not None:
            admin = parse_admin_data(self._object(ObjectId.ADMIN_DATA) or b"")
            if admin.protected:
                printed = cmd.answer(cmd.get_data, self.transport, ObjectId.PRINTED_INFORMATION)
                key = protected_management_key(printed) if printed is not None else None
                if key is not None and self._authenticate_management(key):
                    return
            if self._management_is_default() and self._authenticate_management(
                DEFAULT_MANAGEMENT_KEY
            ):
                return
        raise SCARD_W_SECURITY_VIOLATION(
            f"{what} needs the PIV management key: authenticate the admin (challenge/response), "
            "or verify the PIN on a card whose management key is PIN-protected "
            "(ykman piv access change-management-key --protect)"
        )

    def _require_writer(self) -> None:
        if self._pin is None and not self._admin:
            raise SCARD_W_SECURITY_VIOLATION("writing needs the user or the admin")

    @staticmethod
    def _require_admin_id(pin_id: int) -> None:
        if pin_id != p.ROLE_ADMIN:
            raise SCARD_E_INVALID_PARAMETER(f"PIN {pin_id} is not a challenge/response PIN")

    # --- containers -----------------------------------------------------------------------

    def container_keys(self, index: int) -> list[ContainerKey]:
        if index >= self.max_containers:
            return []
        key = self._slot_key(index)
        record = self._records()[index]
        if key is None or record is None:
            return []
        return [ContainerKey(record.key_spec, key.public_key, p.ROLE_USER)]

    def _algorithm(self, key_spec: int, bits: int) -> int:
        table = RSA_BY_BITS if key_spec in ks.RSA_KEY_SPECS else EC_BY_BITS
        sizes = self.key_sizes(key_spec)
        if (
            bits not in table
            or sizes is None
            or not sizes.minimum_bitlen <= bits <= sizes.maximum_bitlen
        ):
            raise SCARD_E_UNSUPPORTED_FEATURE(
                f"the card cannot hold a {bits}-bit key of spec {key_spec}"
            )
        return int(table[bits])

    def _record_key(self, index: int, key_spec: int, bits: int, pin_id: int) -> None:
        """After a new key: its container in the map, and no stale certificate in the slot."""
        slot = CONTAINER_SLOTS[index]
        if self._object(certificate_object(slot)) is not None:
            self._put(certificate_object(slot), None, f"remove the old certificate of {slot:02X}")
        records = self._records()
        old = records[index] or MapRecord(
            container_name(self._cardid(), certificate_object(slot)), slot
        )
        records[index] = MapRecord(
            old.name, slot, key_spec, bits, old.flags | 0x01, pin_id, old.associated_ecdh_container
        )
        self._write_map(records)

    def generate_key(self, index: int, key_spec: int, bits: int, pin_id: int) -> PublicKey:
        if key_spec not in ks.RSA_KEY_SPECS:
            bits = ks.EC_KEY_BITS[key_spec]
        algorithm = self._algorithm(key_spec, bits)
        slot = CONTAINER_SLOTS[index]
        self._ensure_admin("generating a key")
        with cmd.refused("GENERATE ASYMMETRIC KEY PAIR"):
            raw = cmd.generate(self.transport, slot, algorithm)
        try:
            public = parse_public_key(raw)
        except ValueError as err:
            self._changed()
            raise SCARD_E_COMM_DATA_LOST(str(err)) from None
        self._set_key(slot, SlotKey(slot, public, algorithm, default_pin_policy(slot)))
        self._record_key(index, key_spec, bits, pin_id)
        return public

    def import_key(self, index: int, key_spec: int, key: PrivateKey, pin_id: int) -> None:
        if not self.key_import:
            raise SCARD_E_UNSUPPORTED_FEATURE("this PIV card cannot import keys")
        bits = key_bits(key)
        algorithm = self._algorithm(key_spec, bits)
        slot = CONTAINER_SLOTS[index]
        self._ensure_admin("importing a key")
        with cmd.refused("IMPORT ASYMMETRIC KEY"):
            cmd.import_key(self.transport, slot, algorithm, _import_template(key))
        public = key.public_key()
        self._set_key(slot, SlotKey(slot, public, algorithm, default_pin_policy(slot)))
        self._record_key(index, key_spec, bits, pin_id)

    def delete_container(self, index: int) -> None:
        if index >= self.max_containers:
            return
        slot = CONTAINER_SLOTS[index]
        records = self._records()
        if self._slot_key(index) is not None:
            self._ensure_admin("deleting a key")
            try:
                cmd.delete_key(self.transport, slot)
            except ApduError as e:
                if e.sw not in (SW.REFERENCE_NOT_FOUND, SW.FILE_NOT_FOUND):  # already empty
                    raise cmd.error(e.sw, "DELETE KEY") from e
            self._set_key(slot, None)
        if self._object(certificate_object(slot)) is not None:
            self._put(certificate_object(slot), None, f"delete the certificate of {slot:02X}")
        records[index] = None
        if any(r is not None for r in records) or self._mscmap():
            self._write_map(records)

    def _use(self, index: int) -> tuple[int, SlotKey]:
        key = self._slot_key(index)
        if key is None:
            raise SCARD_E_NO_KEY_CONTAINER(f"container {index} holds no key")
        algorithm = key.algorithm or _algorithm_of(key.public_key)
        if key.pin_policy == PinPolicy.ALWAYS and self._pin is not None:
            # PIN-always keys (9C) need the PIN right before each use (piv.md 3.7).
            with cmd.refused("VERIFY"):
                cmd.verify(self.transport, self._pin)
        return algorithm, key

    def _private_operation(self, index: int, member: int, data: bytes, what: str) -> bytes:
        algorithm, key = self._use(index)
        template = tlv.encode(Tag.RESPONSE, b"") + tlv.encode(member, data)
        with cmd.refused(what):
            raw = cmd.general_authenticate(self.transport, algorithm, key.slot, template)
        result = cmd.members(raw, what).get(Tag.RESPONSE)
        if result is None:
            raise SCARD_E_COMM_DATA_LOST(f"{what}: no response from the card")
        return result

    def sign(self, index: int, key_spec: int, mode: SignMode, data: bytes) -> bytes:
        if mode == SignMode.PKCS1:
            raise SCARD_E_UNSUPPORTED_FEATURE("PIV cards sign raw blocks: the host pads")
        result = self._private_operation(index, Tag.CHALLENGE, data, "sign")
        if mode == SignMode.RAW:
            return result
        key = self._slot_key(index)
        assert key is not None and isinstance(key.public_key, ec.EllipticCurvePublicKey)
        size = (key.public_key.curve.key_size + 7) // 8
        try:
            r_value, s_value = decode_dss_signature(result)
        except ValueError:
            raise SCARD_E_COMM_DATA_LOST("malformed ECDSA signature from the card") from None
        return r_value.to_bytes(size, "big") + s_value.to_bytes(size, "big")

    def decrypt(self, index: int, key_spec: int, mode: DecryptMode, data: bytes) -> bytes:
        if mode != DecryptMode.RAW:
            raise SCARD_E_UNSUPPORTED_FEATURE("PIV cards decrypt raw blocks: the host unpads")
        return self._private_operation(index, Tag.CHALLENGE, data, "decrypt")

    def ecdh(self, index: int, key_spec: int, peer: ec.EllipticCurvePublicKey) -> bytes:
        point = peer.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return self._private_operation(index, Tag.EXPONENTIATION, point, "ECDH")


def _algorithm_of(key: PublicKey) -> int:
    bits = key_bits(key)
    table = RSA_BY_BITS if isinstance(key, rsa.RSAPublicKey) else EC_BY_BITS
    return int(table[bits])


def _import_template(key: PrivateKey) -> bytes:
    """Yubico IMPORT KEY members: RSA CRT parts (each half the modulus long), or the EC scalar."""
    if isinstance(key, rsa.RSAPrivateKey):
        n = key.private_numbers()
        half = key.key_size // 16
        parts = (
            (ImportTag.RSA_P, n.p),
            (ImportTag.RSA_Q, n.q),
            (ImportTag.RSA_DP, n.dmp1),
            (ImportTag.RSA_DQ, n.dmq1),
            (ImportTag.RSA_QINV, n.iqmp),
        )
        return b"".join(tlv.encode(tag, value.to_bytes(half, "big")) for tag, value in parts)
    size = (key.curve.key_size + 7) // 8
    scalar = key.private_numbers().private_value.to_bytes(size, "big")
    return tlv.encode(ImportTag.EC_PRIVATE, scalar)


def _path(directory: str | None, name: str) -> str:
    return f"{directory}/{name}" if directory else f"/{name}"
