"""`softcard run` with several readers (`--card A --card B`, `--config FILE`), and the
control socket every `softcard run` opens (see softcard.control)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from emulator.core.card import CardOS
from emulator.transports.vpcd import VPCD_BASE_PORT, Endpoint, VpcdLink

from ..control import ControlError, ControlServer
from ..multi import CardReader, MemoryTrace, MultiError, MultiServer, load_config, specs_from_kinds
from .errors import CliError


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="FILE",
        type=Path,
        help="serve several readers from a TOML or JSON file (slot, kind or image, seed, "
        "trace, faults per reader; see docs/cli.md)",
    )
    p.add_argument(
        "--control",
        metavar="PATH",
        type=Path,
        help="control socket for 'softcard ctl' (default: run-<pid>.sock in "
        "$XDG_RUNTIME_DIR/softcard or /tmp/softcard-<uid>)",
    )
    p.add_argument(
        "--no-control", action="store_true", help="no control socket (no 'softcard ctl')"
    )


def is_multi(args: argparse.Namespace) -> bool:
    return args.config is not None or len(args.card or []) > 1


def start_control(args: argparse.Namespace, server: MultiServer) -> ControlServer | None:
    if args.no_control:
        return None
    try:
        return ControlServer(server, args.control).start()
    except ControlError as e:
        raise CliError(str(e)) from None


def single_reader(
    args: argparse.Namespace, card: CardOS, link: VpcdLink, reader: str, image: object
) -> MultiServer:
    """The one card of a single-card `softcard run`, for its control socket."""
    persistent = getattr(getattr(image, "served", None), "persistent", None)
    path = getattr(persistent, "path", None)
    return MultiServer(
        [
            CardReader(
                args.reader,
                reader,
                card,
                args.card,
                link,
                path,
                persistent,
                source=str(path) if path is not None else f"{args.card} card",
                memory_trace=MemoryTrace(card, reader, args.card),
            )
        ]
    )


def run_many(args: argparse.Namespace) -> int:
    """Several cards, one per reader, in this process, until SIGINT/SIGTERM."""
    for option in ("image", "trace", "faults"):
        if getattr(args, option, None):
            raise CliError(
                f"--{option} serves one card; with several readers give it per reader in --config"
            )
    if args.reverse:
        raise CliError("--reverse serves one card; run one 'softcard run --reverse' per reader")
    if args.config is not None and args.card:
        raise CliError("give the readers either with --config or with --card, not both")
    try:
        # --vpcd names where vpcd's slot 0 listens (35963 by default); slot k is PORT + k.
        base = Endpoint.parse(args.vpcd) if args.vpcd else Endpoint(port=VPCD_BASE_PORT)
    except ValueError as e:
        raise CliError(str(e)) from None
    try:
        specs = (
            load_config(args.config)
            if args.config is not None
            else specs_from_kinds(args.card, args.reader, args.seed)
        )
        server = MultiServer.open(specs, host=base.host, base_port=base.port)
    except MultiError as e:
        raise CliError(str(e)) from None

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        server.start()
        control = start_control(args, server)
        for reader in server.readers:
            endpoint = reader.link.endpoint if reader.link is not None else Endpoint()
            print(
                f"softcard: {reader.kind} card ready in reader '{reader.name}' "
                f"(connected to vpcd at {endpoint}; {reader.source})",
                flush=True,
            )
        if control is not None:
            print(f"softcard: control socket {control.path} (softcard ctl)", flush=True)
        while not stop.wait(0.5):
            pass
        if control is not None:
            control.close()
    finally:
        server.stop()
    sys.stdout.flush()
    return 0
