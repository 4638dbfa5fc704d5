"""Access conditions and well-known names of the logical file system (2.6, 2.11, 5)."""

from __future__ import annotations

from enum import IntEnum
from typing import Final


class CARD_FILE_ACCESS_CONDITION(IntEnum):  # noqa: N801 - spec name
    InvalidAc = 0
    EveryoneReadUserWriteAc = 1
    UserWriteExecuteAc = 2
    EveryoneReadAdminWriteAc = 3
    UnknownAc = 4
    UserReadWriteAc = 5
    AdminReadWriteAc = 6


class CARD_DIRECTORY_ACCESS_CONDITION(IntEnum):  # noqa: N801 - spec name
    InvalidDirAc = 0
    UserCreateDeleteDirAc = 1
    AdminCreateDeleteDirAc = 2


InvalidAc: Final = CARD_FILE_ACCESS_CONDITION.InvalidAc
EveryoneReadUserWriteAc: Final = CARD_FILE_ACCESS_CONDITION.EveryoneReadUserWriteAc
UserWriteExecuteAc: Final = CARD_FILE_ACCESS_CONDITION.UserWriteExecuteAc
EveryoneReadAdminWriteAc: Final = CARD_FILE_ACCESS_CONDITION.EveryoneReadAdminWriteAc
UnknownAc: Final = CARD_FILE_ACCESS_CONDITION.UnknownAc
UserReadWriteAc: Final = CARD_FILE_ACCESS_CONDITION.UserReadWriteAc
AdminReadWriteAc: Final = CARD_FILE_ACCESS_CONDITION.AdminReadWriteAc
InvalidDirAc: Final = CARD_DIRECTORY_ACCESS_CONDITION.InvalidDirAc
UserCreateDeleteDirAc: Final = CARD_DIRECTORY_ACCESS_CONDITION.UserCreateDeleteDirAc
AdminCreateDeleteDirAc: Final = CARD_DIRECTORY_ACCESS_CONDITION.AdminCreateDeleteDirAc

szBASE_CSP_DIR: Final = "mscp"  # noqa: N816 - spec names below
szINTERMEDIATE_CERTS_DIR: Final = "mscerts"  # noqa: N816
szCACHE_FILE: Final = "cardcf"  # noqa: N816
szCARD_IDENTIFIER_FILE: Final = "cardid"  # noqa: N816
szCARD_APPS_FILE: Final = "cardapps"  # noqa: N816 - the spec gives this file no constant
szCONTAINER_MAP_FILE: Final = "cmapfile"  # noqa: N816
szROOT_STORE_FILE: Final = "msroots"  # noqa: N816
szUSER_SIGNATURE_CERT_PREFIX: Final = "ksc"  # noqa: N816
szUSER_KEYEXCHANGE_CERT_PREFIX: Final = "kxc"  # noqa: N816
szUSER_SIGNATURE_PRIVATE_KEY_PREFIX: Final = "kss"  # noqa: N816
szUSER_SIGNATURE_PUBLIC_KEY_PREFIX: Final = "ksp"  # noqa: N816
szUSER_KEYEXCHANGE_PRIVATE_KEY_PREFIX: Final = "kxs"  # noqa: N816
szUSER_KEYEXCHANGE_PUBLIC_KEY_PREFIX: Final = "kxp"  # noqa: N816

MAX_FILE_NAME_LENGTH: Final = 8
# Characters a file or directory name may not contain (section 5.1), besides 0x00-0x1F.
FORBIDDEN_NAME_CHARACTERS: Final = frozenset('"*/:<>?\\|')

# Who may do what with a file of each access condition (section 5.10): "R" read / get info,
# "W" write, "D" delete, "X" use for crypto. Keys: ROLE_EVERYONE, ROLE_USER, ROLE_ADMIN.
FILE_RIGHTS: Final[dict[CARD_FILE_ACCESS_CONDITION, dict[int, str]]] = {
    CARD_FILE_ACCESS_CONDITION.EveryoneReadUserWriteAc: {0: "R", 1: "RWD", 2: "RWD"},
    CARD_FILE_ACCESS_CONDITION.UserWriteExecuteAc: {0: "", 1: "WXD", 2: "WD"},
    CARD_FILE_ACCESS_CONDITION.EveryoneReadAdminWriteAc: {0: "R", 1: "R", 2: "RWD"},
    CARD_FILE_ACCESS_CONDITION.UserReadWriteAc: {0: "", 1: "RWD", 2: "RWD"},
    CARD_FILE_ACCESS_CONDITION.AdminReadWriteAc: {0: "", 1: "", 2: "RWD"},
}
