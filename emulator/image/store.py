"""Image files on disk: read, atomic replace, and the lock of a card being served.

A write never leaves a torn file: the new content goes to a temporary file in
the same directory (mode 0600 from its creation), is fsynced, renamed over the
image, and the directory is fsynced so the rename itself survives a crash. A
process killed at any point leaves the old image or the new one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
from pathlib import Path

from .errors import ImageError
from .format import CardImage
from .schema import parse_text

MODE = 0o600  # images hold PINs and private keys: the owner's eyes only
MAX_IMAGE_BYTES = 64 * 1024 * 1024


def read_text(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_IMAGE_BYTES + 1)
    except FileNotFoundError:
        raise ImageError("no such card image", path) from None
    except IsADirectoryError:
        raise ImageError("is a directory, not a card image", path) from None
    except OSError as e:
        raise ImageError(f"cannot read: {e.strerror or e}", path) from None
    if len(raw) > MAX_IMAGE_BYTES:
        raise ImageError(f"larger than {MAX_IMAGE_BYTES // 2**20} MiB, not a card image", path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ImageError("not UTF-8 text, not a card image", path) from None


def load(path: Path | str) -> CardImage:
    """Parse (and migrate, in memory) an image file; ImageError names the file."""
    path = Path(path)
    try:
        return parse_text(read_text(path))
    except ImageError as e:
        raise e.at(path) from None


def write_atomic(path: Path | str, text: str) -> None:
    """Replace `path` with `text`: the old content or the new, never a mixture; mode 0600."""
    path = Path(path)
    directory = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise ImageError(f"cannot write: {e.strerror or e}", path) from None
    try:
        try:
            os.fchmod(fd, MODE)  # mkstemp already says 0600; make it explicit
            data = text.encode("utf-8")
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise ImageError(f"cannot write: {e.strerror or e}", path) from None
    fsync_directory(directory)


def fsync_directory(directory: Path) -> None:
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def save(image: CardImage, path: Path | str) -> None:
    write_atomic(path, image.to_text())


def remove_stale_temporaries(path: Path) -> None:
    """Temporary files a killed writer left next to the image (only while we hold its lock)."""
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()


# -- the lock of a served card -------------------------------------------------------------


def lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


def restore_request_path(path: Path) -> Path:
    """Where `softcard image restore` leaves an image for the process serving `path`."""
    return path.with_name(f".{path.name}.restore")


class ImageLock:
    """One process serves an image at a time: an flock on a side file holding its PID.

    The lock goes with the process, however it ends; a stale side file is harmless.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.lock_file = lock_path(self.path)
        self._fd: int | None = None

    def acquire(self) -> bool:
        """True if we hold it now; False if another process does."""
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return False
            raise
        try:
            current = os.stat(self.lock_file).st_ino
        except FileNotFoundError:
            current = None
        if current != os.fstat(fd).st_ino:
            # The holder removed the file between our open and our flock: start again.
            os.close(fd)
            return self.acquire()
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> int | None:
        """PID written by the process that holds (or last held) the lock."""
        try:
            return int(self.lock_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                self.lock_file.unlink()
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ImageLock:
        if not self.acquire():
            pid = self.holder()
            raise ImageError(
                f"in use by another softcard process{f' (pid {pid})' if pid else ''}", self.path
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
