"""The card file system: directories and files (CardCreateDirectory ... CardGetFileInfo).

Reads go through the context's cache when everyone may read the file; cardid and cardcf are
always read from the card (spec 3.6). Every change bumps cardcf's file counter first.
"""

from __future__ import annotations

from wire.minidriver import containers as cm
from wire.minidriver import files as f
from wire.minidriver import versions as v

from ..api import api
from ..cache import Category
from ..errors import (
    ERROR_DIR_NOT_EMPTY,
    ERROR_FILE_EXISTS,
    SCARD_E_DIR_NOT_FOUND,
    SCARD_E_FILE_NOT_FOUND,
    SCARD_E_INVALID_PARAMETER,
    SCARD_E_UNSUPPORTED_FEATURE,
    SCARD_W_SECURITY_VIOLATION,
)
from ..structures import CARD_CACHE_FILE_FORMAT, CARD_FILE_INFO
from . import checks
from .base import ADMIN, USER, ContextBase

EVERYONE_READABLE = {f.EveryoneReadUserWriteAc, f.EveryoneReadAdminWriteAc}
VALID_FILE_ACS = {
    f.EveryoneReadUserWriteAc,
    f.UserWriteExecuteAc,
    f.EveryoneReadAdminWriteAc,
    f.UserReadWriteAc,
    f.AdminReadWriteAc,
}


class FileSystemMixin(ContextBase):
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
        name = checks.name(directory_name, "directory")
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
        name = checks.name(directory_name, "directory")
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
        directory = checks.directory(directory_name)
        name = checks.name(file_name)
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
        checks.flags_zero(flags)
        return self._read(checks.directory(directory_name), checks.name(file_name))

    @api("CardWriteFile")
    def write_file(
        self, directory_name: str | None, file_name: str, flags: int, data: bytes | None
    ) -> None:
        checks.flags_zero(flags)
        directory, name = checks.directory(directory_name), checks.name(file_name)
        if data is None:
            raise SCARD_E_INVALID_PARAMETER("pbData is NULL")
        if self.card.read_only:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card is read-only")
        self._write(directory, name, bytes(data))

    @api("CardDeleteFile")
    def delete_file(self, directory_name: str | None, file_name: str, flags: int = 0) -> None:
        checks.flags_zero(flags)
        directory, name = checks.directory(directory_name), checks.name(file_name)
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
        checks.flags_zero(flags)
        names = self.card.files(checks.directory(directory_name))
        if not names:
            raise SCARD_E_FILE_NOT_FOUND("the directory holds no files")
        return names

    @api("CardGetFileInfo")
    def get_file_info(
        self, directory_name: str | None, file_name: str, info: CARD_FILE_INFO | None = None
    ) -> CARD_FILE_INFO:
        version = checks.struct_version(
            info.version if info else v.CARD_FILE_INFO_CURRENT_VERSION,
            v.CARD_FILE_INFO_CURRENT_VERSION,
        )
        directory, name = checks.directory(directory_name), checks.name(file_name)
        ac = self.card.file_ac(directory, name)
        if ac == f.UserWriteExecuteAc:
            raise SCARD_W_SECURITY_VIOLATION("nobody may read a UserWriteExecuteAc file")
        size = len(self._read(directory, name))  # the card checks the read right
        return CARD_FILE_INFO(version, size, ac)
