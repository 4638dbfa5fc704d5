"""Private-key operations on RSA and ECDSA keys: CardSignData and CardRSADecrypt.

What the card cannot do itself (PKCS#1 or PSS padding on a raw-RSA card, padding removal) is
done on the host around one raw private-key operation, as the Base CSP would.
"""

from __future__ import annotations

import dataclasses

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from wire.minidriver import crypto as c
from wire.minidriver import keyspecs as ks
from wire.minidriver import versions as v

from .. import blobs, padding
from ..api import api
from ..cardmodules import ContainerKey, DecryptMode, SignMode
from ..errors import (
    ERROR_REVISION_MISMATCH,
    SCARD_E_INSUFFICIENT_BUFFER,
    SCARD_E_INVALID_PARAMETER,
    SCARD_E_NO_KEY_CONTAINER,
    SCARD_E_UNSUPPORTED_FEATURE,
)
from ..structures import (
    BCRYPT_OAEP_PADDING_INFO,
    BCRYPT_PKCS1_PADDING_INFO,
    BCRYPT_PSS_PADDING_INFO,
    CARD_RSA_DECRYPT_INFO,
    CARD_SIGNING_INFO,
)
from . import checks
from .base import ContextBase

ALLOWED_SIGNING_FLAGS = (
    c.CARD_PADDING_INFO_PRESENT | c.CARD_BUFFER_SIZE_ONLY | c.CRYPT_NOHASHOID | 0x2 | 0x4
)  # 0x2 CRYPT_TYPE2_FORMAT, 0x4 CRYPT_X931_FORMAT: CryptSignHash flags the CSP may pass on


class CryptoMixin(ContextBase):
    def _key(self, index: int, key_spec: int) -> ContainerKey:
        keys = self._container_keys(index)
        if not keys:
            raise SCARD_E_NO_KEY_CONTAINER(f"container {index} does not exist or is empty")
        for key in keys:
            if key.key_spec == key_spec:
                return key
        raise SCARD_E_UNSUPPORTED_FEATURE(f"container {index} has no key of spec {key_spec}")

    @api("CardSignData")
    def sign_data(self, info: CARD_SIGNING_INFO | None) -> CARD_SIGNING_INFO:
        """Returns `info` with signed_data (RSA: little-endian; ECDSA: r || s big-endian) and
        signed_data_length set; with CARD_BUFFER_SIZE_ONLY only the length."""
        if info is None or info.data is None:
            raise SCARD_E_INVALID_PARAMETER("NULL signing info or data")
        if info.version not in (
            v.CARD_SIGNING_INFO_BASIC_VERSION,
            v.CARD_SIGNING_INFO_CURRENT_VERSION,
        ):
            raise ERROR_REVISION_MISMATCH(f"CARD_SIGNING_INFO version {info.version}")
        present = bool(info.signing_flags & c.CARD_PADDING_INFO_PRESENT)
        if present and info.version != v.CARD_SIGNING_INFO_CURRENT_VERSION:
            raise ERROR_REVISION_MISMATCH("padding info needs a version 2 CARD_SIGNING_INFO")
        if (
            self.strict_signing_version
            and self.version == v.CARD_DATA_CURRENT_VERSION
            and info.version < 2
        ):
            raise ERROR_REVISION_MISMATCH("a v7 context takes version 2 signing info")
        if info.signing_flags & ~ALLOWED_SIGNING_FLAGS:
            raise SCARD_E_INVALID_PARAMETER(f"dwSigningFlags 0x{info.signing_flags:X}")
        if info.key_spec not in ks.KEY_SPECS:
            raise SCARD_E_INVALID_PARAMETER(f"undefined key spec {info.key_spec!r}")
        if info.key_spec in ks.ECDH_KEY_SPECS:
            raise SCARD_E_UNSUPPORTED_FEATURE("ECDH keys cannot sign")
        key = self._key(checks.container_index(info.container_index), info.key_spec)
        size_only = bool(info.signing_flags & c.CARD_BUFFER_SIZE_ONLY)
        if isinstance(key.public_key, ec.EllipticCurvePublicKey):
            length = 2 * blobs.key_spec_curve(info.key_spec).size
            if size_only:
                return dataclasses.replace(info, signed_data=None, signed_data_length=length)
            sig = self.card.sign(info.container_index, info.key_spec, SignMode.ECDSA, info.data)
            return dataclasses.replace(info, signed_data=sig, signed_data_length=len(sig))
        assert isinstance(key.public_key, rsa.RSAPublicKey)
        k = (key.public_key.key_size + 7) // 8
        mode, payload = self._rsa_sign_input(info, present, key.public_key.key_size)
        if size_only:
            return dataclasses.replace(info, signed_data=None, signed_data_length=k)
        modes = self.card.sign_modes()
        if mode == SignMode.PKCS1 and SignMode.PKCS1 not in modes:
            mode, payload = SignMode.RAW, padding.pkcs1_type1(payload, k)
        if mode not in modes:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card cannot do this signature")
        sig = self.card.sign(info.container_index, info.key_spec, mode, payload)
        sig = sig.rjust(k, b"\0")[::-1]  # CAPI order: little-endian
        return dataclasses.replace(info, signed_data=sig, signed_data_length=len(sig))

    def _rsa_sign_input(
        self, info: CARD_SIGNING_INFO, present: bool, bits: int
    ) -> tuple[SignMode, bytes]:
        data = info.data or b""
        k = (bits + 7) // 8
        if not present:
            if info.hash_alg == 0:
                return SignMode.PKCS1, data
            if info.hash_alg not in padding.CALG_HASHES:
                raise SCARD_E_UNSUPPORTED_FEATURE(f"hash algorithm 0x{info.hash_alg:X}")
            hash_name = padding.CALG_HASHES[info.hash_alg]
            if info.hash_alg == c.CALG_SSL3_SHAMD5 and len(data) != padding.SSL3_SHAMD5_LENGTH:
                raise SCARD_E_INVALID_PARAMETER("CALG_SSL3_SHAMD5 signs a 36-byte value")
            if info.signing_flags & c.CRYPT_NOHASHOID:
                hash_name = None
            return SignMode.PKCS1, padding.digest_info(hash_name, data)
        if info.padding_type == c.CARD_PADDING_PKCS1:
            pad = info.padding_info
            if pad is not None and not isinstance(pad, BCRYPT_PKCS1_PADDING_INFO):
                raise SCARD_E_INVALID_PARAMETER("PKCS#1 padding takes BCRYPT_PKCS1_PADDING_INFO")
            return SignMode.PKCS1, padding.digest_info(pad.alg_id if pad else None, data)
        if info.padding_type == c.CARD_PADDING_PSS:
            pss = info.padding_info
            if not isinstance(pss, BCRYPT_PSS_PADDING_INFO) or pss.alg_id is None:
                raise SCARD_E_INVALID_PARAMETER(
                    "PSS padding takes BCRYPT_PSS_PADDING_INFO with a hash"
                )
            return SignMode.RAW, padding.pss_encode(pss.alg_id, data, pss.salt_length, bits)
        if info.padding_type == c.CARD_PADDING_NONE:
            if len(data) != k:
                raise SCARD_E_INVALID_PARAMETER(f"CARD_PADDING_NONE signs a {k}-byte block")
            return SignMode.RAW, data
        if info.padding_type == c.CARD_PADDING_OAEP:
            raise SCARD_E_UNSUPPORTED_FEATURE("OAEP is not a signature padding")
        raise SCARD_E_INVALID_PARAMETER(f"unknown padding type 0x{info.padding_type:X}")

    @api("CardRSADecrypt")
    def rsa_decrypt(self, info: CARD_RSA_DECRYPT_INFO | None) -> CARD_RSA_DECRYPT_INFO:
        """Returns `info` with `data` replaced: the raw block or, when padding is removed, the
        plaintext; both little-endian, as the CSP receives them."""
        if info is None or info.data is None:
            raise SCARD_E_INVALID_PARAMETER("NULL decrypt info or data")
        if info.version not in (
            v.CARD_RSA_KEY_DECRYPT_INFO_VERSION_ONE,
            v.CARD_RSA_KEY_DECRYPT_INFO_VERSION_TWO,
        ):
            raise ERROR_REVISION_MISMATCH(f"CARD_RSA_DECRYPT_INFO version {info.version}")
        if (
            info.version == v.CARD_RSA_KEY_DECRYPT_INFO_VERSION_ONE
            and self.version == v.CARD_DATA_CURRENT_VERSION
        ):
            raise ERROR_REVISION_MISMATCH("a v7 context takes version 2 decrypt info")
        if info.key_spec not in ks.RSA_KEY_SPECS:
            raise SCARD_E_INVALID_PARAMETER("dwKeySpec must be AT_KEYEXCHANGE or AT_SIGNATURE")
        two = info.version == v.CARD_RSA_KEY_DECRYPT_INFO_VERSION_TWO
        pad_type = info.padding_type if two else c.CARD_PADDING_NONE
        if pad_type not in (c.CARD_PADDING_NONE, c.CARD_PADDING_PKCS1, c.CARD_PADDING_OAEP):
            raise SCARD_E_INVALID_PARAMETER(
                f"padding type 0x{pad_type:X} is not a decryption padding"
            )
        oaep = info.padding_info or BCRYPT_OAEP_PADDING_INFO(c.BCRYPT_SHA1_ALGORITHM)
        index = checks.container_index(info.container_index)
        keys = self._container_keys(index)
        key = next((k for k in keys if k.key_spec == info.key_spec), None)
        if key is None or not isinstance(key.public_key, rsa.RSAPublicKey):
            raise SCARD_E_NO_KEY_CONTAINER(
                f"container {index} has no RSA key of spec {info.key_spec}"
            )
        k = (key.public_key.key_size + 7) // 8
        if len(info.data) < k:
            raise SCARD_E_INSUFFICIENT_BUFFER(f"the ciphertext buffer must be {k} bytes")
        if len(info.data) > k:
            raise SCARD_E_INVALID_PARAMETER(f"the ciphertext must be {k} bytes")
        ciphertext = info.data[::-1]
        card_modes = self.card.decrypt_modes()
        on_card = None
        if pad_type == c.CARD_PADDING_PKCS1 and DecryptMode.PKCS1 in card_modes:
            on_card = DecryptMode.PKCS1
        elif (
            pad_type == c.CARD_PADDING_OAEP
            and DecryptMode.OAEP_SHA1 in card_modes
            and (oaep.alg_id or c.BCRYPT_SHA1_ALGORITHM) == c.BCRYPT_SHA1_ALGORITHM
            and not oaep.label
        ):
            on_card = DecryptMode.OAEP_SHA1
        if on_card is not None:
            plain = self.card.decrypt(index, info.key_spec, on_card, ciphertext)
            return dataclasses.replace(info, data=plain[::-1])
        if DecryptMode.RAW not in card_modes:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card cannot remove this padding nor decrypt raw")
        block = self.card.decrypt(index, info.key_spec, DecryptMode.RAW, ciphertext).rjust(
            k, b"\0"
        )[::-1]
        if pad_type == c.CARD_PADDING_NONE:
            return dataclasses.replace(info, data=block)
        # The caller's pfnCspUnpadData removes what the card could not.
        plain = self.csp_unpad_data(dataclasses.replace(info, data=block))
        return dataclasses.replace(info, data=plain)
