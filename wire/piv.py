"""PIV facts, named as NIST SP 800-73-4 (and Yubico's PIV extensions) name them.

The one place for PIV instruction bytes, tags, key references, algorithm
identifiers and policy values: the card (emulator/apps/piv), the host's card
module (driver/cardmodules/piv), the trace decoder and the bench import them
from here. The interindustry instructions are ISO 7816-4's (wire/iso7816.py).
"""

from __future__ import annotations

from enum import IntEnum

from .iso7816 import Ins as IsoIns

# NIST RID + PIX + version 01 00 (SP 800-73-4 part 1, section 2.2).
PIV_AID = bytes.fromhex("A000000308 00001000 0100")
PIV_PIX = PIV_AID[5:]
NIST_RID = PIV_AID[:5]
# What hosts select with (Windows' inbox minidriver, piv.md 1.1): the right-truncated AID.
PIV_AID_TRUNCATED = PIV_AID[:9]

# PIV PIN and PUK values are 8 bytes on the wire, right-padded with FF.
PIN_LENGTH = 8
PIN_PAD = 0xFF
PIN_MIN_LENGTH = 6
PIN_MAX_LENGTH = PIN_LENGTH
PUK_MIN_LENGTH = 6

DEFAULT_PIN = b"123456"
DEFAULT_PUK = b"12345678"
DEFAULT_PIN_TRIES = 3
DEFAULT_PUK_TRIES = 3
DEFAULT_MANAGEMENT_KEY = bytes.fromhex("010203040506070801020304050607080102030405060708")

# GET VERSION answer: 5.7 switches on RSA-3072/4096, Ed25519, X25519 and MOVE KEY in the
# clients; >= 5.4.3 makes yubico-piv-tool deauthenticate with VERIFY P1=FF (piv.md 5.1).
FIRMWARE_VERSION = (5, 7, 1)
# Yubico form factor byte of the attestation extension: 0x80 would be FIPS; 0 = unknown.
FORM_FACTOR = 0x00

# Largest object value accepted by PUT DATA (NIST's largest minimum capacity is the
# facial image, 12710 bytes).
MAX_OBJECT_SIZE = 16384
# Largest object value a YubiKey stores (CB_OBJ_MAX = 3072 - 9, piv.md 2.1): what a host
# writing to real cards keeps to.
YUBIKEY_MAX_OBJECT_VALUE = 3063


class Ins(IntEnum):
    """PIV card commands (SP 800-73-4 part 2, section 3) and Yubico extensions."""

    VERIFY = IsoIns.VERIFY.value
    CHANGE_REFERENCE_DATA = IsoIns.CHANGE_REFERENCE_DATA.value
    RESET_RETRY_COUNTER = IsoIns.RESET_RETRY_COUNTER.value
    GENERATE_ASYMMETRIC_KEY_PAIR = IsoIns.GENERATE_ASYMMETRIC_KEY_PAIR_47.value
    GENERAL_AUTHENTICATE = IsoIns.GENERAL_AUTHENTICATE.value
    SELECT = IsoIns.SELECT.value
    GET_RESPONSE = IsoIns.GET_RESPONSE.value
    GET_DATA = IsoIns.GET_DATA_ODD.value
    PUT_DATA = IsoIns.PUT_DATA_ODD.value
    # Yubico extensions.
    MOVE_KEY = 0xF6
    GET_METADATA = 0xF7
    GET_SERIAL = 0xF8
    ATTEST = 0xF9
    SET_PIN_RETRIES = 0xFA
    RESET = 0xFB
    GET_VERSION = 0xFD
    IMPORT_KEY = 0xFE
    SET_MANAGEMENT_KEY = 0xFF


class Tag(IntEnum):
    """BER-TLV tags of the PIV card edge."""

    # SELECT: application property template.
    APPLICATION_PROPERTY_TEMPLATE = 0x61
    AID = 0x4F
    COEXISTENT_TAG_ALLOCATION_AUTHORITY = 0x79
    APPLICATION_LABEL = 0x50
    APPLICATION_URL = 0x5F50
    # GET/PUT DATA.
    TAG_LIST = 0x5C
    DATA = 0x53
    # GENERAL AUTHENTICATE dynamic authentication template.
    DYNAMIC_AUTHENTICATION_TEMPLATE = 0x7C
    WITNESS = 0x80
    CHALLENGE = 0x81
    RESPONSE = 0x82
    EXPONENTIATION = 0x85
    # GENERATE ASYMMETRIC KEY PAIR.
    CRYPTOGRAPHIC_MECHANISM_TEMPLATE = 0xAC
    MECHANISM = 0x80
    PARAMETER = 0x81
    PIN_POLICY = 0xAA
    TOUCH_POLICY = 0xAB
    PUBLIC_KEY_TEMPLATE = 0x7F49
    RSA_MODULUS = 0x81
    RSA_EXPONENT = 0x82
    EC_POINT = 0x86
    # Certificate object members.
    CERTIFICATE = 0x70
    CERT_INFO = 0x71
    MSCUID = 0x72
    ERROR_DETECTION_CODE = 0xFE
    # CHUID object members (SP 800-73-4 part 1, table 9).
    FASC_N = 0x30
    GUID = 0x34
    EXPIRATION_DATE = 0x35
    ISSUER_ASYMMETRIC_SIGNATURE = 0x3E
    # Discovery object.
    DISCOVERY = 0x7E
    PIN_USAGE_POLICY = 0x5F2F
    # Key history object.
    KEYS_WITH_ON_CARD_CERTS = 0xC1
    KEYS_WITH_OFF_CARD_CERTS = 0xC2
    OFF_CARD_CERT_URL = 0xF3


class ImportTag(IntEnum):
    """Yubico IMPORT KEY data tags."""

    RSA_P = 0x01
    RSA_Q = 0x02
    RSA_DP = 0x03
    RSA_DQ = 0x04
    RSA_QINV = 0x05
    EC_PRIVATE = 0x06
    ED25519_SEED = 0x07
    X25519_PRIVATE = 0x08


class MetadataTag(IntEnum):
    """Yubico GET METADATA answer tags."""

    ALGORITHM = 0x01
    POLICY = 0x02
    ORIGIN = 0x03
    PUBLIC_KEY = 0x04
    IS_DEFAULT = 0x05
    RETRIES = 0x06


class ObjectId(IntEnum):
    """Data object tags (SP 800-73-4 part 1, table 3) and Yubico's objects."""

    CARD_CAPABILITY_CONTAINER = 0x5FC107
    CHUID = 0x5FC102
    X509_PIV_AUTHENTICATION = 0x5FC105
    FINGERPRINTS = 0x5FC103
    SECURITY_OBJECT = 0x5FC106
    FACIAL_IMAGE = 0x5FC108
    PRINTED_INFORMATION = 0x5FC109
    X509_DIGITAL_SIGNATURE = 0x5FC10A
    X509_KEY_MANAGEMENT = 0x5FC10B
    X509_CARD_AUTHENTICATION = 0x5FC101
    DISCOVERY = 0x7E
    KEY_HISTORY = 0x5FC10C
    RETIRED_X509_1 = 0x5FC10D
    RETIRED_X509_20 = 0x5FC120
    IRIS_IMAGES = 0x5FC121
    BIOMETRIC_INFORMATION_TEMPLATES_GROUP = 0x7F61
    SM_CERTIFICATE_SIGNER = 0x5FC122
    PAIRING_CODE_REFERENCE_DATA = 0x5FC123
    # Yubico.
    ADMIN_DATA = 0x5FFF00
    ATTESTATION_CERTIFICATE = 0x5FFF01
    MSCMAP = 0x5FFF10
    MSROOTS_1 = 0x5FFF11
    MSROOTS_5 = 0x5FFF15


# Objects only readable after PIV PIN verification (SP 800-73-4 part 1, table 3).
PIN_PROTECTED_OBJECTS = frozenset(
    {
        ObjectId.FINGERPRINTS,
        ObjectId.FACIAL_IMAGE,
        ObjectId.PRINTED_INFORMATION,
        ObjectId.IRIS_IMAGES,
        ObjectId.PAIRING_CODE_REFERENCE_DATA,
    }
)
# 3-byte object tags PUT DATA accepts: the NIST range and Yubico's vendor range.
NIST_OBJECT_RANGE = range(0x5FC101, 0x5FC123 + 1)
YUBICO_OBJECT_RANGE = range(0x5FFF00, 0x5FFFFF + 1)


class KeyRef(IntEnum):
    """Key references (SP 800-73-4 part 1, table 4) and Yubico's attestation key."""

    GLOBAL_PIN = 0x00
    PIV_PIN = 0x80
    PUK = 0x81
    OCC = 0x96
    PIV_AUTHENTICATION = 0x9A
    CARD_MANAGEMENT = 0x9B
    DIGITAL_SIGNATURE = 0x9C
    KEY_MANAGEMENT = 0x9D
    CARD_AUTHENTICATION = 0x9E
    RETIRED_1 = 0x82
    RETIRED_20 = 0x95
    ATTESTATION = 0xF9


RETIRED_KEYS = range(KeyRef.RETIRED_1, KeyRef.RETIRED_20 + 1)
MSROOTS_OBJECTS = tuple(range(ObjectId.MSROOTS_1, ObjectId.MSROOTS_5 + 1))
# Slots that hold an asymmetric key, in the order tools list them.
KEY_SLOTS: tuple[int, ...] = (
    KeyRef.PIV_AUTHENTICATION,
    KeyRef.DIGITAL_SIGNATURE,
    KeyRef.KEY_MANAGEMENT,
    KeyRef.CARD_AUTHENTICATION,
    *RETIRED_KEYS,
)


def certificate_object(slot: int) -> int:
    """The object holding a key slot's certificate."""
    fixed: dict[int, int] = {
        KeyRef.PIV_AUTHENTICATION: ObjectId.X509_PIV_AUTHENTICATION,
        KeyRef.DIGITAL_SIGNATURE: ObjectId.X509_DIGITAL_SIGNATURE,
        KeyRef.KEY_MANAGEMENT: ObjectId.X509_KEY_MANAGEMENT,
        KeyRef.CARD_AUTHENTICATION: ObjectId.X509_CARD_AUTHENTICATION,
        KeyRef.ATTESTATION: ObjectId.ATTESTATION_CERTIFICATE,
    }
    if slot in fixed:
        return fixed[slot]
    if slot in RETIRED_KEYS:
        return ObjectId.RETIRED_X509_1 + (slot - KeyRef.RETIRED_1)
    raise ValueError(f"no certificate object for key {slot:02X}")


class Algorithm(IntEnum):
    """Cryptographic algorithm identifiers (SP 800-78-4 tables 6-3/6-2, Yubico)."""

    THREE_KEY_TDES_LEGACY = 0x00
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
    ED25519 = 0xE0
    X25519 = 0xE1
    PIN = 0xFF  # GET METADATA of PIN and PUK


RSA_ALGORITHMS = {
    Algorithm.RSA_1024: 1024,
    Algorithm.RSA_2048: 2048,
    Algorithm.RSA_3072: 3072,
    Algorithm.RSA_4096: 4096,
}
EC_ALGORITHMS = {Algorithm.ECC_P256: "secp256r1", Algorithm.ECC_P384: "secp384r1"}
EC_BITS = {Algorithm.ECC_P256: 256, Algorithm.ECC_P384: 384}
# Management-key algorithm -> key length in bytes.
MANAGEMENT_KEY_LENGTHS = {
    Algorithm.TDES: 24,
    Algorithm.AES_128: 16,
    Algorithm.AES_192: 24,
    Algorithm.AES_256: 32,
}
MANAGEMENT_ALGORITHMS = frozenset(MANAGEMENT_KEY_LENGTHS)
ASYMMETRIC_ALGORITHMS = frozenset(
    {*RSA_ALGORITHMS, *EC_ALGORITHMS, Algorithm.ED25519, Algorithm.X25519}
)


class PinPolicy(IntEnum):
    DEFAULT = 0x00
    NEVER = 0x01
    ONCE = 0x02
    ALWAYS = 0x03


class TouchPolicy(IntEnum):
    DEFAULT = 0x00
    NEVER = 0x01
    ALWAYS = 0x02
    CACHED = 0x03


class Origin(IntEnum):
    GENERATED = 0x01
    IMPORTED = 0x02


# SET MANAGEMENT KEY P2: whether using the key needs a touch.
SET_MGMKEY_P1 = 0xFF
SET_MGMKEY_NO_TOUCH = 0xFF
SET_MGMKEY_TOUCH = 0xFE
SET_MGMKEY_TOUCH_CACHED = 0xFD
# MOVE KEY P1 that means "delete".
DELETE_KEY_P1 = 0xFF
# VERIFY P1.
VERIFY_CHECK = 0x00
VERIFY_RESET_STATUS = 0xFF
# GET/PUT DATA P1-P2.
DATA_P1P2 = 0x3FFF

# Discovery object PIN usage policy: PIV PIN satisfies the ACRs; Global PIN not offered.
PIN_USAGE_POLICY = bytes((0x40, 0x00))


def default_pin_policy(slot: int) -> PinPolicy:
    """YubiKey defaults: 9C always, 9E never, everything else once (piv.md 4.1)."""
    if slot == KeyRef.DIGITAL_SIGNATURE:
        return PinPolicy.ALWAYS
    if slot == KeyRef.CARD_AUTHENTICATION:
        return PinPolicy.NEVER
    return PinPolicy.ONCE


def default_touch_policy(slot: int) -> TouchPolicy:
    return TouchPolicy.NEVER


# Yubico "pivman" data (piv.md 5.10).
class PivmanTag(IntEnum):
    ADMIN = 0x80
    ADMIN_FLAGS_1 = 0x81
    ADMIN_SALT = 0x82
    PIN_TIMESTAMP = 0x83
    PROTECTED = 0x88
    PROTECTED_MGM = 0x89


ADMIN_FLAGS_1_MGM_PROTECTED = 0x02

# Yubico minidriver objects (yubico-piv-tool lib/internal.h, util.c).
TAG_MSCMAP = 0x81
TAG_MSROOTS_END = 0x82
TAG_MSROOTS_MID = 0x83
# Bytes of an object left for msroots data after its tag and length (CB_OBJ_TAG_MAX).
MSROOTS_TAG_OVERHEAD = 4
