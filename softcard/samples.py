"""The sample card images that ship with softcard, named `sample:NAME` wherever an image is taken.

In the repository they are `card_images/` (`softcard/card_images` links to it); in an
installed wheel they are package data in `softcard/card_images/`. Either way they are
read-only: a run or a test that serves one serves a private copy of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

PREFIX = "sample:"
DIRECTORY = Path(__file__).resolve().parent / "card_images"


class SampleError(ValueError):
    """An unknown sample name; the message lists the ones there are."""


@dataclass(frozen=True)
class Sample:
    name: str  # the file name without .json: `sample:piv-demo`
    path: Path
    kind: str
    description: str

    @property
    def ref(self) -> str:
        return PREFIX + self.name


def samples() -> list[Sample]:
    """Every shipped sample image, by name."""
    found: list[Sample] = []
    for path in sorted(DIRECTORY.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not an image: `softcard image check` says why
        if isinstance(doc, dict):
            found.append(
                Sample(path.stem, path, str(doc.get("kind", "?")), str(doc.get("description", "")))
            )
    return found


def is_ref(image: str | Path) -> bool:
    return str(image).startswith(PREFIX)


def find(name: str) -> Sample:
    """The sample `name` (with or without the `sample:` prefix)."""
    name = name.removeprefix(PREFIX)
    every = samples()
    for sample in every:
        if sample.name == name:
            return sample
    names = ", ".join(s.name for s in every) or "none installed"
    raise SampleError(f"no sample image {name!r} (there are: {names}; see `softcard image list`)")


def resolve(image: str | Path) -> Path:
    """The file behind an image argument: a sample's shipped file, or the path as given."""
    return find(str(image)).path if is_ref(image) else Path(image)
