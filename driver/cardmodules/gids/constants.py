"""GIDS card-edge facts the driver needs (gids.md), by the names the GIDS documents use."""

from __future__ import annotations

from enum import IntEnum
from typing import Final

from ...constants.files import CARD_DIRECTORY_ACCESS_CONDITION as DIR_AC
from ...constants.files import CARD_FILE_ACCESS_CONDITION as FILE_AC

# The right-truncated AID hosts select with (gids.md 1.1).
GIDS_AID: Final = bytes.fromhex("A000000397425446 59")
CURRENT_APPLICATION: Final = 0x3FFF


class Ins(IntEnum):
    VERIFY = 0x20
    MANAGE_SECURITY_ENVIRONMENT = 0x22
    CHANGE_REFERENCE_DATA = 0x24
    PERFORM_SECURITY_OPERATION = 0x2A
    RESET_RETRY_COUNTER = 0x2C
    ACTIVATE_FILE = 0x44
    GENERATE_ASYMMETRIC_KEY_PAIR = 0x47
    GENERAL_AUTHENTICATE = 0x87
    SELECT = 0xA4
    GET_DATA = 0xCB
    PUT_DATA = 0xDB
    CREATE_FILE = 0xE0
    DELETE_FILE = 0xE4


class Ef(IntEnum):
    """The DO EFs of the Microsoft generic profile, named by their minidriver ACL (2.2)."""

    USER_CREATE_DELETE_DIR = 0xA000
    EVERYONE_READ_USER_WRITE = 0xA010
    USER_WRITE_EXECUTE = 0xA011
    EVERYONE_READ_ADMIN_WRITE = 0xA012
    USER_READ_WRITE = 0xA013
    ADMIN_READ_WRITE = 0xA014


class Tag(IntEnum):
    MASTERFILE = 0xDF1F  # in EF A000
    KEYMAP = 0xDF20  # in EF A000
    FIRST_FILE_DO = 0xDF21  # files created through the minidriver take free tags from here
    LAST_FILE_DO = 0xDFFE
    GLOBAL_PIN_STATUS = 0x7F71
    LOCAL_PIN_STATUS = 0x7F72
    LOCAL_PUK_STATUS = 0x7F73
    TRY_COUNTER = 0x97
    TRY_LIMIT = 0x93
    TAG_LIST = 0x5C
    PUBLIC_KEY = 0x7F49
    MODULUS = 0x81
    EXPONENT = 0x82
    EC_POINT = 0x86
    DYNAMIC_AUTH = 0x7C
    WITNESS = 0x80
    CHALLENGE = 0x81
    RESPONSE = 0x82


FILE_AC_EFS: Final[dict[int, int]] = {
    FILE_AC.EveryoneReadUserWriteAc: Ef.EVERYONE_READ_USER_WRITE,
    FILE_AC.UserWriteExecuteAc: Ef.USER_WRITE_EXECUTE,
    FILE_AC.EveryoneReadAdminWriteAc: Ef.EVERYONE_READ_ADMIN_WRITE,
    FILE_AC.UserReadWriteAc: Ef.USER_READ_WRITE,
    FILE_AC.AdminReadWriteAc: Ef.ADMIN_READ_WRITE,
}
EF_FILE_ACS: Final[dict[int, int]] = {ef: ac for ac, ef in FILE_AC_EFS.items()} | {
    Ef.USER_CREATE_DELETE_DIR: FILE_AC.EveryoneReadUserWriteAc  # same SCBs as A010
}
# A directory record's EF encodes the directory ACL; A000 is the profile's, A012 (admin write,
# everyone read) is ours for AdminCreateDeleteDirAc, which the profile does not define.
DIR_AC_EFS: Final[dict[int, int]] = {
    DIR_AC.UserCreateDeleteDirAc: Ef.USER_CREATE_DELETE_DIR,
    DIR_AC.AdminCreateDeleteDirAc: Ef.EVERYONE_READ_ADMIN_WRITE,
}
EF_DIR_ACS: Final[dict[int, int]] = {ef: ac for ac, ef in DIR_AC_EFS.items()}

# Key references: the admin key is 80; container i uses 81 + i (key EF B0kk).
ADMIN_KEY_REFERENCE: Final = 0x80
FIRST_CONTAINER_KEY_REFERENCE: Final = 0x81
LAST_CONTAINER_KEY_REFERENCE: Final = 0x9E
KEY_EF_BASE: Final = 0xB000
PIN_REFERENCE: Final = 0x80
LOGOUT_REFERENCE: Final = 0x82  # VERIFY P2=82: security status resetting code

PIN_MIN_LENGTH: Final = 4
PIN_MAX_LENGTH: Final = 16
ADMIN_KEY_LENGTH: Final = 24  # 3-key triple DES
ADMIN_CHALLENGE_LENGTH: Final = 8


class Algorithm(IntEnum):
    """GENERATE / CRT mechanism references (gids.md 4.2): the low nibble names the key."""

    RSA_1024 = 0x06
    RSA_2048 = 0x07
    RSA_3072 = 0x08
    RSA_4096 = 0x09
    ECC_P256 = 0x0C
    ECC_P384 = 0x0D
    ECC_P521 = 0x0E


RSA_ALGORITHMS: Final = {
    1024: Algorithm.RSA_1024,
    2048: Algorithm.RSA_2048,
    3072: Algorithm.RSA_3072,
    4096: Algorithm.RSA_4096,
}
EC_ALGORITHMS: Final = {256: Algorithm.ECC_P256, 384: Algorithm.ECC_P384, 521: Algorithm.ECC_P521}

# High bits OR-ed into the mechanism: CT (decipher) padding, DST (signature) mode.
CT_RAW: Final = 0x00
CT_PKCS1: Final = 0x40
CT_OAEP: Final = 0x80
DST_RAW: Final = 0x10  # "full hash computed off-card", no padding by the card
DST_PKCS1: Final = 0x50

CRT_DST: Final = 0xB6
CRT_CT: Final = 0xB8
CRT_AT: Final = 0xA4
USAGE_COMPUTE: Final = 0x40

# Keymap key types (gids.md 2.5).
KEY_TYPE_KEYEXCHANGE: Final = 0x9A
KEY_TYPE_SIGNATURE: Final = 0x9C
