"""Entry point: builds the argument parser from the subcommand modules and runs one."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from importlib import import_module
from typing import NoReturn

from .. import __version__
from .errors import CliError

# Subcommand modules; each has `register(subparsers)` that sets `func` on its parser.
SUBCOMMANDS = [
    "softcard.cli.run",
    "softcard.cli.demo",
    "softcard.cli.trace",
    "softcard.cli.image",
    "softcard.cli.md",
    "softcard.cli.ctl",
]

Handler = Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, like every other CLI error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="softcard",
        description="A software smart card (GIDS, PIV, ISO) for PC/SC through vpcd, "
        "and the Windows smart card minidriver API in Python.",
    )
    parser.add_argument("--version", action="version", version=f"softcard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in SUBCOMMANDS:
        import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Handler | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return func(args)
    except CliError as e:
        print(f"softcard: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except BrokenPipeError:
        return 1
    except OSError as e:
        print(
            f"softcard: {e.strerror or e}{': ' + e.filename if e.filename else ''}", file=sys.stderr
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
