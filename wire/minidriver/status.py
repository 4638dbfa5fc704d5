"""Status codes of the minidriver API: SCARD_* HRESULTs and the Win32 / NTE codes the
specification uses (minidriver.md 2.2), with a plain explanation of each."""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """Every status a minidriver function returns, by its spec name."""

    SCARD_S_SUCCESS = 0x00000000
    SCARD_F_INTERNAL_ERROR = 0x80100001
    SCARD_E_CANCELLED = 0x80100002
    SCARD_E_INVALID_HANDLE = 0x80100003
    SCARD_E_INVALID_PARAMETER = 0x80100004
    SCARD_E_INVALID_TARGET = 0x80100005
    SCARD_E_NO_MEMORY = 0x80100006
    SCARD_F_WAITED_TOO_LONG = 0x80100007
    SCARD_E_INSUFFICIENT_BUFFER = 0x80100008
    SCARD_E_UNKNOWN_READER = 0x80100009
    SCARD_E_TIMEOUT = 0x8010000A
    SCARD_E_SHARING_VIOLATION = 0x8010000B
    SCARD_E_NO_SMARTCARD = 0x8010000C
    SCARD_E_UNKNOWN_CARD = 0x8010000D
    SCARD_E_CANT_DISPOSE = 0x8010000E
    SCARD_E_PROTO_MISMATCH = 0x8010000F
    SCARD_E_NOT_READY = 0x80100010
    SCARD_E_INVALID_VALUE = 0x80100011
    SCARD_E_SYSTEM_CANCELLED = 0x80100012
    SCARD_F_COMM_ERROR = 0x80100013
    SCARD_F_UNKNOWN_ERROR = 0x80100014
    SCARD_E_INVALID_ATR = 0x80100015
    SCARD_E_NOT_TRANSACTED = 0x80100016
    SCARD_E_READER_UNAVAILABLE = 0x80100017
    SCARD_P_SHUTDOWN = 0x80100018
    SCARD_E_PCI_TOO_SMALL = 0x80100019
    SCARD_E_READER_UNSUPPORTED = 0x8010001A
    SCARD_E_DUPLICATE_READER = 0x8010001B
    SCARD_E_CARD_UNSUPPORTED = 0x8010001C
    SCARD_E_NO_SERVICE = 0x8010001D
    SCARD_E_SERVICE_STOPPED = 0x8010001E
    SCARD_E_UNEXPECTED = 0x8010001F
    SCARD_E_ICC_INSTALLATION = 0x80100020
    SCARD_E_ICC_CREATEORDER = 0x80100021
    SCARD_E_UNSUPPORTED_FEATURE = 0x80100022
    SCARD_E_DIR_NOT_FOUND = 0x80100023
    SCARD_E_FILE_NOT_FOUND = 0x80100024
    SCARD_E_NO_DIR = 0x80100025
    SCARD_E_NO_FILE = 0x80100026
    SCARD_E_NO_ACCESS = 0x80100027
    SCARD_E_WRITE_TOO_MANY = 0x80100028
    SCARD_E_BAD_SEEK = 0x80100029
    SCARD_E_INVALID_CHV = 0x8010002A
    SCARD_E_UNKNOWN_RES_MNG = 0x8010002B
    SCARD_E_NO_SUCH_CERTIFICATE = 0x8010002C
    SCARD_E_CERTIFICATE_UNAVAILABLE = 0x8010002D
    SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
    SCARD_E_COMM_DATA_LOST = 0x8010002F
    SCARD_E_NO_KEY_CONTAINER = 0x80100030
    SCARD_E_SERVER_TOO_BUSY = 0x80100031
    SCARD_E_PIN_CACHE_EXPIRED = 0x80100032
    SCARD_E_NO_PIN_CACHE = 0x80100033
    SCARD_E_READ_ONLY_CARD = 0x80100034
    SCARD_W_UNSUPPORTED_CARD = 0x80100065
    SCARD_W_UNRESPONSIVE_CARD = 0x80100066
    SCARD_W_UNPOWERED_CARD = 0x80100067
    SCARD_W_RESET_CARD = 0x80100068
    SCARD_W_REMOVED_CARD = 0x80100069
    SCARD_W_SECURITY_VIOLATION = 0x8010006A
    SCARD_W_WRONG_CHV = 0x8010006B
    SCARD_W_CHV_BLOCKED = 0x8010006C
    SCARD_W_EOF = 0x8010006D
    SCARD_W_CANCELLED_BY_USER = 0x8010006E
    SCARD_W_CARD_NOT_AUTHENTICATED = 0x8010006F
    SCARD_W_CACHE_ITEM_NOT_FOUND = 0x80100070
    SCARD_W_CACHE_ITEM_STALE = 0x80100071
    SCARD_W_CACHE_ITEM_TOO_BIG = 0x80100072
    ERROR_NOT_ENOUGH_MEMORY = 0x00000008
    ERROR_FILE_EXISTS = 0x00000050
    ERROR_INVALID_PARAMETER = 0x00000057
    ERROR_CALL_NOT_IMPLEMENTED = 0x00000078
    ERROR_INSUFFICIENT_BUFFER = 0x0000007A
    ERROR_DIR_NOT_EMPTY = 0x00000091
    ERROR_REVISION_MISMATCH = 0x0000051A
    NTE_BUFFER_TOO_SMALL = 0x80090028


DESCRIPTIONS: dict[int, str] = {
    Status.SCARD_S_SUCCESS: "success",
    Status.SCARD_F_INTERNAL_ERROR: "an internal consistency check failed",
    Status.SCARD_E_CANCELLED: "the action was cancelled",
    Status.SCARD_E_INVALID_HANDLE: "the handle is invalid",
    Status.SCARD_E_INVALID_PARAMETER: "a parameter or flag is invalid",
    Status.SCARD_E_INVALID_TARGET: "registry startup information is missing or invalid",
    Status.SCARD_E_NO_MEMORY: "not enough memory (or card storage) to complete the command",
    Status.SCARD_F_WAITED_TOO_LONG: "an internal timer expired",
    Status.SCARD_E_INSUFFICIENT_BUFFER: "the buffer is too small for the result",
    Status.SCARD_E_UNKNOWN_READER: "the reader name is not known",
    Status.SCARD_E_TIMEOUT: "the operation timed out",
    Status.SCARD_E_SHARING_VIOLATION: "the card is in use by another connection",
    Status.SCARD_E_NO_SMARTCARD: "there is no card in the reader",
    Status.SCARD_E_UNKNOWN_CARD: "this card is not one this minidriver handles",
    Status.SCARD_E_CANT_DISPOSE: "the card cannot be disposed of as requested",
    Status.SCARD_E_PROTO_MISMATCH: "the requested protocols are incompatible with the card",
    Status.SCARD_E_NOT_READY: "the reader or card is not ready",
    Status.SCARD_E_INVALID_VALUE: "a supplied value could not be interpreted",
    Status.SCARD_E_SYSTEM_CANCELLED: "the action was cancelled by the system",
    Status.SCARD_F_COMM_ERROR: "an internal communications error occurred",
    Status.SCARD_F_UNKNOWN_ERROR: "an internal error occurred for an unknown reason",
    Status.SCARD_E_INVALID_ATR: "the ATR is invalid",
    Status.SCARD_E_NOT_TRANSACTED: "no transaction is in progress",
    Status.SCARD_E_READER_UNAVAILABLE: "the reader is not available",
    Status.SCARD_P_SHUTDOWN: "the operation was aborted for shutdown",
    Status.SCARD_E_PCI_TOO_SMALL: "the PCI receive buffer is too small",
    Status.SCARD_E_READER_UNSUPPORTED: "the reader driver does not meet requirements",
    Status.SCARD_E_DUPLICATE_READER: "the reader name is already in use",
    Status.SCARD_E_CARD_UNSUPPORTED: "the card does not meet requirements",
    Status.SCARD_E_NO_SERVICE: "the smart card resource manager is not running",
    Status.SCARD_E_SERVICE_STOPPED: "the smart card resource manager has shut down",
    Status.SCARD_E_UNEXPECTED: "an unexpected card error occurred",
    Status.SCARD_E_ICC_INSTALLATION: "no primary provider for the card",
    Status.SCARD_E_ICC_CREATEORDER: "the requested creation order is not supported",
    Status.SCARD_E_UNSUPPORTED_FEATURE: "the card or minidriver does not support this feature",
    Status.SCARD_E_DIR_NOT_FOUND: "the directory does not exist on the card",
    Status.SCARD_E_FILE_NOT_FOUND: "the file does not exist on the card",
    Status.SCARD_E_NO_DIR: "the path is not a directory",
    Status.SCARD_E_NO_FILE: "the path is not a file",
    Status.SCARD_E_NO_ACCESS: "access to the file is denied",
    Status.SCARD_E_WRITE_TOO_MANY: "the card is out of space",
    Status.SCARD_E_BAD_SEEK: "the file pointer could not be set",
    Status.SCARD_E_INVALID_CHV: "the PIN is invalid",
    Status.SCARD_E_UNKNOWN_RES_MNG: "an unknown resource manager error",
    Status.SCARD_E_NO_SUCH_CERTIFICATE: "the certificate does not exist",
    Status.SCARD_E_CERTIFICATE_UNAVAILABLE: "the certificate cannot be obtained",
    Status.SCARD_E_NO_READERS_AVAILABLE: "no reader is available",
    Status.SCARD_E_COMM_DATA_LOST: "card data was lost or could not be read",
    Status.SCARD_E_NO_KEY_CONTAINER: "the key container does not exist or is empty",
    Status.SCARD_E_SERVER_TOO_BUSY: "the resource manager is too busy",
    Status.SCARD_E_PIN_CACHE_EXPIRED: "the PIN cache has expired",
    Status.SCARD_E_NO_PIN_CACHE: "the PIN is not cached",
    Status.SCARD_E_READ_ONLY_CARD: "the card is read-only",
    Status.SCARD_W_UNSUPPORTED_CARD: "the card's ATR conflicts with its configuration",
    Status.SCARD_W_UNRESPONSIVE_CARD: "the card is not responding to a reset",
    Status.SCARD_W_UNPOWERED_CARD: "the card has no power",
    Status.SCARD_W_RESET_CARD: "the card was reset, so shared state is invalid",
    Status.SCARD_W_REMOVED_CARD: "the card was removed",
    Status.SCARD_W_SECURITY_VIOLATION: "access denied: a PIN or admin authentication is missing",
    Status.SCARD_W_WRONG_CHV: "wrong PIN or wrong challenge response",
    Status.SCARD_W_CHV_BLOCKED: "the PIN or key is blocked (no tries left)",
    Status.SCARD_W_EOF: "the end of the card file was reached",
    Status.SCARD_W_CANCELLED_BY_USER: "the user cancelled",
    Status.SCARD_W_CARD_NOT_AUTHENTICATED: "no PIN was presented to the card",
    Status.SCARD_W_CACHE_ITEM_NOT_FOUND: "the cache item was not found",
    Status.SCARD_W_CACHE_ITEM_STALE: "the cache item is stale",
    Status.SCARD_W_CACHE_ITEM_TOO_BIG: "the cache item is too big",
    Status.ERROR_NOT_ENOUGH_MEMORY: "not enough memory",
    Status.ERROR_FILE_EXISTS: "a file or directory with that name already exists",
    Status.ERROR_INVALID_PARAMETER: "the parameter is incorrect",
    Status.ERROR_CALL_NOT_IMPLEMENTED: "the function is not implemented",
    Status.ERROR_INSUFFICIENT_BUFFER: "the data area is too small for the result",
    Status.ERROR_DIR_NOT_EMPTY: "the directory is not empty",
    Status.ERROR_REVISION_MISMATCH: "the structure or context version is not supported",
    Status.NTE_BUFFER_TOO_SMALL: "the buffer is too small",
}


def describe(code: int) -> str:
    return DESCRIPTIONS.get(code, "unknown status")


def status_name(code: int) -> str:
    try:
        return Status(code).name
    except ValueError:
        return f"0x{code:08X}"
