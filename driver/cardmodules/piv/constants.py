"""What the PIV card module adds to the PIV specification's facts (wire/piv.py).

The spec's names (instructions, tags, key references, algorithms) come from wire/piv.py,
which the card and the host share; here are only the driver's own choices and lookups.
"""

from __future__ import annotations

from typing import Final

from wire.piv import EC_BITS, KEY_SLOTS, RSA_ALGORITHMS, Algorithm

# Container index -> PIV key slot. The order of the inbox minidriver's enumeration (9A first:
# it is the default container, kxc00 = the PIV Authentication certificate), then the rest in
# key-reference order (this part is ours: the inbox order of 9C/9D/9E/retired is UNCONFIRMED).
CONTAINER_SLOTS: Final[tuple[int, ...]] = KEY_SLOTS

# Key size in bits -> the algorithm a key of that size is generated or imported as.
RSA_BY_BITS: Final[dict[int, Algorithm]] = {bits: alg for alg, bits in RSA_ALGORITHMS.items()}
EC_BY_BITS: Final[dict[int, Algorithm]] = {bits: alg for alg, bits in EC_BITS.items()}

# Minidriver PIN id of the PUK: card-specific ids start after ROLE_ADMIN (minidriver.md 2.4).
ROLE_PUK: Final = 3
