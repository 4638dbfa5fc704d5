"""PIV card-edge facts the driver needs (piv.md; NIST SP 800-73-4 and Yubico's extensions).

Defined here rather than imported from the emulator: the driver speaks to real PIV cards as
well, so it carries its own copy of the wire constants, named as the specifications name them.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

# What Windows' inbox minidriver selects (the 9-byte right-truncated AID, piv.md 1.1).
PIV_AID: Final = bytes.fromhex("A000000308 00001000")

# PIN and PUK travel as 8 bytes, right-padded with FF (piv.md 3.4).
PIN_WIRE_LENGTH: Final = 8
PIN_PAD: Final = 0xFF
PIN_MIN_LENGTH: Final = 6
PIN_MAX_LENGTH: Final = 8

# The Yubico factory management key (piv.md 4.3); only used when GET METADATA says the card
# still has it, so enrollment works on a card nobody has personalised.
DEFAULT_MANAGEMENT_KEY: Final = bytes.fromhex("010203040506070801020304050607080102030405060708")

# GET/PUT DATA P1-P2 (the current application).
DATA_P1: Final = 0x3F
DATA_P2: Final = 0xFF
# VERIFY P1 that resets the PIN's security status (piv.md 3.4, SP 800-73-4 3.2.1).
VERIFY_RESET_STATUS: Final = 0xFF
# SET MANAGEMENT KEY P1/P2: no touch needed to use the new key.
SET_MGMKEY_P1: Final = 0xFF
SET_MGMKEY_NO_TOUCH: Final = 0xFF
# MOVE KEY P1 that deletes the key of P2 (YubiKey 5.7, piv.md 5.9).
DELETE_KEY_P1: Final = 0xFF
# Largest object value a YubiKey stores (CB_OBJ_MAX = 3072 - 9, piv.md 2.1).
MAX_OBJECT_VALUE: Final = 3063


class Ins(IntEnum):
    VERIFY = 0x20
    CHANGE_REFERENCE_DATA = 0x24
    RESET_RETRY_COUNTER = 0x2C
    GENERATE_ASYMMETRIC_KEY_PAIR = 0x47
    GENERAL_AUTHENTICATE = 0x87
    SELECT = 0xA4
    GET_DATA = 0xCB
    PUT_DATA = 0xDB
    # Yubico extensions (piv.md 5).
    MOVE_KEY = 0xF6
    GET_METADATA = 0xF7
    GET_SERIAL = 0xF8
    GET_VERSION = 0xFD
    IMPORT_KEY = 0xFE
    SET_MANAGEMENT_KEY = 0xFF


class Tag(IntEnum):
    APPLICATION_PROPERTY_TEMPLATE = 0x61
    AID = 0x4F
    TAG_LIST = 0x5C
    DATA = 0x53
    DYNAMIC_AUTHENTICATION_TEMPLATE = 0x7C
    WITNESS = 0x80
    CHALLENGE = 0x81
    RESPONSE = 0x82
    EXPONENTIATION = 0x85
    CRYPTOGRAPHIC_MECHANISM_TEMPLATE = 0xAC
    MECHANISM = 0x80
    PUBLIC_KEY_TEMPLATE = 0x7F49
    RSA_MODULUS = 0x81
    RSA_EXPONENT = 0x82
    EC_POINT = 0x86
    # Certificate objects (piv.md 2.3).
    CERTIFICATE = 0x70
    CERT_INFO = 0x71
    ERROR_DETECTION_CODE = 0xFE
    # CHUID members.
    FASC_N = 0x30
    GUID = 0x34
    # Key history.
    KEYS_WITH_ON_CARD_CERTS = 0xC1


class ImportTag(IntEnum):
    """Yubico IMPORT KEY data tags (piv.md 5.4)."""

    RSA_P = 0x01
    RSA_Q = 0x02
    RSA_DP = 0x03
    RSA_DQ = 0x04
    RSA_QINV = 0x05
    EC_PRIVATE = 0x06


class MetadataTag(IntEnum):
    """Yubico GET METADATA answer tags (piv.md 5.8)."""

    ALGORITHM = 0x01
    POLICY = 0x02
    ORIGIN = 0x03
    PUBLIC_KEY = 0x04
    IS_DEFAULT = 0x05
    RETRIES = 0x06


class ObjectId(IntEnum):
    """Data objects (SP 800-73-4 part 1 table 3) and Yubico's vendor objects."""

    CHUID = 0x5FC102
    X509_PIV_AUTHENTICATION = 0x5FC105
    X509_DIGITAL_SIGNATURE = 0x5FC10A
    X509_KEY_MANAGEMENT = 0x5FC10B
    X509_CARD_AUTHENTICATION = 0x5FC101
    PRINTED_INFORMATION = 0x5FC109  # Yubico: "PIN-protected data" (piv.md 5.10)
    KEY_HISTORY = 0x5FC10C
    RETIRED_X509_1 = 0x5FC10D
    ADMIN_DATA = 0x5FFF00  # Yubico "pivman" admin data
    MSCMAP = 0x5FFF10  # Yubico minidriver container map
    MSROOTS_1 = 0x5FFF11
    MSROOTS_5 = 0x5FFF15


MSROOTS_OBJECTS: Final = tuple(range(ObjectId.MSROOTS_1, ObjectId.MSROOTS_5 + 1))


class KeyRef(IntEnum):
    PIV_PIN = 0x80
    PUK = 0x81
    PIV_AUTHENTICATION = 0x9A
    CARD_MANAGEMENT = 0x9B
    DIGITAL_SIGNATURE = 0x9C
    KEY_MANAGEMENT = 0x9D
    CARD_AUTHENTICATION = 0x9E
    RETIRED_1 = 0x82
    RETIRED_20 = 0x95


RETIRED_KEYS: Final = tuple(range(KeyRef.RETIRED_1, KeyRef.RETIRED_20 + 1))

# Container index -> PIV key slot. The order of the inbox minidriver's enumeration (9A first:
# it is the default container, kxc00 = the PIV Authentication certificate), then the rest in
# key-reference order (this part is ours: the inbox order of 9C/9D/9E/retired is UNCONFIRMED).
CONTAINER_SLOTS: Final[tuple[int, ...]] = (
    KeyRef.PIV_AUTHENTICATION,
    KeyRef.DIGITAL_SIGNATURE,
    KeyRef.KEY_MANAGEMENT,
    KeyRef.CARD_AUTHENTICATION,
    *RETIRED_KEYS,
)


def certificate_object(slot: int) -> int:
    """The object holding a key slot's certificate."""
    fixed = {
        KeyRef.PIV_AUTHENTICATION: ObjectId.X509_PIV_AUTHENTICATION,
        KeyRef.DIGITAL_SIGNATURE: ObjectId.X509_DIGITAL_SIGNATURE,
        KeyRef.KEY_MANAGEMENT: ObjectId.X509_KEY_MANAGEMENT,
        KeyRef.CARD_AUTHENTICATION: ObjectId.X509_CARD_AUTHENTICATION,
    }
    if slot in fixed:
        return int(fixed[KeyRef(slot)])
    if slot in RETIRED_KEYS:
        return ObjectId.RETIRED_X509_1 + (slot - KeyRef.RETIRED_1)
    raise ValueError(f"no certificate object for key {slot:02X}")


class Algorithm(IntEnum):
    """Algorithm identifiers (SP 800-78-4, Yubico)."""

    TDES = 0x03
    AES_128 = 0x08
    AES_192 = 0x0A
    AES_256 = 0x0C
    RSA_1024 = 0x06
    RSA_2048 = 0x07
    RSA_3072 = 0x05
    RSA_4096 = 0x16
    ECC_P256 = 0x11
    ECC_P384 = 0x14


RSA_ALGORITHMS: Final = {
    1024: Algorithm.RSA_1024,
    2048: Algorithm.RSA_2048,
    3072: Algorithm.RSA_3072,
    4096: Algorithm.RSA_4096,
}
EC_ALGORITHMS: Final = {256: Algorithm.ECC_P256, 384: Algorithm.ECC_P384}
# Management-key algorithm -> key length in bytes.
MANAGEMENT_KEY_LENGTHS: Final = {
    Algorithm.TDES: 24,
    Algorithm.AES_128: 16,
    Algorithm.AES_192: 24,
    Algorithm.AES_256: 32,
}


class PinPolicy(IntEnum):
    DEFAULT = 0x00
    NEVER = 0x01
    ONCE = 0x02
    ALWAYS = 0x03


def default_pin_policy(slot: int) -> PinPolicy:
    """PIV's rules as YubiKeys apply them: 9C always, 9E never, the others once (piv.md 4.1)."""
    if slot == KeyRef.DIGITAL_SIGNATURE:
        return PinPolicy.ALWAYS
    if slot == KeyRef.CARD_AUTHENTICATION:
        return PinPolicy.NEVER
    return PinPolicy.ONCE


# Yubico "pivman" data (piv.md 5.10).
class PivmanTag(IntEnum):
    ADMIN = 0x80
    ADMIN_FLAGS_1 = 0x81
    ADMIN_SALT = 0x82
    PROTECTED = 0x88
    PROTECTED_MGM = 0x89


ADMIN_FLAGS_1_MGM_PROTECTED: Final = 0x02

# Yubico minidriver objects (yubico-piv-tool lib/internal.h, util.c).
TAG_MSCMAP: Final = 0x81
TAG_MSROOTS_END: Final = 0x82
TAG_MSROOTS_MID: Final = 0x83
# Bytes of an object left for msroots data after its tag and length (CB_OBJ_TAG_MAX).
MSROOTS_TAG_OVERHEAD: Final = 4

# Minidriver PIN id of the PUK: card-specific ids start after ROLE_ADMIN (minidriver.md 2.4).
ROLE_PUK: Final = 3
