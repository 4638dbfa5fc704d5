"""The card context (CARD_DATA) and every minidriver function as one of its methods.

`acquire_context` is CardAcquireContext; `CardContext.delete_context` (or leaving the `with`
block) is CardDeleteContext; every other CardXxxYyy is the method `xxx_yyy`. Arguments follow the
specification's parameters in order, without pCardData and the output buffers; outputs are
returned. The checks the specification makes before any card I/O happen here, in its order
(NULL and flag checks, then "unsupported", then index / key-spec / size validity), so bad calls
cost no APDU; the card module only speaks to the card.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import struct
from collections.abc import Callable, Iterator
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from . import blobs, kdf, padding, symmetric
from .api import Tracer, api
from .cache import Category, FreshnessCache
from .cardmodules import CardModule, ContainerKey, DecryptMode, SignMode, card_module_classes
from .constants import containers as cm
from .constants import crypto as c
from .constants import files as f
from .constants import keyspecs as ks
from .constants import pins as p
from .constants import properties as pr
from .constants import ski
from .constants import versions as v
from .errors import (
    ERROR_DIR_NOT_EMPTY,
    ERROR_FILE_EXISTS,
    ERROR_INSUFFICIENT_BUFFER,
    ERROR_REVISION_MISMATCH,
    SCARD_E_DIR_NOT_FOUND,
    SCARD_E_FILE_NOT_FOUND,
    SCARD_E_INSUFFICIENT_BUFFER,
    SCARD_E_INVALID_HANDLE,
    SCARD_E_INVALID_PARAMETER,
    SCARD_E_NO_KEY_CONTAINER,
    SCARD_E_NO_MEMORY,
    SCARD_E_NO_SMARTCARD,
    SCARD_E_UNEXPECTED,
    SCARD_E_UNKNOWN_CARD,
    SCARD_E_UNKNOWN_READER,
    SCARD_E_UNSUPPORTED_FEATURE,
    SCARD_W_SECURITY_VIOLATION,
    SCARD_W_WRONG_CHV,
    MinidriverError,
)
from .structures import (
    BCRYPT_OAEP_PADDING_INFO,
    BCRYPT_PKCS1_PADDING_INFO,
    BCRYPT_PSS_PADDING_INFO,
    CARD_AUTHENTICATE,
    CARD_CACHE_FILE_FORMAT,
    CARD_CAPABILITIES,
    CARD_CHANGE_AUTHENTICATOR,
    CARD_DERIVE_KEY,
    CARD_DH_AGREEMENT_INFO,
    CARD_FILE_INFO,
    CARD_FREE_SPACE_INFO,
    CARD_IMPORT_KEYPAIR,
    CARD_KEY_SIZES,
    CARD_RSA_DECRYPT_INFO,
    CARD_SIGNING_INFO,
    CONTAINER_INFO,
    PIN_INFO,
    from_wstr,
    multistring,
)
from .transport import Connection, Transport

USER = p.CREATE_PIN_SET(p.ROLE_USER)
ADMIN = p.CREATE_PIN_SET(p.ROLE_ADMIN)
MAX_ATR = 33
MIN_ATR = 2
ALLOWED_SIGNING_FLAGS = (
    c.CARD_PADDING_INFO_PRESENT | c.CARD_BUFFER_SIZE_ONLY | c.CRYPT_NOHASHOID | 0x2 | 0x4
)  # 0x2 CRYPT_TYPE2_FORMAT, 0x4 CRYPT_X931_FORMAT: CryptSignHash flags the CSP may pass on
EVERYONE_READABLE = {f.EveryoneReadUserWriteAc, f.EveryoneReadAdminWriteAc}
VALID_FILE_ACS = {
    f.EveryoneReadUserWriteAc,
    f.UserWriteExecuteAc,
    f.EveryoneReadAdminWriteAc,
    f.UserReadWriteAc,
    f.AdminReadWriteAc,
}
UNCHANGED_RETRY_COUNTS = (0, 0xFFFFFFFF)
_NAME = re.compile(r"^[^\x00-\x1f\"*/:<>?\\|]{1,8}$")

UnpadCallback = Callable[[CARD_RSA_DECRYPT_INFO], bytes]
DhAgreementCallback = Callable[[Any], int]


def _name(name: str | None, what: str = "file") -> str:
    if not isinstance(name, str) or not _NAME.match(name) or not name.isascii():
        raise SCARD_E_INVALID_PARAMETER(f"invalid {what} name {name!r}")
    return name.lower()


def _dir(name: str | None) -> str | None:
    return None if name is None else _name(name, "directory")


def _struct_version(version: int, current: int) -> int:
    """Structure version rule (1.7): 0 means 1; newer than the driver knows is refused."""
    if version == 0:
        return 1
    if version > current or version < 0:
        raise ERROR_REVISION_MISMATCH(f"structure version {version} (this driver knows {current})")
    return version


def _flags_zero(flags: int) -> None:
    if flags != 0:
        raise SCARD_E_INVALID_PARAMETER(f"flags must be 0 (got 0x{flags:X})")


def _index(index: int) -> int:
    if not isinstance(index, int) or not 0 <= index <= 0xFF:
        raise SCARD_E_INVALID_PARAMETER(f"container index {index!r} is not a BYTE")
    return index


def _dword(value: int) -> bytes:
    return struct.pack("<I", value & 0xFFFFFFFF)


def default_unpad(info: CARD_RSA_DECRYPT_INFO) -> bytes:
    """What the Base CSP / KSP do in pfnCspUnpadData: PKCS#1 v1.5 or OAEP removal.
    `info.data` is the raw block, little-endian; the plaintext comes back little-endian too."""
    if info.version < v.CARD_RSA_KEY_DECRYPT_INFO_VERSION_TWO:
        raise ERROR_REVISION_MISMATCH("unpadding needs a version 2 CARD_RSA_DECRYPT_INFO")
    block = (info.data or b"")[::-1]
    if info.padding_type == c.CARD_PADDING_PKCS1:
        return padding.pkcs1_type2_decode(block)[::-1]
    if info.padding_type == c.CARD_PADDING_OAEP:
        oaep = info.padding_info or BCRYPT_OAEP_PADDING_INFO()
        return padding.oaep_decode(
            block, oaep.alg_id or c.BCRYPT_SHA1_ALGORITHM, oaep.label or b""
        )[::-1]
    return info.data or b""


class CardContext:
    """CARD_DATA: one minidriver context on one card (or a no-card SKI context)."""

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

    def __enter__(self) -> CardContext:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.closed:
            self.delete_context()

    def _end_call(self) -> None:
        if not self._transaction:
            self._fresh_checked = False

    @contextlib.contextmanager
    def transaction(self) -> Iterator[CardContext]:
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

    def _check_new_pin(self, pin_id: int, new: bytes) -> None:
        low, high = self.card.pin_length(pin_id)
        if not low <= len(new) <= high:
            raise SCARD_E_INVALID_PARAMETER(f"the new PIN must be {low} to {high} bytes")

    # --- context --------------------------------------------------------------------------

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
            _close(self.connection)

    # --- capabilities ---------------------------------------------------------------------

    @api("CardQueryCapabilities")
    def query_capabilities(
        self, capabilities: CARD_CAPABILITIES | None = None
    ) -> CARD_CAPABILITIES:
        version = _struct_version(
            capabilities.version if capabilities else v.CARD_CAPABILITIES_CURRENT_VERSION,
            v.CARD_CAPABILITIES_CURRENT_VERSION,
        )
        card = self.card
        return CARD_CAPABILITIES(version, card.certificate_compression, card.key_gen)

    @api("CardQueryFreeSpace")
    def query_free_space(
        self, flags: int = 0, info: CARD_FREE_SPACE_INFO | None = None
    ) -> CARD_FREE_SPACE_INFO:
        _flags_zero(flags)
        version = _struct_version(
            info.version if info else v.CARD_FREE_SPACE_INFO_CURRENT_VERSION,
            v.CARD_FREE_SPACE_INFO_CURRENT_VERSION,
        )
        return self._free_space(version)

    def _free_space(self, version: int = 1) -> CARD_FREE_SPACE_INFO:
        card = self.card
        if card.read_only:
            return CARD_FREE_SPACE_INFO(version, 0, 0, card.max_containers)
        used = sum(1 for i in range(card.max_containers) if self._has_container(i))
        return CARD_FREE_SPACE_INFO(
            version, card.free_bytes(), card.max_containers - used, card.max_containers
        )

    @api("CardQueryKeySizes")
    def query_key_sizes(
        self, key_spec: int, flags: int = 0, sizes: CARD_KEY_SIZES | None = None
    ) -> CARD_KEY_SIZES:
        _flags_zero(flags)
        version = _struct_version(
            sizes.version if sizes else v.CARD_KEY_SIZES_CURRENT_VERSION,
            v.CARD_KEY_SIZES_CURRENT_VERSION,
        )
        return dataclasses.replace(self._key_sizes(key_spec), version=version)

    def _key_sizes(self, key_spec: int) -> CARD_KEY_SIZES:
        if key_spec not in ks.KEY_SPECS:
            raise SCARD_E_INVALID_PARAMETER(f"undefined key spec {key_spec!r}")
        found = self.card.key_sizes(key_spec)
        if found is None:
            raise SCARD_E_UNSUPPORTED_FEATURE(f"the card cannot hold keys of spec {key_spec}")
        return found

    # --- containers -----------------------------------------------------------------------

    def _container_keys(self, index: int) -> list[ContainerKey]:
        if index >= self.card.max_containers:
            return []
        self._fresh()
        cached = self.cache.get(Category.CONTAINERS, index)
        if cached is None:
            cached = self.card.container_keys(index)
            self.cache.put(Category.CONTAINERS, index, cached)
        return list(cached)

    def _has_container(self, index: int) -> bool:
        return bool(self._container_keys(index))

    def _key(self, index: int, key_spec: int) -> ContainerKey:
        keys = self._container_keys(index)
        if not keys:
            raise SCARD_E_NO_KEY_CONTAINER(f"container {index} does not exist or is empty")
        for key in keys:
            if key.key_spec == key_spec:
                return key
        raise SCARD_E_UNSUPPORTED_FEATURE(f"container {index} has no key of spec {key_spec}")

    @api("CardDeleteContainer")
    def delete_container(self, container_index: int, reserved: int = 0) -> None:
        if reserved != 0:
            raise SCARD_E_INVALID_PARAMETER("dwReserved must be 0")
        index = _index(container_index)
        if self.card.read_only:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card is read-only")
        self._require_auth(USER | ADMIN, "deleting a container")
        if index >= self.card.max_containers:
            return  # an index the card cannot have is already "deleted"
        self._bump(containers=True)
        self.card.delete_container(index)
        self.cache.drop(Category.CONTAINERS, index)

    @api("CardCreateContainer")
    def create_container(
        self, container_index: int, flags: int, key_spec: int, key_size: int, key_data: bytes | None
    ) -> None:
        self._create(container_index, flags, key_spec, key_size, key_data, p.ROLE_USER)

    @api("CardCreateContainerEx", since=7)
    def create_container_ex(
        self,
        container_index: int,
        flags: int,
        key_spec: int,
        key_size: int,
        key_data: bytes | None,
        pin_id: int,
    ) -> None:
        self._create(container_index, flags, key_spec, key_size, key_data, pin_id)

    def _create(
        self,
        container_index: int,
        flags: int,
        key_spec: int,
        key_size: int,
        key_data: bytes | None,
        pin_id: int,
    ) -> None:
        if flags not in (cm.CARD_CREATE_CONTAINER_KEY_GEN, cm.CARD_CREATE_CONTAINER_KEY_IMPORT):
            raise SCARD_E_INVALID_PARAMETER("flags must be KEY_GEN or KEY_IMPORT")
        if key_spec not in ks.KEY_SPECS:
            raise SCARD_E_INVALID_PARAMETER(f"undefined key spec {key_spec!r}")
        card = self.card
        if card.read_only:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card is read-only")
        generate = flags == cm.CARD_CREATE_CONTAINER_KEY_GEN
        if generate and not card.key_gen:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card cannot generate keys")
        if not generate and not card.key_import:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card cannot import keys")
        sizes = self._key_sizes(key_spec)
        index = _index(container_index)
        if index >= card.max_containers:
            raise SCARD_E_NO_KEY_CONTAINER(f"the card has {card.max_containers} containers")
        private = None
        if generate:
            if key_spec in ks.RSA_KEY_SPECS:
                bits = key_size
            else:
                bits = key_size or ks.EC_KEY_BITS[key_spec]
            _check_size(bits, sizes)
        else:
            if key_data is None:
                raise SCARD_E_INVALID_PARAMETER("KEY_IMPORT needs a key blob")
            private = blobs.import_private_key(key_data, key_spec)
            bits = blobs.key_bits(private)
            # dwKeySize: bits (the spec) or the blob's length in bytes (OpenSC), or 0.
            if key_size not in (0, bits, len(key_data)):
                raise SCARD_E_INVALID_PARAMETER(
                    f"dwKeySize {key_size} does not match the {bits}-bit key"
                )
            _check_size(bits, sizes)
        if pin_id == p.ROLE_ADMIN or pin_id == p.ROLE_EVERYONE:
            raise SCARD_E_INVALID_PARAMETER("keys cannot be bound to the admin or everyone")
        self._pin(pin_id)
        self._require_auth(p.CREATE_PIN_SET(pin_id), "creating a key")
        self._bump(containers=True)
        self.cache.drop(Category.CONTAINERS, index)
        if private is None:
            card.generate_key(index, key_spec, bits, pin_id)
        else:
            card.import_key(index, key_spec, private, pin_id)

    @api("CardGetContainerInfo")
    def get_container_info(
        self, container_index: int, flags: int = 0, info: CONTAINER_INFO | None = None
    ) -> CONTAINER_INFO:
        _flags_zero(flags)
        version = _struct_version(
            info.version if info else v.CONTAINER_INFO_CURRENT_VERSION,
            v.CONTAINER_INFO_CURRENT_VERSION,
        )
        return self._container_info(_index(container_index), version)

    def _container_info(self, index: int, version: int = 1) -> CONTAINER_INFO:
        keys = self._container_keys(index)
        if not keys:
            raise SCARD_E_NO_KEY_CONTAINER(f"container {index} does not exist or is empty")
        out = CONTAINER_INFO(version)
        for key in keys:
            blob = blobs.container_public_blob(key.public_key, key.key_spec)
            if key.key_spec in ks.SIGNATURE_SLOT_KEY_SPECS:
                out.sig_public_key = blob
            else:
                out.key_ex_public_key = blob
        return out

    # --- authentication -------------------------------------------------------------------

    def _user_role(self, user_id: str | None) -> int:
        role = p.USER_NAME_ROLES.get(user_id) if isinstance(user_id, str) else None
        if role is None:
            raise SCARD_E_INVALID_PARAMETER(f"user {user_id!r} is neither 'user' nor 'admin'")
        return role

    def _verify(self, pin_id: int, pin: bytes) -> None:
        bit = p.CREATE_PIN_SET(pin_id)
        try:
            self.card.verify_pin(pin_id, pin)
        except MinidriverError:
            # A wrong PIN de-authenticates only that PIN.
            self.authenticated &= ~bit
            raise
        self.authenticated |= bit

    def _answer(self, pin_id: int, response: bytes) -> None:
        bit = p.CREATE_PIN_SET(pin_id)
        try:
            self.card.answer_challenge(pin_id, response)
        except MinidriverError:
            self.authenticated &= ~bit
            raise
        self.authenticated |= bit

    @api("CardAuthenticatePin")
    def authenticate_pin(self, user_id: str, pin: bytes | None) -> None:
        role = self._user_role(user_id)
        if pin is None:
            raise SCARD_E_INVALID_PARAMETER("pbPin is NULL")
        info = self._pin(role)
        if info.pin_type != p.SECRET_TYPE.AlphaNumericPinType:
            raise SCARD_E_INVALID_PARAMETER(
                f"{user_id} is a {p.SECRET_TYPE(info.pin_type).name}: "
                "use CardAuthenticateEx or the challenge functions"
            )
        self._verify(role, pin)

    @api("CardGetChallenge")
    def get_challenge(self) -> bytes:
        return self._challenge(p.ROLE_ADMIN)

    def _challenge(self, pin_id: int) -> bytes:
        info = self._pin(pin_id)
        if info.pin_type != p.SECRET_TYPE.ChallengeResponsePinType:
            raise SCARD_E_INVALID_PARAMETER(f"PIN {pin_id} is not a challenge/response PIN")
        # A new challenge ends an earlier authentication of that key.
        self.authenticated &= ~p.CREATE_PIN_SET(pin_id)
        return self.card.get_challenge(pin_id)

    @api("CardAuthenticateChallenge")
    def authenticate_challenge(self, response: bytes | None) -> None:
        if not response:
            raise SCARD_E_INVALID_PARAMETER("pbResponseData is NULL")
        self._pin(p.ROLE_ADMIN)
        self._answer(p.ROLE_ADMIN, response)

    @api("CardUnblockPin")
    def unblock_pin(
        self,
        user_id: str,
        authentication_data: bytes | None,
        new_pin: bytes | None,
        retry_count: int,
        flags: int,
    ) -> None:
        if user_id != p.wszCARD_USER_USER:
            raise SCARD_E_INVALID_PARAMETER("only the user PIN can be unblocked")
        if authentication_data is None or new_pin is None:
            raise SCARD_E_INVALID_PARAMETER("NULL authentication data or new PIN")
        if flags not in (p.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE, p.CARD_AUTHENTICATE_PIN_PIN):
            raise SCARD_E_INVALID_PARAMETER("dwFlags must name challenge/response or PIN")
        target = self._pin(p.ROLE_USER)
        unblockers = [
            i
            for i in self._pin_ids()
            if p.IS_PIN_SET(target.unblock_permission, i) and i != p.ROLE_USER
        ]
        wanted = (
            p.SECRET_TYPE.ChallengeResponsePinType
            if flags == p.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE
            else p.SECRET_TYPE.AlphaNumericPinType
        )
        unblocker = next((i for i in unblockers if self.card.pin_info(i).pin_type == wanted), None)
        if unblocker is None:
            raise SCARD_E_UNSUPPORTED_FEATURE(
                "the card unblocks the user PIN only by admin challenge/response"
                if wanted == p.SECRET_TYPE.AlphaNumericPinType
                else "no challenge/response key can unblock the user PIN"
            )
        if retry_count not in UNCHANGED_RETRY_COUNTS:
            raise SCARD_E_INVALID_PARAMETER("the card cannot change the retry count")
        self._check_new_pin(p.ROLE_USER, new_pin)
        self._unblock(unblocker, authentication_data, p.ROLE_USER, new_pin)

    def _authenticate_with(self, pin_id: int, data: bytes) -> None:
        if self.card.pin_info(pin_id).pin_type == p.SECRET_TYPE.ChallengeResponsePinType:
            self._answer(pin_id, data)
        else:
            self._verify(pin_id, data)

    def _unblock(self, unblocker: int, auth_data: bytes, target: int, new_pin: bytes) -> None:
        self._authenticate_with(unblocker, auth_data)
        self._bump(pins=True)
        self.card.unblock_pin(target, new_pin)
        if not self.card.unblock_logs_out():
            self.card.deauthenticate(p.CREATE_PIN_SET(unblocker) | p.CREATE_PIN_SET(target))
        self.authenticated &= ~(p.CREATE_PIN_SET(unblocker) | p.CREATE_PIN_SET(target))
        if self.card.unblock_logs_out():
            self.authenticated = p.PIN_SET_NONE

    @api("CardChangeAuthenticator")
    def change_authenticator(
        self,
        user_id: str,
        current_authenticator: bytes | None,
        new_authenticator: bytes | None,
        retry_count: int,
        flags: int,
    ) -> None:
        role = self._user_role(user_id)
        expected = (
            p.CARD_AUTHENTICATE_PIN_PIN
            if role == p.ROLE_USER
            else p.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE
        )
        if flags != expected:
            raise SCARD_E_INVALID_PARAMETER(f"dwFlags must be {expected} for {user_id}")
        if current_authenticator is None or new_authenticator is None:
            raise SCARD_E_INVALID_PARAMETER("NULL authenticator")
        if retry_count not in UNCHANGED_RETRY_COUNTS:
            raise SCARD_E_INVALID_PARAMETER("the card cannot change the retry count")
        self._pin(role)
        self._check_new_pin(role, new_authenticator)
        self._change(role, current_authenticator, role, new_authenticator)

    def _change(self, auth_id: int, auth_data: bytes, target: int, new: bytes) -> None:
        self._authenticate_with(auth_id, auth_data)
        self._bump(pins=True)
        if self.card.pin_info(target).pin_type == p.SECRET_TYPE.ChallengeResponsePinType:
            self.card.change_challenge_key(target, new)
        else:
            self.card.change_pin(target, auth_data, new)
        self.authenticated |= p.CREATE_PIN_SET(auth_id)

    @api("CardDeauthenticate")
    def deauthenticate(self, user_id: str, flags: int = 0) -> None:
        role = self._user_role(user_id)
        _flags_zero(flags)
        out = self.card.deauthenticate(p.CREATE_PIN_SET(role))
        self.authenticated &= ~(out | p.CREATE_PIN_SET(role))

    @api("CardGetChallengeEx", since=6)
    def get_challenge_ex(self, pin_id: int, flags: int = 0) -> bytes:
        _flags_zero(flags)
        return self._challenge(pin_id)

    @api("CardAuthenticateEx", since=6)
    def authenticate_ex(self, pin_id: int, flags: int, pin_data: bytes | None) -> bytes | None:
        """Returns the session PIN for CARD_AUTHENTICATE_GENERATE_SESSION_PIN (and for external
        PINs), else None."""
        if not isinstance(pin_id, int) or pin_id == p.ROLE_EVERYONE or pin_id >= p.MAX_PINS:
            raise SCARD_E_INVALID_PARAMETER(f"PinId {pin_id!r}")
        known = (
            p.CARD_AUTHENTICATE_GENERATE_SESSION_PIN
            | p.CARD_AUTHENTICATE_SESSION_PIN
            | p.CARD_PIN_SILENT_CONTEXT
        )
        session_flags = flags & (
            p.CARD_AUTHENTICATE_GENERATE_SESSION_PIN | p.CARD_AUTHENTICATE_SESSION_PIN
        )
        if flags & ~known or session_flags == (
            p.CARD_AUTHENTICATE_GENERATE_SESSION_PIN | p.CARD_AUTHENTICATE_SESSION_PIN
        ):
            raise SCARD_E_INVALID_PARAMETER(f"dwFlags 0x{flags:X}")
        info = self._pin(pin_id)
        if info.pin_purpose == p.SECRET_PURPOSE.UnblockOnlyPin:
            raise SCARD_E_INVALID_PARAMETER(f"PIN {pin_id} only unblocks")
        bit = p.CREATE_PIN_SET(pin_id)
        if info.pin_type == p.SECRET_TYPE.EmptyPinType:
            self.authenticated |= bit
            return None
        if info.pin_type == p.SECRET_TYPE.ExternalPinType and pin_data is None:
            if flags & p.CARD_PIN_SILENT_CONTEXT:
                raise SCARD_E_INVALID_PARAMETER(
                    "an external PIN cannot be collected in a silent context"
                )
            session = self.card.verify_external(pin_id)
            self.authenticated |= bit
            return session
        if pin_data is None:
            raise SCARD_E_INVALID_PARAMETER("pbPinData is NULL")
        if info.pin_type == p.SECRET_TYPE.ChallengeResponsePinType:
            if session_flags:
                raise SCARD_E_INVALID_PARAMETER("a challenge/response PIN has no session PIN")
            self._answer(pin_id, pin_data)
            return None
        if session_flags == p.CARD_AUTHENTICATE_GENERATE_SESSION_PIN:
            # Verifies the PIN but must not leave the card authenticated.
            return self.card.generate_session_pin(pin_id, pin_data)
        if session_flags == p.CARD_AUTHENTICATE_SESSION_PIN:
            try:
                self.card.verify_session_pin(pin_id, pin_data)
            except SCARD_W_WRONG_CHV:
                self.authenticated &= ~bit
                raise
            self.authenticated |= bit
            return None
        self._verify(pin_id, pin_data)
        return None

    @api("CardChangeAuthenticatorEx", since=6)
    def change_authenticator_ex(
        self,
        flags: int,
        authenticating_pin_id: int,
        authenticating_pin_data: bytes | None,
        target_pin_id: int,
        target_data: bytes | None,
        retry_count: int,
    ) -> None:
        action = flags & ~p.CARD_PIN_SILENT_CONTEXT
        if action not in (p.PIN_CHANGE_FLAG_UNBLOCK, p.PIN_CHANGE_FLAG_CHANGEPIN):
            raise SCARD_E_INVALID_PARAMETER(f"dwFlags 0x{flags:X}")
        for pin_id in (authenticating_pin_id, target_pin_id):
            if not isinstance(pin_id, int) or not 1 <= pin_id < p.MAX_PINS:
                raise SCARD_E_INVALID_PARAMETER(f"PinId {pin_id!r}")
        if authenticating_pin_data is None or target_data is None:
            raise SCARD_E_INVALID_PARAMETER("NULL PIN data")
        if retry_count not in UNCHANGED_RETRY_COUNTS:
            raise SCARD_E_INVALID_PARAMETER("the card cannot change the retry count")
        target = self._pin(target_pin_id)
        self._pin(authenticating_pin_id)
        if action == p.PIN_CHANGE_FLAG_CHANGEPIN:
            if authenticating_pin_id != target_pin_id and not p.IS_PIN_SET(
                target.change_permission, authenticating_pin_id
            ):
                raise SCARD_E_INVALID_PARAMETER(
                    f"PIN {authenticating_pin_id} may not change PIN {target_pin_id}"
                )
            if authenticating_pin_id != target_pin_id:
                raise SCARD_E_UNSUPPORTED_FEATURE(
                    "this card changes a PIN only with the PIN itself"
                )
            self._check_new_pin(target_pin_id, target_data)
            self._change(authenticating_pin_id, authenticating_pin_data, target_pin_id, target_data)
            return
        if authenticating_pin_id == target_pin_id or not p.IS_PIN_SET(
            target.unblock_permission, authenticating_pin_id
        ):
            raise SCARD_E_INVALID_PARAMETER(
                f"PIN {authenticating_pin_id} may not unblock PIN {target_pin_id}"
            )
        self._check_new_pin(target_pin_id, target_data)
        self._unblock(authenticating_pin_id, authenticating_pin_data, target_pin_id, target_data)

    @api("CardDeauthenticateEx", since=6)
    def deauthenticate_ex(self, pin_id: int, flags: int = 0) -> None:
        """`pin_id` is a PIN_SET (a bit per PIN), as in the specification."""
        _flags_zero(flags)
        if not isinstance(pin_id, int) or pin_id & ~p.PIN_SET_ALL_ROLES:
            raise SCARD_E_INVALID_PARAMETER(f"PIN set 0x{pin_id:X}")
        pin_set = pin_id & ~p.CREATE_PIN_SET(p.ROLE_EVERYONE)
        if not pin_set:
            return
        out = self.card.deauthenticate(pin_set)
        self.authenticated &= ~(out | pin_set)

    # --- properties -----------------------------------------------------------------------

    @api("CardGetProperty", since=6)
    def get_property(self, property_name: str, cb_data: int | None = None, flags: int = 0) -> bytes:
        if not isinstance(property_name, str):
            raise SCARD_E_INVALID_PARAMETER("wszProperty is NULL")
        data = self._property(property_name, flags)
        return _fit(data, cb_data)

    def _property(self, name: str, flags: int) -> bytes:
        card = self.card
        uses_flags = {
            pr.CP_CARD_KEYSIZES,
            pr.CP_CARD_PIN_INFO,
            pr.CP_CARD_PIN_STRENGTH_VERIFY,
            pr.CP_CARD_PIN_STRENGTH_CHANGE,
            pr.CP_CARD_PIN_STRENGTH_UNBLOCK,
            pr.CP_ENUM_ALGORITHMS,
            pr.CP_PADDING_SCHEMES,
        }
        if name not in pr.CARD_PROPERTIES:
            raise SCARD_E_INVALID_PARAMETER(f"unknown property {name!r}")
        if name not in uses_flags:
            _flags_zero(flags)
        if name == pr.CP_CARD_FREE_SPACE:
            return self._free_space().to_bytes()
        if name == pr.CP_CARD_CAPABILITIES:
            return CARD_CAPABILITIES(1, card.certificate_compression, card.key_gen).to_bytes()
        if name == pr.CP_CARD_KEYSIZES:
            return self._key_sizes(flags).to_bytes()
        if name == pr.CP_CARD_READ_ONLY:
            return _dword(int(card.read_only))
        if name == pr.CP_CARD_CACHE_MODE:
            return _dword(_cache_mode(card))
        if name == pr.CP_SUPPORTS_WIN_X509_ENROLLMENT:
            return _dword(int(not card.read_only))
        if name == pr.CP_CARD_GUID:
            return self._read(None, f.szCARD_IDENTIFIER_FILE)
        if name == pr.CP_CARD_SERIAL_NO:
            return card.serial_number()
        if name == pr.CP_CARD_PIN_INFO:
            return self._pin(flags).to_bytes()
        if name == pr.CP_CARD_LIST_PINS:
            return _dword(card.pin_set)
        if name == pr.CP_CARD_AUTHENTICATED_STATE:
            return _dword(self.authenticated)
        if name in (
            pr.CP_CARD_PIN_STRENGTH_VERIFY,
            pr.CP_CARD_PIN_STRENGTH_CHANGE,
            pr.CP_CARD_PIN_STRENGTH_UNBLOCK,
        ):
            self._pin(flags)
            strength = p.CARD_PIN_STRENGTH_PLAINTEXT
            if name == pr.CP_CARD_PIN_STRENGTH_VERIFY and card.session_pins:
                strength |= p.CARD_PIN_STRENGTH_SESSION_PIN
            return _dword(strength)
        if name in (pr.CP_PARENT_WINDOW, pr.CP_PIN_CONTEXT_STRING):
            raise SCARD_E_INVALID_PARAMETER(f"{name!r} can only be set")
        if name == pr.CP_KEY_IMPORT_SUPPORT:
            return _dword(card.key_import_support)
        if name == pr.CP_ENUM_ALGORITHMS:
            if flags == ski.CARD_CIPHER_OPERATION:
                return multistring(sorted(symmetric.ALGORITHMS), wide=True)
            if flags == ski.CARD_ASYMMETRIC_OPERATION:
                return multistring(self._asymmetric_algorithms(), wide=True)
            raise SCARD_E_INVALID_PARAMETER(
                "dwFlags must be CARD_CIPHER_OPERATION or CARD_ASYMMETRIC_OPERATION"
            )
        if name == pr.CP_PADDING_SCHEMES:
            if flags == ski.CARD_CIPHER_OPERATION:
                return _dword(ski.CARD_BLOCK_PADDING)
            if flags == ski.CARD_ASYMMETRIC_OPERATION:
                return _dword(self._padding_schemes())
            raise SCARD_E_INVALID_PARAMETER(
                "dwFlags must be CARD_CIPHER_OPERATION or CARD_ASYMMETRIC_OPERATION"
            )
        # CP_CHAINING_MODES
        return multistring([ski.CARD_CHAIN_MODE_CBC], wide=True)

    def _asymmetric_algorithms(self) -> list[str]:
        names = []
        if self.card.key_sizes(ks.AT_KEYEXCHANGE) is not None:
            names.append("RSA")
        for spec, name in (
            (ks.AT_ECDSA_P256, "ECDSA_P256"),
            (ks.AT_ECDSA_P384, "ECDSA_P384"),
            (ks.AT_ECDSA_P521, "ECDSA_P521"),
            (ks.AT_ECDHE_P256, "ECDH_P256"),
            (ks.AT_ECDHE_P384, "ECDH_P384"),
            (ks.AT_ECDHE_P521, "ECDH_P521"),
        ):
            if self.card.key_sizes(spec) is not None:
                names.append(name)
        return names

    def _padding_schemes(self) -> int:
        modes = self.card.sign_modes()
        schemes = 0
        if SignMode.PKCS1 in modes or SignMode.RAW in modes:
            schemes |= c.CARD_PADDING_PKCS1
        if SignMode.RAW in modes:
            schemes |= c.CARD_PADDING_PSS | c.CARD_PADDING_NONE
        if DecryptMode.RAW in self.card.decrypt_modes():
            schemes |= c.CARD_PADDING_OAEP | c.CARD_PADDING_PKCS1 | c.CARD_PADDING_NONE
        return schemes

    @api("CardSetProperty", since=6)
    def set_property(self, property_name: str, data: bytes | None, flags: int = 0) -> None:
        if not isinstance(property_name, str):
            raise SCARD_E_INVALID_PARAMETER("wszProperty is NULL")
        card = self.card
        if property_name == pr.CP_PARENT_WINDOW:
            _flags_zero(flags)
            if data is not None and len(data) not in (4, 8):
                raise SCARD_E_INVALID_PARAMETER("CP_PARENT_WINDOW takes an HWND")
            self.parent_window = None if data is None else int.from_bytes(data, "little")
            return
        if property_name == pr.CP_PIN_CONTEXT_STRING:
            _flags_zero(flags)
            self.pin_context_string = None if data is None else from_wstr(data + b"\0\0")
            return
        read_only_properties = {
            pr.CP_CARD_FREE_SPACE,
            pr.CP_CARD_CAPABILITIES,
            pr.CP_CARD_KEYSIZES,
            pr.CP_CARD_LIST_PINS,
            pr.CP_CARD_AUTHENTICATED_STATE,
            pr.CP_KEY_IMPORT_SUPPORT,
            pr.CP_ENUM_ALGORITHMS,
            pr.CP_PADDING_SCHEMES,
            pr.CP_CHAINING_MODES,
        }
        if property_name not in pr.CARD_PROPERTIES or property_name in read_only_properties:
            raise SCARD_E_UNSUPPORTED_FEATURE(f"property {property_name!r} cannot be set")
        if card.read_only or property_name != pr.CP_CARD_GUID:
            # The GIDS card keeps these fixed (see docs/minidriver-api.md).
            raise SCARD_E_UNSUPPORTED_FEATURE(f"this card cannot change {property_name!r}")
        _flags_zero(flags)
        if data is None or len(data) != 16:
            raise SCARD_E_INVALID_PARAMETER("CP_CARD_GUID is 16 bytes")
        self._require_auth(ADMIN, "setting the card identifier")
        self._write(None, f.szCARD_IDENTIFIER_FILE, data)

    @api("CardGetContainerProperty", since=6)
    def get_container_property(
        self, container_index: int, property_name: str, cb_data: int | None = None, flags: int = 0
    ) -> bytes | CONTAINER_INFO:
        """CCP_CONTAINER_INFO answers the CONTAINER_INFO itself (its pointers have no meaning
        in Python); the DWORD / BYTE properties answer their exact bytes."""
        _flags_zero(flags)
        known = (pr.CCP_CONTAINER_INFO, pr.CCP_PIN_IDENTIFIER, pr.CCP_ASSOCIATED_ECDH_KEY)
        if property_name not in known:
            raise SCARD_E_INVALID_PARAMETER(f"unknown container property {property_name!r}")
        index = _index(container_index)
        keys = self._container_keys(index)
        if not keys:
            raise SCARD_E_NO_KEY_CONTAINER(f"container {index} does not exist or is empty")
        if property_name == pr.CCP_CONTAINER_INFO:
            if cb_data is not None and cb_data < CONTAINER_INFO.size():
                err = ERROR_INSUFFICIENT_BUFFER(
                    f"CONTAINER_INFO needs {CONTAINER_INFO.size()} bytes"
                )
                err.required_size = CONTAINER_INFO.size()
                raise err
            return self._container_info(index)
        if property_name == pr.CCP_PIN_IDENTIFIER:
            return _fit(_dword(keys[0].pin_id), cb_data)
        raise SCARD_E_NO_KEY_CONTAINER(f"container {index} has no associated ECDH key")

    @api("CardSetContainerProperty", since=6)
    def set_container_property(
        self, container_index: int, property_name: str, data: bytes | None, flags: int = 0
    ) -> None:
        _flags_zero(flags)
        if property_name == pr.CCP_CONTAINER_INFO:
            raise SCARD_E_INVALID_PARAMETER("CCP_CONTAINER_INFO is read-only")
        if property_name == pr.CCP_ASSOCIATED_ECDH_KEY:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card has no ECDH keys to associate")
        if property_name != pr.CCP_PIN_IDENTIFIER:
            raise SCARD_E_UNSUPPORTED_FEATURE(f"unknown container property {property_name!r}")
        if data is None or len(data) != 4:
            raise SCARD_E_INVALID_PARAMETER("CCP_PIN_IDENTIFIER is a DWORD")
        pin_id = int.from_bytes(data, "little")
        if pin_id in (p.ROLE_ADMIN, p.ROLE_EVERYONE):
            raise SCARD_E_INVALID_PARAMETER("a container cannot be bound to the admin or everyone")
        self._pin(pin_id)
        index = _index(container_index)
        keys = self._container_keys(index)
        if not keys:
            raise SCARD_E_NO_KEY_CONTAINER(f"container {index} does not exist or is empty")
        self._require_auth(USER | ADMIN | p.CREATE_PIN_SET(keys[0].pin_id), "binding a container")
        if pin_id != keys[0].pin_id:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card fixes a key's PIN when it is created")

    # --- file system ----------------------------------------------------------------------

    def _read(self, directory: str | None, name: str) -> bytes:
        card = self.card
        if directory is None and name in (f.szCACHE_FILE, f.szCARD_IDENTIFIER_FILE):
            return card.read_file(directory, name)  # never from a cache (spec 3.6)
        self._fresh()
        key = (directory, name)
        cached = self.cache.get(Category.FILES, key)
        if cached is not None:
            return bytes(cached)
        data = card.read_file(directory, name)
        if card.file_ac(directory, name) in EVERYONE_READABLE:
            self.cache.put(Category.FILES, key, data)
        return data

    def _write(self, directory: str | None, name: str, data: bytes) -> None:
        card = self.card
        card.file_ac(directory, name)  # FILE_NOT_FOUND / DIR_NOT_FOUND before any change
        if directory is None and name == f.szCACHE_FILE:
            card.write_file(directory, name, data)
            if len(data) >= CARD_CACHE_FILE_FORMAT.SIZE:
                self._fresh_checked = False
                self._fresh()
            return
        self._bump(files=True)
        card.write_file(directory, name, data)
        if card.file_ac(directory, name) in EVERYONE_READABLE:
            self.cache.put(Category.FILES, (directory, name), bytes(data))
        else:
            self.cache.drop(Category.FILES, (directory, name))

    def _exists(self, directory: str | None, name: str) -> bool:
        try:
            return name in self.card.files(directory)
        except SCARD_E_DIR_NOT_FOUND:
            return False

    def _may_create_in(self, directory: str | None) -> None:
        if directory is None:
            self._require_auth(USER | ADMIN, "creating a file in the root")
            return
        ac = self.card.directory_ac(directory)
        self._require_auth(
            ADMIN if ac == f.AdminCreateDeleteDirAc else USER | ADMIN, f"changing {directory}"
        )

    @api("CardCreateDirectory")
    def create_directory(self, directory_name: str, access_condition: int) -> None:
        name = _name(directory_name, "directory")
        if access_condition not in (f.UserCreateDeleteDirAc, f.AdminCreateDeleteDirAc):
            raise SCARD_E_INVALID_PARAMETER(f"directory access condition {access_condition!r}")
        card = self.card
        if card.read_only:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card is read-only")
        if name in card.directories() or self._exists(None, name):
            raise ERROR_FILE_EXISTS(f"{name!r} already exists")
        self._require_auth(
            ADMIN if access_condition == f.AdminCreateDeleteDirAc else USER | ADMIN,
            "creating a directory",
        )
        self._bump(files=True)
        card.create_directory(name, access_condition)

    @api("CardDeleteDirectory")
    def delete_directory(self, directory_name: str) -> None:
        name = _name(directory_name, "directory")
        card = self.card
        if card.read_only:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card is read-only")
        if name not in card.directories():
            raise SCARD_E_DIR_NOT_FOUND(f"no directory {name!r}")
        if card.files(name):
            raise ERROR_DIR_NOT_EMPTY(f"directory {name!r} still holds files")
        self._may_create_in(name)
        self._bump(files=True)
        card.delete_directory(name)

    @api("CardCreateFile")
    def create_file(
        self,
        directory_name: str | None,
        file_name: str,
        initial_creation_size: int,
        access_condition: int,
    ) -> None:
        directory = _dir(directory_name)
        name = _name(file_name)
        if access_condition not in VALID_FILE_ACS:
            raise SCARD_E_INVALID_PARAMETER(f"file access condition {access_condition!r}")
        card = self.card
        if card.read_only:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card is read-only")
        free = card.free_bytes()
        if free != cm.CARD_DATA_VALUE_UNKNOWN and initial_creation_size > free:
            raise SCARD_E_INVALID_PARAMETER("initial size larger than the free space")
        files = card.files(directory)  # SCARD_E_DIR_NOT_FOUND
        if name in files or (directory is None and name in card.directories()):
            raise ERROR_FILE_EXISTS(f"{name!r} already exists")
        self._may_create_in(directory)
        self._bump(files=True)
        card.create_file(directory, name, access_condition)
        self.cache.drop(Category.FILES, (directory, name))

    @api("CardReadFile")
    def read_file(self, directory_name: str | None, file_name: str, flags: int = 0) -> bytes:
        _flags_zero(flags)
        return self._read(_dir(directory_name), _name(file_name))

    @api("CardWriteFile")
    def write_file(
        self, directory_name: str | None, file_name: str, flags: int, data: bytes | None
    ) -> None:
        _flags_zero(flags)
        directory, name = _dir(directory_name), _name(file_name)
        if data is None:
            raise SCARD_E_INVALID_PARAMETER("pbData is NULL")
        if self.card.read_only:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card is read-only")
        self._write(directory, name, bytes(data))

    @api("CardDeleteFile")
    def delete_file(self, directory_name: str | None, file_name: str, flags: int = 0) -> None:
        _flags_zero(flags)
        directory, name = _dir(directory_name), _name(file_name)
        card = self.card
        if card.read_only:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card is read-only")
        card.file_ac(directory, name)  # not found errors first
        self._bump(files=True)
        card.delete_file(directory, name)
        self.cache.drop(Category.FILES, (directory, name))

    @api("CardEnumFiles")
    def enum_files(self, directory_name: str | None, flags: int = 0) -> list[str]:
        """The names; `structures.multistring(names)` is the exact pmszFileNames buffer."""
        _flags_zero(flags)
        names = self.card.files(_dir(directory_name))
        if not names:
            raise SCARD_E_FILE_NOT_FOUND("the directory holds no files")
        return names

    @api("CardGetFileInfo")
    def get_file_info(
        self, directory_name: str | None, file_name: str, info: CARD_FILE_INFO | None = None
    ) -> CARD_FILE_INFO:
        version = _struct_version(
            info.version if info else v.CARD_FILE_INFO_CURRENT_VERSION,
            v.CARD_FILE_INFO_CURRENT_VERSION,
        )
        directory, name = _dir(directory_name), _name(file_name)
        ac = self.card.file_ac(directory, name)
        if ac == f.UserWriteExecuteAc:
            raise SCARD_W_SECURITY_VIOLATION("nobody may read a UserWriteExecuteAc file")
        size = len(self._read(directory, name))  # the card checks the read right
        return CARD_FILE_INFO(version, size, ac)

    # --- signing and decryption -----------------------------------------------------------

    @api("CardSignData")
    def sign_data(self, info: CARD_SIGNING_INFO | None) -> CARD_SIGNING_INFO:
        """Returns `info` with signed_data (RSA: little-endian; ECDSA: r || s big-endian) and
        signed_data_length set; with CARD_BUFFER_SIZE_ONLY only the length."""
        if info is None or info.data is None:
            raise SCARD_E_INVALID_PARAMETER("NULL signing info or data")
        if info.version not in (
            v.CARD_SIGNING_INFO_BASIC_VERSION,
            v.CARD_SIGNING_INFO_CURRENT_VERSION,
        ):
            raise ERROR_REVISION_MISMATCH(f"CARD_SIGNING_INFO version {info.version}")
        present = bool(info.signing_flags & c.CARD_PADDING_INFO_PRESENT)
        if present and info.version != v.CARD_SIGNING_INFO_CURRENT_VERSION:
            raise ERROR_REVISION_MISMATCH("padding info needs a version 2 CARD_SIGNING_INFO")
        if (
            self.strict_signing_version
            and self.version == v.CARD_DATA_CURRENT_VERSION
            and info.version < 2
        ):
            raise ERROR_REVISION_MISMATCH("a v7 context takes version 2 signing info")
        if info.signing_flags & ~ALLOWED_SIGNING_FLAGS:
            raise SCARD_E_INVALID_PARAMETER(f"dwSigningFlags 0x{info.signing_flags:X}")
        if info.key_spec not in ks.KEY_SPECS:
            raise SCARD_E_INVALID_PARAMETER(f"undefined key spec {info.key_spec!r}")
        if info.key_spec in ks.ECDH_KEY_SPECS:
            raise SCARD_E_UNSUPPORTED_FEATURE("ECDH keys cannot sign")
        key = self._key(_index(info.container_index), info.key_spec)
        size_only = bool(info.signing_flags & c.CARD_BUFFER_SIZE_ONLY)
        if isinstance(key.public_key, ec.EllipticCurvePublicKey):
            length = 2 * blobs.key_spec_curve(info.key_spec).size
            if size_only:
                return dataclasses.replace(info, signed_data=None, signed_data_length=length)
            sig = self.card.sign(info.container_index, info.key_spec, SignMode.ECDSA, info.data)
            return dataclasses.replace(info, signed_data=sig, signed_data_length=len(sig))
        assert isinstance(key.public_key, rsa.RSAPublicKey)
        k = (key.public_key.key_size + 7) // 8
        mode, payload = self._rsa_sign_input(info, present, key.public_key.key_size)
        if size_only:
            return dataclasses.replace(info, signed_data=None, signed_data_length=k)
        modes = self.card.sign_modes()
        if mode == SignMode.PKCS1 and SignMode.PKCS1 not in modes:
            mode, payload = SignMode.RAW, padding.pkcs1_type1(payload, k)
        if mode not in modes:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card cannot do this signature")
        sig = self.card.sign(info.container_index, info.key_spec, mode, payload)
        sig = sig.rjust(k, b"\0")[::-1]  # CAPI order: little-endian
        return dataclasses.replace(info, signed_data=sig, signed_data_length=len(sig))

    def _rsa_sign_input(
        self, info: CARD_SIGNING_INFO, present: bool, bits: int
    ) -> tuple[SignMode, bytes]:
        data = info.data or b""
        k = (bits + 7) // 8
        if not present:
            if info.hash_alg == 0:
                return SignMode.PKCS1, data
            if info.hash_alg not in padding.CALG_HASHES:
                raise SCARD_E_UNSUPPORTED_FEATURE(f"hash algorithm 0x{info.hash_alg:X}")
            hash_name = padding.CALG_HASHES[info.hash_alg]
            if info.hash_alg == c.CALG_SSL3_SHAMD5 and len(data) != padding.SSL3_SHAMD5_LENGTH:
                raise SCARD_E_INVALID_PARAMETER("CALG_SSL3_SHAMD5 signs a 36-byte value")
            if info.signing_flags & c.CRYPT_NOHASHOID:
                hash_name = None
            return SignMode.PKCS1, padding.digest_info(hash_name, data)
        if info.padding_type == c.CARD_PADDING_PKCS1:
            pad = info.padding_info
            if pad is not None and not isinstance(pad, BCRYPT_PKCS1_PADDING_INFO):
                raise SCARD_E_INVALID_PARAMETER("PKCS#1 padding takes BCRYPT_PKCS1_PADDING_INFO")
            return SignMode.PKCS1, padding.digest_info(pad.alg_id if pad else None, data)
        if info.padding_type == c.CARD_PADDING_PSS:
            pss = info.padding_info
            if not isinstance(pss, BCRYPT_PSS_PADDING_INFO) or pss.alg_id is None:
                raise SCARD_E_INVALID_PARAMETER(
                    "PSS padding takes BCRYPT_PSS_PADDING_INFO with a hash"
                )
            return SignMode.RAW, padding.pss_encode(pss.alg_id, data, pss.salt_length, bits)
        if info.padding_type == c.CARD_PADDING_NONE:
            if len(data) != k:
                raise SCARD_E_INVALID_PARAMETER(f"CARD_PADDING_NONE signs a {k}-byte block")
            return SignMode.RAW, data
        if info.padding_type == c.CARD_PADDING_OAEP:
            raise SCARD_E_UNSUPPORTED_FEATURE("OAEP is not a signature padding")
        raise SCARD_E_INVALID_PARAMETER(f"unknown padding type 0x{info.padding_type:X}")

    @api("CardRSADecrypt")
    def rsa_decrypt(self, info: CARD_RSA_DECRYPT_INFO | None) -> CARD_RSA_DECRYPT_INFO:
        """Returns `info` with `data` replaced: the raw block or, when padding is removed, the
        plaintext; both little-endian, as the CSP receives them."""
        if info is None or info.data is None:
            raise SCARD_E_INVALID_PARAMETER("NULL decrypt info or data")
        if info.version not in (
            v.CARD_RSA_KEY_DECRYPT_INFO_VERSION_ONE,
            v.CARD_RSA_KEY_DECRYPT_INFO_VERSION_TWO,
        ):
            raise ERROR_REVISION_MISMATCH(f"CARD_RSA_DECRYPT_INFO version {info.version}")
        if (
            info.version == v.CARD_RSA_KEY_DECRYPT_INFO_VERSION_ONE
            and self.version == v.CARD_DATA_CURRENT_VERSION
        ):
            raise ERROR_REVISION_MISMATCH("a v7 context takes version 2 decrypt info")
        if info.key_spec not in ks.RSA_KEY_SPECS:
            raise SCARD_E_INVALID_PARAMETER("dwKeySpec must be AT_KEYEXCHANGE or AT_SIGNATURE")
        two = info.version == v.CARD_RSA_KEY_DECRYPT_INFO_VERSION_TWO
        pad_type = info.padding_type if two else c.CARD_PADDING_NONE
        if pad_type not in (c.CARD_PADDING_NONE, c.CARD_PADDING_PKCS1, c.CARD_PADDING_OAEP):
            raise SCARD_E_INVALID_PARAMETER(
                f"padding type 0x{pad_type:X} is not a decryption padding"
            )
        oaep = info.padding_info or BCRYPT_OAEP_PADDING_INFO(c.BCRYPT_SHA1_ALGORITHM)
        index = _index(info.container_index)
        keys = self._container_keys(index)
        key = next((k for k in keys if k.key_spec == info.key_spec), None)
        if key is None or not isinstance(key.public_key, rsa.RSAPublicKey):
            raise SCARD_E_NO_KEY_CONTAINER(
                f"container {index} has no RSA key of spec {info.key_spec}"
            )
        k = (key.public_key.key_size + 7) // 8
        if len(info.data) < k:
            raise SCARD_E_INSUFFICIENT_BUFFER(f"the ciphertext buffer must be {k} bytes")
        if len(info.data) > k:
            raise SCARD_E_INVALID_PARAMETER(f"the ciphertext must be {k} bytes")
        ciphertext = info.data[::-1]
        card_modes = self.card.decrypt_modes()
        on_card = None
        if pad_type == c.CARD_PADDING_PKCS1 and DecryptMode.PKCS1 in card_modes:
            on_card = DecryptMode.PKCS1
        elif (
            pad_type == c.CARD_PADDING_OAEP
            and DecryptMode.OAEP_SHA1 in card_modes
            and (oaep.alg_id or c.BCRYPT_SHA1_ALGORITHM) == c.BCRYPT_SHA1_ALGORITHM
            and not oaep.label
        ):
            on_card = DecryptMode.OAEP_SHA1
        if on_card is not None:
            plain = self.card.decrypt(index, info.key_spec, on_card, ciphertext)
            return dataclasses.replace(info, data=plain[::-1])
        if DecryptMode.RAW not in card_modes:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card cannot remove this padding nor decrypt raw")
        block = self.card.decrypt(index, info.key_spec, DecryptMode.RAW, ciphertext).rjust(
            k, b"\0"
        )[::-1]
        if pad_type == c.CARD_PADDING_NONE:
            return dataclasses.replace(info, data=block)
        # The caller's pfnCspUnpadData removes what the card could not.
        plain = self.csp_unpad_data(dataclasses.replace(info, data=block))
        return dataclasses.replace(info, data=plain)

    # --- ECDH -----------------------------------------------------------------------------

    def _require_ecdh(self) -> None:
        if not self.card.can_ecdh():
            raise SCARD_E_UNSUPPORTED_FEATURE("the card has no ECDH keys (RSA only)")

    @api("CardConstructDHAgreement")
    def construct_dh_agreement(self, info: CARD_DH_AGREEMENT_INFO | None) -> CARD_DH_AGREEMENT_INFO:
        if info is None:
            raise SCARD_E_INVALID_PARAMETER("NULL agreement info")
        self._require_ecdh()
        if info.version != v.CARD_DH_AGREEMENT_INFO_VERSION:
            raise ERROR_REVISION_MISMATCH(f"CARD_DH_AGREEMENT_INFO version {info.version}")
        _flags_zero(info.flags)
        if info.public_key is None:
            raise SCARD_E_INVALID_PARAMETER("pbPublicKey is NULL")
        index = _index(info.container_index)
        keys = self._container_keys(index)
        if not keys:
            raise SCARD_E_NO_KEY_CONTAINER(f"container {index} does not exist or is empty")
        key = next((k for k in keys if k.key_spec in ks.ECDH_KEY_SPECS), None)
        if key is None:
            raise SCARD_E_INVALID_PARAMETER(f"container {index} holds no ECDH key")
        peer, ecdsa = blobs.parse_ecc_public_blob(info.public_key)
        assert isinstance(key.public_key, ec.EllipticCurvePublicKey)
        if ecdsa or peer.curve.key_size != key.public_key.curve.key_size:
            raise SCARD_E_INVALID_PARAMETER("the peer key is not an ECDH key on the same curve")
        slot = next((i for i in range(256) if i not in self._agreements), None)
        if slot is None:
            raise SCARD_E_NO_MEMORY("no room for another agreement")
        z = self.card.ecdh(index, key.key_spec, peer)
        self._agreements[slot] = (key.public_key.curve.key_size, z)
        return dataclasses.replace(info, secret_agreement_index=slot)

    @api("CardDeriveKey", since=5)
    def derive_key(self, info: CARD_DERIVE_KEY | None) -> CARD_DERIVE_KEY:
        if info is None:
            raise SCARD_E_INVALID_PARAMETER("NULL derive-key info")
        self._require_ecdh()
        if info.version not in (v.CARD_DERIVE_KEY_VERSION, v.CARD_DERIVE_KEY_VERSION_TWO):
            raise ERROR_REVISION_MISMATCH(f"CARD_DERIVE_KEY version {info.version}")
        allowed = c.KDF_USE_SECRET_AS_HMAC_KEY_FLAG | c.CARD_BUFFER_SIZE_ONLY
        if info.version == v.CARD_DERIVE_KEY_VERSION_TWO:
            allowed |= c.CARD_RETURN_KEY_HANDLE
        if info.flags & ~allowed:
            raise SCARD_E_INVALID_PARAMETER(f"dwFlags 0x{info.flags:X}")
        agreement = self._agreements.get(info.secret_agreement_index)
        if agreement is None:
            raise SCARD_E_INVALID_PARAMETER(f"no agreement {info.secret_agreement_index}")
        params = kdf.Parameters(info.parameter_list)
        kdf.check(info.kdf, params)
        assert info.kdf is not None
        z = agreement[1]
        handle = params.first(c.KDF_SECRET_HANDLE)
        if handle is not None:
            other = self._agreements.get(self.csp_get_dh_agreement(handle))
            if other is None:
                raise SCARD_E_INVALID_PARAMETER("KDF_SECRET_HANDLE names no agreement of this card")
            z = other[1]
        key_bits = info.key_len if info.version == v.CARD_DERIVE_KEY_VERSION_TWO else 0
        if info.flags & c.CARD_BUFFER_SIZE_ONLY:
            length = kdf.output_length(info.kdf, params, key_bits) or len(z)
            return dataclasses.replace(info, derived_key=None, derived_key_length=length)
        derived = kdf.derive(info.kdf, z, params, info.flags, key_bits)
        if info.flags & c.CARD_RETURN_KEY_HANDLE:
            algorithm = symmetric.algorithm(info.alg_id)
            size = (info.key_len or algorithm.key_sizes.default_bitlen) // 8
            if len(derived) < size:
                raise SCARD_E_INVALID_PARAMETER("the KDF gives fewer bytes than the key needs")
            handle_value = self.keys.add(symmetric.SymmetricKey(algorithm, derived[:size]))
            return dataclasses.replace(
                info, derived_key=None, derived_key_length=0, key=handle_value
            )
        return dataclasses.replace(info, derived_key=derived, derived_key_length=len(derived))

    @api("CardDestroyDHAgreement", since=5)
    def destroy_dh_agreement(self, secret_agreement_index: int, flags: int = 0) -> None:
        self._require_ecdh()
        _flags_zero(flags)
        if self._agreements.pop(secret_agreement_index, None) is None:
            raise SCARD_E_INVALID_PARAMETER(f"no agreement {secret_agreement_index}")

    @api("CspGetDHAgreement", since=5)
    def csp_get_dh_agreement(self, secret_agreement: Any, flags: int = 0) -> int:
        """pfnCspGetDHAgreement: the caller's callback when set; otherwise a secret handle of
        this context is its agreement index (an int or its little-endian bytes)."""
        _flags_zero(flags)
        if self.csp_get_dh_agreement_callback is not None:
            return self.csp_get_dh_agreement_callback(secret_agreement)
        index = (
            int.from_bytes(secret_agreement, "little")
            if isinstance(secret_agreement, bytes)
            else secret_agreement
        )
        if not isinstance(index, int) or index not in self._agreements:
            raise SCARD_E_INVALID_PARAMETER("the secret does not live on this card")
        return index

    # --- secure key injection (v7) --------------------------------------------------------

    @api("CardGetSharedKeyHandle", since=7, no_card=True)
    def get_shared_key_handle(self, input_data: bytes | None = None) -> tuple[bytes | None, int]:
        raise SCARD_E_UNSUPPORTED_FEATURE("the card shares no symmetric key with the host")

    @api("CardDestroyKey", since=7, no_card=True)
    def destroy_key(self, key: int) -> None:
        self.keys.destroy(key)

    @api("CardGetAlgorithmProperty", since=7, no_card=True)
    def get_algorithm_property(
        self, algorithm_id: str, property_name: str, cb_data: int | None = None, flags: int = 0
    ) -> bytes:
        _flags_zero(flags)
        algorithm = symmetric.algorithm(algorithm_id)
        if property_name != pr.CP_CARD_KEYSIZES:
            raise SCARD_E_INVALID_PARAMETER(f"unknown algorithm property {property_name!r}")
        return _fit(algorithm.key_sizes.to_bytes(), cb_data)

    @api("CardGetKeyProperty", since=7, no_card=True)
    def get_key_property(
        self, key: int, property_name: str, cb_data: int | None = None, flags: int = 0
    ) -> bytes:
        _flags_zero(flags)
        found = self.keys.get(key)
        if property_name != pr.CKP_BLOCK_LENGTH:
            raise SCARD_E_INVALID_PARAMETER(f"unknown key property {property_name!r}")
        return _fit(_dword(found.algorithm.block_length), cb_data)

    @api("CardSetKeyProperty", since=7, no_card=True)
    def set_key_property(
        self, key: int, property_name: str, data: bytes | None, flags: int = 0
    ) -> None:
        _flags_zero(flags)
        found = self.keys.get(key)
        if data is None:
            raise SCARD_E_INVALID_PARAMETER("pbInput is NULL")
        if property_name == pr.CKP_CHAINING_MODE:
            mode = from_wstr(data + b"\0\0")
            if mode != ski.CARD_CHAIN_MODE_CBC:
                raise SCARD_E_INVALID_PARAMETER(f"chaining mode {mode!r}")
            found.chaining_mode = mode
        elif property_name == pr.CKP_INITIALIZATION_VECTOR:
            if len(data) != found.algorithm.block_length:
                raise SCARD_E_INVALID_PARAMETER("the IV is one block long")
            found.iv = bytes(data)
        else:
            raise SCARD_E_INVALID_PARAMETER(f"unknown key property {property_name!r}")

    @api("CardImportSessionKey", since=7)
    def import_session_key(
        self,
        container_index: int,
        padding_info: BCRYPT_OAEP_PADDING_INFO | None,
        blob_type: str,
        algorithm_id: str,
        input_data: bytes | None,
        flags: int,
    ) -> int:
        raise SCARD_E_UNSUPPORTED_FEATURE(
            "the card cannot unwrap a session key inside the chip (CP_KEY_IMPORT_SUPPORT is 0)"
        )

    @api("CardProcessEncryptedData", since=7, no_card=True)
    def process_encrypted_data(
        self,
        key: int,
        secure_function: str,
        encrypted_data: list[bytes],
        cb_output: int | None = None,
        flags: int = 0,
    ) -> bytes:
        raise SCARD_E_UNSUPPORTED_FEATURE("the card cannot decrypt and execute secure functions")

    @api("MDImportSessionKey", since=7, no_card=True)
    def md_import_session_key(
        self, blob_type: str, algorithm_id: str, input_data: bytes | None
    ) -> int:
        if blob_type != c.BCRYPT_KEY_DATA_BLOB:
            raise SCARD_E_INVALID_PARAMETER(f"blob type {blob_type!r}")
        algorithm = symmetric.algorithm(algorithm_id)
        if input_data is None:
            raise SCARD_E_INVALID_PARAMETER("pbInput is NULL")
        return self.keys.add(
            symmetric.SymmetricKey(algorithm, blobs.parse_key_data_blob(input_data))
        )

    @api("MDEncryptData", since=7, no_card=True)
    def md_encrypt_data(
        self, key: int, secure_function: str, input_data: bytes | None, flags: int = 0
    ) -> list[bytes]:
        """The CARD_ENCRYPTED_DATA chunks: the structure encrypted with the key's CBC and IV
        (PKCS#5 padded with CARD_BLOCK_PADDING), cut into whole-block pieces of <= 240 bytes."""
        if not self.no_card:
            raise SCARD_E_INVALID_PARAMETER("MDEncryptData runs on a no-card context only")
        if flags not in (0, ski.CARD_BLOCK_PADDING):
            raise SCARD_E_INVALID_PARAMETER(f"dwFlags 0x{flags:X}")
        if input_data is None:
            raise SCARD_E_INVALID_PARAMETER("pbInput is NULL")
        _check_secure_function(secure_function, input_data)
        found = self.keys.get(key)
        ciphertext = found.encrypt(input_data, bool(flags & ski.CARD_BLOCK_PADDING))
        return symmetric.split_chunks(ciphertext, found.algorithm.block_length)


def _check_secure_function(name: str, data: bytes) -> None:
    try:
        if name == pr.CSF_IMPORT_KEYPAIR:
            version = CARD_IMPORT_KEYPAIR.from_bytes(data).version
            expected = v.CARD_IMPORT_KEYPAIR_CURRENT_VERSION
        elif name == pr.CSF_CHANGE_AUTHENTICATOR:
            version = CARD_CHANGE_AUTHENTICATOR.from_bytes(data).version
            expected = v.CARD_CHANGE_AUTHENTICATOR_CURRENT_VERSION
        elif name == pr.CSF_AUTHENTICATE:
            version = CARD_AUTHENTICATE.from_bytes(data).version
            expected = v.CARD_AUTHENTICATE_CURRENT_VERSION
        else:
            raise SCARD_E_INVALID_PARAMETER(f"unknown secure function {name!r}")
    except ValueError:
        raise SCARD_E_INVALID_PARAMETER(f"malformed {name} structure") from None
    if version != expected:
        raise SCARD_E_INVALID_PARAMETER(f"{name} structure version {version}")


def _cache_mode(card: CardModule) -> int:
    """A writable card keeps cardcf, so the global cache is safe."""
    return pr.CP_CACHE_MODE_SESSION_ONLY if card.read_only else pr.CP_CACHE_MODE_GLOBAL_CACHE


def _check_size(bits: int, sizes: CARD_KEY_SIZES) -> None:
    fits = sizes.minimum_bitlen <= bits <= sizes.maximum_bitlen
    if fits and sizes.incremental_bitlen:
        fits = (bits - sizes.minimum_bitlen) % sizes.incremental_bitlen == 0
    if not fits:
        raise SCARD_E_INVALID_PARAMETER(
            f"{bits}-bit key: the card takes {sizes.minimum_bitlen}..{sizes.maximum_bitlen} "
            f"in steps of {sizes.incremental_bitlen}"
        )


def _fit(data: bytes, cb_data: int | None) -> bytes:
    if cb_data is not None and cb_data < len(data):
        err = ERROR_INSUFFICIENT_BUFFER(f"{len(data)} bytes needed, {cb_data} given")
        err.required_size = len(data)
        raise err
    return data


def _roles(pin_set: int) -> str:
    names = {p.ROLE_USER: "the user", p.ROLE_ADMIN: "the admin"}
    return " or ".join(
        names.get(i, f"PIN {i}") for i in range(p.MAX_PINS) if p.IS_PIN_SET(pin_set, i)
    )


# --- CardAcquireContext --------------------------------------------------------------------


def _close(connection: Any) -> None:
    """Disconnect and release a connection the driver opened; the card may already be gone."""
    for name in ("disconnect", "release"):
        with contextlib.suppress(Exception):
            getattr(connection, name, lambda: None)()


def _connect(reader: str) -> Any:
    try:
        from smartcard.System import readers
    except ImportError as err:  # pragma: no cover - pyscard is a dependency
        raise SCARD_E_UNKNOWN_READER(f"pyscard is not available: {err}") from None
    try:
        found = [r for r in readers() if str(r) == reader]
    except Exception as err:
        raise SCARD_E_UNKNOWN_READER(f"cannot list readers: {err}") from None
    if not found:
        raise SCARD_E_UNKNOWN_READER(f"no reader named {reader!r}")
    connection = found[0].createConnection()
    try:
        connection.connect()
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
            _close(connection)
        raise
