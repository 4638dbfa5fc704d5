"""Image files on disk: atomic replacement, 0600, stale temporaries, the serving lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.image import ImageError, ImageLock, check, load, new_image, save, write_atomic
from emulator.image.store import remove_stale_temporaries


def test_written_images_are_0600_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    old = os.umask(0)
    try:
        save(new_image("iso"), path)
        assert path.stat().st_mode & 0o777 == 0o600
        path.chmod(0o644)  # e.g. a sample copied from git
        save(new_image("iso"), path)
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_failed_rename_leaves_the_old_image_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.json"
    save(new_image("iso", seed=1), path)
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ImageError, match="No space left on device"):
        save(new_image("iso", seed=2), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]


def test_failed_write_leaves_the_old_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.json"
    save(new_image("iso", seed=1), path)
    before = path.read_bytes()
    real_write = os.write

    def short_disk(fd: int, data: bytes | memoryview) -> int:
        if len(data) > 100:
            return real_write(fd, bytes(data[:100]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", short_disk)
    with pytest.raises(ImageError):
        save(new_image("iso", seed=2), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]


def test_writer_killed_mid_write_leaves_old_or_new(tmp_path: Path) -> None:
    """A child process rewriting the image in a loop, killed: the image always loads."""
    path = tmp_path / "c.json"
    save(new_image("iso", seed=0), path)
    script = (
        "import sys\n"
        "from emulator.image import new_image, save\n"
        "images = [new_image('iso', seed=s).to_text() for s in (1, 2)]\n"
        "print('ready', flush=True)\n"
        "i = 0\n"
        "while True:\n"
        "    from emulator.image.store import write_atomic\n"
        "    write_atomic(sys.argv[1], images[i % 2]); i += 1\n"
    )
    root = Path(__file__).resolve().parents[2]
    allowed = {new_image("iso", seed=s).to_text() for s in (0, 1, 2)}
    for _ in range(5):
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(path)], cwd=root, stdout=subprocess.PIPE
        )
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        child.kill()
        child.wait()
        assert path.read_text() in allowed
        check(path)
    remove_stale_temporaries(path)
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]


def test_write_atomic_replaces_content(tmp_path: Path) -> None:
    path = tmp_path / "f"
    write_atomic(path, "one")
    write_atomic(path, "two")
    assert path.read_text() == "two"


def test_one_process_serves_an_image_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    save(new_image("iso"), path)
    with ImageLock(path) as lock:
        assert lock.holder() == os.getpid()
        other = ImageLock(path)
        assert not other.acquire()
        with pytest.raises(
            ImageError, match=f"in use by another softcard process \\(pid {os.getpid()}\\)"
        ):
            other.__enter__()
    again = ImageLock(path)
    assert again.acquire()
    again.release()
    assert not (tmp_path / ".c.json.lock").exists()
    assert load(path).kind == "iso"
