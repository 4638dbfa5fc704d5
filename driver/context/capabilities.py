"""What the card can do and hold: CardQueryCapabilities, CardQueryFreeSpace,
CardQueryKeySizes."""

from __future__ import annotations

import dataclasses

from wire.minidriver import keyspecs as ks
from wire.minidriver import versions as v

from ..api import api
from ..errors import SCARD_E_INVALID_PARAMETER, SCARD_E_UNSUPPORTED_FEATURE
from ..structures import CARD_CAPABILITIES, CARD_FREE_SPACE_INFO, CARD_KEY_SIZES
from . import checks
from .base import ContextBase


class CapabilitiesMixin(ContextBase):
    @api("CardQueryCapabilities")
    def query_capabilities(
        self, capabilities: CARD_CAPABILITIES | None = None
    ) -> CARD_CAPABILITIES:
        version = checks.struct_version(
            capabilities.version if capabilities else v.CARD_CAPABILITIES_CURRENT_VERSION,
            v.CARD_CAPABILITIES_CURRENT_VERSION,
        )
        card = self.card
        return CARD_CAPABILITIES(version, card.certificate_compression, card.key_gen)

    @api("CardQueryFreeSpace")
    def query_free_space(
        self, flags: int = 0, info: CARD_FREE_SPACE_INFO | None = None
    ) -> CARD_FREE_SPACE_INFO:
        checks.flags_zero(flags)
        version = checks.struct_version(
            info.version if info else v.CARD_FREE_SPACE_INFO_CURRENT_VERSION,
            v.CARD_FREE_SPACE_INFO_CURRENT_VERSION,
        )
        return self._free_space(version)

    def _free_space(self, version: int = 1) -> CARD_FREE_SPACE_INFO:
        card = self.card
        if card.read_only:
            return CARD_FREE_SPACE_INFO(version, 0, 0, card.max_containers)
        used = sum(1 for i in range(card.max_containers) if self._container_keys(i))
        return CARD_FREE_SPACE_INFO(
            version, card.free_bytes(), card.max_containers - used, card.max_containers
        )

    @api("CardQueryKeySizes")
    def query_key_sizes(
        self, key_spec: int, flags: int = 0, sizes: CARD_KEY_SIZES | None = None
    ) -> CARD_KEY_SIZES:
        checks.flags_zero(flags)
        version = checks.struct_version(
            sizes.version if sizes else v.CARD_KEY_SIZES_CURRENT_VERSION,
            v.CARD_KEY_SIZES_CURRENT_VERSION,
        )
        return dataclasses.replace(self._key_sizes(key_spec), version=version)

    def _key_sizes(self, key_spec: int) -> CARD_KEY_SIZES:
        if key_spec not in ks.KEY_SPECS:
            raise SCARD_E_INVALID_PARAMETER(f"undefined key spec {key_spec!r}")
        found = self.card.key_sizes(key_spec)
        if found is None:
            raise SCARD_E_UNSUPPORTED_FEATURE(f"the card cannot hold keys of spec {key_spec}")
        return found
