"""RSA padding on the host: DigestInfo prefixes, PSS encoding for a raw card operation, and the
PKCS#1 v1.5 / OAEP removal the Base CSP and KSP do in pfnCspUnpadData (RFC 8017)."""

from __future__ import annotations

import hashlib
import hmac
import os

from wire.minidriver import crypto as c

from .errors import SCARD_E_INVALID_PARAMETER, SCARD_E_INVALID_VALUE, SCARD_E_UNSUPPORTED_FEATURE

# DER DigestInfo prefixes (RFC 8017 section 9.2 note 1), by CNG hash name.
DIGEST_INFO: dict[str, bytes] = {
    c.BCRYPT_MD2_ALGORITHM: bytes.fromhex("3020300c06082a864886f70d020205000410"),
    c.BCRYPT_MD4_ALGORITHM: bytes.fromhex("3020300c06082a864886f70d020405000410"),
    c.BCRYPT_MD5_ALGORITHM: bytes.fromhex("3020300c06082a864886f70d020505000410"),
    c.BCRYPT_SHA1_ALGORITHM: bytes.fromhex("3021300906052b0e03021a05000414"),
    c.BCRYPT_SHA256_ALGORITHM: bytes.fromhex("3031300d060960864801650304020105000420"),
    c.BCRYPT_SHA384_ALGORITHM: bytes.fromhex("3041300d060960864801650304020205000430"),
    c.BCRYPT_SHA512_ALGORITHM: bytes.fromhex("3051300d060960864801650304020305000440"),
}
DIGEST_SIZES = {
    c.BCRYPT_MD2_ALGORITHM: 16,
    c.BCRYPT_MD4_ALGORITHM: 16,
    c.BCRYPT_MD5_ALGORITHM: 16,
    c.BCRYPT_SHA1_ALGORITHM: 20,
    c.BCRYPT_SHA256_ALGORITHM: 32,
    c.BCRYPT_SHA384_ALGORITHM: 48,
    c.BCRYPT_SHA512_ALGORITHM: 64,
}
HASHLIB_NAMES = {
    c.BCRYPT_MD5_ALGORITHM: "md5",
    c.BCRYPT_SHA1_ALGORITHM: "sha1",
    c.BCRYPT_SHA256_ALGORITHM: "sha256",
    c.BCRYPT_SHA384_ALGORITHM: "sha384",
    c.BCRYPT_SHA512_ALGORITHM: "sha512",
}

# aiHashAlg -> CNG hash name whose DigestInfo goes in front; None: the hash is signed as is.
CALG_HASHES: dict[int, str | None] = {
    c.CALG_MD2: c.BCRYPT_MD2_ALGORITHM,
    c.CALG_MD4: c.BCRYPT_MD4_ALGORITHM,
    c.CALG_MD5: c.BCRYPT_MD5_ALGORITHM,
    c.CALG_HUGHES_MD5: c.BCRYPT_MD5_ALGORITHM,
    c.CALG_SHA1: c.BCRYPT_SHA1_ALGORITHM,
    c.CALG_SHA_256: c.BCRYPT_SHA256_ALGORITHM,
    c.CALG_SHA_384: c.BCRYPT_SHA384_ALGORITHM,
    c.CALG_SHA_512: c.BCRYPT_SHA512_ALGORITHM,
    # No OID: the value is signed as it is (TLS 1.0/1.1's 36-byte MD5||SHA-1 for SSL3_SHAMD5).
    c.CALG_SSL3_SHAMD5: None,
    c.CALG_TLS1PRF: None,
    c.CALG_MAC: None,
    c.CALG_HMAC: None,
    c.CALG_HASH_REPLACE_OWF: None,
}
SSL3_SHAMD5_LENGTH = 36


def digest_info(hash_name: str | None, digest: bytes) -> bytes:
    """What goes inside the PKCS#1 v1.5 type-1 block: DigestInfo || hash, or the bare value."""
    if hash_name is None:
        return digest
    prefix = DIGEST_INFO.get(hash_name)
    if prefix is None:
        raise SCARD_E_UNSUPPORTED_FEATURE(f"hash {hash_name!r} is not supported")
    if len(digest) != DIGEST_SIZES[hash_name]:
        raise SCARD_E_INVALID_PARAMETER(f"a {hash_name} hash is {DIGEST_SIZES[hash_name]} bytes")
    return prefix + digest


def pkcs1_type1(payload: bytes, k: int) -> bytes:
    if len(payload) > k - 11:
        raise SCARD_E_INVALID_PARAMETER("data too long for the key")
    return b"\x00\x01" + b"\xff" * (k - 3 - len(payload)) + b"\x00" + payload


def _hash(name: str, data: bytes) -> bytes:
    try:
        return hashlib.new(HASHLIB_NAMES[name], data).digest()
    except KeyError:
        raise SCARD_E_UNSUPPORTED_FEATURE(f"hash {name!r} is not supported here") from None


def mgf1(name: str, seed: bytes, length: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += _hash(name, seed + counter.to_bytes(4, "big"))
        counter += 1
    return bytes(out[:length])


def pss_encode(hash_name: str, digest: bytes, salt_length: int, modulus_bits: int) -> bytes:
    """EMSA-PSS-ENCODE (RFC 8017 9.1.1), returned as a modulus-sized block for raw RSA."""
    h_len = DIGEST_SIZES.get(hash_name)
    if h_len is None or hash_name not in HASHLIB_NAMES:
        raise SCARD_E_UNSUPPORTED_FEATURE(f"PSS with {hash_name!r} is not supported")
    if len(digest) != h_len:
        raise SCARD_E_INVALID_PARAMETER(f"a {hash_name} hash is {h_len} bytes")
    em_bits = modulus_bits - 1
    em_len = (em_bits + 7) // 8
    if em_len < h_len + salt_length + 2:
        raise SCARD_E_INVALID_PARAMETER("salt too long for the key")
    salt = os.urandom(salt_length)
    h = _hash(hash_name, b"\0" * 8 + digest + salt)
    db = b"\0" * (em_len - salt_length - h_len - 2) + b"\x01" + salt
    masked = bytearray(
        a ^ b for a, b in zip(db, mgf1(hash_name, h, em_len - h_len - 1), strict=True)
    )
    masked[0] &= 0xFF >> (8 * em_len - em_bits)
    em = bytes(masked) + h + b"\xbc"
    return em.rjust((modulus_bits + 7) // 8, b"\0")


def pkcs1_type2_decode(block: bytes) -> bytes:
    """Remove PKCS#1 v1.5 encryption padding (what the Base CSP's unpad callback does)."""
    ok = len(block) >= 11 and block[0] == 0 and block[1] == 2
    sep = block.find(b"\0", 2)
    ok = ok and sep >= 10
    if not ok:
        raise SCARD_E_INVALID_VALUE("decryption failed (bad padding)")
    return block[sep + 1 :]


def oaep_decode(block: bytes, hash_name: str, label: bytes = b"") -> bytes:
    """EME-OAEP decoding (RFC 8017 7.1.2) with MGF1 over the same hash."""
    h_len = DIGEST_SIZES.get(hash_name)
    if h_len is None or hash_name not in HASHLIB_NAMES:
        raise SCARD_E_UNSUPPORTED_FEATURE(f"OAEP with {hash_name!r} is not supported")
    k = len(block)
    if k < 2 * h_len + 2:
        raise SCARD_E_INVALID_VALUE("decryption failed (bad padding)")
    y, masked_seed, masked_db = block[0], block[1 : 1 + h_len], block[1 + h_len :]
    seed = bytes(a ^ b for a, b in zip(masked_seed, mgf1(hash_name, masked_db, h_len), strict=True))
    db = bytes(a ^ b for a, b in zip(masked_db, mgf1(hash_name, seed, k - h_len - 1), strict=True))
    l_hash = _hash(hash_name, label)
    rest = db[h_len:]
    one = rest.find(b"\x01")
    good = (
        y == 0
        and hmac.compare_digest(db[:h_len], l_hash)
        and one >= 0
        and not rest[:one].strip(b"\0")
    )
    if not good:
        raise SCARD_E_INVALID_VALUE("decryption failed (bad padding)")
    return rest[one + 1 :]
