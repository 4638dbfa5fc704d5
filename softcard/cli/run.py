"""`softcard run`: emulate one card in a vpcd reader until interrupted."""

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
from .trace import add_run_options, open_run_trace


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        help="emulate a card in a vpcd reader until interrupted",
        description="Emulate one card in vpcd reader N (port 35963+N) until SIGINT/SIGTERM.",
    )
    p.add_argument("--card", default="iso", choices=kinds(), help="card kind (default: iso)")
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
        "where this card listens",
    )
    p.add_argument(
        "--reverse",
        action="store_true",
        help="reversed mode: listen (loopback by default) and let vpcd connect",
    )
    add_run_options(p)
    add_image_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.reader < 100:
        raise CliError(f"reader number {args.reader} out of range 0-99")
    try:
        endpoint = (
            Endpoint.parse(args.vpcd) if args.vpcd else Endpoint(port=VPCD_BASE_PORT + args.reader)
        )
    except ValueError as e:
        raise CliError(str(e)) from None
    card, image = open_run_card(args)
    link = VpcdLink(card, endpoint, reverse=args.reverse)
    try:
        link.open()
    except LinkError as e:
        raise CliError(str(e)) from None
    trace = open_run_trace(args, card, vpcd_reader_name(args.reader))

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
    while not stop.wait(0.5):
        if not server.is_alive():
            break
    link.stop()
    if image is not None:
        image.close()
    if trace is not None:
        trace.close()
    sys.stdout.flush()
    return 0
