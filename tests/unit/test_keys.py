from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from emulator.core.keys import generate_ec, generate_rsa
from emulator.core.rng import RandomSource, SeededRandom


def _der(key: object) -> bytes:
    return key.private_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def test_seeded_rsa_is_reproducible_and_works() -> None:
    a = generate_rsa(SeededRandom(5), 1024)
    b = generate_rsa(SeededRandom(5), 1024)
    assert _der(a) == _der(b)
    assert a.key_size == 1024
    sig = a.sign(b"m", padding.PKCS1v15(), hashes.SHA256())
    a.public_key().verify(sig, b"m", padding.PKCS1v15(), hashes.SHA256())
    assert _der(generate_rsa(SeededRandom(6), 1024)) != _der(a)


def test_seeded_ec_is_reproducible() -> None:
    a = generate_ec(SeededRandom(1), ec.SECP256R1())
    assert _der(a) == _der(generate_ec(SeededRandom(1), ec.SECP256R1()))
    assert _der(a) != _der(generate_ec(SeededRandom(2), ec.SECP256R1()))


def test_os_randomness_gives_distinct_keys() -> None:
    assert _der(generate_ec(RandomSource(), ec.SECP384R1())) != _der(
        generate_ec(RandomSource(), ec.SECP384R1())
    )
