"""Container map flags, creation flags and limits (minidriver.md 2.7)."""

from __future__ import annotations

from typing import Final

MAX_CONTAINER_NAME_LEN: Final = 39
CONTAINER_MAP_VALID_CONTAINER: Final = 0x01
CONTAINER_MAP_DEFAULT_CONTAINER: Final = 0x02
CARD_CREATE_CONTAINER_KEY_GEN: Final = 1
CARD_CREATE_CONTAINER_KEY_IMPORT: Final = 2
CARD_DATA_VALUE_UNKNOWN: Final = 0xFFFFFFFF
