"""`softcard demo [FLOW]`: a narrated end-to-end flow through the real PC/SC stack."""

from __future__ import annotations

import argparse
from importlib import import_module

from ..stack import StackError
from .errors import CliError

FLOWS = {
    "iso": "softcard.demos.iso",
    "gids": "softcard.demos.gids",
    "piv": "softcard.demos.piv",
    "minidriver": "softcard.demos.minidriver",
}
# `softcard demo` with no flow: first steps, then OpenSC on the GIDS card, then the minidriver.
ALL = ("iso", "gids", "minidriver")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="run a narrated demo flow through pcscd + vpcd",
        description="Start what is needed (pcscd, vpcd, a card), narrate a "
        "flow, and stop what was started. Without a flow: "
        f"{', then '.join(ALL)} ('all').",
    )
    p.add_argument("flow", nargs="?", default="all", choices=[*sorted(FLOWS), "all"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    flows = ALL if args.flow == "all" else (args.flow,)
    for number, flow in enumerate(flows, 1):
        if len(flows) > 1:
            print(f"\n=== {number}/{len(flows)}: softcard demo {flow} ===\n", flush=True)
        _run_flow(flow)
    return 0


def _run_flow(flow: str) -> None:
    """One flow in its own session: whatever it started is stopped before the next begins."""
    from driver import MinidriverError

    from ..demos.session import DemoSession

    session = DemoSession()
    try:
        import_module(FLOWS[flow]).run(session)
    except (StackError, MinidriverError) as e:
        raise CliError(f"demo {flow}: {e}") from None
    finally:
        session.close()
