"""scripts/bench: every figure beside a reference measured in the same run.

Prints a table per section and, with --json, writes the same as JSON.
`--quick` is the smoke run the test suite does; it asserts no timing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from ..stack import MAX_READERS, PcscStack, free_port_block
from . import embedded, growth, keygen, latency, minidriver, piv, scale, startup
from .report import Section

# Readers of their own for the PIV and GIDS cards (0 and 1 serve the per-APDU section).
PIV_SLOT, GIDS_SLOT = 2, 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few iterations: a smoke run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    q = args.quick
    count, slow, seconds = (50, 5, 0.2) if q else (2000, 40, 2.0)

    workdir = Path(tempfile.mkdtemp(prefix="softcard-bench-"))
    if os.geteuid() == 0:
        stack = PcscStack.isolated_stack(workdir, free_port_block(MAX_READERS), MAX_READERS)
        os.environ["PCSCLITE_CSOCK_NAME"] = str(stack.socket_path)
    else:
        stack = PcscStack.system(workdir)
    sections: list[Section] = []
    with stack:
        sections.append(latency.section(stack, count, slow))
        sections.append(embedded.section(seconds))
        sections.append(piv.section(stack, PIV_SLOT, 20 if q else 300))
        sections.append(minidriver.section(stack, GIDS_SLOT, 10 if q else 200))
        sections.append(keygen.section(2 if q else 20))
        sections.append(startup.section(stack, 2 if q else 7))
        sizes = [n for n in ((1, 2) if q else (1, 4, 16)) if n <= stack.readers]
        sections.append(scale.section(stack, sizes, 0.3 if q else 3.0))
        sections.append(growth.section(3 if q else 50))
    for i, sec in enumerate(sections, 1):
        print(sec.render(i), end="\n\n", flush=True)
    if args.json:
        args.json.write_text(json.dumps([s.as_dict() for s in sections], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
