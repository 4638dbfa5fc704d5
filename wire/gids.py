"""GIDS facts, named as the GIDS specification v2.0 and GidsApplet name them (gids.md).

The one place for the GIDS card edge's AIDs, instruction bytes, tags, file
identifiers, mechanism references, access-rule bits, fixed answers and limits:
the card (emulator/apps/gids), the host's card module (driver/cardmodules/gids),
the trace decoder and the GIDS profile import them from here. The interindustry
instructions are ISO 7816-4's (wire/iso7816.py).
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

# GIDS's SCB values that ISO 7816-4 names, re-exported for the GIDS modules.
from .iso7816 import SCB_ALWAYS as SCB_ALWAYS
from .iso7816 import SCB_NEVER as SCB_NEVER
from .iso7816 import AccessMode as IsoAccessMode
from .iso7816 import Ins as IsoIns
from .minidriver.containers import (
    CONTAINER_MAP_DEFAULT_CONTAINER,
    CONTAINER_MAP_VALID_CONTAINER,
)

# -- identity (gids.md 1.1-1.3) ------------------------------------------------------------

# RID A000000397 (Microsoft) + PIX 42 54 46 59, GIDS version 02, application byte 01.
GIDS_AID = bytes.fromhex("A000000397 42544659 02 01")
# Hosts (OpenSC, Windows) select with this right-truncated form.
GIDS_AID_TRUNCATED = GIDS_AID[:9]
# Windows' Plug-and-Play probe (minidriver.md 6.10): the GIDS card has no such application.
SC_PNP_AID = bytes.fromhex("A000000397 4349445F 0100")

# SELECT answers of the application (P2 = 00 / 04 / 08).
FCI = bytes.fromhex("6112 4F0B A0000003974254465902 01 7303 4001C0")
FCP = bytes.fromhex("6208 820138 8C03033030")
FMD = bytes.fromhex("6409 5F2F0160 7F65028000")

# EF.ATR (GET DATA 2F01): card service data, capabilities (byte 3 = 80: command chaining,
# no extended Lc/Le, no logical channels) and GidsApplet's pre-issuing data.
EF_ATR_CONTENT = bytes.fromhex("4301F4 4703080180 460C") + b"MySmartLogon"

# GET DATA 7F68 (smart-card framework CardID, minidriver.md 6.10): vendor name.
CARD_ID_VENDOR = b"MSFT"


class Ins(IntEnum):
    """The GIDS card edge's instructions (gids.md 3), all interindustry ones."""

    VERIFY = IsoIns.VERIFY.value
    MANAGE_SECURITY_ENVIRONMENT = IsoIns.MANAGE_SECURITY_ENVIRONMENT.value
    CHANGE_REFERENCE_DATA = IsoIns.CHANGE_REFERENCE_DATA.value
    PERFORM_SECURITY_OPERATION = IsoIns.PERFORM_SECURITY_OPERATION.value
    RESET_RETRY_COUNTER = IsoIns.RESET_RETRY_COUNTER.value
    ACTIVATE_FILE = IsoIns.ACTIVATE_FILE.value
    GENERATE_ASYMMETRIC_KEY_PAIR = IsoIns.GENERATE_ASYMMETRIC_KEY_PAIR_47.value
    GENERAL_AUTHENTICATE = IsoIns.GENERAL_AUTHENTICATE.value
    SELECT = IsoIns.SELECT.value
    GET_DATA_EVEN = IsoIns.GET_DATA.value
    GET_DATA = IsoIns.GET_DATA_ODD.value
    PUT_DATA = IsoIns.PUT_DATA_ODD.value
    CREATE_FILE = IsoIns.CREATE_FILE.value
    DELETE_FILE = IsoIns.DELETE_FILE.value
    TERMINATE_DF = IsoIns.TERMINATE_DF.value


class SelectP1(IntEnum):
    BY_FID = 0x00
    BY_DF_NAME = 0x04


class SelectP2(IntEnum):
    """Bits b4b3 of P2: which template answers (first-or-only occurrence only)."""

    FCI = 0x00
    FCP = 0x04
    FMD = 0x08
    NO_DATA = 0x0C


SELECT_P2_RESPONSE_MASK = 0x0C
SELECT_P2_OCCURRENCE_MASK = 0xF3


class Fid(IntEnum):
    """P1P2 of GET DATA / PUT DATA and FIDs of SELECT with a special meaning."""

    CURRENT_EF = 0x0000
    EF_DIR = 0x2F00
    EF_ATR = 0x2F01
    APPLICATION_DF = 0x3F00
    CURRENT_APPLICATION = 0x3FFF
    INVALID = 0xFFFF


class Ef(IntEnum):
    """The DO EFs of Microsoft's generic profile, named by their minidriver ACL (2.2)."""

    USER_CREATE_DELETE_DIR = 0xA000
    EVERYONE_READ_USER_WRITE = 0xA010
    USER_WRITE_EXECUTE = 0xA011
    EVERYONE_READ_ADMIN_WRITE = 0xA012
    USER_READ_WRITE = 0xA013
    ADMIN_READ_WRITE = 0xA014


KEY_EF_BASE = 0xB000  # key EF B0kk holds the key with reference kk


class Tag(IntEnum):
    # FCP / CREATE FILE
    FCP = 0x62
    FCP_ISO = 0x6F
    FILE_DESCRIPTOR = 0x82
    FILE_ID = 0x83
    SECURITY_ATTRIBUTE_COMPACT = 0x8C
    CRT_LIST = 0xA5
    # control reference templates and their elements
    CRT_AT = 0xA4
    CRT_DST = 0xB6
    CRT_CT = 0xB8
    CRT_MECHANISM = 0x80
    CRT_KEY_REF_SYMMETRIC = 0x83
    CRT_KEY_REF = 0x84
    CRT_USAGE = 0x95
    # GET DATA / PUT DATA
    TAG_LIST = 0x5C
    # minidriver file system DOs (A000 / A010 / A012)
    MASTERFILE = 0xDF1F
    KEYMAP = 0xDF20  # in EF A000
    CARDID = 0xDF20  # in EF A012
    CARDAPPS = 0xDF21
    CARDCF = 0xDF22
    CMAPFILE = 0xDF23
    FIRST_FILE_DO = 0xDF21
    LAST_FILE_DO = 0xDFFE
    # PIN status DOs (GET DATA 3FFF)
    GLOBAL_PIN_STATUS = 0x7F71
    LOCAL_PIN_STATUS = 0x7F72
    LOCAL_PUK_STATUS = 0x7F73
    TRY_COUNTER = 0x97
    TRY_COUNTER_ALT = 0x9F17
    TRY_LIMIT = 0x93
    # smart-card framework identity (GET DATA, even INS)
    CARD_ID = 0x7F68
    # keys
    KEY_USAGE_TEMPLATE = 0x70
    KEY_REFERENCE = 0x84
    KEY_VALUE_TEMPLATE = 0xA5
    KEY_TYPE = 0x83
    TRANSPORT_KEY = 0x84
    KEY_VALUE = 0x87
    KEY_CHECK_VALUE = 0x88
    PUBLIC_KEY = 0x7F49
    MODULUS = 0x81
    EXPONENT = 0x82
    EC_POINT = 0x86
    GENERATE_TEMPLATE = 0xAC
    GENERATE_MECHANISM = 0x80
    GENERATE_KEY_REF = 0x83
    # GENERAL AUTHENTICATE
    DYNAMIC_AUTH = 0x7C
    WITNESS = 0x80
    CHALLENGE = 0x81
    RESPONSE = 0x82


class FileDescriptor(IntEnum):
    KEY_EF = 0x18
    DO_EF = 0x39  # TLV structure for BER-TLV data objects
    DF = 0x38


class AccessMode(IntFlag):
    """Access-mode byte of a compact security attribute; SCBs follow from b7 to b1.

    The same bit means a different command for each kind of file (gids.md 3.1).
    """

    KEY_EF = 0x80  # b8 set: b4..b1 carry the key-file meanings below
    DELETE_SELF = IsoAccessMode.DELETE.value
    TERMINATE = IsoAccessMode.TERMINATE.value
    ACTIVATE = IsoAccessMode.ACTIVATE.value
    DEACTIVATE = IsoAccessMode.DEACTIVATE.value
    CREATE_DF = 0x04
    CREATE_EF = 0x02
    DELETE_CHILD = 0x01
    # DO EF
    PUT_DATA = 0x02
    GET_DATA = 0x01
    # key EF
    GENERATE = 0x08
    MSE = 0x04
    PUT_KEY = 0x02
    GET_PUBLIC_KEY = 0x01


# Security condition byte (gids.md 3.1), as GidsApplet evaluates it; SCB_ALWAYS (00) and
# SCB_NEVER (FF) are ISO 7816-4's.
SCB_ALL_REQUIRED = 0x80  # b8: every condition named is mandatory
SCB_ADMIN = 0x20  # b6: external or mutual authentication with the admin key
SCB_USER_PIN = 0x10  # b5: user PIN verified
SCB_SE_MASK = 0x0F
SCB_SE_CONTACT = 0x01
SCB_SE_CONTACTLESS = 0x02

# The application's own access rule: AM 03 (CREATE EF, DELETE child), PIN or admin.
APPLICATION_ACCESS = bytes.fromhex("033030")


class LifeCycle(IntEnum):
    """Application and file states. GidsApplet starts in what it calls initialization
    mode (every access rule passes); the spec's creation state collapses into it."""

    CREATION = 0x01
    OPERATIONAL = 0x05
    TERMINATED = 0x0F


class PinRef(IntEnum):
    """P2 of VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER."""

    ALIAS = 0x00  # GidsApplet: the same PIN as 80
    USER = 0x80
    PUK = 0x81  # not present: the admin key unblocks the PIN
    RESET_SECURITY_STATUS = 0x82


class ChangeP1(IntEnum):
    OLD_AND_NEW = 0x00
    NEW_ONLY = 0x01


RESET_RETRY_COUNTER_NEW_PIN = 0x02  # P1: new reference data only (after admin auth)

PIN_MIN_LENGTH = 4
PIN_MAX_LENGTH = 16
PIN_TRY_LIMIT = 3


class MseP1(IntEnum):
    COMPUTE_DECIPHER = 0x41
    VERIFY_AUTHENTICATE = 0x81
    AUTHENTICATE_ALL = 0xC1
    RESTORE = 0xF3


class PsoP1P2(IntEnum):
    COMPUTE_DIGITAL_SIGNATURE = 0x9E9A
    DECIPHER = 0x8086


class Mechanism(IntEnum):
    """GENERATE mechanism (whole byte) = key nibble of every CRT mechanism (4.2)."""

    RSA_1024 = 0x06
    RSA_2048 = 0x07
    RSA_3072 = 0x08
    RSA_4096 = 0x09
    ECC_P192 = 0x0A
    ECC_P224 = 0x0B
    ECC_P256 = 0x0C
    ECC_P384 = 0x0D
    ECC_P521 = 0x0E


RSA_BITS: dict[int, int] = {
    Mechanism.RSA_1024: 1024,
    Mechanism.RSA_2048: 2048,
    Mechanism.RSA_3072: 3072,
    Mechanism.RSA_4096: 4096,
}
# The curves the issue asks for; P-192/P-224 stay unsupported (6A81).
EC_CURVES: dict[int, str] = {
    Mechanism.ECC_P256: "secp256r1",
    Mechanism.ECC_P384: "secp384r1",
    Mechanism.ECC_P521: "secp521r1",
}

EC_BITS: dict[int, int] = {
    Mechanism.ECC_P256: 256,
    Mechanism.ECC_P384: 384,
    Mechanism.ECC_P521: 521,
}

MECHANISM_KEY_MASK = 0x0F
MECHANISM_MODE_MASK = 0xF0


class CtMode(IntEnum):
    """High nibble of a CT (decipher) mechanism: padding the card removes."""

    RAW = 0x00
    PKCS1 = 0x40
    OAEP = 0x80


class DstMode(IntEnum):
    """High nibble of a DST (signature) mechanism."""

    RAW = 0x10  # full hash computed off-card: the host pads (RSA) / the hash (ECDSA)
    PKCS1 = 0x50  # the card builds the PKCS#1 v1.5 type-1 block around DigestInfo||hash


class AdminMechanism(IntEnum):
    """AT CRT mechanism of the admin key (spec: 1 2K3DES, 2 3K3DES, 3-5 AES)."""

    TDES_2KEY = 0x01
    TDES_3KEY = 0x02
    AES_128 = 0x03
    AES_192 = 0x04
    AES_256 = 0x05


ADMIN_KEY_LENGTHS: dict[int, int] = {
    AdminMechanism.TDES_2KEY: 16,
    AdminMechanism.TDES_3KEY: 24,
    AdminMechanism.AES_128: 16,
    AdminMechanism.AES_192: 24,
    AdminMechanism.AES_256: 32,
}
# Length of the host's/card's Z half in mutual authentication: 7 for 3DES as every
# implementation does; for AES the spec's table names the key length (UNCONFIRMED).
ADMIN_Z_LENGTHS: dict[int, int] = {
    AdminMechanism.TDES_2KEY: 7,
    AdminMechanism.TDES_3KEY: 7,
    AdminMechanism.AES_128: 15,
    AdminMechanism.AES_192: 15,
    AdminMechanism.AES_256: 15,
}
ADMIN_KEY_REFERENCE = 0x80
MUTUAL_CHALLENGE_LENGTH = 16
# External authentication (GENERAL AUTHENTICATE 7C{81 00}): the card's challenge length.
ADMIN_CHALLENGE_LENGTH = 8
# Container keys: container i uses key reference 81 + i (key EF B0kk, gids.md 2.5).
FIRST_CONTAINER_KEY_REFERENCE = 0x81
LAST_CONTAINER_KEY_REFERENCE = 0x9E
# CRT usage qualifier (tag 95): the key computes (signs, deciphers).
USAGE_COMPUTE = 0x40
ISO9797_PAD = 0x80


class KeyType(IntEnum):
    """Tag 83 of PUT KEY's key value template."""

    SYMMETRIC = 0x01
    RSA = 0x02
    ECC = 0x03


PLAINTEXT_TRANSPORT = 0x00

# -- minidriver file formats (gids.md 2.4-2.7, minidriver.md 3.1) ---------------------------

MASTERFILE_VERSION = 0x01
MASTERFILE_RECORD_SIZE = 28
MASTERFILE_NAME_SIZE = 9
KEYMAP_VERSION = 0x01
KEYMAP_RECORD_SIZE = 12
CMAP_RECORD_SIZE = 86
CMAP_NAME_SIZE = 80
# The container map's flags are the minidriver's (CONTAINER_MAP_RECORD.bFlags).
CMAP_VALID = CONTAINER_MAP_VALID_CONTAINER
CMAP_DEFAULT = CONTAINER_MAP_DEFAULT_CONTAINER
CARDCF_SIZE = 6
CARDAPPS_RECORD = b"mscp\x00\x00\x00\x00"
CARDID_SIZE = 16
CERT_COMPRESSED_MAGIC = b"\x01\x00"
KEY_TYPE_KEYEXCHANGE = 0x9A
KEY_TYPE_SIGNATURE = 0x9C

# -- GidsApplet's fixed limits (gids.md 8, item 16) -------------------------------------------

MAX_FILES = 30
MAX_DOS_PER_EF = 30
# GidsApplet's import buffer is 1220 (2372 in its import4096 build); an RSA-4096 template
# with DER sign bytes is slightly larger, so softcard allows more (docs/gids.md).
MAX_PUT_KEY_SIZE = 4096
MAX_PKCS1_SIGN_INPUT = 247
MAX_RAW_PSO_INPUT = 530
# Below this announced size, a PUT DATA shorter than its TLV header says is refused.
PARTIAL_DO_THRESHOLD = 240
