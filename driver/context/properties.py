"""Card and container properties: CardGetProperty, CardSetProperty,
CardGetContainerProperty, CardSetContainerProperty.

Most card properties answer what another function answers (free space, key sizes, cardid,
PIN_INFO), so this family builds on the capability, container and file families.
"""

from __future__ import annotations

from wire.minidriver import crypto as c
from wire.minidriver import files as f
from wire.minidriver import keyspecs as ks
from wire.minidriver import pins as p
from wire.minidriver import properties as pr
from wire.minidriver import ski

from .. import symmetric
from ..api import api
from ..cardmodules import CardModule, DecryptMode, SignMode
from ..errors import (
    ERROR_INSUFFICIENT_BUFFER,
    SCARD_E_INVALID_PARAMETER,
    SCARD_E_NO_KEY_CONTAINER,
    SCARD_E_UNSUPPORTED_FEATURE,
)
from ..structures import CARD_CAPABILITIES, CONTAINER_INFO, from_wstr, multistring
from . import checks
from .base import ADMIN, USER
from .containers import ContainersMixin
from .files import FileSystemMixin


class PropertiesMixin(ContainersMixin, FileSystemMixin):
    @api("CardGetProperty", since=6)
    def get_property(self, property_name: str, cb_data: int | None = None, flags: int = 0) -> bytes:
        if not isinstance(property_name, str):
            raise SCARD_E_INVALID_PARAMETER("wszProperty is NULL")
        data = self._property(property_name, flags)
        return checks.fit(data, cb_data)

    def _property(self, name: str, flags: int) -> bytes:
        card = self.card
        uses_flags = {
            pr.CP_CARD_KEYSIZES,
            pr.CP_CARD_PIN_INFO,
            pr.CP_CARD_PIN_STRENGTH_VERIFY,
            pr.CP_CARD_PIN_STRENGTH_CHANGE,
            pr.CP_CARD_PIN_STRENGTH_UNBLOCK,
            pr.CP_ENUM_ALGORITHMS,
            pr.CP_PADDING_SCHEMES,
        }
        if name not in pr.CARD_PROPERTIES:
            raise SCARD_E_INVALID_PARAMETER(f"unknown property {name!r}")
        if name not in uses_flags:
            checks.flags_zero(flags)
        if name == pr.CP_CARD_FREE_SPACE:
            return self._free_space().to_bytes()
        if name == pr.CP_CARD_CAPABILITIES:
            return CARD_CAPABILITIES(1, card.certificate_compression, card.key_gen).to_bytes()
        if name == pr.CP_CARD_KEYSIZES:
            return self._key_sizes(flags).to_bytes()
        if name == pr.CP_CARD_READ_ONLY:
            return checks.dword(int(card.read_only))
        if name == pr.CP_CARD_CACHE_MODE:
            return checks.dword(_cache_mode(card))
        if name == pr.CP_SUPPORTS_WIN_X509_ENROLLMENT:
            return checks.dword(int(not card.read_only))
        if name == pr.CP_CARD_GUID:
            return self._read(None, f.szCARD_IDENTIFIER_FILE)
        if name == pr.CP_CARD_SERIAL_NO:
            return card.serial_number()
        if name == pr.CP_CARD_PIN_INFO:
            return self._pin(flags).to_bytes()
        if name == pr.CP_CARD_LIST_PINS:
            return checks.dword(card.pin_set)
        if name == pr.CP_CARD_AUTHENTICATED_STATE:
            return checks.dword(self.authenticated)
        if name in (
            pr.CP_CARD_PIN_STRENGTH_VERIFY,
            pr.CP_CARD_PIN_STRENGTH_CHANGE,
            pr.CP_CARD_PIN_STRENGTH_UNBLOCK,
        ):
            self._pin(flags)
            strength = p.CARD_PIN_STRENGTH_PLAINTEXT
            if name == pr.CP_CARD_PIN_STRENGTH_VERIFY and card.session_pins:
                strength |= p.CARD_PIN_STRENGTH_SESSION_PIN
            return checks.dword(strength)
        if name in (pr.CP_PARENT_WINDOW, pr.CP_PIN_CONTEXT_STRING):
            raise SCARD_E_INVALID_PARAMETER(f"{name!r} can only be set")
        if name == pr.CP_KEY_IMPORT_SUPPORT:
            return checks.dword(card.key_import_support)
        if name == pr.CP_ENUM_ALGORITHMS:
            if flags == ski.CARD_CIPHER_OPERATION:
                return multistring(sorted(symmetric.ALGORITHMS), wide=True)
            if flags == ski.CARD_ASYMMETRIC_OPERATION:
                return multistring(self._asymmetric_algorithms(), wide=True)
            raise SCARD_E_INVALID_PARAMETER(
                "dwFlags must be CARD_CIPHER_OPERATION or CARD_ASYMMETRIC_OPERATION"
            )
        if name == pr.CP_PADDING_SCHEMES:
            if flags == ski.CARD_CIPHER_OPERATION:
                return checks.dword(ski.CARD_BLOCK_PADDING)
            if flags == ski.CARD_ASYMMETRIC_OPERATION:
                return checks.dword(self._padding_schemes())
            raise SCARD_E_INVALID_PARAMETER(
                "dwFlags must be CARD_CIPHER_OPERATION or CARD_ASYMMETRIC_OPERATION"
            )
        # CP_CHAINING_MODES
        return multistring([ski.CARD_CHAIN_MODE_CBC], wide=True)

    def _asymmetric_algorithms(self) -> list[str]:
        names = []
        if self.card.key_sizes(ks.AT_KEYEXCHANGE) is not None:
            names.append("RSA")
        for spec, name in (
            (ks.AT_ECDSA_P256, "ECDSA_P256"),
            (ks.AT_ECDSA_P384, "ECDSA_P384"),
            (ks.AT_ECDSA_P521, "ECDSA_P521"),
            (ks.AT_ECDHE_P256, "ECDH_P256"),
            (ks.AT_ECDHE_P384, "ECDH_P384"),
            (ks.AT_ECDHE_P521, "ECDH_P521"),
        ):
            if self.card.key_sizes(spec) is not None:
                names.append(name)
        return names

    def _padding_schemes(self) -> int:
        modes = self.card.sign_modes()
        schemes = 0
        if SignMode.PKCS1 in modes or SignMode.RAW in modes:
            schemes |= c.CARD_PADDING_PKCS1
        if SignMode.RAW in modes:
            schemes |= c.CARD_PADDING_PSS | c.CARD_PADDING_NONE
        if DecryptMode.RAW in self.card.decrypt_modes():
            schemes |= c.CARD_PADDING_OAEP | c.CARD_PADDING_PKCS1 | c.CARD_PADDING_NONE
        return schemes

    @api("CardSetProperty", since=6)
    def set_property(self, property_name: str, data: bytes | None, flags: int = 0) -> None:
        if not isinstance(property_name, str):
            raise SCARD_E_INVALID_PARAMETER("wszProperty is NULL")
        card = self.card
        if property_name == pr.CP_PARENT_WINDOW:
            checks.flags_zero(flags)
            if data is not None and len(data) not in (4, 8):
                raise SCARD_E_INVALID_PARAMETER("CP_PARENT_WINDOW takes an HWND")
            self.parent_window = None if data is None else int.from_bytes(data, "little")
            return
        if property_name == pr.CP_PIN_CONTEXT_STRING:
            checks.flags_zero(flags)
            self.pin_context_string = None if data is None else from_wstr(data + b"\0\0")
            return
        read_only_properties = {
            pr.CP_CARD_FREE_SPACE,
            pr.CP_CARD_CAPABILITIES,
            pr.CP_CARD_KEYSIZES,
            pr.CP_CARD_LIST_PINS,
            pr.CP_CARD_AUTHENTICATED_STATE,
            pr.CP_KEY_IMPORT_SUPPORT,
            pr.CP_ENUM_ALGORITHMS,
            pr.CP_PADDING_SCHEMES,
            pr.CP_CHAINING_MODES,
        }
        if property_name not in pr.CARD_PROPERTIES or property_name in read_only_properties:
            raise SCARD_E_UNSUPPORTED_FEATURE(f"property {property_name!r} cannot be set")
        if card.read_only or property_name != pr.CP_CARD_GUID:
            # The GIDS card keeps these fixed (see docs/minidriver-api.md).
            raise SCARD_E_UNSUPPORTED_FEATURE(f"this card cannot change {property_name!r}")
        checks.flags_zero(flags)
        if data is None or len(data) != 16:
            raise SCARD_E_INVALID_PARAMETER("CP_CARD_GUID is 16 bytes")
        self._require_auth(ADMIN, "setting the card identifier")
        self._write(None, f.szCARD_IDENTIFIER_FILE, data)

    @api("CardGetContainerProperty", since=6)
    def get_container_property(
        self, container_index: int, property_name: str, cb_data: int | None = None, flags: int = 0
    ) -> bytes | CONTAINER_INFO:
        """CCP_CONTAINER_INFO answers the CONTAINER_INFO itself (its pointers have no meaning
        in Python); the DWORD / BYTE properties answer their exact bytes."""
        checks.flags_zero(flags)
        known = (pr.CCP_CONTAINER_INFO, pr.CCP_PIN_IDENTIFIER, pr.CCP_ASSOCIATED_ECDH_KEY)
        if property_name not in known:
            raise SCARD_E_INVALID_PARAMETER(f"unknown container property {property_name!r}")
        index = checks.container_index(container_index)
        keys = self._container_keys(index)
        if not keys:
            raise SCARD_E_NO_KEY_CONTAINER(f"container {index} does not exist or is empty")
        if property_name == pr.CCP_CONTAINER_INFO:
            if cb_data is not None and cb_data < CONTAINER_INFO.size():
                err = ERROR_INSUFFICIENT_BUFFER(
                    f"CONTAINER_INFO needs {CONTAINER_INFO.size()} bytes"
                )
                err.required_size = CONTAINER_INFO.size()
                raise err
            return self._container_info(index)
        if property_name == pr.CCP_PIN_IDENTIFIER:
            return checks.fit(checks.dword(keys[0].pin_id), cb_data)
        raise SCARD_E_NO_KEY_CONTAINER(f"container {index} has no associated ECDH key")

    @api("CardSetContainerProperty", since=6)
    def set_container_property(
        self, container_index: int, property_name: str, data: bytes | None, flags: int = 0
    ) -> None:
        checks.flags_zero(flags)
        if property_name == pr.CCP_CONTAINER_INFO:
            raise SCARD_E_INVALID_PARAMETER("CCP_CONTAINER_INFO is read-only")
        if property_name == pr.CCP_ASSOCIATED_ECDH_KEY:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card has no ECDH keys to associate")
        if property_name != pr.CCP_PIN_IDENTIFIER:
            raise SCARD_E_UNSUPPORTED_FEATURE(f"unknown container property {property_name!r}")
        if data is None or len(data) != 4:
            raise SCARD_E_INVALID_PARAMETER("CCP_PIN_IDENTIFIER is a DWORD")
        pin_id = int.from_bytes(data, "little")
        if pin_id in (p.ROLE_ADMIN, p.ROLE_EVERYONE):
            raise SCARD_E_INVALID_PARAMETER("a container cannot be bound to the admin or everyone")
        self._pin(pin_id)
        index = checks.container_index(container_index)
        keys = self._container_keys(index)
        if not keys:
            raise SCARD_E_NO_KEY_CONTAINER(f"container {index} does not exist or is empty")
        self._require_auth(USER | ADMIN | p.CREATE_PIN_SET(keys[0].pin_id), "binding a container")
        if pin_id != keys[0].pin_id:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card fixes a key's PIN when it is created")


def _cache_mode(card: CardModule) -> int:
    """A writable card keeps cardcf, so the global cache is safe."""
    return pr.CP_CACHE_MODE_SESSION_ONLY if card.read_only else pr.CP_CACHE_MODE_GLOBAL_CACHE
