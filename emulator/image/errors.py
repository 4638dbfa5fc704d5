"""The one error a bad card image gives: what is wrong and which file, in one line."""

from __future__ import annotations

from pathlib import Path


class ImageError(Exception):
    """A card image that cannot be read, parsed, migrated or loaded onto a card.

    `str()` is the whole user-facing line: `PATH: problem`. Whoever raises it has
    left the file as it was.
    """

    def __init__(self, problem: str, path: Path | str | None = None) -> None:
        self.problem = problem
        self.path = Path(path) if path is not None else None
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)

    def at(self, path: Path | str) -> ImageError:
        """The same problem, attributed to a file (for errors found before the path is known)."""
        return self if self.path is not None else ImageError(self.problem, path)
