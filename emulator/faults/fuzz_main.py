"""`scripts/fuzz`: coverage-guided fuzzing of every card kind with atheris, with counts.

Each kind runs in a child process of its own (libFuzzer ends its process when it
is done). An input is a whole session on a factory-fresh card (see
emulator/faults/fuzz.py for the format and the oracle). A finding stops that
kind's run, saves the input as a `crash-...` file in the work directory and
makes the script exit 1; `--replay FILE --kind K` replays it.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..profiles import kinds
from .fuzz import Finding, FuzzTarget


def child(kind: str, runs: int, seconds: int, corpus: Path, stats_path: Path) -> None:
    """One kind in this process: instrument the loaded code, then hand over to libFuzzer."""
    import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]

    # Coverage instrumentation for the emulator only (instrument_all would take the
    # whole of cryptography too, and seconds to do it): load it afresh under the hook.
    for name in [m for m in sys.modules if m == "emulator" or m.startswith("emulator.")]:
        del sys.modules[name]
    with atheris.instrument_imports(include=["emulator"]):
        from emulator.faults.fuzz import FuzzTarget as Target
        from emulator.faults.fuzz import seed_inputs as seeds

        target = Target(kind)  # imports the kind's application modules
    corpus.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(seeds(kind)):
        (corpus / f"seed-{i:03d}").write_bytes(seed)
    last_flush = [time.monotonic()]

    def flush() -> None:
        stats_path.write_text(json.dumps({"kind": kind, **target.stats.to_dict()}))
        last_flush[0] = time.monotonic()

    def one_input(data: bytes) -> None:
        target.run(data)
        # libFuzzer ends the process without running Python's atexit: flush as we go.
        if target.stats.inputs == runs or time.monotonic() - last_flush[0] > 1.0:
            flush()

    flush()
    args = [sys.argv[0], str(corpus), "-max_len=2048", "-timeout=60", f"-runs={runs}"]
    if seconds:
        args.append(f"-max_total_time={seconds}")
    atheris.Setup(args, one_input)
    atheris.Fuzz()


def run_kind(kind: str, runs: int, seconds: int, corpus_root: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"softcard-fuzz-{kind}-") as tmp:
        corpus = (corpus_root / kind) if corpus_root else Path(tmp) / "corpus"
        stats_path = Path(tmp) / "stats.json"
        started = time.monotonic()
        command = [sys.executable, "-m", "emulator.faults.fuzz_main", "--child", kind]
        command += ["--runs", str(runs), "--seconds", str(seconds)]
        command += ["--corpus", str(corpus), "--stats", str(stats_path)]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        stats: dict[str, Any] = {"kind": kind}
        if stats_path.exists():
            stats.update(json.loads(stats_path.read_text()))
        done = re.search(r"Done (\d+) runs", proc.stderr)
        if done:
            stats["inputs"] = int(done.group(1))
        stats["seconds"] = round(time.monotonic() - started, 1)
        stats["corpus_files"] = len(list(corpus.iterdir())) if corpus.exists() else 0
        coverage = re.findall(r"cov: (\d+)", proc.stderr)
        stats["coverage_edges"] = int(coverage[-1]) if coverage else 0
        stats["findings"] = []
        if proc.returncode != 0:
            found = re.search(r"(Finding|Error): (.*)", proc.stderr)
            crash = re.search(r"Test unit written to (\S+)", proc.stderr)
            message = found.group(2) if found else proc.stderr.strip()[-400:]
            stats["findings"] = [{"message": message, "input": crash.group(1) if crash else ""}]
        return stats


def replay(kind: str, path: Path) -> int:
    target = FuzzTarget(kind)
    try:
        target.run(path.read_bytes())
    except Finding as e:
        print(f"finding: {e}")
        return 1
    print("no finding")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/fuzz", description=__doc__.split("\n\n")[0])
    p.add_argument("--kind", action="append", choices=kinds(), help="card kind (default: all)")
    p.add_argument("--runs", type=int, default=200_000, help="inputs per kind (default 200000)")
    p.add_argument("--seconds", type=int, default=0, help="time limit per kind")
    p.add_argument("--corpus", type=Path, help="keep the corpus here (per kind), to resume")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--replay", type=Path, help="replay one input (with one --kind)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--stats", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.child, args.runs, args.seconds, args.corpus, args.stats)
        return 0
    if args.replay:
        if not args.kind or len(args.kind) != 1:
            p.error("--replay needs exactly one --kind")
        return replay(args.kind[0], args.replay)
    results = []
    for kind in args.kind or kinds():
        stats = run_kind(kind, args.runs, args.seconds, args.corpus)
        results.append(stats)
        verdict = f"FINDING: {stats['findings']}" if stats["findings"] else "no findings"
        print(
            f"fuzz {kind}: {stats.get('inputs', 0)} inputs, {stats.get('commands', 0)} commands, "
            f"{stats.get('power_events', 0)} power events, {stats['coverage_edges']} edges, "
            f"{stats['seconds']} s: {verdict}",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 1 if any(r["findings"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
