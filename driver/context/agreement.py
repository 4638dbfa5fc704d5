"""ECDH: CardConstructDHAgreement, CardDeriveKey, CardDestroyDHAgreement and the
pfnCspGetDHAgreement callback.

An agreement's secret (Z) stays in this context, addressed by its index; CardDeriveKey turns it
into key material or a CARD_KEY_HANDLE of the context's key table.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from wire.minidriver import crypto as c
from wire.minidriver import keyspecs as ks
from wire.minidriver import versions as v

from .. import blobs, kdf, symmetric
from ..api import api
from ..errors import (
    ERROR_REVISION_MISMATCH,
    SCARD_E_INVALID_PARAMETER,
    SCARD_E_NO_KEY_CONTAINER,
    SCARD_E_NO_MEMORY,
    SCARD_E_UNSUPPORTED_FEATURE,
)
from ..structures import CARD_DERIVE_KEY, CARD_DH_AGREEMENT_INFO
from . import checks
from .base import ContextBase


class AgreementMixin(ContextBase):
    def _require_ecdh(self) -> None:
        if not self.card.can_ecdh():
            raise SCARD_E_UNSUPPORTED_FEATURE("the card has no ECDH keys (RSA only)")

    @api("CardConstructDHAgreement")
    def construct_dh_agreement(self, info: CARD_DH_AGREEMENT_INFO | None) -> CARD_DH_AGREEMENT_INFO:
        if info is None:
            raise SCARD_E_INVALID_PARAMETER("NULL agreement info")
        self._require_ecdh()
        if info.version != v.CARD_DH_AGREEMENT_INFO_VERSION:
            raise ERROR_REVISION_MISMATCH(f"CARD_DH_AGREEMENT_INFO version {info.version}")
        checks.flags_zero(info.flags)
        if info.public_key is None:
            raise SCARD_E_INVALID_PARAMETER("pbPublicKey is NULL")
        index = checks.container_index(info.container_index)
        keys = self._container_keys(index)
        if not keys:
            raise SCARD_E_NO_KEY_CONTAINER(f"container {index} does not exist or is empty")
        key = next((k for k in keys if k.key_spec in ks.ECDH_KEY_SPECS), None)
        if key is None:
            raise SCARD_E_INVALID_PARAMETER(f"container {index} holds no ECDH key")
        peer, ecdsa = blobs.parse_ecc_public_blob(info.public_key)
        assert isinstance(key.public_key, ec.EllipticCurvePublicKey)
        if ecdsa or peer.curve.key_size != key.public_key.curve.key_size:
            raise SCARD_E_INVALID_PARAMETER("the peer key is not an ECDH key on the same curve")
        slot = next((i for i in range(256) if i not in self._agreements), None)
        if slot is None:
            raise SCARD_E_NO_MEMORY("no room for another agreement")
        z = self.card.ecdh(index, key.key_spec, peer)
        self._agreements[slot] = (key.public_key.curve.key_size, z)
        return dataclasses.replace(info, secret_agreement_index=slot)

    @api("CardDeriveKey", since=5)
    def derive_key(self, info: CARD_DERIVE_KEY | None) -> CARD_DERIVE_KEY:
        if info is None:
            raise SCARD_E_INVALID_PARAMETER("NULL derive-key info")
        self._require_ecdh()
        if info.version not in (v.CARD_DERIVE_KEY_VERSION, v.CARD_DERIVE_KEY_VERSION_TWO):
            raise ERROR_REVISION_MISMATCH(f"CARD_DERIVE_KEY version {info.version}")
        allowed = c.KDF_USE_SECRET_AS_HMAC_KEY_FLAG | c.CARD_BUFFER_SIZE_ONLY
        if info.version == v.CARD_DERIVE_KEY_VERSION_TWO:
            allowed |= c.CARD_RETURN_KEY_HANDLE
        if info.flags & ~allowed:
            raise SCARD_E_INVALID_PARAMETER(f"dwFlags 0x{info.flags:X}")
        agreement = self._agreements.get(info.secret_agreement_index)
        if agreement is None:
            raise SCARD_E_INVALID_PARAMETER(f"no agreement {info.secret_agreement_index}")
        params = kdf.Parameters(info.parameter_list)
        kdf.check(info.kdf, params)
        assert info.kdf is not None
        z = agreement[1]
        handle = params.first(c.KDF_SECRET_HANDLE)
        if handle is not None:
            other = self._agreements.get(self.csp_get_dh_agreement(handle))
            if other is None:
                raise SCARD_E_INVALID_PARAMETER("KDF_SECRET_HANDLE names no agreement of this card")
            z = other[1]
        key_bits = info.key_len if info.version == v.CARD_DERIVE_KEY_VERSION_TWO else 0
        if info.flags & c.CARD_BUFFER_SIZE_ONLY:
            length = kdf.output_length(info.kdf, params, key_bits) or len(z)
            return dataclasses.replace(info, derived_key=None, derived_key_length=length)
        derived = kdf.derive(info.kdf, z, params, info.flags, key_bits)
        if info.flags & c.CARD_RETURN_KEY_HANDLE:
            algorithm = symmetric.algorithm(info.alg_id)
            size = (info.key_len or algorithm.key_sizes.default_bitlen) // 8
            if len(derived) < size:
                raise SCARD_E_INVALID_PARAMETER("the KDF gives fewer bytes than the key needs")
            handle_value = self.keys.add(symmetric.SymmetricKey(algorithm, derived[:size]))
            return dataclasses.replace(
                info, derived_key=None, derived_key_length=0, key=handle_value
            )
        return dataclasses.replace(info, derived_key=derived, derived_key_length=len(derived))

    @api("CardDestroyDHAgreement", since=5)
    def destroy_dh_agreement(self, secret_agreement_index: int, flags: int = 0) -> None:
        self._require_ecdh()
        checks.flags_zero(flags)
        if self._agreements.pop(secret_agreement_index, None) is None:
            raise SCARD_E_INVALID_PARAMETER(f"no agreement {secret_agreement_index}")

    @api("CspGetDHAgreement", since=5)
    def csp_get_dh_agreement(self, secret_agreement: Any, flags: int = 0) -> int:
        """pfnCspGetDHAgreement: the caller's callback when set; otherwise a secret handle of
        this context is its agreement index (an int or its little-endian bytes)."""
        checks.flags_zero(flags)
        if self.csp_get_dh_agreement_callback is not None:
            return self.csp_get_dh_agreement_callback(secret_agreement)
        index = (
            int.from_bytes(secret_agreement, "little")
            if isinstance(secret_agreement, bytes)
            else secret_agreement
        )
        if not isinstance(index, int) or index not in self._agreements:
            raise SCARD_E_INVALID_PARAMETER("the secret does not live on this card")
        return index
