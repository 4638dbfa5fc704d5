"""Live cards bound to image files: persist, snapshot, restore, fork.

`PersistentCard.open(path)` gives a card whose every state change is written
back atomically before the card answers (the core's `persist` hook). A test
that wants a card of its own forks an image: `fork(source, tmp_path / "card.json")`.

A card served by another process (`softcard run --image`) is restored through
that process: `restore_file` leaves the snapshot next to the image and sends
the server SIGHUP; the server swaps the state between two commands, saves, and
removes the request. Writing the image behind the server's back would be lost
at its next save.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import time
from pathlib import Path

from ..core.card import CardOS
from ..profiles import make_card
from .cards import build_card, capture
from .errors import ImageError
from .format import CardImage
from .store import (
    ImageLock,
    load,
    remove_stale_temporaries,
    restore_request_path,
    save,
    write_atomic,
)

log = logging.getLogger(__name__)

RESTORE_TIMEOUT = 10.0
RESTORE_POLL = 0.01


def new_image(kind: str, seed: int | None = None, description: str = "") -> CardImage:
    """A factory-fresh card of this kind as an image; a seed makes it reproducible."""
    try:
        card = make_card(kind, seed=seed)
    except ValueError as e:
        raise ImageError(str(e)) from None
    return capture(card, kind, seed, description)


def check(path: Path | str) -> CardImage:
    """Everything `softcard image check` checks: the file, its format, and a card built from it."""
    image = load(path)
    try:
        build_card(image)
    except ImageError as e:
        raise e.at(path) from None
    return image


class PersistentCard:
    """A live card and the image file that holds its state."""

    def __init__(
        self,
        card: CardOS,
        path: Path | str,
        kind: str,
        seed: int | None = None,
        description: str = "",
    ) -> None:
        self.card = card
        self.path = Path(path)
        self.kind = kind
        self.seed = seed
        self.description = description
        card.persist = self.save

    @classmethod
    def open(cls, path: Path | str, seed: int | None = None) -> PersistentCard:
        """Load an image; `seed` overrides its seed for this card's randomness."""
        image = load(path)
        try:
            card = build_card(image, seed)
        except ImageError as e:
            raise e.at(path) from None
        return cls(card, path, image.kind, image.seed, image.description)

    @classmethod
    def create(
        cls, path: Path | str, kind: str, seed: int | None = None, description: str = ""
    ) -> PersistentCard:
        """A factory-fresh card, saved to `path` at once."""
        card = make_card(kind, seed=seed)
        persistent = cls(card, path, kind, seed, description)
        persistent.save()
        return persistent

    def image(self) -> CardImage:
        return capture(self.card, self.kind, self.seed, self.description)

    def save(self) -> None:
        save(self.image(), self.path)

    def snapshot(self, dest: Path | str) -> Path:
        """The card as it is now, in another file (the card goes on using its own)."""
        save(self.image(), dest)
        return Path(dest)

    def restore(self, source: Path | str | CardImage) -> None:
        """Swap in another image's state (a snapshot of this card, or any of its kind)."""
        image = source if isinstance(source, CardImage) else load(source)
        where = None if isinstance(source, CardImage) else source
        if image.kind != self.kind:
            raise ImageError(
                f"holds a {image.kind!r} card, this card is of kind {self.kind!r}", where
            )
        try:
            build_card(image)  # the whole check, on a scratch card
        except ImageError as e:
            raise (e if where is None else e.at(where)) from None
        self.seed, self.description = image.seed, image.description
        # Swapped and saved under the card's lock: no command's save can overtake ours.
        self.card.replace_state(image.state, image.atr)

    def fork(self, dest: Path | str) -> PersistentCard:
        """A private copy: another card, from this one's current state, in its own file."""
        self.snapshot(dest)
        return PersistentCard.open(dest)

    # -- restore requests from other processes --------------------------------------------

    def apply_restore_request(self) -> bool:
        """Take the image `restore_file` left for us, if any; True if the card changed."""
        request = restore_request_path(self.path)
        if not request.exists():
            return False
        try:
            self.restore(request)
            log.info("restored %s from a restore request", self.path)
            return True
        except ImageError as e:
            log.error("restore request refused: %s", e)
            return False
        finally:
            with contextlib.suppress(OSError):
                request.unlink()


def fork(source: Path | str | CardImage, dest: Path | str) -> PersistentCard:
    """A card of one's own from an image (a sample, a snapshot): the source stays as it is."""
    image = source if isinstance(source, CardImage) else load(source)
    try:
        card = build_card(image)
    except ImageError as e:
        raise (e if isinstance(source, CardImage) else e.at(source)) from None
    save(image, dest)
    return PersistentCard(card, dest, image.kind, image.seed, image.description)


def snapshot_file(source: Path | str, dest: Path | str) -> CardImage:
    """Copy an image (checked, in the current layout) to another file.

    The image of a served card is always a whole acknowledged state, so this is
    safe while `softcard run --image` uses it.
    """
    image = check(source)
    save(image, dest)
    return image


def restore_file(snapshot: Path | str, target: Path | str, timeout: float = RESTORE_TIMEOUT) -> str:
    """Make `target` hold the snapshot's state, served or not; returns what was done."""
    target = Path(target)
    image = check(snapshot)
    if target.exists():
        current = load(target)
        if current.kind != image.kind:
            raise ImageError(
                f"holds a {current.kind!r} card, the snapshot a {image.kind!r} card", target
            )
    lock = ImageLock(target)
    if lock.acquire():
        try:
            save(image, target)
        finally:
            lock.release()
        return "restored"
    pid = lock.holder()
    if pid is None:
        raise ImageError("in use by a softcard process whose PID is unknown", target)
    request = restore_request_path(target)
    write_atomic(request, image.to_text())
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        with contextlib.suppress(OSError):
            request.unlink()
        raise ImageError(f"the softcard process serving it (pid {pid}) is gone", target) from None
    deadline = time.monotonic() + timeout
    while request.exists():
        if time.monotonic() > deadline:
            with contextlib.suppress(OSError):
                request.unlink()
            raise ImageError(
                f"the softcard process serving it (pid {pid}) did not take the snapshot "
                f"within {timeout:.0f} s",
                target,
            )
        time.sleep(RESTORE_POLL)
    return f"restored into the running card (pid {pid})"


class ServedImage:
    """What `softcard run --image` holds: the lock, the card, and restore-by-signal."""

    def __init__(self, path: Path | str, seed: int | None = None) -> None:
        self.path = Path(path)
        self.lock = ImageLock(self.path)
        self.seed = seed
        self.persistent: PersistentCard | None = None

    def __enter__(self) -> PersistentCard:
        self.lock.__enter__()
        try:
            remove_stale_temporaries(self.path)
            with contextlib.suppress(OSError):
                restore_request_path(self.path).unlink()  # left by a restore that timed out
            self.persistent = PersistentCard.open(self.path, seed=self.seed)
        except BaseException:
            self.lock.release()
            raise
        signal.signal(signal.SIGHUP, self._on_hangup)
        # However the process leaves (an error after this point included), the side file goes.
        atexit.register(self.lock.release)
        return self.persistent

    def _on_hangup(self, signum: int, frame: object) -> None:
        if self.persistent is not None:
            self.persistent.apply_restore_request()

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        self.lock.release()
