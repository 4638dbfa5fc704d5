"""docs/cli.md keeps up with `softcard --help`: every command, and every option of run and ctl."""

from __future__ import annotations

import argparse
from pathlib import Path

from softcard.cli.main import build_parser

DOC = (Path(__file__).resolve().parent.parent.parent / "docs" / "cli.md").read_text()


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {
        opt
        for action in parser._actions
        for opt in action.option_strings
        if opt.startswith("--") and opt != "--help"
    }


def test_every_command_has_a_section() -> None:
    commands = subparsers(build_parser())
    assert {"run", "ctl", "demo", "trace", "image", "md"} <= set(commands)
    for name in commands:
        assert f"## softcard {name}\n" in DOC, f"docs/cli.md has no section for {name}"


def test_every_option_of_run_and_ctl_is_documented() -> None:
    commands = subparsers(build_parser())
    parsers = [commands["run"], commands["ctl"], *subparsers(commands["ctl"]).values()]
    parsers += subparsers(subparsers(commands["ctl"])["fault"]).values()
    for parser in parsers:
        for option in options(parser):
            assert f"`{option}" in DOC or f"{option} " in DOC, f"{parser.prog} {option}"
    for action in subparsers(commands["ctl"]):
        assert f"softcard ctl [--socket PATH] [--json] {action}" in DOC


def test_every_action_of_image_and_md_is_named() -> None:
    commands = subparsers(build_parser())
    for group in ("image", "md"):
        for action in subparsers(commands[group]):
            assert f"softcard {group} {action}" in DOC, f"softcard {group} {action}"
