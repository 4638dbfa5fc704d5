"""The release check: what a user gets from the package index, not from this tree.

Builds the sdist and the wheel (`python -m build`: the wheel is built from the
sdist, so a file missing from the sdist fails here), installs the wheel with its
`test` extra into a new virtualenv, and runs everything from a directory outside
the source tree with an environment that cannot reach it: the import path must
be inside the virtualenv. Then tests/example_project (copied out) runs against
it on both transports, and the shipped sample images are listed and used.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from .test_plugin_example import EXAMPLE, EXAMPLE_TESTS, REPORT, passed

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e

SAMPLE_TEST = """
import pytest

@pytest.mark.softcard(image="sample:piv-demo", transport="embedded")
def test_the_shipped_piv_demo_card(softcard_connection):
    piv = [0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08]
    assert softcard_connection.transmit(piv)[1:] == (0x90, 0x00)
    # GET DATA: the 9A certificate object (5FC105) the sample carries.
    data, sw1, sw2 = softcard_connection.transmit(
        [0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0x5F, 0xC1, 0x05, 0x00]
    )
    while sw1 == 0x61:
        more, sw1, sw2 = softcard_connection.transmit([0x00, 0xC0, 0x00, 0x00, sw2])
        data += more
    assert (sw1, sw2) == (0x90, 0x00) and len(data) > 300
"""


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("release")
    dist = work / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("softcard-*.whl")
    (sdist,) = dist.glob("softcard-*.tar.gz")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"{wheel}[test]"],
        capture_output=True,
        text=True,
        cwd=work,
        env=clean_env(),
        timeout=600,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    project = work / "example_project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return {"wheel": wheel, "sdist": sdist, "venv": venv, "project": project, "work": work}


def clean_env() -> dict[str, str]:
    """This process's environment without what points into this tree or this pytest."""
    drop = ("PYTHONPATH", "PCSCLITE_CSOCK_NAME", "VIRTUAL_ENV")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in drop and not k.startswith(("PYTEST_", "SOFTCARD_"))
    }
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT))
    )
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def in_venv(release: dict[str, Path], *args: str, cwd: Path | None = None) -> str:
    bin_dir = release["venv"] / "bin"
    cmd = [str(bin_dir / args[0]), *args[1:]]
    result = subprocess.run(
        cmd,
        cwd=cwd or release["project"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_the_distributions_carry_what_users_need(release: dict[str, Path]) -> None:
    names = set(zipfile.ZipFile(release["wheel"]).namelist())
    for package in ("wire", "emulator", "driver", "softcard"):
        assert f"{package}/py.typed" in names
    assert {f"softcard/card_images/{s}.json" for s in ("piv-demo", "gids-enrolled")} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not [n for n in names if n.startswith("tests/")]
    with tarfile.open(release["sdist"]) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "card_images/piv-demo.json"} <= members
    assert "tests/example_project/tests/test_notes.py" in members


def test_the_wheel_imports_from_the_venv_not_the_tree(release: dict[str, Path]) -> None:
    out = in_venv(
        release,
        "python",
        "-c",
        "import wire, emulator, driver, softcard, softcard.pytest_plugin as p; "
        "print(wire.__file__, emulator.__file__, driver.__file__, softcard.__file__, p.__file__)",
    )
    paths = [Path(line) for line in out.split()]
    assert len(paths) == 5
    for path in paths:
        assert path.is_relative_to(release["venv"]), path
        assert not path.is_relative_to(ROOT), path
    command = in_venv(release, "softcard", "--help")
    assert "image" in command


def test_installed_samples_are_listed_and_used(release: dict[str, Path]) -> None:
    listing = in_venv(release, "softcard", "image", "list", "--paths")
    assert re.search(r"^sample:piv-demo +piv ", listing, re.M)
    assert str(release["venv"]) in listing
    shown = in_venv(release, "softcard", "image", "show", "sample:piv-demo")
    assert "9A" in shown.upper()
    mine = release["work"] / "mine.json"
    in_venv(release, "softcard", "image", "snapshot", "sample:gids-enrolled", str(mine))
    assert "ok (gids card)" in in_venv(release, "softcard", "image", "check", str(mine))
    # Through the installed pytest plugin: a test's card made from a shipped sample.
    project = release["work"] / "sample_project"
    project.mkdir()
    (project / "test_sample.py").write_text(SAMPLE_TEST)
    out = in_venv(release, "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert "1 passed" in out


def test_example_project_on_vpcd(release: dict[str, Path]) -> None:
    workers = ["-n", "2"] if os.geteuid() == 0 else ["-p", "no:xdist"]
    out = in_venv(release, "python", "-m", "pytest", "-q", "-rP", *workers)
    assert passed_count(out) == EXAMPLE_TESTS
    reports = REPORT.findall(out)
    # Cards in vpcd readers of a real pcscd (one example test asks for in-process itself).
    assert sum(1 for r in reports if r[3]) >= len(reports) - 1 >= EXAMPLE_TESTS - 2


def test_example_project_embedded(release: dict[str, Path]) -> None:
    embedded = ("-p", "no:xdist", "--softcard-transport=embedded")
    out = in_venv(release, "python", "-m", "pytest", "-q", "-rP", *embedded)
    assert passed_count(out) == EXAMPLE_TESTS
    reports = REPORT.findall(out)
    assert sum(1 for r in reports if r[2] == "in-process") == len(reports) - 1


def passed_count(out: str) -> int:
    return passed(subprocess.CompletedProcess([], 0, out, ""))
