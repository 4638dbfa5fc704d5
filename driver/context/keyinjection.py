"""Secure key injection (CARD_DATA v7): symmetric key handles, their properties, and the
no-card MDImportSessionKey / MDEncryptData pair.

This card shares no key with the host and cannot unwrap or run secure functions on the chip, so
those entry points answer SCARD_E_UNSUPPORTED_FEATURE; the host-side functions work, also in
no-card mode.
"""

from __future__ import annotations

from wire.minidriver import crypto as c
from wire.minidriver import properties as pr
from wire.minidriver import ski
from wire.minidriver import versions as v

from .. import blobs, symmetric
from ..api import api
from ..errors import SCARD_E_INVALID_PARAMETER, SCARD_E_UNSUPPORTED_FEATURE
from ..structures import (
    BCRYPT_OAEP_PADDING_INFO,
    CARD_AUTHENTICATE,
    CARD_CHANGE_AUTHENTICATOR,
    CARD_IMPORT_KEYPAIR,
    from_wstr,
)
from . import checks
from .base import ContextBase


class KeyInjectionMixin(ContextBase):
    @api("CardGetSharedKeyHandle", since=7, no_card=True)
    def get_shared_key_handle(self, input_data: bytes | None = None) -> tuple[bytes | None, int]:
        raise SCARD_E_UNSUPPORTED_FEATURE("the card shares no symmetric key with the host")

    @api("CardDestroyKey", since=7, no_card=True)
    def destroy_key(self, key: int) -> None:
        self.keys.destroy(key)

    @api("CardGetAlgorithmProperty", since=7, no_card=True)
    def get_algorithm_property(
        self, algorithm_id: str, property_name: str, cb_data: int | None = None, flags: int = 0
    ) -> bytes:
        checks.flags_zero(flags)
        algorithm = symmetric.algorithm(algorithm_id)
        if property_name != pr.CP_CARD_KEYSIZES:
            raise SCARD_E_INVALID_PARAMETER(f"unknown algorithm property {property_name!r}")
        return checks.fit(algorithm.key_sizes.to_bytes(), cb_data)

    @api("CardGetKeyProperty", since=7, no_card=True)
    def get_key_property(
        self, key: int, property_name: str, cb_data: int | None = None, flags: int = 0
    ) -> bytes:
        checks.flags_zero(flags)
        found = self.keys.get(key)
        if property_name != pr.CKP_BLOCK_LENGTH:
            raise SCARD_E_INVALID_PARAMETER(f"unknown key property {property_name!r}")
        return checks.fit(checks.dword(found.algorithm.block_length), cb_data)

    @api("CardSetKeyProperty", since=7, no_card=True)
    def set_key_property(
        self, key: int, property_name: str, data: bytes | None, flags: int = 0
    ) -> None:
        checks.flags_zero(flags)
        found = self.keys.get(key)
        if data is None:
            raise SCARD_E_INVALID_PARAMETER("pbInput is NULL")
        if property_name == pr.CKP_CHAINING_MODE:
            mode = from_wstr(data + b"\0\0")
            if mode != ski.CARD_CHAIN_MODE_CBC:
                raise SCARD_E_INVALID_PARAMETER(f"chaining mode {mode!r}")
            found.chaining_mode = mode
        elif property_name == pr.CKP_INITIALIZATION_VECTOR:
            if len(data) != found.algorithm.block_length:
                raise SCARD_E_INVALID_PARAMETER("the IV is one block long")
            found.iv = bytes(data)
        else:
            raise SCARD_E_INVALID_PARAMETER(f"unknown key property {property_name!r}")

    @api("CardImportSessionKey", since=7)
    def import_session_key(
        self,
        container_index: int,
        padding_info: BCRYPT_OAEP_PADDING_INFO | None,
        blob_type: str,
        algorithm_id: str,
        input_data: bytes | None,
        flags: int,
    ) -> int:
        raise SCARD_E_UNSUPPORTED_FEATURE(
            "the card cannot unwrap a session key inside the chip (CP_KEY_IMPORT_SUPPORT is 0)"
        )

    @api("CardProcessEncryptedData", since=7, no_card=True)
    def process_encrypted_data(
        self,
        key: int,
        secure_function: str,
        encrypted_data: list[bytes],
        cb_output: int | None = None,
        flags: int = 0,
    ) -> bytes:
        raise SCARD_E_UNSUPPORTED_FEATURE("the card cannot decrypt and execute secure functions")

    @api("MDImportSessionKey", since=7, no_card=True)
    def md_import_session_key(
        self, blob_type: str, algorithm_id: str, input_data: bytes | None
    ) -> int:
        if blob_type != c.BCRYPT_KEY_DATA_BLOB:
            raise SCARD_E_INVALID_PARAMETER(f"blob type {blob_type!r}")
        algorithm = symmetric.algorithm(algorithm_id)
        if input_data is None:
            raise SCARD_E_INVALID_PARAMETER("pbInput is NULL")
        return self.keys.add(
            symmetric.SymmetricKey(algorithm, blobs.parse_key_data_blob(input_data))
        )

    @api("MDEncryptData", since=7, no_card=True)
    def md_encrypt_data(
        self, key: int, secure_function: str, input_data: bytes | None, flags: int = 0
    ) -> list[bytes]:
        """The CARD_ENCRYPTED_DATA chunks: the structure encrypted with the key's CBC and IV
        (PKCS#5 padded with CARD_BLOCK_PADDING), cut into whole-block pieces of <= 240 bytes."""
        if not self.no_card:
            raise SCARD_E_INVALID_PARAMETER("MDEncryptData runs on a no-card context only")
        if flags not in (0, ski.CARD_BLOCK_PADDING):
            raise SCARD_E_INVALID_PARAMETER(f"dwFlags 0x{flags:X}")
        if input_data is None:
            raise SCARD_E_INVALID_PARAMETER("pbInput is NULL")
        _check_secure_function(secure_function, input_data)
        found = self.keys.get(key)
        ciphertext = found.encrypt(input_data, bool(flags & ski.CARD_BLOCK_PADDING))
        return symmetric.split_chunks(ciphertext, found.algorithm.block_length)


def _check_secure_function(name: str, data: bytes) -> None:
    try:
        if name == pr.CSF_IMPORT_KEYPAIR:
            version = CARD_IMPORT_KEYPAIR.from_bytes(data).version
            expected = v.CARD_IMPORT_KEYPAIR_CURRENT_VERSION
        elif name == pr.CSF_CHANGE_AUTHENTICATOR:
            version = CARD_CHANGE_AUTHENTICATOR.from_bytes(data).version
            expected = v.CARD_CHANGE_AUTHENTICATOR_CURRENT_VERSION
        elif name == pr.CSF_AUTHENTICATE:
            version = CARD_AUTHENTICATE.from_bytes(data).version
            expected = v.CARD_AUTHENTICATE_CURRENT_VERSION
        else:
            raise SCARD_E_INVALID_PARAMETER(f"unknown secure function {name!r}")
    except ValueError:
        raise SCARD_E_INVALID_PARAMETER(f"malformed {name} structure") from None
    if version != expected:
        raise SCARD_E_INVALID_PARAMETER(f"{name} structure version {version}")
