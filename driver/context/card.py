"""CardContext: every function family over one CARD_DATA."""

from __future__ import annotations

from .agreement import AgreementMixin
from .authentication import AuthenticationMixin
from .crypto import CryptoMixin
from .keyinjection import KeyInjectionMixin
from .properties import PropertiesMixin


class CardContext(
    PropertiesMixin,  # with containers, capabilities and the file system
    AuthenticationMixin,
    CryptoMixin,
    AgreementMixin,
    KeyInjectionMixin,
):
    """CARD_DATA: one minidriver context on one card (or a no-card SKI context)."""
