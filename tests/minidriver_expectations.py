"""What the minidriver conformance suite expects of each card kind: the one table of differences.

The conformance suite (tests/e2e/test_minidriver_conformance.py) and the enrollment tests run
the same calls against every card kind listed here; wherever the GIDS card and the PIV card
answer differently, the test asserts the value of this table, never a literal. Every field is
asserted somewhere. docs/minidriver-piv.md ("Differences from the GIDS module") refers here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from driver import errors
from driver.cardmodules.piv import admin_response as piv_admin_response
from driver.csp import admin_response as gids_admin_response
from wire import minidriver as k


@dataclass(frozen=True)
class CardKind:
    kind: str  # emulator card kind = card module name (what the probe picks, not configuration)
    pin: bytes
    admin_key: bytes
    # The admin's answer to a challenge: 3DES CBC zero IV (GIDS), 3DES/AES ECB (PIV 9B).
    admin_response: Callable[[bytes, bytes], bytes]
    # CP_CARD_LIST_PINS, and a PIN id the card does not have.
    pin_set: int
    absent_pin_id: int
    # PIN_INFO of the user PIN: who may unblock it, and with which CardUnblockPin flag.
    user_unblock_permission: int
    unblock_flag: int  # CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE (admin) or _PIN (PUK)
    puk: bytes | None
    # CARD_CAPABILITIES.fCertificateCompression: TRUE = the card module stores DER itself.
    certificate_compression: bool
    # cardcf: the counters the CSP bumps (True), or derived from the card's content (False:
    # PIV has no change counter; a change moves the counters by a hash, not by +1).
    counted_cardcf: bool
    # CardCreateFile outside mscp/kxcNN/kscNN/msroots, CardCreateDirectory and CardDeleteFile
    # of a root file (cardid, cardcf): None when the card has a real file system, else the
    # error they answer (PIV: files are synthesised from PIV objects).
    no_free_files: type[errors.MinidriverError] | None
    # Curves of ECC keys (CardQueryKeySizes answers SCARD_E_UNSUPPORTED_FEATURE for the rest).
    ec_curves: frozenset[int]
    max_containers: int
    # APDUs one freshness check (the cardcf read before cached data is served) costs on a
    # card with two containers: GIDS reads its cardcf DO; PIV re-reads what its view is made
    # of (docs/minidriver-piv.md, "cardcf: freshness from the content").
    freshness_apdus: int
    # What OpenSC's pkcs15-tool calls the key enrolled through the minidriver: the container
    # name (GIDS keeps it on the card) or PIV's fixed slot label.
    opensc_key_label: str | None  # None: the container name


GIDS = CardKind(
    kind="gids",
    pin=b"123456",
    admin_key=bytes(24),
    admin_response=gids_admin_response,
    pin_set=0b0110,
    absent_pin_id=3,
    user_unblock_permission=0b0100,
    unblock_flag=k.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE,
    puk=None,
    certificate_compression=False,
    counted_cardcf=True,
    no_free_files=None,
    ec_curves=frozenset({256, 384, 521}),
    max_containers=30,
    freshness_apdus=1,
    opensc_key_label=None,
)

PIV = CardKind(
    kind="piv",
    pin=b"123456",
    admin_key=bytes.fromhex("010203040506070801020304050607080102030405060708"),
    admin_response=piv_admin_response,
    pin_set=0b1110,
    absent_pin_id=4,
    user_unblock_permission=0b1000,
    unblock_flag=k.CARD_AUTHENTICATE_PIN_PIN,
    puk=b"12345678",
    certificate_compression=True,
    counted_cardcf=False,
    no_free_files=errors.SCARD_E_UNSUPPORTED_FEATURE,
    ec_curves=frozenset({256, 384}),
    max_containers=24,
    freshness_apdus=56,
    opensc_key_label="PIV AUTH key",
)

CARD_KINDS: dict[str, CardKind] = {c.kind: c for c in (GIDS, PIV)}
