"""The card image format: one JSON document holding the whole persistent card.

Layout (version 2, see docs/card-images.md):

    {
      "description": "free text",
      "format": "softcard-card-image",
      "identity": {"atr": "3B...", "serial": "...", "guid": "..."},
      "kind": "piv",
      "seed": null,
      "state": {"<application name>": {<that application's export_state()>}},
      "version": 2,
      "warning": "TEST MATERIAL: ..."
    }

Bytes are lowercase hex strings (the applications' own convention); keys are
sorted and indented so two images diff line by line. `identity` beyond the ATR
is derived from the applications' state at save time (for people reading the
file) and checked against it on load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

FORMAT = "softcard-card-image"
VERSION = 2
WARNING = (
    "TEST MATERIAL: this file holds the card's PINs, PUKs, management keys and private "
    "keys in the clear. Use card images for tests and demos only, never for real keys."
)

# Top-level fields of the current version, with the JSON types they take.
FIELDS = ("description", "format", "identity", "kind", "seed", "state", "version", "warning")


@dataclass
class CardImage:
    """A whole card at rest: its kind, identity and every application's exported state."""

    kind: str
    atr: bytes
    state: dict[str, dict[str, Any]]
    # Derived identity beyond the ATR (serial, guid, ...), as text.
    identity: dict[str, str] = field(default_factory=dict)
    # Deterministic mode: the card's randomness comes from this seed when it is loaded.
    seed: int | None = None
    description: str = ""
    # The format version the file had when read (older ones are migrated in memory).
    source_version: int = field(default=VERSION, compare=False)

    @property
    def migrated(self) -> bool:
        return self.source_version != VERSION

    def to_document(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "format": FORMAT,
            "identity": {"atr": self.atr.hex().upper(), **self.identity},
            "kind": self.kind,
            "seed": self.seed,
            "state": self.state,
            "version": VERSION,
            "warning": WARNING,
        }

    def to_text(self) -> str:
        """The file's content: stable for equal images, so golden files can compare it."""
        return json.dumps(self.to_document(), indent=2, sort_keys=True) + "\n"
