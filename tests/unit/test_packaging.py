"""The distribution's metadata: license, types, extras, samples, a README that reads on PyPI."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from softcard import samples
from softcard.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
REPO_URL = PROJECT["urls"]["Source"]


def test_license_file_is_the_declared_mit_license() -> None:
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text


@pytest.mark.parametrize("package", ["wire", "emulator", "driver", "softcard"])
def test_every_typed_package_has_py_typed(package: str) -> None:
    assert (ROOT / package / "py.typed").is_file()


def test_classifiers_and_urls() -> None:
    classifiers = PROJECT["classifiers"]
    assert "Typing :: Typed" in classifiers and "Framework :: Pytest" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # SPDX `license` instead
    assert set(PROJECT["urls"]) >= {"Homepage", "Source", "Issues", "Changelog", "Documentation"}


def test_test_extra_has_no_developer_tools() -> None:
    extras = PROJECT["optional-dependencies"]
    names = {e: {re.split(r"[<>=\[ ]", r)[0] for r in reqs} for e, reqs in extras.items()}
    assert {"pytest", "pytest-xdist"} <= names["test"]
    assert not names["test"] & {"mypy", "ruff", "atheris", "build"}
    assert {"mypy", "ruff", "atheris", "build", "check-jsonschema"} <= names["dev"]


def test_readme_links_work_on_a_package_index_page() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme.split("```")[1].split()[:1] == ["scripts/demo"]  # the main job comes first
    assert "scripts/test" in readme.split("```")[1]
    links = re.findall(r"\]\(([^)]+)\)", readme)
    assert links
    relative = [link for link in links if not re.match(r"https?://", link)]
    assert relative == [], "relative links break on PyPI"
    for link in links:
        if link.startswith(REPO_URL + "/blob/main/"):
            target = link.removeprefix(REPO_URL + "/blob/main/").split("#")[0]
            assert (ROOT / target).exists(), link


def test_changelog_has_an_unreleased_section() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog")
    assert "## [Unreleased]" in text


def test_samples_are_the_card_images_directory() -> None:
    found = {s.name: s for s in samples.samples()}
    on_disk = {p.stem for p in (ROOT / "card_images").glob("*.json")}
    assert set(found) == on_disk
    assert found["piv-demo"].kind == "piv"
    assert (
        samples.resolve("sample:piv-demo").read_bytes()
        == (ROOT / "card_images" / "piv-demo.json").read_bytes()
    )
    assert samples.resolve("x/y.json") == Path("x/y.json")
    with pytest.raises(samples.SampleError, match="piv-demo"):
        samples.find("no-such")


def test_image_list_names_every_sample(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["image", "list"]) == 0
    out = capsys.readouterr().out
    for sample in samples.samples():
        assert re.search(rf"^{re.escape(sample.ref)} +{sample.kind} ", out, re.M)


def test_image_commands_take_a_sample(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["image", "check", "sample:gids-fresh"]) == 0
    assert main(["image", "snapshot", "sample:iso-fresh", str(tmp_path / "mine.json")]) == 0
    assert main(["image", "check", str(tmp_path / "mine.json")]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["image", "show", "sample:no-such"])
    assert e.value.code == 2
    assert "no sample image 'no-such'" in capsys.readouterr().err
