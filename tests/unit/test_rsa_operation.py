"""The card's RSA private operation: OpenSSL for v1.5 signature blocks, CRT otherwise."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from emulator.core.errors import CardError
from emulator.core.rsa import DIGEST_INFO_PREFIXES, private_operation

KEY = rsa.generate_private_key(65537, 1024)
SIZE = 128


def _textbook(block: bytes) -> bytes:
    n = KEY.private_numbers()
    return pow(int.from_bytes(block, "big"), n.d, n.public_numbers.n).to_bytes(SIZE, "big")


@pytest.mark.parametrize("prefix", list(DIGEST_INFO_PREFIXES), ids=lambda p: p.hex()[-8:])
def test_signature_blocks_match_the_textbook_operation(prefix: bytes) -> None:
    algorithm = DIGEST_INFO_PREFIXES[prefix]
    info = prefix + bytes(range(algorithm.digest_size))
    block = b"\x00\x01" + b"\xff" * (SIZE - 3 - len(info)) + b"\x00" + info
    assert private_operation(KEY, block) == _textbook(block)


def test_other_blocks_use_the_crt_and_match() -> None:
    ciphertext = KEY.public_key().encrypt(b"secret", padding.PKCS1v15())
    raw = private_operation(KEY, ciphertext)
    assert raw == _textbook(ciphertext) and raw.startswith(b"\x00\x02")
    # a v1.5-looking block with an unknown DigestInfo is still m^d
    odd = b"\x00\x01" + b"\xff" * (SIZE - 3 - 20) + b"\x00" + bytes(20)
    assert private_operation(KEY, odd) == _textbook(odd)


def test_a_signature_made_this_way_verifies() -> None:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"m")
    value = digest.finalize()
    info = bytes.fromhex("3031300d060960864801650304020105000420") + value
    block = b"\x00\x01" + b"\xff" * (SIZE - 3 - len(info)) + b"\x00" + info
    KEY.public_key().verify(
        private_operation(KEY, block), b"m", padding.PKCS1v15(), hashes.SHA256()
    )


def test_bad_blocks_are_card_errors() -> None:
    with pytest.raises(CardError):
        private_operation(KEY, bytes(SIZE - 1))
    with pytest.raises(CardError):
        private_operation(KEY, b"\xff" * SIZE)
