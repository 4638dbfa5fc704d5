"""The `piv` card: a PIV card (SP 800-73-4 + Yubico extensions) as it leaves the factory.

Factory state: PIN 123456, PUK 12345678 (3 tries each), management key
010203040506070801020304050607080102030405060708 (3DES), no keys in the PIV
slots; its own serial number, CHUID (fresh GUID), CCC and attestation CA (F9).
PIV is selected at power-on (SP 800-73-4 allows it; OpenSC 0.23 reads the
discovery object before any SELECT). The ATR's T0 high nibble is 8, not F, so
ykman treats the reader as a contactless one and accepts it with --reader.
"""

from __future__ import annotations

from wire.atr import Capabilities

from ..apps.piv import PivApplication
from ..core.card import CardOS
from ..core.rng import RandomSource

CARD_NAME = "softcard"


def build(rng: RandomSource) -> CardOS:
    app = PivApplication.factory(rng)
    assert isinstance(app, PivApplication)
    # One logical channel, like a YubiKey: no client of PIV opens more.
    caps = Capabilities(command_chaining=True, extended_length=True, logical_channels=1)
    return CardOS([app], name=CARD_NAME, default_application=app, capabilities=caps, rng=rng)
