"""The key derivation functions of CardDeriveKey, as CNG defines them (minidriver.md 4.6)."""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections import defaultdict

from wire.minidriver import crypto as c

from .errors import SCARD_E_INVALID_PARAMETER, SCARD_E_UNSUPPORTED_FEATURE
from .structures import NCryptBufferDesc, from_wstr

KDF_HASHES = {
    c.BCRYPT_MD5_ALGORITHM: "md5",
    c.BCRYPT_SHA1_ALGORITHM: "sha1",
    c.BCRYPT_SHA256_ALGORITHM: "sha256",
    c.BCRYPT_SHA384_ALGORITHM: "sha384",
    c.BCRYPT_SHA512_ALGORITHM: "sha512",
}
KDFS = frozenset(
    {
        c.BCRYPT_KDF_HASH,
        c.BCRYPT_KDF_HMAC,
        c.BCRYPT_KDF_TLS_PRF,
        c.BCRYPT_KDF_SP80056A_CONCAT,
        c.BCRYPT_KDF_RAW_SECRET,
    }
)
# Parameter types each KDF accepts (anything else: SCARD_E_INVALID_PARAMETER).
ACCEPTED = {
    c.BCRYPT_KDF_HASH: {
        c.KDF_HASH_ALGORITHM,
        c.KDF_SECRET_PREPEND,
        c.KDF_SECRET_APPEND,
        c.KDF_SECRET_HANDLE,
    },
    c.BCRYPT_KDF_HMAC: {
        c.KDF_HASH_ALGORITHM,
        c.KDF_SECRET_PREPEND,
        c.KDF_SECRET_APPEND,
        c.KDF_HMAC_KEY,
        c.KDF_SECRET_HANDLE,
    },
    c.BCRYPT_KDF_TLS_PRF: {
        c.KDF_TLS_PRF_LABEL,
        c.KDF_TLS_PRF_SEED,
        c.KDF_TLS_PRF_PROTOCOL,
        c.KDF_HASH_ALGORITHM,
        c.KDF_SECRET_HANDLE,
    },
    c.BCRYPT_KDF_SP80056A_CONCAT: {
        c.KDF_ALGORITHMID,
        c.KDF_PARTYUINFO,
        c.KDF_PARTYVINFO,
        c.KDF_SUPPPUBINFO,
        c.KDF_SUPPPRIVINFO,
        c.KDF_HASH_ALGORITHM,
        c.KDF_SECRET_HANDLE,
    },
    c.BCRYPT_KDF_RAW_SECRET: {c.KDF_SECRET_HANDLE},
}
TLS_PRF_OUTPUT = 48


class Parameters:
    """An NCryptBufferDesc as a lookup by buffer type (values in list order)."""

    def __init__(self, desc: NCryptBufferDesc | None) -> None:
        self.values: dict[int, list[bytes]] = defaultdict(list)
        for buf in desc.buffers if desc is not None else []:
            self.values[buf.buffer_type].append(buf.value or b"")

    def types(self) -> set[int]:
        return set(self.values)

    def joined(self, buffer_type: int) -> bytes:
        return b"".join(self.values.get(buffer_type, []))

    def first(self, buffer_type: int) -> bytes | None:
        found = self.values.get(buffer_type)
        return found[0] if found else None

    def hash_name(self, default: str) -> str:
        raw = self.first(c.KDF_HASH_ALGORITHM)
        name = default if raw is None else from_wstr(raw)
        if name not in KDF_HASHES:
            raise SCARD_E_UNSUPPORTED_FEATURE(f"KDF hash {name!r} is not supported")
        return KDF_HASHES[name]


def check(kdf: str | None, params: Parameters) -> None:
    if kdf not in KDFS:
        raise SCARD_E_INVALID_PARAMETER(f"unknown KDF {kdf!r}")
    extra = params.types() - ACCEPTED[kdf]
    if extra:
        raise SCARD_E_INVALID_PARAMETER(
            f"KDF {kdf} does not take parameter type(s) {sorted(extra)}"
        )


def output_length(kdf: str, params: Parameters, key_bits: int) -> int:
    if kdf == c.BCRYPT_KDF_TLS_PRF:
        return TLS_PRF_OUTPUT
    if kdf == c.BCRYPT_KDF_RAW_SECRET:
        return 0  # the secret's length, known only with the secret
    if kdf == c.BCRYPT_KDF_SP80056A_CONCAT and key_bits:
        return (key_bits + 7) // 8
    return hashlib.new(params.hash_name(c.BCRYPT_SHA1_ALGORITHM)).digest_size


def derive(kdf: str, z: bytes, params: Parameters, flags: int, key_bits: int = 0) -> bytes:
    """Derive from Z (big-endian X coordinate of the shared point)."""
    check(kdf, params)
    prepend = params.joined(c.KDF_SECRET_PREPEND)
    append = params.joined(c.KDF_SECRET_APPEND)
    if kdf == c.BCRYPT_KDF_HASH:
        name = params.hash_name(c.BCRYPT_SHA1_ALGORITHM)
        return hashlib.new(name, prepend + z + append).digest()
    if kdf == c.BCRYPT_KDF_HMAC:
        name = params.hash_name(c.BCRYPT_SHA1_ALGORITHM)
        if flags & c.KDF_USE_SECRET_AS_HMAC_KEY_FLAG:
            key = z
        else:
            found = params.first(c.KDF_HMAC_KEY)
            if found is None:
                raise SCARD_E_INVALID_PARAMETER("HMAC KDF needs KDF_HMAC_KEY or the secret as key")
            key = found
        return hmac.new(key, prepend + z + append, name).digest()
    if kdf == c.BCRYPT_KDF_TLS_PRF:
        return _tls_prf(z, params)
    if kdf == c.BCRYPT_KDF_SP80056A_CONCAT:
        name = params.hash_name(c.BCRYPT_SHA256_ALGORITHM)
        length = (key_bits + 7) // 8 if key_bits else hashlib.new(name).digest_size
        info = b"".join(
            params.joined(t)
            for t in (
                c.KDF_ALGORITHMID,
                c.KDF_PARTYUINFO,
                c.KDF_PARTYVINFO,
                c.KDF_SUPPPUBINFO,
                c.KDF_SUPPPRIVINFO,
            )
        )
        return _concat_kdf(name, z, info, length)
    # TRUNCATE: the raw secret, little-endian as CNG's BCRYPT_KDF_RAW_SECRET returns it.
    return z[::-1]


def _concat_kdf(name: str, z: bytes, other_info: bytes, length: int) -> bytes:
    """NIST SP 800-56A single-step KDF: Hash(counter || Z || OtherInfo), counter from 1."""
    out = bytearray()
    counter = 1
    while len(out) < length:
        out += hashlib.new(name, counter.to_bytes(4, "big") + z + other_info).digest()
        counter += 1
    return bytes(out[:length])


def _p_hash(name: str, secret: bytes, seed: bytes, length: int) -> bytes:
    out = bytearray()
    a = seed
    while len(out) < length:
        a = hmac.new(secret, a, name).digest()
        out += hmac.new(secret, a + seed, name).digest()
    return bytes(out[:length])


def _tls_prf(secret: bytes, params: Parameters) -> bytes:
    label = params.joined(c.KDF_TLS_PRF_LABEL)
    seed = params.joined(c.KDF_TLS_PRF_SEED)
    if len(seed) != 64:
        raise SCARD_E_INVALID_PARAMETER("TLS_PRF needs a 64-byte KDF_TLS_PRF_SEED")
    raw_protocol = params.first(c.KDF_TLS_PRF_PROTOCOL)
    protocol = c.TLS1_0_PROTOCOL_VERSION
    if raw_protocol is not None:
        if len(raw_protocol) != 4:
            raise SCARD_E_INVALID_PARAMETER("KDF_TLS_PRF_PROTOCOL is a DWORD")
        (protocol,) = struct.unpack("<I", raw_protocol)
    if protocol == c.TLS1_2_PROTOCOL_VERSION:
        name = params.hash_name(c.BCRYPT_SHA256_ALGORITHM)
        return _p_hash(name, secret, label + seed, TLS_PRF_OUTPUT)
    if protocol not in (c.TLS1_0_PROTOCOL_VERSION, c.TLS1_1_PROTOCOL_VERSION):
        raise SCARD_E_INVALID_PARAMETER(f"unknown TLS protocol 0x{protocol:04X}")
    # TLS 1.0/1.1: P_MD5 over the first half of the secret XOR P_SHA1 over the second.
    half = (len(secret) + 1) // 2
    md5 = _p_hash("md5", secret[:half], label + seed, TLS_PRF_OUTPUT)
    sha = _p_hash("sha1", secret[len(secret) - half :], label + seed, TLS_PRF_OUTPUT)
    return bytes(a ^ b for a, b in zip(md5, sha, strict=True))
