"""The floor: a vpcd responder that does no card work at all.

It runs the same link code and socket options as softcard's cards and answers
every APDU with 90 00, so softcard's per-APDU time divided by this one is the
cost of the card OS itself. `--plain` turns TCP_NODELAY and TCP_QUICKACK off
to show what they buy. `--card KIND` serves a real card in this same bare
process (no CLI, no control socket, no observers): the difference to
`softcard run` is what the `softcard run` process adds around the card OS.

    python -m softcard.bench.floor --port 35963 [--plain] [--card iso]
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from emulator.transports.vpcd import Endpoint, VpcdLink

FLOOR_ATR = bytes.fromhex("3B80800101")


class FixedResponder:
    """Just enough of CardOS for the link: an ATR, power calls, and 90 00."""

    atr = FLOOR_ATR

    def power_on(self) -> bytes:
        return self.atr

    def power_off(self) -> None:
        return None

    def reset(self) -> bytes:
        return self.atr

    def transmit(self, command: bytes) -> bytes:
        return b"\x90\x00"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--plain", action="store_true", help="no TCP_NODELAY, no TCP_QUICKACK")
    parser.add_argument("--card", metavar="KIND", help="serve this card kind instead of 90 00")
    args = parser.parse_args(argv)
    if args.card:
        from emulator import make_card

        responder = make_card(args.card)
    else:
        responder = FixedResponder()  # type: ignore[assignment]  # duck-typed card
    link = VpcdLink(responder, Endpoint(args.host, args.port), low_latency=not args.plain)
    link.open()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threading.Thread(target=link.serve_forever, daemon=True).start()
    print("floor ready", flush=True)
    stop.wait()
    link.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
