"""The GIDS card module: the minidriver's file system, PINs and keys over the GIDS card edge.

Files are data objects listed in the masterfile (A000/DF1F): each logical file is a DO in the EF
that stands for its access condition, so the card itself enforces who reads and writes it. Key
container i is the key EF B0(81+i), recorded in the keymap (A000/DF20). The user PIN is reference
80; the admin role is the 3-key 3DES key 80, authenticated by GENERAL AUTHENTICATE (external
authentication: the card's 8-byte challenge, encrypted by the host).
"""

from __future__ import annotations

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from wire import tlv
from wire.client import ApduError
from wire.gids import (
    ADMIN_CHALLENGE_LENGTH,
    ADMIN_KEY_REFERENCE,
    FIRST_CONTAINER_KEY_REFERENCE,
    GIDS_AID_TRUNCATED,
    KEY_EF_BASE,
    KEY_TYPE_KEYEXCHANGE,
    KEY_TYPE_SIGNATURE,
    LAST_CONTAINER_KEY_REFERENCE,
    PIN_MAX_LENGTH,
    PIN_MIN_LENGTH,
    USAGE_COMPUTE,
    CtMode,
    DstMode,
    Ef,
    Tag,
)
from wire.iso7816 import SW
from wire.minidriver import files as f
from wire.minidriver import keyspecs as ks
from wire.minidriver import pins as p

from ...blobs import CURVES_BY_BITS, PrivateKey, PublicKey, key_spec_curve
from ...errors import (
    ERROR_DIR_NOT_EMPTY,
    SCARD_E_COMM_DATA_LOST,
    SCARD_E_DIR_NOT_FOUND,
    SCARD_E_FILE_NOT_FOUND,
    SCARD_E_INVALID_PARAMETER,
    SCARD_E_NO_KEY_CONTAINER,
    SCARD_E_NO_MEMORY,
    SCARD_E_UNSUPPORTED_FEATURE,
    SCARD_E_WRITE_TOO_MANY,
    SCARD_W_CHV_BLOCKED,
    SCARD_W_WRONG_CHV,
    MinidriverError,
)
from ...structures import CARD_KEY_SIZES, PIN_CACHE_POLICY, PIN_INFO
from ...transport import Transport
from ..base import CardModule, ContainerKey, DecryptMode, SignMode
from . import commands as cmd
from .constants import (
    ADMIN_KEY_LENGTH,
    DIR_AC_EFS,
    EC_BY_BITS,
    EF_DIR_ACS,
    EF_FILE_ACS,
    FILE_AC_EFS,
    RSA_BY_BITS,
)
from .tables import (
    KeymapRecord,
    MasterFileRecord,
    build_keymap,
    build_masterfile,
    parse_keymap,
    parse_masterfile,
)

EC_SIGNATURE_SPECS = {256: ks.AT_ECDSA_P256, 384: ks.AT_ECDSA_P384, 521: ks.AT_ECDSA_P521}
EC_KEYEXCHANGE_SPECS = {256: ks.AT_ECDHE_P256, 384: ks.AT_ECDHE_P384, 521: ks.AT_ECDHE_P521}
USER = p.CREATE_PIN_SET(p.ROLE_USER)
ADMIN = p.CREATE_PIN_SET(p.ROLE_ADMIN)
UNKNOWN_ATTEMPTS = p.UNKNOWN_ATTEMPTS


def admin_response(key: bytes, challenge: bytes) -> bytes:
    """The admin's answer to a challenge: 3DES-EDE3 of it (CBC, zero IV = ECB per block)."""
    enc = Cipher(TripleDES(key), modes.CBC(b"\0" * 8)).encryptor()
    return enc.update(challenge) + enc.finalize()


def key_check_value(key: bytes) -> bytes:
    return admin_response(key, b"\0" * 8)[:3]


# What a GET DATA of a DO nobody wrote answers: no EF, or no DO in it.
ABSENT = (SW.FILE_NOT_FOUND, SW.REFERENCE_NOT_FOUND)
# How GIDS cards refuse a wrong admin-key response (GidsApplet, Windows' profile).
WRONG_RESPONSE = (
    SW.SECURITY_STATUS_NOT_SATISFIED,
    SW.CONDITIONS_NOT_SATISFIED,
    SW.DATA_INVALID,
)


def _value(raw: bytes, tag: int) -> bytes:
    """The value of the one TLV `tag` a GET DATA returned."""
    try:
        return tlv.parse_one(raw, tag).value
    except tlv.TlvError:
        raise SCARD_E_COMM_DATA_LOST(f"malformed data object {tag:X} from the card") from None


class GidsCardModule(CardModule):
    name = "gids"
    certificate_compression = False  # the CSP stores certificates compressed (01 00 len zlib)
    max_containers = LAST_CONTAINER_KEY_REFERENCE - FIRST_CONTAINER_KEY_REFERENCE + 1
    # The GIDS specification's ECC mechanisms (0C-0E: P-256/384/521); a GidsApplet card,
    # RSA only (gids.md 4.8), answers 6A81 to them, which becomes SCARD_E_UNSUPPORTED_FEATURE.
    ecc_curves: frozenset[int] = frozenset({256, 384, 521})

    def __init__(self, transport: Transport) -> None:
        super().__init__(transport)
        self._masterfile: list[MasterFileRecord] | None = None
        self._masterfile_loaded = False
        self._keymap: list[KeymapRecord] | None = None
        self._challenge_pending = False

    # --- identity -------------------------------------------------------------------------

    @classmethod
    def probe(cls, transport: Transport, atr: bytes) -> bool:
        try:
            fci = tlv.parse_one(cmd.select_application(transport), 0x61)
            aid = tlv.find(fci.value, 0x4F)
        except (ApduError, tlv.TlvError):  # refused, or an answer that is no GIDS FCI
            return False
        return aid is not None and aid.startswith(GIDS_AID_TRUNCATED)

    def invalidate(self, pins: bool, containers: bool, files: bool) -> None:
        if files:
            self._masterfile_loaded = False
        if containers:
            self._keymap = None

    def serial_number(self) -> bytes:
        # As OpenSC does: the cardid is the GIDS card's serial number.
        return self.read_file(None, f.szCARD_IDENTIFIER_FILE)

    def key_sizes(self, key_spec: int) -> CARD_KEY_SIZES | None:
        if key_spec in ks.RSA_KEY_SPECS:
            return CARD_KEY_SIZES(1, 1024, 2048, 4096, 1024)
        bits = ks.EC_KEY_BITS[key_spec]
        if bits in self.ecc_curves:
            return CARD_KEY_SIZES(1, bits, bits, bits, 1)
        return None

    def can_ecdh(self) -> bool:
        return bool(self.ecc_curves)

    def sign_modes(self) -> frozenset[SignMode]:
        return frozenset(
            {SignMode.PKCS1, SignMode.RAW} | ({SignMode.ECDSA} if self.ecc_curves else set())
        )

    def decrypt_modes(self) -> frozenset[DecryptMode]:
        return frozenset({DecryptMode.RAW, DecryptMode.PKCS1, DecryptMode.OAEP_SHA1})

    # --- masterfile -----------------------------------------------------------------------

    def _records(self) -> list[MasterFileRecord]:
        if not self._masterfile_loaded:
            try:
                raw: bytes | None = cmd.get_data(
                    self.transport, Ef.USER_CREATE_DELETE_DIR, Tag.MASTERFILE
                )
            except ApduError as e:
                if e.sw not in ABSENT:
                    raise cmd.error(e.sw, "read the masterfile") from e
                raw = None
            if raw is None:
                self._masterfile = None  # no minidriver file system on this card
            else:
                try:
                    self._masterfile = parse_masterfile(_value(raw, Tag.MASTERFILE))
                except ValueError as err:
                    raise SCARD_E_COMM_DATA_LOST(str(err)) from None
            self._masterfile_loaded = True
        return list(self._masterfile or [])

    def _require_file_system(self) -> None:
        self._records()
        if self._masterfile is None:
            raise SCARD_E_UNSUPPORTED_FEATURE(
                "this GIDS card has no minidriver file system (no masterfile A000/DF1F); "
                "initialize it first (gids-tool --initialize)"
            )

    def _write_records(self, records: list[MasterFileRecord]) -> None:
        self._require_file_system()
        with cmd.refused("write the masterfile", SCARD_E_WRITE_TOO_MANY):
            cmd.put_data(
                self.transport, Ef.USER_CREATE_DELETE_DIR, Tag.MASTERFILE, build_masterfile(records)
            )
        self._masterfile = records

    def _find(self, directory: str | None, name: str) -> MasterFileRecord | None:
        d = (directory or "").lower()
        for rec in self._records():
            if (
                not rec.is_directory
                and rec.directory.lower() == d
                and rec.name.lower() == name.lower()
            ):
                return rec
        return None

    def _dir_record(self, name: str) -> MasterFileRecord | None:
        for rec in self._records():
            if rec.is_directory and rec.directory.lower() == name.lower():
                return rec
        return None

    def _require_dir(self, directory: str | None) -> None:
        if directory is None or directory == "":
            return
        if self._dir_record(directory) is None and not any(
            r.directory.lower() == directory.lower() for r in self._records()
        ):
            raise SCARD_E_DIR_NOT_FOUND(f"no directory {directory!r}")

    def _require_file(self, directory: str | None, name: str) -> MasterFileRecord:
        self._require_dir(directory)
        rec = self._find(directory, name)
        if rec is None:
            raise SCARD_E_FILE_NOT_FOUND(f"no file {_path(directory, name)}")
        return rec

    # --- logical file system --------------------------------------------------------------

    def directories(self) -> list[str]:
        seen: dict[str, None] = {}
        for rec in self._records():
            if rec.directory:
                seen.setdefault(rec.directory.lower())
        return list(seen)

    def directory_ac(self, name: str) -> int:
        rec = self._dir_record(name)
        if rec is None:
            return f.UserCreateDeleteDirAc
        return EF_DIR_ACS.get(rec.ef, f.UserCreateDeleteDirAc)

    def files(self, directory: str | None) -> list[str]:
        self._require_dir(directory)
        d = (directory or "").lower()
        return [
            r.name.lower()
            for r in self._records()
            if not r.is_directory and r.directory.lower() == d
        ]

    def file_ac(self, directory: str | None, name: str) -> int:
        rec = self._require_file(directory, name)
        return EF_FILE_ACS.get(rec.ef, f.UnknownAc)

    def read_file(self, directory: str | None, name: str) -> bytes:
        rec = self._require_file(directory, name)
        try:
            raw = cmd.get_data(self.transport, rec.ef, rec.do_tag)
        except ApduError as e:
            if e.sw == SW.REFERENCE_NOT_FOUND:
                return b""  # listed but never written (or emptied twice): an empty file
            if e.sw == SW.FILE_NOT_FOUND:
                raise SCARD_E_COMM_DATA_LOST(
                    f"{_path(directory, name)}: its EF {rec.ef:04X} is missing"
                ) from e
            raise cmd.error(e.sw, f"read {_path(directory, name)}") from e
        return _value(raw, rec.do_tag)

    def write_file(self, directory: str | None, name: str, data: bytes) -> None:
        rec = self._require_file(directory, name)
        with cmd.refused(f"write {_path(directory, name)}", SCARD_E_WRITE_TOO_MANY):
            cmd.put_data(self.transport, rec.ef, rec.do_tag, data)

    def create_file(self, directory: str | None, name: str, access_condition: int) -> None:
        self._require_file_system()
        ef = FILE_AC_EFS[f.CARD_FILE_ACCESS_CONDITION(access_condition)]
        records = self._records()
        used = {r.do_tag for r in records if r.ef == ef}
        if ef == Ef.USER_CREATE_DELETE_DIR:
            used |= {Tag.MASTERFILE, Tag.KEYMAP}
        tag = next(
            (t for t in range(Tag.FIRST_FILE_DO, Tag.LAST_FILE_DO + 1) if t not in used), None
        )
        if tag is None:
            raise SCARD_E_NO_MEMORY("no free data object left for another file")
        # The empty DO first: the card checks the EF's write condition before anything changes.
        with cmd.refused(f"create {_path(directory, name)}", SCARD_E_NO_MEMORY):
            cmd.put_data(self.transport, ef, tag, b"")
        self._write_records([*records, MasterFileRecord(directory or "", name.lower(), tag, ef)])

    def delete_file(self, directory: str | None, name: str) -> None:
        rec = self._require_file(directory, name)
        what = f"delete {_path(directory, name)}"
        # An empty PUT DATA empties a DO; a second one on an empty DO deletes it (gids.md 2.10).
        with cmd.refused(what):
            cmd.put_data(self.transport, rec.ef, rec.do_tag, b"")
        if cmd.holds_data(self.transport, rec.ef, rec.do_tag):
            with cmd.refused(what):
                cmd.put_data(self.transport, rec.ef, rec.do_tag, b"")
        self._write_records([r for r in self._records() if r != rec])

    def create_directory(self, name: str, access_condition: int) -> None:
        ef = DIR_AC_EFS[f.CARD_DIRECTORY_ACCESS_CONDITION(access_condition)]
        self._write_records([*self._records(), MasterFileRecord(name.lower(), "", 0, ef)])

    def delete_directory(self, name: str) -> None:
        self._require_dir(name)
        if self.files(name):
            raise ERROR_DIR_NOT_EMPTY(f"directory {name!r} still holds files")
        self._write_records([r for r in self._records() if r.directory.lower() != name.lower()])

    # --- PINs -----------------------------------------------------------------------------

    def pin_info(self, pin_id: int) -> PIN_INFO:
        if pin_id == p.ROLE_USER:
            return PIN_INFO(
                pin_type=p.SECRET_TYPE.AlphaNumericPinType,
                pin_purpose=p.SECRET_PURPOSE.PrimaryCardPin,
                change_permission=USER,
                unblock_permission=ADMIN,
                cache_policy=PIN_CACHE_POLICY(policy_type=p.PIN_CACHE_POLICY_TYPE.PinCacheNormal),
            )
        if pin_id == p.ROLE_ADMIN:
            return PIN_INFO(
                pin_type=p.SECRET_TYPE.ChallengeResponsePinType,
                pin_purpose=p.SECRET_PURPOSE.AdministratorPin,
                change_permission=ADMIN,
                unblock_permission=p.PIN_SET_NONE,
                cache_policy=PIN_CACHE_POLICY(policy_type=p.PIN_CACHE_POLICY_TYPE.PinCacheNormal),
            )
        raise SCARD_E_INVALID_PARAMETER(f"this card has no PIN {pin_id}")

    def pin_length(self, pin_id: int) -> tuple[int, int]:
        if pin_id == p.ROLE_ADMIN:
            return ADMIN_KEY_LENGTH, ADMIN_KEY_LENGTH
        return PIN_MIN_LENGTH, PIN_MAX_LENGTH

    def pin_tries_left(self, pin_id: int) -> int | None:
        if pin_id != p.ROLE_USER:
            return None
        try:
            raw = cmd.pin_status(self.transport, Tag.GLOBAL_PIN_STATUS)
            counter = tlv.find(tlv.parse_one(raw, Tag.GLOBAL_PIN_STATUS).value, Tag.TRY_COUNTER)
        except (ApduError, tlv.TlvError):  # no PIN status to read: the count is unknown
            return None
        return counter[0] if counter else None

    def verify_pin(self, pin_id: int, pin: bytes) -> None:
        if pin_id != p.ROLE_USER:
            raise SCARD_E_INVALID_PARAMETER(f"PIN {pin_id} is not a plaintext PIN on this card")
        with cmd.refused("VERIFY"):
            cmd.verify(self.transport, pin)

    def get_challenge(self, pin_id: int) -> bytes:
        self._require_admin_id(pin_id)
        self._challenge_pending = False
        with cmd.refused("select the admin key"):
            cmd.mse_admin_key(self.transport)
        with cmd.refused("get a challenge"):
            raw = cmd.external_auth_challenge(self.transport)
        try:
            challenge = tlv.find(tlv.parse_one(raw, Tag.DYNAMIC_AUTH).value, Tag.CHALLENGE)
        except tlv.TlvError:
            challenge = None
        if challenge is None or len(challenge) != ADMIN_CHALLENGE_LENGTH:
            raise SCARD_E_COMM_DATA_LOST("malformed challenge from the card")
        self._challenge_pending = True
        return challenge

    def answer_challenge(self, pin_id: int, response: bytes) -> None:
        self._require_admin_id(pin_id)
        if not self._challenge_pending:
            # Nothing to answer: refused before the card sees it, so no try is spent.
            raise SCARD_W_WRONG_CHV("no challenge outstanding", attempts_remaining=UNKNOWN_ATTEMPTS)
        self._challenge_pending = False
        try:
            cmd.external_auth_response(self.transport, response)
        except ApduError as e:
            if e.sw == SW.AUTH_METHOD_BLOCKED:
                raise SCARD_W_CHV_BLOCKED("the admin key is blocked", attempts_remaining=0) from e
            if e.sw in WRONG_RESPONSE:
                raise SCARD_W_WRONG_CHV(
                    "wrong challenge response", attempts_remaining=UNKNOWN_ATTEMPTS
                ) from e
            raise cmd.error(e.sw, "GENERAL AUTHENTICATE") from e

    def change_pin(self, pin_id: int, old: bytes, new: bytes) -> None:
        # The context VERIFYs `old` first: CHANGE REFERENCE DATA splits old||new by the stored
        # PIN's length, so only a verified old PIN makes the split right.
        with cmd.refused("CHANGE REFERENCE DATA"):
            cmd.change_reference_data(self.transport, old, new)

    def change_challenge_key(self, pin_id: int, new_key: bytes) -> None:
        self._require_admin_id(pin_id)
        with cmd.refused("replace the admin key"):
            cmd.put_key(
                self.transport, ADMIN_KEY_REFERENCE, None, new_key, key_check_value(new_key)
            )

    def unblock_pin(self, target: int, new_pin: bytes) -> None:
        if target != p.ROLE_USER:
            raise SCARD_E_INVALID_PARAMETER(f"PIN {target} cannot be unblocked on this card")
        with cmd.refused("RESET RETRY COUNTER"):
            cmd.reset_retry_counter(self.transport, new_pin)

    def deauthenticate(self, pin_set: int) -> int:
        # One command resets the whole security status: user PIN and admin key alike.
        if not pin_set & (USER | ADMIN):
            return 0
        with cmd.refused("log out"):
            cmd.logout(self.transport)
        self._challenge_pending = False
        return USER | ADMIN

    def _require_admin_id(self, pin_id: int) -> None:
        if pin_id != p.ROLE_ADMIN:
            raise SCARD_E_INVALID_PARAMETER(f"PIN {pin_id} is not a challenge/response PIN")

    # --- containers -----------------------------------------------------------------------

    def _keymap_records(self) -> list[KeymapRecord]:
        if self._keymap is None:
            try:
                raw = cmd.get_data(self.transport, Ef.USER_CREATE_DELETE_DIR, Tag.KEYMAP)
            except ApduError as e:
                if e.sw not in ABSENT:
                    raise cmd.error(e.sw, "read the keymap") from e
                self._keymap = []
            else:
                try:
                    self._keymap = parse_keymap(_value(raw, Tag.KEYMAP))
                except ValueError as err:
                    raise SCARD_E_COMM_DATA_LOST(str(err)) from None
        return list(self._keymap)

    def _write_keymap(self, records: list[KeymapRecord]) -> None:
        with cmd.refused("write the keymap"):
            cmd.put_data(
                self.transport, Ef.USER_CREATE_DELETE_DIR, Tag.KEYMAP, build_keymap(records)
            )
        self._keymap = records

    def _key_record(self, index: int) -> KeymapRecord | None:
        records = self._keymap_records()
        if index < len(records) and records[index].present:
            return records[index]
        return None

    @staticmethod
    def _key_ref(index: int) -> int:
        return FIRST_CONTAINER_KEY_REFERENCE + index

    def container_keys(self, index: int) -> list[ContainerKey]:
        rec = self._key_record(index)
        if rec is None:
            return []
        key_ref = rec.key_file & 0xFF
        with cmd.refused("GET PUBLIC KEY"):
            raw = cmd.get_public_key(self.transport, key_ref)
        public = _parse_public_key(raw, rec.algorithm)
        if isinstance(public, rsa.RSAPublicKey):
            spec = ks.AT_SIGNATURE if rec.key_type == KEY_TYPE_SIGNATURE else ks.AT_KEYEXCHANGE
        else:
            specs = (
                EC_SIGNATURE_SPECS if rec.key_type == KEY_TYPE_SIGNATURE else EC_KEYEXCHANGE_SPECS
            )
            spec = specs[public.curve.key_size]
        return [ContainerKey(spec, public, p.ROLE_USER)]

    def _algorithm(self, key_spec: int, bits: int) -> int:
        if key_spec in ks.RSA_KEY_SPECS:
            alg = RSA_BY_BITS.get(bits)
        else:
            alg = EC_BY_BITS.get(bits) if bits in self.ecc_curves else None
        if alg is None:
            raise SCARD_E_UNSUPPORTED_FEATURE(
                f"the card cannot hold a {bits}-bit key of spec {key_spec}"
            )
        return alg

    def _fcp(self, key_ref: int, key_spec: int, alg: int) -> bytes:
        if key_spec == ks.AT_KEYEXCHANGE:
            usages = [
                (Tag.CRT_CT, CtMode.RAW),
                (Tag.CRT_CT, CtMode.OAEP),
                (Tag.CRT_CT, CtMode.PKCS1),
                (Tag.CRT_DST, DstMode.RAW),
                (Tag.CRT_DST, DstMode.PKCS1),
            ]
        elif key_spec == ks.AT_SIGNATURE:
            usages = [(Tag.CRT_DST, DstMode.RAW), (Tag.CRT_DST, DstMode.PKCS1)]
        elif key_spec in ks.ECDH_KEY_SPECS:
            usages = [(Tag.CRT_CT, CtMode.RAW)]  # key agreement: the card returns the shared X
        else:
            usages = [(Tag.CRT_DST, DstMode.RAW)]  # ECDSA over a hash computed off-card
        crts = b"".join(
            tlv.encode(
                crt,
                tlv.encode(0x80, bytes((mode | alg,)))
                + tlv.encode(0x83, bytes((key_ref,)))
                + tlv.encode(0x95, bytes((USAGE_COMPUTE,))),
            )
            for crt, mode in usages
        )
        body = (
            tlv.encode(0x82, b"\x18")
            + tlv.encode(0x83, (KEY_EF_BASE | key_ref).to_bytes(2, "big"))
            # AM 8F: GENERATE, MSE (use), PUT KEY need the PIN; GET PUBLIC KEY is free.
            + tlv.encode(0x8C, bytes.fromhex("8F10101000"))
            + tlv.encode(0xA5, crts)
        )
        return tlv.encode(0x62, body)

    def _fresh_key_file(self, index: int, key_spec: int, alg: int) -> int:
        """Create (replacing any old one) and activate the key EF of container `index`."""
        if index >= self.max_containers:
            raise SCARD_E_NO_KEY_CONTAINER(f"the card has no container {index}")
        key_ref = self._key_ref(index)
        self._remove_key_file(key_ref)
        with cmd.refused("create the key file"):
            cmd.create_file(self.transport, self._fcp(key_ref, key_spec, alg))
        with cmd.refused("activate the key file"):
            cmd.activate_file(self.transport)
        return key_ref

    def _remove_key_file(self, key_ref: int) -> bool:
        try:
            cmd.select_file(self.transport, KEY_EF_BASE | key_ref)
        except ApduError as e:
            if e.sw == SW.FILE_NOT_FOUND:
                return False
            raise cmd.error(e.sw, "select the key file") from e
        with cmd.refused("delete the key file"):
            cmd.delete_file(self.transport)
        return True

    def _record_key(self, index: int, key_spec: int, alg: int, key_ref: int) -> None:
        records = self._keymap_records()
        while len(records) <= index:
            records.append(KeymapRecord())
        key_type = (
            KEY_TYPE_KEYEXCHANGE
            if key_spec in ks.KEYEXCHANGE_SLOT_KEY_SPECS
            else KEY_TYPE_SIGNATURE
        )
        records[index] = KeymapRecord(1, alg, key_type, KEY_EF_BASE | key_ref)
        self._write_keymap(records)

    def generate_key(self, index: int, key_spec: int, bits: int, pin_id: int) -> PublicKey:
        self._require_user_bound(pin_id)
        if key_spec not in ks.RSA_KEY_SPECS:
            bits = ks.EC_KEY_BITS[key_spec]
        alg = self._algorithm(key_spec, bits)
        key_ref = self._fresh_key_file(index, key_spec, alg)
        with cmd.refused("GENERATE ASYMMETRIC KEY PAIR", SCARD_E_NO_MEMORY):
            raw = cmd.generate(self.transport, alg, key_ref)
        if not raw.startswith(b"\x7f\x49"):
            with cmd.refused("GET PUBLIC KEY"):
                raw = cmd.get_public_key(self.transport, key_ref)
        public = _parse_public_key(raw, alg)
        self._record_key(index, key_spec, alg, key_ref)
        return public

    def import_key(self, index: int, key_spec: int, key: PrivateKey, pin_id: int) -> None:
        self._require_user_bound(pin_id)
        if isinstance(key, rsa.RSAPrivateKey):
            alg = self._algorithm(key_spec, key.key_size)
            value = key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
            key_type = 0x02
        else:
            alg = self._algorithm(key_spec, key.curve.key_size)
            value = key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
            key_type = 0x03
        key_ref = self._fresh_key_file(index, key_spec, alg)
        with cmd.refused("PUT KEY", SCARD_E_NO_MEMORY):
            cmd.put_key(self.transport, key_ref, key_type, value)
        self._record_key(index, key_spec, alg, key_ref)

    def delete_container(self, index: int) -> None:
        if index >= self.max_containers:
            return
        self._remove_key_file(self._key_ref(index))
        records = self._keymap_records()
        if index < len(records) and records[index] != KeymapRecord():
            records[index] = KeymapRecord()
            self._write_keymap(records)

    def _require_user_bound(self, pin_id: int) -> None:
        if pin_id != p.ROLE_USER:
            raise SCARD_E_INVALID_PARAMETER("keys on this card are bound to the user PIN")

    def _use(self, index: int, crt: int, mode: int) -> None:
        rec = self._key_record(index)
        if rec is None:
            raise SCARD_E_NO_KEY_CONTAINER(f"container {index} holds no key")
        try:
            cmd.mse_private_key(
                self.transport, crt, mode | (rec.algorithm & 0x0F), rec.key_file & 0xFF
            )
        except ApduError as e:
            if e.sw == SW.DATA_INVALID:
                raise SCARD_E_UNSUPPORTED_FEATURE("the key does not allow this operation") from e
            raise cmd.error(e.sw, "MANAGE SECURITY ENVIRONMENT") from e

    def sign(self, index: int, key_spec: int, mode: SignMode, data: bytes) -> bytes:
        if mode == SignMode.ECDSA:
            self._use(index, Tag.CRT_DST, DstMode.RAW)
            with cmd.refused("sign"):
                der = cmd.compute_signature(self.transport, data)
            try:
                r_value, s_value = decode_dss_signature(der)
            except ValueError:
                raise SCARD_E_COMM_DATA_LOST("malformed ECDSA signature from the card") from None
            size = key_spec_curve(key_spec).size
            return r_value.to_bytes(size, "big") + s_value.to_bytes(size, "big")
        self._use(index, Tag.CRT_DST, DstMode.PKCS1 if mode == SignMode.PKCS1 else DstMode.RAW)
        with cmd.refused("sign"):
            return cmd.compute_signature(self.transport, data)

    def ecdh(self, index: int, key_spec: int, peer: ec.EllipticCurvePublicKey) -> bytes:
        """PERFORM SECURITY OPERATION decipher with the ECC key: the peer's uncompressed point
        in, the shared secret's X coordinate out."""
        self._use(index, Tag.CRT_CT, CtMode.RAW)
        point = peer.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        with cmd.refused("key agreement"):
            z = cmd.decipher(self.transport, point)
        return z.rjust(key_spec_curve(key_spec).size, b"\0")

    def decrypt(self, index: int, key_spec: int, mode: DecryptMode, data: bytes) -> bytes:
        ct = {
            DecryptMode.RAW: CtMode.RAW,
            DecryptMode.PKCS1: CtMode.PKCS1,
            DecryptMode.OAEP_SHA1: CtMode.OAEP,
        }[mode]
        self._use(index, Tag.CRT_CT, ct)
        with cmd.refused("decrypt"):
            return cmd.decipher(self.transport, data)


def _path(directory: str | None, name: str) -> str:
    return f"{directory}/{name}" if directory else f"/{name}"


def _parse_public_key(raw: bytes, algorithm: int) -> PublicKey:
    """7F49 { 81 modulus, 82 exponent } (RSA) or 7F49 { 86 point } (ECC)."""
    try:
        body = tlv.parse_one(raw, Tag.PUBLIC_KEY).value
        fields = tlv.to_dict(body)
        if Tag.MODULUS in fields:
            n = int.from_bytes(fields[Tag.MODULUS], "big")
            e = int.from_bytes(fields[Tag.EXPONENT], "big")
            return rsa.RSAPublicNumbers(e, n).public_key()
        bits = {int(v): k for k, v in EC_BY_BITS.items()}[algorithm & 0x0F]
        curve = CURVES_BY_BITS[bits].curve()
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, fields[Tag.EC_POINT])
    except MinidriverError:
        raise
    except (KeyError, ValueError):  # a member missing, or values no key is made of
        raise SCARD_E_COMM_DATA_LOST("malformed public key from the card") from None
