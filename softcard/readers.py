"""Names of vpcd's readers as pcscd shows them."""

from __future__ import annotations

VPCD_FRIENDLY_NAME = "Virtual PCD"


def entry_friendly_name(entry: int) -> str:
    """FRIENDLYNAME of reader.conf entry k: pcscd 1.9 does not make repeated names unique."""
    return VPCD_FRIENDLY_NAME if entry == 0 else f"{VPCD_FRIENDLY_NAME} {entry:02X}"


def vpcd_reader_name(slot: int) -> str:
    """Reader of vpcd slot N: each reader.conf entry gives two slots, "<name> 00 0s"."""
    entry, sub = divmod(slot, 2)
    return f"{entry_friendly_name(entry)} 00 {sub:02X}"
