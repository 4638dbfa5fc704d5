"""`softcard run`: emulate a card in a vpcd reader (or several, one per reader) until
interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from emulator.profiles import kinds
from emulator.transports.vpcd import VPCD_BASE_PORT, Endpoint, LinkError, VpcdLink

from ..readers import vpcd_reader_name
from .errors import CliError
from .image import add_run_options as add_image_option
from .image import open_run_card
from .multirun import add_run_options as add_multi_options
from .multirun import is_multi, run_many, single_reader, start_control
from .trace import add_run_options, open_run_trace


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="emulate a card in a vpcd reader (or several) until interrupted",
        description="Emulate one card in vpcd reader N (port 35963+N) until SIGINT/SIGTERM; "
        "several cards with a repeated --card or --config FILE.",
    )
    p.add_argument(
        "--card",
        action="append",
        choices=kinds(),
        help="card kind (default: iso); repeat for more readers, on slots N, N+1, ...",
    )
    p.add_argument("--seed", type=int, help="deterministic card: same seed, same card")
    p.add_argument(
        "--reader",
        type=int,
        default=0,
        metavar="N",
        help="vpcd reader slot N, port 35963+N (default: 0)",
    )
    p.add_argument(
        "--vpcd",
        metavar="HOST:PORT",
        help="where vpcd listens (default: 127.0.0.1:35963+N); with --reverse, "
        "where this card listens; with several readers, where slot 0 listens (slot k: PORT+k)",
    )
    p.add_argument(
        "--reverse",
        action="store_true",
        help="reversed mode: listen (loopback by default) and let vpcd connect",
    )
    add_run_options(p)
    add_image_option(p)
    p.add_argument(
        "--faults",
        metavar="FILE",
        help="fault-injection rules (JSON or TOML, see docs/reliability.md)",
    )
    add_multi_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.reader < 100:
        raise CliError(f"reader number {args.reader} out of range 0-99")
    if is_multi(args):
        return run_many(args)
    args.card = args.card[0] if args.card else None
    try:
        endpoint = (
            Endpoint.parse(args.vpcd) if args.vpcd else Endpoint(port=VPCD_BASE_PORT + args.reader)
        )
    except ValueError as e:
        raise CliError(str(e)) from None
    card, image = open_run_card(args)
    if getattr(args, "faults", None):
        from emulator.faults import FaultError, FaultInjector

        try:
            FaultInjector.attach(card).load(args.faults)
        except FaultError as e:
            raise CliError(str(e)) from None
    link = VpcdLink(card, endpoint, reverse=args.reverse)
    try:
        link.open()
    except LinkError as e:
        raise CliError(str(e)) from None
    trace = open_run_trace(args, card, vpcd_reader_name(args.reader))
    control = start_control(
        args, single_reader(args, card, link, vpcd_reader_name(args.reader), image)
    )

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    server = threading.Thread(target=link.serve_forever, name="vpcd-link", daemon=True)
    server.start()
    mode = "listening on" if args.reverse else "connected to vpcd at"
    print(
        f"softcard: {args.card} card ready in reader '{vpcd_reader_name(args.reader)}' "
        f"({mode} {endpoint})",
        flush=True,
    )
    if control is not None:
        print(f"softcard: control socket {control.path} (softcard ctl)", flush=True)
    while not stop.wait(0.5):
        if not server.is_alive():
            break
    if control is not None:
        control.close()
    link.stop()
    if image is not None:
        image.close()
    if trace is not None:
        trace.close()
    sys.stdout.flush()
    return 0
