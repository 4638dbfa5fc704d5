"""The card-module interface: what the generic minidriver needs from one kind of card.

The context (driver/context.py) does everything the specification defines independently of the
card: argument and version checks, structures, blobs, padding, KDFs, caching, freshness counters,
authentication bookkeeping. A card module only speaks its card's APDUs: the logical file system,
PINs, key containers and raw private-key operations. Adding a card kind is one new module that
subclasses CardModule and a line in driver/cardmodules/__init__.py.

Errors: a card module raises the minidriver exception that describes the failure
(SCARD_W_WRONG_CHV with attempts_remaining, SCARD_W_SECURITY_VIOLATION, SCARD_E_FILE_NOT_FOUND ...).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum

from cryptography.hazmat.primitives.asymmetric import ec

from wire.minidriver import pins as p
from wire.minidriver.containers import CARD_DATA_VALUE_UNKNOWN

from ..blobs import PrivateKey, PublicKey
from ..errors import SCARD_E_UNSUPPORTED_FEATURE
from ..structures import CARD_KEY_SIZES, PIN_INFO
from ..transport import Transport


class SignMode(Enum):
    PKCS1 = "pkcs1"  # the card builds the PKCS#1 v1.5 type-1 block around `data`
    RAW = "raw"  # `data` is the whole modulus-sized block: raw private-key operation
    ECDSA = "ecdsa"  # `data` is the hash; the result is r || s


class DecryptMode(Enum):
    RAW = "raw"
    PKCS1 = "pkcs1"
    OAEP_SHA1 = "oaep-sha1"  # MGF1-SHA1, empty label: what card-side OAEP means in practice


@dataclass(frozen=True)
class ContainerKey:
    key_spec: int
    public_key: PublicKey
    pin_id: int = p.ROLE_USER


class CardModule(ABC):
    """One card kind. Instances live as long as the context that opened them."""

    name: str = ""
    certificate_compression = False
    key_gen = True
    key_import = True
    read_only = False
    # PIN ids the card has (CP_CARD_LIST_PINS) and which of them use challenge/response.
    pin_set: int = p.CREATE_PIN_SET(p.ROLE_USER) | p.CREATE_PIN_SET(p.ROLE_ADMIN)
    max_containers: int = 0
    session_pins = False  # CardAuthenticateEx session PINs (CARD_PIN_STRENGTH_SESSION_PIN)
    key_import_support = 0  # CP_KEY_IMPORT_SUPPORT: secure key injection methods

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    # --- identity -------------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def probe(cls, transport: Transport, atr: bytes) -> bool:
        """Select the card's application; True if this module handles the card."""

    def open(self) -> None:
        """Read what the module needs once per context (after a successful probe)."""
        return

    def invalidate(self, pins: bool, containers: bool, files: bool) -> None:
        """Another client changed the card (cardcf moved): drop internal caches."""
        return

    @abstractmethod
    def serial_number(self) -> bytes: ...

    # --- capabilities ---------------------------------------------------------------------

    @abstractmethod
    def key_sizes(self, key_spec: int) -> CARD_KEY_SIZES | None:
        """Sizes for a defined key spec, or None when the card cannot do that key type."""

    def decrypt_modes(self) -> frozenset[DecryptMode]:
        return frozenset()

    def sign_modes(self) -> frozenset[SignMode]:
        return frozenset()

    def can_ecdh(self) -> bool:
        return False

    def free_bytes(self) -> int:
        return CARD_DATA_VALUE_UNKNOWN

    # --- logical file system --------------------------------------------------------------

    @abstractmethod
    def directories(self) -> list[str]: ...

    @abstractmethod
    def directory_ac(self, name: str) -> int: ...

    @abstractmethod
    def files(self, directory: str | None) -> list[str]:
        """Names of the files in a directory (None: root); SCARD_E_DIR_NOT_FOUND if absent."""

    @abstractmethod
    def file_ac(self, directory: str | None, name: str) -> int: ...

    @abstractmethod
    def read_file(self, directory: str | None, name: str) -> bytes: ...

    @abstractmethod
    def write_file(self, directory: str | None, name: str, data: bytes) -> None: ...

    @abstractmethod
    def create_file(self, directory: str | None, name: str, access_condition: int) -> None: ...

    @abstractmethod
    def delete_file(self, directory: str | None, name: str) -> None: ...

    @abstractmethod
    def create_directory(self, name: str, access_condition: int) -> None: ...

    @abstractmethod
    def delete_directory(self, name: str) -> None: ...

    # --- PINs -----------------------------------------------------------------------------

    @abstractmethod
    def pin_info(self, pin_id: int) -> PIN_INFO: ...

    def pin_length(self, pin_id: int) -> tuple[int, int]:
        """Shortest and longest PIN the card accepts (policy checked before any APDU)."""
        return 1, 255

    def pin_tries_left(self, pin_id: int) -> int | None:
        return None

    @abstractmethod
    def verify_pin(self, pin_id: int, pin: bytes) -> None:
        """Present a PIN; SCARD_W_WRONG_CHV / SCARD_W_CHV_BLOCKED with the tries left."""

    def verify_external(self, pin_id: int) -> bytes:
        """Drive an off-PC PIN entry; returns a session PIN (ExternalPinType PINs only)."""
        raise SCARD_E_UNSUPPORTED_FEATURE("this card has no external PIN")

    def generate_session_pin(self, pin_id: int, pin: bytes) -> bytes:
        raise SCARD_E_UNSUPPORTED_FEATURE("this card cannot issue session PINs")

    def verify_session_pin(self, pin_id: int, session_pin: bytes) -> None:
        raise SCARD_E_UNSUPPORTED_FEATURE("this card cannot issue session PINs")

    def get_challenge(self, pin_id: int) -> bytes:
        raise SCARD_E_UNSUPPORTED_FEATURE("this card has no challenge/response authenticator")

    def answer_challenge(self, pin_id: int, response: bytes) -> None:
        raise SCARD_E_UNSUPPORTED_FEATURE("this card has no challenge/response authenticator")

    @abstractmethod
    def change_pin(self, pin_id: int, old: bytes, new: bytes) -> None:
        """Change a plaintext PIN (the context has just verified `old`); it stays verified."""

    def change_challenge_key(self, pin_id: int, new_key: bytes) -> None:
        """Replace a challenge/response key (its holder is authenticated)."""
        raise SCARD_E_UNSUPPORTED_FEATURE("this card cannot change its admin key")

    def unblock_pin(self, target: int, new_pin: bytes) -> None:
        """Reset `target` to `new_pin` once an unblocking PIN is authenticated."""
        raise SCARD_E_UNSUPPORTED_FEATURE("this card cannot unblock PINs")

    def unblock_logs_out(self) -> bool:
        return True

    @abstractmethod
    def deauthenticate(self, pin_set: int) -> int:
        """Log out the PINs of `pin_set`; returns the set actually logged out."""

    # --- containers -----------------------------------------------------------------------

    @abstractmethod
    def container_keys(self, index: int) -> list[ContainerKey]: ...

    @abstractmethod
    def generate_key(self, index: int, key_spec: int, bits: int, pin_id: int) -> PublicKey: ...

    @abstractmethod
    def import_key(self, index: int, key_spec: int, key: PrivateKey, pin_id: int) -> None: ...

    @abstractmethod
    def delete_container(self, index: int) -> None: ...

    @abstractmethod
    def sign(self, index: int, key_spec: int, mode: SignMode, data: bytes) -> bytes:
        """Big-endian RSA signature, or r || s for ECDSA."""

    @abstractmethod
    def decrypt(self, index: int, key_spec: int, mode: DecryptMode, data: bytes) -> bytes:
        """`data` big-endian ciphertext; returns the (unpadded per `mode`) plaintext."""

    def ecdh(self, index: int, key_spec: int, peer: ec.EllipticCurvePublicKey) -> bytes:
        """Z, the big-endian X coordinate of the shared point."""
        raise SCARD_E_UNSUPPORTED_FEATURE("this card cannot do ECDH")
