"""Key blobs, host-side padding, KDFs and symmetric key handles, checked against `cryptography`."""

from __future__ import annotations

import hashlib
import hmac
import struct

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash

from driver import blobs, kdf, padding, symmetric
from driver.errors import SCARD_E_INVALID_PARAMETER, SCARD_E_INVALID_VALUE
from driver.structures import NCryptBuffer, NCryptBufferDesc
from wire.minidriver import crypto as c
from wire.minidriver import keyspecs as ks

RSA_KEY = rsa.generate_private_key(65537, 2048)


def _raw_rsa(key: rsa.RSAPrivateKey, block: bytes) -> bytes:
    n = key.private_numbers()
    value = pow(int.from_bytes(block, "big"), n.d, n.public_numbers.n)
    return value.to_bytes(key.key_size // 8, "big")


def test_rsa_public_blob_is_little_endian_publickeyblob() -> None:
    blob = blobs.rsa_public_blob(RSA_KEY.public_key())
    assert len(blob) == 276
    assert blob[:8] == bytes.fromhex("0602 0000 00A4 0000")
    assert blob[8:12] == b"RSA1" and struct.unpack("<II", blob[12:20]) == (2048, 65537)
    assert int.from_bytes(blob[20:], "little") == RSA_KEY.public_key().public_numbers().n
    assert (
        blobs.parse_rsa_public_blob(blob).public_numbers() == RSA_KEY.public_key().public_numbers()
    )
    assert blobs.container_public_blob(RSA_KEY.public_key(), ks.AT_SIGNATURE)[4:8] == bytes.fromhex(
        "00240000"
    )


def test_rsa_private_blob_round_trip_and_size() -> None:
    blob = blobs.rsa_private_blob(RSA_KEY)
    assert len(blob) == 20 + 9 * 2048 // 16 == 1172
    assert blob[:2] == b"\x07\x02" and blob[8:12] == b"RSA2"
    key, alg = blobs.parse_rsa_private_blob(blob)
    assert alg == c.CALG_RSA_KEYX
    assert key.private_numbers() == RSA_KEY.private_numbers()
    assert (
        blobs.import_private_key(blob, ks.AT_KEYEXCHANGE).private_numbers()
        == RSA_KEY.private_numbers()
    )
    with pytest.raises(SCARD_E_INVALID_PARAMETER):
        blobs.parse_rsa_private_blob(blob[:-10])


def test_bcrypt_rsa_blob_round_trip() -> None:
    blob = blobs.bcrypt_rsa_blob(RSA_KEY, c.BCRYPT_RSAFULLPRIVATE_MAGIC)
    assert blob[:4] == b"RSA3"
    got = blobs.parse_bcrypt_rsa_private_blob(blob).private_numbers()
    want = RSA_KEY.private_numbers()
    assert (got.p, got.q, got.public_numbers) == (want.p, want.q, want.public_numbers)


@pytest.mark.parametrize(
    ("curve", "size"), [(ec.SECP256R1(), 32), (ec.SECP384R1(), 48), (ec.SECP521R1(), 66)]
)
def test_ecc_blobs(curve: ec.EllipticCurve, size: int) -> None:
    key = ec.generate_private_key(curve)
    pub = blobs.ecc_public_blob(key.public_key(), ecdsa=True)
    assert (
        len(pub) == 8 + 2 * size and pub[:3] == b"ECS" and struct.unpack("<I", pub[4:8])[0] == size
    )
    back, ecdsa = blobs.parse_ecc_public_blob(pub)
    assert ecdsa and back.public_numbers() == key.public_key().public_numbers()
    priv = blobs.ecc_private_blob(key, ecdsa=False)
    assert priv[:3] == b"ECK" and len(priv) == 8 + 3 * size
    spec = {32: ks.AT_ECDHE_P256, 48: ks.AT_ECDHE_P384, 66: ks.AT_ECDHE_P521}[size]
    assert blobs.import_private_key(priv, spec).private_numbers() == key.private_numbers()
    with pytest.raises(SCARD_E_INVALID_PARAMETER):
        blobs.import_private_key(priv, ks.AT_ECDSA_P256)  # ECDH blob for an ECDSA key spec


def test_symmetric_blobs() -> None:
    assert blobs.key_data_blob(b"k" * 16)[:12] == bytes.fromhex("4B44424D 01000000 10000000")
    assert blobs.parse_key_data_blob(blobs.key_data_blob(b"k" * 16)) == b"k" * 16
    sample = bytes.fromhex("0802000003660000 18000000") + bytes(24)
    assert blobs.plaintext_key_blob(c.CALG_3DES, bytes(24)) == sample
    assert blobs.parse_plaintext_key_blob(sample) == (c.CALG_3DES, bytes(24))


def test_pss_block_verifies() -> None:
    digest = hashlib.sha256(b"message").digest()
    block = padding.pss_encode("SHA256", digest, 32, 2048)
    sig = _raw_rsa(RSA_KEY, block)
    RSA_KEY.public_key().verify(
        sig, digest, asym.PSS(asym.MGF1(hashes.SHA256()), 32), _Prehashed(hashes.SHA256())
    )


def _Prehashed(h: hashes.HashAlgorithm) -> object:  # noqa: N802 - mirrors the library's class
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    return Prehashed(h)


def test_pkcs1_digest_info_signature_verifies() -> None:
    digest = hashlib.sha384(b"m").digest()
    block = padding.pkcs1_type1(padding.digest_info("SHA384", digest), 256)
    RSA_KEY.public_key().verify(_raw_rsa(RSA_KEY, block), b"m", asym.PKCS1v15(), hashes.SHA384())


def test_unpadding_matches_cryptography() -> None:
    pub = RSA_KEY.public_key()
    ct = pub.encrypt(b"secret", asym.OAEP(asym.MGF1(hashes.SHA256()), hashes.SHA256(), b"lbl"))
    assert padding.oaep_decode(_raw_rsa(RSA_KEY, ct), "SHA256", b"lbl") == b"secret"
    with pytest.raises(SCARD_E_INVALID_VALUE):
        padding.oaep_decode(_raw_rsa(RSA_KEY, ct), "SHA256", b"other")
    ct = pub.encrypt(b"hello", asym.PKCS1v15())
    assert padding.pkcs1_type2_decode(_raw_rsa(RSA_KEY, ct)) == b"hello"
    with pytest.raises(SCARD_E_INVALID_VALUE):
        padding.pkcs1_type2_decode(b"\x00\x01" + b"\xff" * 254)


def _params(*buffers: NCryptBuffer) -> kdf.Parameters:
    return kdf.Parameters(NCryptBufferDesc(list(buffers)))


Z = bytes(range(32))


def test_hash_and_hmac_kdfs() -> None:
    p = _params(
        NCryptBuffer.wide(c.KDF_HASH_ALGORITHM, "SHA256"),
        NCryptBuffer(1, b"pre"),
        NCryptBuffer(2, b"app"),
    )
    assert kdf.derive("HASH", Z, p, 0) == hashlib.sha256(b"pre" + Z + b"app").digest()
    assert kdf.derive("HASH", Z, _params(), 0) == hashlib.sha1(Z).digest()
    p = _params(
        NCryptBuffer.wide(c.KDF_HASH_ALGORITHM, "SHA384"), NCryptBuffer(c.KDF_HMAC_KEY, b"key")
    )
    assert kdf.derive("HMAC", Z, p, 0) == hmac.new(b"key", Z, "sha384").digest()
    assert (
        kdf.derive("HMAC", Z, _params(), c.KDF_USE_SECRET_AS_HMAC_KEY_FLAG)
        == hmac.new(Z, Z, "sha1").digest()
    )
    with pytest.raises(SCARD_E_INVALID_PARAMETER):
        kdf.derive("HMAC", Z, _params(), 0)
    with pytest.raises(SCARD_E_INVALID_PARAMETER):
        kdf.derive("BOGUS", Z, _params(), 0)
    with pytest.raises(SCARD_E_INVALID_PARAMETER):
        kdf.derive("HASH", Z, _params(NCryptBuffer(c.KDF_TLS_PRF_SEED, b"x")), 0)


def test_sp800_56a_concat_matches_cryptography() -> None:
    info = [b"\x01alg", b"U", b"V"]
    p = _params(
        NCryptBuffer(c.KDF_ALGORITHMID, info[0]),
        NCryptBuffer(c.KDF_PARTYUINFO, info[1]),
        NCryptBuffer(c.KDF_PARTYVINFO, info[2]),
        NCryptBuffer.wide(c.KDF_HASH_ALGORITHM, "SHA256"),
    )
    want = ConcatKDFHash(hashes.SHA256(), 48, b"".join(info)).derive(Z)
    assert kdf.derive("SP800_56A_CONCAT", Z, p, 0, key_bits=384) == want


def _p_hash_reference(name: str, secret: bytes, seed: bytes, length: int) -> bytes:
    # RFC 5246 section 5, written out independently of driver.kdf.
    out, a = b"", seed
    while len(out) < length:
        a = hmac.digest(secret, a, name)
        out += hmac.digest(secret, a + seed, name)
    return out[:length]


def test_tls_prf() -> None:
    seed = bytes(range(64))
    p10 = _params(
        NCryptBuffer(c.KDF_TLS_PRF_LABEL, b"master secret"), NCryptBuffer(c.KDF_TLS_PRF_SEED, seed)
    )
    half = len(Z) // 2
    md5 = _p_hash_reference("md5", Z[:half], b"master secret" + seed, 48)
    sha = _p_hash_reference("sha1", Z[half:], b"master secret" + seed, 48)
    assert kdf.derive("TLS_PRF", Z, p10, 0) == bytes(a ^ b for a, b in zip(md5, sha, strict=True))
    p12 = _params(
        NCryptBuffer(c.KDF_TLS_PRF_LABEL, b"master secret"),
        NCryptBuffer(c.KDF_TLS_PRF_SEED, seed),
        NCryptBuffer(c.KDF_TLS_PRF_PROTOCOL, struct.pack("<I", c.TLS1_2_PROTOCOL_VERSION)),
    )
    assert kdf.derive("TLS_PRF", Z, p12, 0) == _p_hash_reference(
        "sha256", Z, b"master secret" + seed, 48
    )


def test_truncate_returns_the_secret_little_endian() -> None:
    assert kdf.derive("TRUNCATE", Z, _params(), 0) == Z[::-1]


def test_symmetric_keys_encrypt_cbc_with_block_padding() -> None:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = symmetric.SymmetricKey(
        symmetric.algorithm("AES"), b"k" * 16, iv=b"i" * 16, chaining_mode="ChainingModeCBC"
    )
    ct = key.encrypt(b"hello", block_padding=True)
    dec = Cipher(algorithms.AES(b"k" * 16), modes.CBC(b"i" * 16)).decryptor()
    assert (dec.update(ct) + dec.finalize())[:5] == b"hello"
    assert key.decrypt(ct, block_padding=True) == b"hello"
    with pytest.raises(SCARD_E_INVALID_PARAMETER):
        symmetric.SymmetricKey(symmetric.algorithm("AES"), b"k" * 15)
    with pytest.raises(SCARD_E_INVALID_PARAMETER):
        symmetric.SymmetricKey(symmetric.algorithm("3DES"), b"k" * 24).encrypt(b"x" * 8, False)
