"""`softcard demo [FLOW]`: a narrated end-to-end flow through the real PC/SC stack."""

from __future__ import annotations

import argparse
from importlib import import_module

from ..stack import StackError
from .errors import CliError

FLOWS = {
    "iso": "softcard.demos.iso",
    "piv": "softcard.demos.piv",
    "minidriver": "softcard.demos.minidriver",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="run a narrated demo flow through pcscd + vpcd",
        description="Start what is needed (pcscd, vpcd, a card), narrate a "
        "flow, and stop what was started.",
    )
    p.add_argument("flow", nargs="?", default="iso", choices=sorted(FLOWS))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..demos.session import DemoSession

    session = DemoSession()
    try:
        import_module(FLOWS[args.flow]).run(session)
    except StackError as e:
        raise CliError(str(e)) from None
    finally:
        session.close()
    return 0
