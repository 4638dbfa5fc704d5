"""Card images: a whole card's persistent state in one versioned, diffable JSON file.

>>> from emulator.image import new_image, fork
>>> card = fork(new_image("iso", seed=1), path)        # doctest: +SKIP
>>> card.card.transmit(...)                            # every change saved before 9000

See docs/card-images.md for the format and its guarantees.
"""

from .cards import build_card, capture
from .errors import ImageError
from .format import FORMAT, VERSION, CardImage
from .live import (
    PersistentCard,
    ServedImage,
    check,
    fork,
    new_image,
    restore_file,
    snapshot_file,
)
from .store import ImageLock, load, save, write_atomic
from .summary import summarise

__all__ = [
    "FORMAT",
    "VERSION",
    "CardImage",
    "ImageError",
    "ImageLock",
    "PersistentCard",
    "ServedImage",
    "build_card",
    "capture",
    "check",
    "fork",
    "load",
    "new_image",
    "restore_file",
    "save",
    "snapshot_file",
    "summarise",
    "write_atomic",
]
