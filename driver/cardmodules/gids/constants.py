"""What the GIDS card module adds to the GIDS specification's facts (wire/gids.py).

The spec's names come from wire/gids.py, which the card and the host share; here are
only the driver's own choices: how the minidriver's access conditions map onto the
profile's DO EFs, and lookups by key size.
"""

from __future__ import annotations

from typing import Final

from wire.gids import ADMIN_KEY_LENGTHS, EC_BITS, RSA_BITS, AdminMechanism, Ef, Mechanism
from wire.minidriver import CARD_DIRECTORY_ACCESS_CONDITION as DIR_AC
from wire.minidriver import CARD_FILE_ACCESS_CONDITION as FILE_AC

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

# The admin key the driver authenticates with: 3-key triple DES, as Windows' profile sets it.
ADMIN_KEY_LENGTH: Final = ADMIN_KEY_LENGTHS[AdminMechanism.TDES_3KEY]

# Key size in bits -> the mechanism a key of that size is generated or imported with.
RSA_BY_BITS: Final[dict[int, Mechanism]] = {bits: Mechanism(m) for m, bits in RSA_BITS.items()}
EC_BY_BITS: Final[dict[int, Mechanism]] = {bits: Mechanism(m) for m, bits in EC_BITS.items()}
