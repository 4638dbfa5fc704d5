"""On-card key generation that honours the card's randomness source.

With the OS source this is `cryptography`'s own generation. With a seeded
source (deterministic mode, for golden-file tests) the private values come
from the seed, so the same seed gives the same keys.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .rng import RandomSource

PUBLIC_EXPONENT = 65537
_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % q for q in range(2, int(p**0.5) + 1))]


def generate_rsa(rng: RandomSource, bits: int) -> rsa.RSAPrivateKey:
    if not rng.deterministic:
        return rsa.generate_private_key(PUBLIC_EXPONENT, bits)
    while True:
        p = _prime(rng, bits // 2)
        q = _prime(rng, bits - bits // 2)
        if p == q:
            continue
        n = p * q
        if n.bit_length() != bits:
            continue
        phi = (p - 1) * (q - 1)
        try:
            d = pow(PUBLIC_EXPONENT, -1, phi)
        except ValueError:
            continue
        if p < q:
            p, q = q, p
        numbers = rsa.RSAPrivateNumbers(
            p,
            q,
            d,
            d % (p - 1),
            d % (q - 1),
            pow(q, -1, p),
            rsa.RSAPublicNumbers(PUBLIC_EXPONENT, n),
        )
        return numbers.private_key()


def generate_ec(rng: RandomSource, curve: ec.EllipticCurve) -> ec.EllipticCurvePrivateKey:
    if not rng.deterministic:
        return ec.generate_private_key(curve)
    order = _curve_order(curve)
    scalar = 1 + rng.randbelow(order - 1)
    return ec.derive_private_key(scalar, curve)


def _curve_order(curve: ec.EllipticCurve) -> int:
    orders = {
        "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        "secp384r1": int(
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
            "581A0DB248B0A77AECEC196ACCC52973",
            16,
        ),
        "secp521r1": int(
            "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F"
            "966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
            16,
        ),
    }
    try:
        return orders[curve.name]
    except KeyError:
        raise ValueError(f"no deterministic generation for curve {curve.name}") from None


def _prime(rng: RandomSource, bits: int) -> int:
    while True:
        candidate = int.from_bytes(rng.token_bytes((bits + 7) // 8), "big")
        candidate &= (1 << bits) - 1
        candidate |= (3 << (bits - 2)) | 1  # top two bits set: the product has full length
        if any(candidate % p == 0 for p in _SMALL_PRIMES):
            continue
        if (candidate - 1) % PUBLIC_EXPONENT == 0:
            continue
        if _probably_prime(candidate, rng):
            return candidate


def _probably_prime(n: int, rng: RandomSource, rounds: int = 40) -> bool:
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        a = 2 + rng.randbelow(n - 3)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True
