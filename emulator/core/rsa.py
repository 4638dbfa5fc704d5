"""The RSA private-key operation on one modulus-sized block, as a card performs it.

Cards get a whole block (the host padded it) and return block^d mod n. When the
block is a PKCS#1 v1.5 signature block around a DigestInfo we know, OpenSSL
signs the digest instead: the result is the same bytes (v1.5 signatures are
deterministic) at about a tenth of the cost of Python's pow. Anything else
(decryption, raw or unknown blocks) goes through the CRT with Python integers.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from wire.iso7816 import SW

from .errors import CardError

# DER DigestInfo prefixes (RFC 8017 section 9.2, note 1), by hash.
DIGEST_INFO_PREFIXES: dict[bytes, hashes.HashAlgorithm] = {
    bytes.fromhex("3021300906052b0e03021a05000414"): hashes.SHA1(),
    bytes.fromhex("302d300d06096086480165030402040500041c"): hashes.SHA224(),
    bytes.fromhex("3031300d060960864801650304020105000420"): hashes.SHA256(),
    bytes.fromhex("3041300d060960864801650304020205000430"): hashes.SHA384(),
    bytes.fromhex("3051300d060960864801650304020305000440"): hashes.SHA512(),
}


def private_operation(key: rsa.RSAPrivateKey, block: bytes) -> bytes:
    """block^d mod n; CardError when the block is not one modulus-sized value below n."""
    size = (key.key_size + 7) // 8
    if len(block) != size:
        raise CardError(SW.WRONG_LENGTH, "input is not one modulus-sized block")
    digest = _signed_digest(block)
    if digest is not None:
        prefix_hash, value = digest
        return key.sign(value, padding.PKCS1v15(), Prehashed(prefix_hash))
    numbers = key.private_numbers()
    value_int = int.from_bytes(block, "big")
    if value_int >= numbers.public_numbers.n:
        raise CardError(SW.WRONG_DATA, "input not smaller than the modulus")
    m1 = pow(value_int % numbers.p, numbers.dmp1, numbers.p)
    m2 = pow(value_int % numbers.q, numbers.dmq1, numbers.q)
    h = (numbers.iqmp * (m1 - m2)) % numbers.p
    return (m2 + h * numbers.q).to_bytes(size, "big")


def _signed_digest(block: bytes) -> tuple[hashes.HashAlgorithm, bytes] | None:
    """(hash, digest) when `block` is exactly EMSA-PKCS1-v1_5 of a known DigestInfo."""
    if block[:2] != b"\x00\x01":
        return None
    end = block.find(b"\x00", 2)
    if end < 10 or block[2:end] != b"\xff" * (end - 2):
        return None
    info = block[end + 1 :]
    for prefix, algorithm in DIGEST_INFO_PREFIXES.items():
        if info.startswith(prefix) and len(info) == len(prefix) + algorithm.digest_size:
            return algorithm, info[len(prefix) :]
    return None
