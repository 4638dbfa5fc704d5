"""Exceptions: one class per status code, named as the spec names the code, all under
MinidriverError. Each carries the HRESULT value (`hresult`) and the spec name (`name`)."""

# ruff: noqa: N801, N818 - the class names are the specification's status names

from __future__ import annotations

from wire.minidriver.status import Status, describe


class MinidriverError(Exception):
    """A minidriver function failed with `hresult` (its spec name in `name`)."""

    hresult: int = Status.SCARD_E_UNEXPECTED

    def __init__(self, message: str = "", *, attempts_remaining: int | None = None) -> None:
        super().__init__(message or describe(self.hresult))
        self.message = message or describe(self.hresult)
        # PIN failures: the tries left (pcAttemptsRemaining), when the card reports them.
        self.attempts_remaining = attempts_remaining
        # ERROR_INSUFFICIENT_BUFFER: the size the data needs (*pdwDataLen).
        self.required_size: int | None = None

    @property
    def name(self) -> str:
        return Status(self.hresult).name

    @property
    def explanation(self) -> str:
        return describe(self.hresult)

    def __str__(self) -> str:
        return f"{self.name} (0x{self.hresult:08X}): {self.message}"


class SCARD_F_INTERNAL_ERROR(MinidriverError):
    hresult = Status.SCARD_F_INTERNAL_ERROR


class SCARD_E_CANCELLED(MinidriverError):
    hresult = Status.SCARD_E_CANCELLED


class SCARD_E_INVALID_HANDLE(MinidriverError):
    hresult = Status.SCARD_E_INVALID_HANDLE


class SCARD_E_INVALID_PARAMETER(MinidriverError):
    hresult = Status.SCARD_E_INVALID_PARAMETER


class SCARD_E_INVALID_TARGET(MinidriverError):
    hresult = Status.SCARD_E_INVALID_TARGET


class SCARD_E_NO_MEMORY(MinidriverError):
    hresult = Status.SCARD_E_NO_MEMORY


class SCARD_F_WAITED_TOO_LONG(MinidriverError):
    hresult = Status.SCARD_F_WAITED_TOO_LONG


class SCARD_E_INSUFFICIENT_BUFFER(MinidriverError):
    hresult = Status.SCARD_E_INSUFFICIENT_BUFFER


class SCARD_E_UNKNOWN_READER(MinidriverError):
    hresult = Status.SCARD_E_UNKNOWN_READER


class SCARD_E_TIMEOUT(MinidriverError):
    hresult = Status.SCARD_E_TIMEOUT


class SCARD_E_SHARING_VIOLATION(MinidriverError):
    hresult = Status.SCARD_E_SHARING_VIOLATION


class SCARD_E_NO_SMARTCARD(MinidriverError):
    hresult = Status.SCARD_E_NO_SMARTCARD


class SCARD_E_UNKNOWN_CARD(MinidriverError):
    hresult = Status.SCARD_E_UNKNOWN_CARD


class SCARD_E_CANT_DISPOSE(MinidriverError):
    hresult = Status.SCARD_E_CANT_DISPOSE


class SCARD_E_PROTO_MISMATCH(MinidriverError):
    hresult = Status.SCARD_E_PROTO_MISMATCH


class SCARD_E_NOT_READY(MinidriverError):
    hresult = Status.SCARD_E_NOT_READY


class SCARD_E_INVALID_VALUE(MinidriverError):
    hresult = Status.SCARD_E_INVALID_VALUE


class SCARD_E_SYSTEM_CANCELLED(MinidriverError):
    hresult = Status.SCARD_E_SYSTEM_CANCELLED


class SCARD_F_COMM_ERROR(MinidriverError):
    hresult = Status.SCARD_F_COMM_ERROR


class SCARD_F_UNKNOWN_ERROR(MinidriverError):
    hresult = Status.SCARD_F_UNKNOWN_ERROR


class SCARD_E_INVALID_ATR(MinidriverError):
    hresult = Status.SCARD_E_INVALID_ATR


class SCARD_E_NOT_TRANSACTED(MinidriverError):
    hresult = Status.SCARD_E_NOT_TRANSACTED


class SCARD_E_READER_UNAVAILABLE(MinidriverError):
    hresult = Status.SCARD_E_READER_UNAVAILABLE


class SCARD_P_SHUTDOWN(MinidriverError):
    hresult = Status.SCARD_P_SHUTDOWN


class SCARD_E_PCI_TOO_SMALL(MinidriverError):
    hresult = Status.SCARD_E_PCI_TOO_SMALL


class SCARD_E_READER_UNSUPPORTED(MinidriverError):
    hresult = Status.SCARD_E_READER_UNSUPPORTED


class SCARD_E_DUPLICATE_READER(MinidriverError):
    hresult = Status.SCARD_E_DUPLICATE_READER


class SCARD_E_CARD_UNSUPPORTED(MinidriverError):
    hresult = Status.SCARD_E_CARD_UNSUPPORTED


class SCARD_E_NO_SERVICE(MinidriverError):
    hresult = Status.SCARD_E_NO_SERVICE


class SCARD_E_SERVICE_STOPPED(MinidriverError):
    hresult = Status.SCARD_E_SERVICE_STOPPED


class SCARD_E_UNEXPECTED(MinidriverError):
    hresult = Status.SCARD_E_UNEXPECTED


class SCARD_E_ICC_INSTALLATION(MinidriverError):
    hresult = Status.SCARD_E_ICC_INSTALLATION


class SCARD_E_ICC_CREATEORDER(MinidriverError):
    hresult = Status.SCARD_E_ICC_CREATEORDER


class SCARD_E_UNSUPPORTED_FEATURE(MinidriverError):
    hresult = Status.SCARD_E_UNSUPPORTED_FEATURE


class SCARD_E_DIR_NOT_FOUND(MinidriverError):
    hresult = Status.SCARD_E_DIR_NOT_FOUND


class SCARD_E_FILE_NOT_FOUND(MinidriverError):
    hresult = Status.SCARD_E_FILE_NOT_FOUND


class SCARD_E_NO_DIR(MinidriverError):
    hresult = Status.SCARD_E_NO_DIR


class SCARD_E_NO_FILE(MinidriverError):
    hresult = Status.SCARD_E_NO_FILE


class SCARD_E_NO_ACCESS(MinidriverError):
    hresult = Status.SCARD_E_NO_ACCESS


class SCARD_E_WRITE_TOO_MANY(MinidriverError):
    hresult = Status.SCARD_E_WRITE_TOO_MANY


class SCARD_E_BAD_SEEK(MinidriverError):
    hresult = Status.SCARD_E_BAD_SEEK


class SCARD_E_INVALID_CHV(MinidriverError):
    hresult = Status.SCARD_E_INVALID_CHV


class SCARD_E_UNKNOWN_RES_MNG(MinidriverError):
    hresult = Status.SCARD_E_UNKNOWN_RES_MNG


class SCARD_E_NO_SUCH_CERTIFICATE(MinidriverError):
    hresult = Status.SCARD_E_NO_SUCH_CERTIFICATE


class SCARD_E_CERTIFICATE_UNAVAILABLE(MinidriverError):
    hresult = Status.SCARD_E_CERTIFICATE_UNAVAILABLE


class SCARD_E_NO_READERS_AVAILABLE(MinidriverError):
    hresult = Status.SCARD_E_NO_READERS_AVAILABLE


class SCARD_E_COMM_DATA_LOST(MinidriverError):
    hresult = Status.SCARD_E_COMM_DATA_LOST


class SCARD_E_NO_KEY_CONTAINER(MinidriverError):
    hresult = Status.SCARD_E_NO_KEY_CONTAINER


class SCARD_E_SERVER_TOO_BUSY(MinidriverError):
    hresult = Status.SCARD_E_SERVER_TOO_BUSY


class SCARD_E_PIN_CACHE_EXPIRED(MinidriverError):
    hresult = Status.SCARD_E_PIN_CACHE_EXPIRED


class SCARD_E_NO_PIN_CACHE(MinidriverError):
    hresult = Status.SCARD_E_NO_PIN_CACHE


class SCARD_E_READ_ONLY_CARD(MinidriverError):
    hresult = Status.SCARD_E_READ_ONLY_CARD


class SCARD_W_UNSUPPORTED_CARD(MinidriverError):
    hresult = Status.SCARD_W_UNSUPPORTED_CARD


class SCARD_W_UNRESPONSIVE_CARD(MinidriverError):
    hresult = Status.SCARD_W_UNRESPONSIVE_CARD


class SCARD_W_UNPOWERED_CARD(MinidriverError):
    hresult = Status.SCARD_W_UNPOWERED_CARD


class SCARD_W_RESET_CARD(MinidriverError):
    hresult = Status.SCARD_W_RESET_CARD


class SCARD_W_REMOVED_CARD(MinidriverError):
    hresult = Status.SCARD_W_REMOVED_CARD


class SCARD_W_SECURITY_VIOLATION(MinidriverError):
    hresult = Status.SCARD_W_SECURITY_VIOLATION


class SCARD_W_WRONG_CHV(MinidriverError):
    hresult = Status.SCARD_W_WRONG_CHV


class SCARD_W_CHV_BLOCKED(MinidriverError):
    hresult = Status.SCARD_W_CHV_BLOCKED


class SCARD_W_EOF(MinidriverError):
    hresult = Status.SCARD_W_EOF


class SCARD_W_CANCELLED_BY_USER(MinidriverError):
    hresult = Status.SCARD_W_CANCELLED_BY_USER


class SCARD_W_CARD_NOT_AUTHENTICATED(MinidriverError):
    hresult = Status.SCARD_W_CARD_NOT_AUTHENTICATED


class SCARD_W_CACHE_ITEM_NOT_FOUND(MinidriverError):
    hresult = Status.SCARD_W_CACHE_ITEM_NOT_FOUND


class SCARD_W_CACHE_ITEM_STALE(MinidriverError):
    hresult = Status.SCARD_W_CACHE_ITEM_STALE


class SCARD_W_CACHE_ITEM_TOO_BIG(MinidriverError):
    hresult = Status.SCARD_W_CACHE_ITEM_TOO_BIG


class ERROR_NOT_ENOUGH_MEMORY(MinidriverError):
    hresult = Status.ERROR_NOT_ENOUGH_MEMORY


class ERROR_FILE_EXISTS(MinidriverError):
    hresult = Status.ERROR_FILE_EXISTS


class ERROR_INVALID_PARAMETER(MinidriverError):
    hresult = Status.ERROR_INVALID_PARAMETER


class ERROR_CALL_NOT_IMPLEMENTED(MinidriverError):
    hresult = Status.ERROR_CALL_NOT_IMPLEMENTED


class ERROR_INSUFFICIENT_BUFFER(MinidriverError):
    hresult = Status.ERROR_INSUFFICIENT_BUFFER


class ERROR_DIR_NOT_EMPTY(MinidriverError):
    hresult = Status.ERROR_DIR_NOT_EMPTY


class ERROR_REVISION_MISMATCH(MinidriverError):
    hresult = Status.ERROR_REVISION_MISMATCH


class NTE_BUFFER_TOO_SMALL(MinidriverError):
    hresult = Status.NTE_BUFFER_TOO_SMALL


ERRORS: dict[int, type[MinidriverError]] = {
    cls.hresult: cls for cls in MinidriverError.__subclasses__()
}


def error_for(
    code: int, message: str = "", attempts_remaining: int | None = None
) -> MinidriverError:
    """The exception for a status code (SCARD_E_UNEXPECTED for codes the spec does not name)."""
    cls = ERRORS.get(code, SCARD_E_UNEXPECTED)
    return cls(message, attempts_remaining=attempts_remaining)
