"""Older layouts of the format, upgraded one version at a time on load.

Each step takes a document of version N (already known to carry that version)
and returns one of version N + 1. Loading never rewrites the file: the upgraded
layout is written the next time the card's state is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import ImageError
from .format import FORMAT, VERSION, WARNING

Document = dict[str, Any]


def _v1_to_v2(doc: Document) -> Document:
    """Version 1 was the minimal layout: kind, ATR and the card's export_state() flat.

    Version 2 groups the ATR with the derived identity, adds the seed (deterministic
    mode), a description and the test-material warning.
    """
    unknown = sorted(set(doc) - {"format", "version", "kind", "atr", "state"})
    if unknown:
        raise ImageError(f"unknown field {unknown[0]!r} in a version 1 image")
    for name in ("kind", "atr", "state"):
        if name not in doc:
            raise ImageError(f"version 1 image without its {name!r} field")
    return {
        "description": "",
        "format": FORMAT,
        "identity": {"atr": doc["atr"]},
        "kind": doc["kind"],
        "seed": None,
        "state": doc["state"],
        "version": 2,
        "warning": WARNING,
    }


# Version N -> the step to version N + 1.
STEPS: dict[int, Callable[[Document], Document]] = {
    1: _v1_to_v2,
}
OLDEST = min(STEPS, default=VERSION)


def upgrade(doc: Document) -> Document:
    """The document in the current layout; ImageError for versions we do not know."""
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ImageError(f"format version must be a whole number, not {version!r}")
    if version > VERSION:
        raise ImageError(
            f"format version {version} is newer than this softcard reads "
            f"(up to {VERSION}); upgrade softcard"
        )
    if version < OLDEST:
        raise ImageError(f"unknown format version {version} (known: {OLDEST} to {VERSION})")
    while version < VERSION:
        doc = STEPS[version](doc)
        version += 1
    return doc
