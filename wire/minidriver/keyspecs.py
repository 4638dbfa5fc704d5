"""Key specifications, dwKeySpec (minidriver.md section 2.3)."""

from __future__ import annotations

from typing import Final

AT_KEYEXCHANGE: Final = 1
AT_SIGNATURE: Final = 2
AT_ECDSA_P256: Final = 3
AT_ECDSA_P384: Final = 4
AT_ECDSA_P521: Final = 5
AT_ECDHE_P256: Final = 6
AT_ECDHE_P384: Final = 7
AT_ECDHE_P521: Final = 8

KEY_SPECS: Final = frozenset(range(AT_KEYEXCHANGE, AT_ECDHE_P521 + 1))
RSA_KEY_SPECS: Final = frozenset({AT_KEYEXCHANGE, AT_SIGNATURE})
ECDSA_KEY_SPECS: Final = frozenset({AT_ECDSA_P256, AT_ECDSA_P384, AT_ECDSA_P521})
ECDH_KEY_SPECS: Final = frozenset({AT_ECDHE_P256, AT_ECDHE_P384, AT_ECDHE_P521})

# Curve size in bits for each ECC key spec (min = default = max, increment 1).
EC_KEY_BITS: Final = {
    AT_ECDSA_P256: 256,
    AT_ECDSA_P384: 384,
    AT_ECDSA_P521: 521,
    AT_ECDHE_P256: 256,
    AT_ECDHE_P384: 384,
    AT_ECDHE_P521: 521,
}

# Container slots: the signature slot holds AT_SIGNATURE / ECDSA keys (certificate kscNN,
# wSigKeySizeBits), the key-exchange slot AT_KEYEXCHANGE / ECDH keys (kxcNN).
SIGNATURE_SLOT_KEY_SPECS: Final = frozenset({AT_SIGNATURE}) | ECDSA_KEY_SPECS
KEYEXCHANGE_SLOT_KEY_SPECS: Final = frozenset({AT_KEYEXCHANGE}) | ECDH_KEY_SPECS
