"""`softcard trace`: show a JSONL trace for humans, follow a live one, or replay one.

softcard trace FILE [-v|-vv] [--app APP] [--ins INS] [--sw SW] [--call NAME]
softcard trace --follow FILE
softcard trace replay FILE --card KIND [--seed N] [--secret LABEL=HEX]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from emulator.core.card import CardOS
from emulator.profiles import kinds, make_card

from .errors import CliError

if TYPE_CHECKING:
    from emulator.trace import (
        CardTrace,
    )


def _add_show_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="-v: P1/P2 meanings and decoded TLV data; -vv: raw bytes too",
    )
    p.add_argument(
        "--app", action="append", default=[], help="only this application (iso, piv, gids)"
    )
    p.add_argument(
        "--ins",
        action="append",
        default=[],
        help="only this INS (hex like CB, or a name like VERIFY)",
    )
    p.add_argument(
        "--sw", action="append", default=[], help="only this status word (hex, X = any digit: 63CX)"
    )
    p.add_argument("--call", action="append", default=[], help="only APDUs of this driver call")
    p.add_argument("-f", "--follow", action="store_true", help="keep reading as the trace grows")
    p.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default="auto",
        help="colour output (default: when stdout is a terminal)",
    )


def _show_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="softcard trace", add_help=False)
    _add_show_options(p)
    return p


def _replay_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="softcard trace replay",
        description="Replay a trace's commands against a fresh emulated card and report "
        "the first response that differs.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--card", required=True, choices=kinds(), help="card kind to replay against")
    p.add_argument("--seed", type=int, help="deterministic card (use the recording's seed)")
    p.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="LABEL=HEX",
        help="value of masked bytes, by their label (e.g. 'PIN 81=313233343536')",
    )
    return p


class _Dispatch(argparse.Action):
    """Everything after the first positional: `replay ...` or the trace file and options."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        items = [str(v) for v in (values or [])]
        if items and items[0] == "replay":
            namespace.mode = "replay"
            _replay_parser().parse_args(items[1:], namespace)
            return
        namespace.mode = "show"
        namespace.file = items[0] if items else None
        _show_parser().parse_args(items[1:], namespace)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "trace",
        help="show, follow or replay an APDU trace (JSONL from softcard run --trace)",
        description="Show a JSONL trace written by `softcard run --trace FILE` (or by the "
        "driver's tracing connection) for humans, follow a live one with --follow, or "
        "`softcard trace replay FILE --card KIND` to use it as a regression test.",
        epilog="Secrets (PINs, keys) are masked when the trace is written; a trace written "
        "with --trace-secrets shows them.",
    )
    _add_show_options(p)
    p.add_argument(
        "target",
        nargs=argparse.PARSER,
        action=_Dispatch,
        metavar="FILE | replay FILE ...",
        help="the trace file, or `replay` and its arguments",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emulator.trace import Renderer, TraceFilter, TraceFormatError, follow_trace, read_trace

    if getattr(args, "mode", "show") == "replay":
        return run_replay(args)
    if not args.file:
        raise CliError("which trace file?")
    colour = args.color == "always" or (
        args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    )
    try:
        filter = TraceFilter.build(args.app, args.ins, args.sw, args.call)
    except ValueError as e:
        raise CliError(str(e)) from None
    renderer = Renderer(args.verbose, colour, filter)
    if not args.follow and not os.path.exists(args.file):
        raise CliError(f"no such trace file: {args.file}")
    records = follow_trace(args.file) if args.follow else read_trace(args.file)
    try:
        for record in records:
            for line in renderer.lines(record):
                print(line, flush=args.follow)
    except TraceFormatError as e:
        raise CliError(str(e)) from None
    return 0


def _secrets(items: list[str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for item in items:
        label, sep, value = item.rpartition("=")
        try:
            out[label] = bytes.fromhex(value)
        except ValueError:
            sep = ""
        if not sep or not label:
            raise CliError(f"--secret {item!r}: expected LABEL=HEX")
    return out


def run_replay(args: argparse.Namespace) -> int:
    from emulator.trace import ReplayError, TraceFormatError, read_trace, replay

    secrets = _secrets(args.secret)
    if not os.path.exists(args.file):
        raise CliError(f"no such trace file: {args.file}")
    try:
        records = list(read_trace(args.file))
        card = make_card(args.card, seed=args.seed)
        result = replay(records, card, secrets=secrets)
    except (TraceFormatError, ReplayError, ValueError) as e:
        raise CliError(str(e)) from None
    if result.divergence is not None:
        print(result.divergence.describe())
        print(f"softcard: replay failed after {result.compared} APDUs", file=sys.stderr)
        return 1
    loose = f" ({result.loosely} compared by status word only)" if result.loosely else ""
    target = f"an emulated {args.card} card"
    print(f"replayed {result.compared} APDUs against {target}: all responses match{loose}")
    return 0


# -- `softcard run --trace FILE` ----------------------------------------------------------


def add_run_options(p: argparse.ArgumentParser) -> None:
    """The tracing options of `softcard run`."""
    p.add_argument(
        "--trace",
        metavar="FILE",
        help="write every APDU to FILE as JSON Lines (see `softcard trace FILE`)",
    )
    p.add_argument(
        "--trace-secrets",
        action="store_true",
        help="do not mask PINs, PUKs and keys in the trace (for replaying it)",
    )


def open_run_trace(args: argparse.Namespace, card: CardOS, reader: str) -> CardTrace | None:
    """Start the trace `softcard run --trace FILE` asked for; None without --trace."""
    if not getattr(args, "trace", None):
        return None
    from emulator.trace import CardTrace

    try:
        return CardTrace(
            card,
            args.trace,
            reader=reader,
            show_secrets=args.trace_secrets,
            card_kind=args.card,
        )
    except OSError as e:
        raise CliError(f"cannot write the trace: {e.strerror}: {args.trace}") from None
