"""Run a softcard card under vsmartcard's own VirtualICC (vicc).

VirtualICC drives a "SmartcardOS" (getATR, powerUp, powerDown, reset,
execute); `SmartcardOSAdapter` gives it that interface over our CardOS.
Debian installs virtualsmartcard off sys.path, under
/usr/lib/python3/site-packages/virtualsmartcard; `load_virtual_icc` finds it.

    python -m emulator.transports.vicc --card iso --port 35963
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

from ..core.card import CardOS

DEBIAN_PATH = "/usr/lib/python3/site-packages/virtualsmartcard"


class SmartcardOSAdapter:
    """virtualsmartcard.VirtualSmartcard.SmartcardOS, backed by a softcard CardOS."""

    def __init__(self, card: CardOS) -> None:
        self.card = card

    def getATR(self) -> bytes:  # noqa: N802 - vsmartcard's interface
        return self.card.atr

    def powerUp(self) -> None:  # noqa: N802
        self.card.power_on()

    def powerDown(self) -> None:  # noqa: N802
        self.card.power_off()

    def reset(self) -> None:
        self.card.reset()

    def execute(self, msg: bytes) -> bytes:
        return self.card.transmit(bytes(msg))


def load_virtual_icc() -> Any:
    """The VirtualICC class, from sys.path or Debian's location."""
    try:
        module = importlib.import_module("virtualsmartcard.VirtualSmartcard")
    except ImportError:
        if DEBIAN_PATH not in sys.path:
            sys.path.append(DEBIAN_PATH)
        module = importlib.import_module("virtualsmartcard.VirtualSmartcard")
    return module.VirtualICC


def main(argv: list[str] | None = None) -> int:
    from ..profiles import make_card

    parser = argparse.ArgumentParser(description="serve a softcard card through VirtualICC")
    parser.add_argument("--card", default="iso")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=35963)
    args = parser.parse_args(argv)
    virtual_icc = load_virtual_icc()
    vicc = virtual_icc(None, "iso7816", args.host, args.port)
    vicc.os = SmartcardOSAdapter(make_card(args.card))
    print(f"softcard under VirtualICC at {args.host}:{args.port}", flush=True)
    vicc.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
