"""scripts/bench: print a table and write JSON; `--quick` is the CI smoke run."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from ..stack import PcscStack, free_port_block
from . import embedded, latency

TARGET_FLOOR_RATIO = 1.25
TARGET_VICC_SPEEDUP = 300
TARGET_EMBEDDED_READS = 100_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few iterations: a smoke run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    count, slow, seconds = (50, 5, 0.2) if args.quick else (2000, 40, 2.0)

    workdir = Path(tempfile.mkdtemp(prefix="softcard-bench-"))
    if os.geteuid() == 0:
        stack = PcscStack.isolated_stack(workdir, free_port_block(2), 2)
        os.environ["PCSCLITE_CSOCK_NAME"] = str(stack.socket_path)
    else:
        stack = PcscStack.system(workdir)
    with stack:
        timings = latency.run(stack, count, slow)
    rates = embedded.run(seconds)

    print("1. per-APDU round trip, pyscard -> pcscd -> vpcd -> card process")
    print(f"   {'card':42} {'APDU':16} {'n':>5} {'median ms':>10} {'p95 ms':>8}")
    for t in timings:
        print(f"   {t.name:42} {t.apdu:16} {t.count:5} {t.median_ms:10.3f} {t.p95_ms:8.3f}")
    floor = timings[0].median_ms
    soft = [t for t in timings if t.name == "softcard"]
    results: dict[str, object] = {
        "latency": [t.as_dict() for t in timings],
        "embedded": [r.as_dict() for r in rates],
        "targets": {},
    }
    targets: dict[str, object] = {}
    for t in soft:
        ratio = t.median_ms / floor
        met = ratio <= TARGET_FLOOR_RATIO
        targets[f"softcard {t.apdu} / floor"] = {
            "ratio": ratio,
            "target": TARGET_FLOOR_RATIO,
            "met": met,
        }
        print(
            f"   softcard {t.apdu} / floor = {ratio:.2f}x (target <= {TARGET_FLOOR_RATIO}x: "
            f"{'met' if met else 'NOT met'})"
        )
    plain = [t for t in timings if "without" in t.name]
    if plain:
        print(f"   socket options buy {plain[0].median_ms / floor:.0f}x per APDU")
    vicc = [t for t in timings if "vicc" in t.name]
    if vicc and soft:
        speedup = vicc[0].median_ms / soft[0].median_ms
        met = speedup >= TARGET_VICC_SPEEDUP
        targets["upstream vicc / softcard"] = {
            "ratio": speedup,
            "target": TARGET_VICC_SPEEDUP,
            "met": met,
        }
        print(
            f"   upstream vicc / softcard = {speedup:.0f}x (target >= {TARGET_VICC_SPEEDUP}x: "
            f"{'met' if met else 'NOT met'})"
        )
    print("\n2. embedded transport, no I/O, one core")
    for r in rates:
        print(f"   {r.apdu:20} {r.per_second:12,.0f} commands/s")
    reads = rates[0].per_second
    met = reads >= TARGET_EMBEDDED_READS
    targets["embedded READ BINARY per second"] = {
        "value": reads,
        "target": TARGET_EMBEDDED_READS,
        "met": met,
    }
    print(f"   READ BINARY target >= {TARGET_EMBEDDED_READS:,}/s: {'met' if met else 'NOT met'}")
    results["targets"] = targets
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
