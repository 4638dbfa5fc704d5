"""The CSP's callbacks in CARD_DATA (pfnCspUnpadData, pfnCspGetDHAgreement) and the default
that stands in for the Base CSP when the caller sets none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wire.minidriver import crypto as c
from wire.minidriver import versions as v

from .. import padding
from ..errors import ERROR_REVISION_MISMATCH
from ..structures import BCRYPT_OAEP_PADDING_INFO, CARD_RSA_DECRYPT_INFO

UnpadCallback = Callable[[CARD_RSA_DECRYPT_INFO], bytes]
DhAgreementCallback = Callable[[Any], int]


def default_unpad(info: CARD_RSA_DECRYPT_INFO) -> bytes:
    """What the Base CSP / KSP do in pfnCspUnpadData: PKCS#1 v1.5 or OAEP removal.
    `info.data` is the raw block, little-endian; the plaintext comes back little-endian too."""
    if info.version < v.CARD_RSA_KEY_DECRYPT_INFO_VERSION_TWO:
        raise ERROR_REVISION_MISMATCH("unpadding needs a version 2 CARD_RSA_DECRYPT_INFO")
    block = (info.data or b"")[::-1]
    if info.padding_type == c.CARD_PADDING_PKCS1:
        return padding.pkcs1_type2_decode(block)[::-1]
    if info.padding_type == c.CARD_PADDING_OAEP:
        oaep = info.padding_info or BCRYPT_OAEP_PADDING_INFO()
        return padding.oaep_decode(
            block, oaep.alg_id or c.BCRYPT_SHA1_ALGORITHM, oaep.label or b""
        )[::-1]
    return info.data or b""
