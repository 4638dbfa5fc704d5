"""The card context (CARD_DATA) and every minidriver function as one of its methods.

`acquire_context` is CardAcquireContext; `CardContext.delete_context` (or leaving the `with`
block) is CardDeleteContext; every other CardXxxYyy is the method `xxx_yyy`. Arguments follow the
specification's parameters in order, without pCardData and the output buffers; outputs are
returned. The checks the specification makes before any card I/O happen here, in its order
(NULL and flag checks, then "unsupported", then index / key-spec / size validity), so bad calls
cost no APDU; the card module only speaks to the card.

One module per function family, each a mixin over `base.ContextBase`:

| module | what |
| --- | --- |
| `base` | CARD_DATA state, `with` / CardDeleteContext, transactions, cardcf, PIN lookups |
| `acquire` | CardAcquireContext: versions, no-card mode, reader, ATR, card-module selection |
| `capabilities` | CardQueryCapabilities, CardQueryFreeSpace, CardQueryKeySizes |
| `containers` | CardCreateContainer(Ex), CardDeleteContainer, CardGetContainerInfo |
| `authentication` | PINs, challenge/response, session PINs, unblock, change, deauthenticate |
| `crypto` | CardSignData, CardRSADecrypt |
| `agreement` | ECDH agreements and CardDeriveKey |
| `files` | directories and files |
| `properties` | card and container properties |
| `keyinjection` | secure key injection (v7) |
| `checks`, `callbacks` | shared argument checks; the CSP callbacks and their defaults |
"""

from .acquire import acquire_context
from .callbacks import DhAgreementCallback, UnpadCallback, default_unpad
from .card import CardContext

__all__ = [
    "CardContext",
    "DhAgreementCallback",
    "UnpadCallback",
    "acquire_context",
    "default_unpad",
]
