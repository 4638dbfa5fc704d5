"""Key blobs crossing the minidriver interface (minidriver.md section 3.8).

CAPI blobs (PUBLICKEYBLOB, PRIVATEKEYBLOB, PLAINTEXTKEYBLOB) carry little-endian integers; CNG
blobs (BCRYPT_RSAKEY_BLOB, BCRYPT_ECCKEY_BLOB, BCRYPT_KEY_DATA_BLOB) big-endian key material after
a little-endian header. Keys on the Python side are `cryptography` key objects.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from wire.minidriver import crypto as c
from wire.minidriver import keyspecs as ks

from .errors import SCARD_E_INVALID_PARAMETER

BLOBHEADER = struct.Struct("<BBHI")
RSAPUBKEY = struct.Struct("<III")
BCRYPT_RSAKEY_BLOB = struct.Struct("<6I")
BCRYPT_ECCKEY_BLOB = struct.Struct("<II")
BCRYPT_KEY_DATA_BLOB_HEADER = struct.Struct("<III")


@dataclass(frozen=True)
class Curve:
    name: str
    bits: int
    size: int  # coordinate bytes
    curve: type[ec.EllipticCurve]


P256 = Curve("P-256", 256, 32, ec.SECP256R1)
P384 = Curve("P-384", 384, 48, ec.SECP384R1)
P521 = Curve("P-521", 521, 66, ec.SECP521R1)
CURVES_BY_BITS = {256: P256, 384: P384, 521: P521}

KEY_SPEC_CURVES = {
    ks.AT_ECDSA_P256: P256,
    ks.AT_ECDSA_P384: P384,
    ks.AT_ECDSA_P521: P521,
    ks.AT_ECDHE_P256: P256,
    ks.AT_ECDHE_P384: P384,
    ks.AT_ECDHE_P521: P521,
}

# magic -> (curve, ECDSA?, private?)
ECC_MAGICS: dict[int, tuple[Curve, bool, bool]] = {
    c.BCRYPT_ECDH_PUBLIC_P256_MAGIC: (P256, False, False),
    c.BCRYPT_ECDH_PRIVATE_P256_MAGIC: (P256, False, True),
    c.BCRYPT_ECDH_PUBLIC_P384_MAGIC: (P384, False, False),
    c.BCRYPT_ECDH_PRIVATE_P384_MAGIC: (P384, False, True),
    c.BCRYPT_ECDH_PUBLIC_P521_MAGIC: (P521, False, False),
    c.BCRYPT_ECDH_PRIVATE_P521_MAGIC: (P521, False, True),
    c.BCRYPT_ECDSA_PUBLIC_P256_MAGIC: (P256, True, False),
    c.BCRYPT_ECDSA_PRIVATE_P256_MAGIC: (P256, True, True),
    c.BCRYPT_ECDSA_PUBLIC_P384_MAGIC: (P384, True, False),
    c.BCRYPT_ECDSA_PRIVATE_P384_MAGIC: (P384, True, True),
    c.BCRYPT_ECDSA_PUBLIC_P521_MAGIC: (P521, True, False),
    c.BCRYPT_ECDSA_PRIVATE_P521_MAGIC: (P521, True, True),
}


def ecc_magic(curve: Curve, ecdsa: bool, private: bool) -> int:
    for magic, spec in ECC_MAGICS.items():
        if spec == (curve, ecdsa, private):
            return magic
    raise ValueError("no such ECC blob")


def key_spec_curve(key_spec: int) -> Curve:
    return KEY_SPEC_CURVES[key_spec]


def _le(value: int, size: int) -> bytes:
    return value.to_bytes(size, "little")


def _be(value: int, size: int) -> bytes:
    return value.to_bytes(size, "big")


def _bad(reason: str) -> SCARD_E_INVALID_PARAMETER:
    return SCARD_E_INVALID_PARAMETER(f"malformed key blob: {reason}")


# --- CAPI RSA -----------------------------------------------------------------------------


def rsa_public_blob(key: rsa.RSAPublicKey, alg_id: int = c.CALG_RSA_KEYX) -> bytes:
    """PUBLICKEYBLOB: BLOBHEADER + RSAPUBKEY("RSA1") + modulus little-endian."""
    numbers = key.public_numbers()
    bits = key.key_size
    return (
        BLOBHEADER.pack(c.PUBLICKEYBLOB, c.CUR_BLOB_VERSION, 0, alg_id)
        + RSAPUBKEY.pack(c.RSA1_MAGIC, bits, numbers.e)
        + _le(numbers.n, bits // 8)
    )


def parse_rsa_public_blob(blob: bytes) -> rsa.RSAPublicKey:
    if len(blob) < 20:
        raise _bad("too short")
    btype, _version, _reserved, _alg = BLOBHEADER.unpack_from(blob)
    magic, bits, e = RSAPUBKEY.unpack_from(blob, 8)
    if btype != c.PUBLICKEYBLOB or magic != c.RSA1_MAGIC or len(blob) < 20 + bits // 8:
        raise _bad("not an RSA PUBLICKEYBLOB")
    n = int.from_bytes(blob[20 : 20 + bits // 8], "little")
    return rsa.RSAPublicNumbers(e, n).public_key()


def rsa_private_blob(key: rsa.RSAPrivateKey, alg_id: int = c.CALG_RSA_KEYX) -> bytes:
    """PRIVATEKEYBLOB: header, RSAPUBKEY("RSA2"), n, p, q, dP, dQ, qInv, d (little-endian)."""
    priv = key.private_numbers()
    bits = key.key_size
    half = (bits + 15) // 16
    full = (bits + 7) // 8
    return b"".join(
        (
            BLOBHEADER.pack(c.PRIVATEKEYBLOB, c.CUR_BLOB_VERSION, 0, alg_id),
            RSAPUBKEY.pack(c.RSA2_MAGIC, bits, priv.public_numbers.e),
            _le(priv.public_numbers.n, full),
            _le(priv.p, half),
            _le(priv.q, half),
            _le(priv.dmp1, half),
            _le(priv.dmq1, half),
            _le(priv.iqmp, half),
            _le(priv.d, full),
        )
    )


def parse_rsa_private_blob(blob: bytes) -> tuple[rsa.RSAPrivateKey, int]:
    """The key and the blob's aiKeyAlg."""
    if len(blob) < 20:
        raise _bad("too short")
    btype, _version, _reserved, alg_id = BLOBHEADER.unpack_from(blob)
    magic, bits, e = RSAPUBKEY.unpack_from(blob, 8)
    half = (bits + 15) // 16
    full = (bits + 7) // 8
    if btype != c.PRIVATEKEYBLOB or magic != c.RSA2_MAGIC or bits < 256:
        raise _bad("not an RSA PRIVATEKEYBLOB")
    if len(blob) < 20 + 2 * full + 5 * half:
        raise _bad("truncated PRIVATEKEYBLOB")
    pos = 20
    values = []
    for size in (full, half, half, half, half, half, full):
        values.append(int.from_bytes(blob[pos : pos + size], "little"))
        pos += size
    n, p, q, dp, dq, qinv, d = values
    try:
        key = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qinv, rsa.RSAPublicNumbers(e, n)).private_key()
    except ValueError as err:
        raise _bad(f"inconsistent RSA key ({err})") from None
    return key, alg_id


# --- CNG ----------------------------------------------------------------------------------


def ecc_public_blob(key: ec.EllipticCurvePublicKey, ecdsa: bool) -> bytes:
    """BCRYPT_ECCKEY_BLOB public: magic ECS1/3/5 (ECDSA) or ECK1/3/5 (ECDH) + X + Y."""
    curve = CURVES_BY_BITS[key.curve.key_size]
    nums = key.public_numbers()
    return (
        BCRYPT_ECCKEY_BLOB.pack(ecc_magic(curve, ecdsa, False), curve.size)
        + _be(nums.x, curve.size)
        + _be(nums.y, curve.size)
    )


def ecc_private_blob(key: ec.EllipticCurvePrivateKey, ecdsa: bool) -> bytes:
    curve = CURVES_BY_BITS[key.curve.key_size]
    nums = key.private_numbers()
    pub = nums.public_numbers
    return (
        BCRYPT_ECCKEY_BLOB.pack(ecc_magic(curve, ecdsa, True), curve.size)
        + _be(pub.x, curve.size)
        + _be(pub.y, curve.size)
        + _be(nums.private_value, curve.size)
    )


def parse_ecc_public_blob(blob: bytes) -> tuple[ec.EllipticCurvePublicKey, bool]:
    """The public key and whether the magic is an ECDSA one."""
    if len(blob) < 8:
        raise _bad("too short")
    magic, size = BCRYPT_ECCKEY_BLOB.unpack_from(blob)
    spec = ECC_MAGICS.get(magic)
    if spec is None or spec[2] or size != spec[0].size or len(blob) != 8 + 2 * size:
        raise _bad("not a BCRYPT_ECCKEY_BLOB public key")
    curve, ecdsa, _ = spec
    x = int.from_bytes(blob[8 : 8 + size], "big")
    y = int.from_bytes(blob[8 + size : 8 + 2 * size], "big")
    try:
        return ec.EllipticCurvePublicNumbers(x, y, curve.curve()).public_key(), ecdsa
    except ValueError:
        raise _bad("point not on the curve") from None


def parse_ecc_private_blob(blob: bytes) -> tuple[ec.EllipticCurvePrivateKey, bool]:
    if len(blob) < 8:
        raise _bad("too short")
    magic, size = BCRYPT_ECCKEY_BLOB.unpack_from(blob)
    spec = ECC_MAGICS.get(magic)
    if spec is None or not spec[2] or size != spec[0].size or len(blob) != 8 + 3 * size:
        raise _bad("not a BCRYPT_ECCKEY_BLOB private key")
    curve, ecdsa, _ = spec
    d = int.from_bytes(blob[8 + 2 * size :], "big")
    try:
        key = ec.derive_private_key(d, curve.curve())
    except ValueError:
        raise _bad("private value out of range") from None
    x = int.from_bytes(blob[8 : 8 + size], "big")
    y = int.from_bytes(blob[8 + size : 8 + 2 * size], "big")
    pub = key.public_key().public_numbers()
    if (pub.x, pub.y) != (x, y):
        raise _bad("public point does not match the private value")
    return key, ecdsa


def bcrypt_rsa_blob(key: rsa.RSAPrivateKey | rsa.RSAPublicKey, magic: int) -> bytes:
    """BCRYPT_RSAKEY_BLOB (RSA1 public, RSA2 private, RSA3 full private), big-endian values."""
    pub = (
        key.public_numbers()
        if isinstance(key, rsa.RSAPublicKey)
        else key.private_numbers().public_numbers
    )
    full = (key.key_size + 7) // 8
    half = (key.key_size + 15) // 16
    e = _be(pub.e, (pub.e.bit_length() + 7) // 8)
    out = [b"", e, _be(pub.n, full)]
    primes = (0, 0)
    if magic != c.BCRYPT_RSAPUBLIC_MAGIC:
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("a private blob needs the private key")
        priv = key.private_numbers()
        primes = (half, half)
        out += [_be(priv.p, half), _be(priv.q, half)]
        if magic == c.BCRYPT_RSAFULLPRIVATE_MAGIC:
            out += [
                _be(priv.dmp1, half),
                _be(priv.dmq1, half),
                _be(priv.iqmp, half),
                _be(priv.d, full),
            ]
    out[0] = BCRYPT_RSAKEY_BLOB.pack(magic, key.key_size, len(e), full, *primes)
    return b"".join(out)


def parse_bcrypt_rsa_private_blob(blob: bytes) -> rsa.RSAPrivateKey:
    if len(blob) < 24:
        raise _bad("too short")
    magic, _bits, cb_e, cb_n, cb_p, cb_q = BCRYPT_RSAKEY_BLOB.unpack_from(blob)
    if magic not in (c.BCRYPT_RSAPRIVATE_MAGIC, c.BCRYPT_RSAFULLPRIVATE_MAGIC):
        raise _bad("not a BCRYPT_RSAKEY_BLOB private key")
    pos = 24
    parts = []
    for size in (cb_e, cb_n, cb_p, cb_q):
        parts.append(int.from_bytes(blob[pos : pos + size], "big"))
        pos += size
    if pos > len(blob):
        raise _bad("truncated")
    e, n, p, q = parts
    if p * q != n:
        raise _bad("primes do not match the modulus")
    d = pow(e, -1, (p - 1) * (q - 1))
    nums = rsa.RSAPrivateNumbers(
        p,
        q,
        d,
        rsa.rsa_crt_dmp1(d, p),
        rsa.rsa_crt_dmq1(d, q),
        rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(e, n),
    )
    return nums.private_key()


def key_data_blob(key: bytes) -> bytes:
    """BCRYPT_KEY_DATA_BLOB: "KDBM", version 1, length, key bytes."""
    return (
        BCRYPT_KEY_DATA_BLOB_HEADER.pack(
            c.BCRYPT_KEY_DATA_BLOB_MAGIC, c.BCRYPT_KEY_DATA_BLOB_VERSION1, len(key)
        )
        + key
    )


def parse_key_data_blob(blob: bytes) -> bytes:
    if len(blob) < 12:
        raise _bad("too short")
    magic, version, size = BCRYPT_KEY_DATA_BLOB_HEADER.unpack_from(blob)
    if magic != c.BCRYPT_KEY_DATA_BLOB_MAGIC or version != c.BCRYPT_KEY_DATA_BLOB_VERSION1:
        raise _bad("not a KeyDataBlob")
    if len(blob) != 12 + size:
        raise _bad("KeyDataBlob length mismatch")
    return blob[12:]


def plaintext_key_blob(alg_id: int, key: bytes) -> bytes:
    """PLAINTEXTKEYBLOB: BLOBHEADER{0x08, 2, 0, alg} + DWORD length + key."""
    return (
        BLOBHEADER.pack(c.PLAINTEXTKEYBLOB, c.CUR_BLOB_VERSION, 0, alg_id)
        + struct.pack("<I", len(key))
        + key
    )


def parse_plaintext_key_blob(blob: bytes) -> tuple[int, bytes]:
    if len(blob) < 12:
        raise _bad("too short")
    btype, _version, _reserved, alg_id = BLOBHEADER.unpack_from(blob)
    (size,) = struct.unpack_from("<I", blob, 8)
    if btype != c.PLAINTEXTKEYBLOB or len(blob) != 12 + size:
        raise _bad("not a PLAINTEXTKEYBLOB")
    return alg_id, blob[12:]


# --- what CardCreateContainer(KEY_IMPORT) receives ----------------------------------------

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


def import_private_key(blob: bytes, key_spec: int) -> PrivateKey:
    """The private key of an import blob for `key_spec`: PRIVATEKEYBLOB for RSA key specs,
    BCRYPT_ECCKEY_BLOB (ECS2/4/6 for ECDSA, ECK2/4/6 for ECDH) for ECC ones."""
    if key_spec in ks.RSA_KEY_SPECS:
        if blob[:1] == bytes((c.PRIVATEKEYBLOB,)):
            return parse_rsa_private_blob(blob)[0]
        return parse_bcrypt_rsa_private_blob(blob)
    key, ecdsa = parse_ecc_private_blob(blob)
    if ecdsa != (key_spec in ks.ECDSA_KEY_SPECS) or key.curve.key_size != ks.EC_KEY_BITS[key_spec]:
        raise _bad("the blob's curve or key kind does not match the key spec")
    return key


def container_public_blob(key: PublicKey, key_spec: int) -> bytes:
    """The public key as CONTAINER_INFO carries it for a key of this spec."""
    if isinstance(key, rsa.RSAPublicKey):
        alg = c.CALG_RSA_SIGN if key_spec == ks.AT_SIGNATURE else c.CALG_RSA_KEYX
        return rsa_public_blob(key, alg)
    return ecc_public_blob(key, ecdsa=key_spec in ks.ECDSA_KEY_SPECS)


def parse_container_public_blob(blob: bytes) -> PublicKey:
    if blob[:1] == bytes((c.PUBLICKEYBLOB,)):
        return parse_rsa_public_blob(blob)
    return parse_ecc_public_blob(blob)[0]


def key_bits(key: PublicKey | PrivateKey) -> int:
    return (
        key.key_size
        if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey)
        else key.curve.key_size
    )
