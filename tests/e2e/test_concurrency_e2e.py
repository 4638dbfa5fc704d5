"""Two PC/SC clients on one card: no cross-talk, with and without transactions.

What holds (measured here, see docs/reliability.md "Concurrency"):

* pcscd runs one SCardTransmit at a time per reader: every response goes to the
  client whose command it answers, with or without transactions;
* inside SCardBeginTransaction a client's multi-APDU sequence (SELECT, a command
  chain, READ + GET RESPONSE) runs alone: the other client's commands wait;
* without a transaction nothing ties a chain or a 61xx sequence to a client: the
  card (any card) sees one APDU stream on one channel. Real middleware (OpenSC,
  ykman, the minidriver) always wraps such sequences in a transaction.

Clients are separate processes with their own PC/SC contexts and SCARD_SHARE_SHARED.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from dataclasses import dataclass
from typing import Any

import pytest

from emulator import make_card
from emulator.core.card import CardOS
from emulator.core.filesystem import EF
from emulator.core.security import SCB_ALWAYS, AccessMode, CompactSecurityAttribute
from tests.conftest import ServeCard

pytestmark = pytest.mark.e2e

FILE_SIZE = 300  # more than one short response: READ BINARY needs GET RESPONSE
CLIENTS = 2


@dataclass(frozen=True)
class Job:
    reader: str
    client: int
    iterations: int
    mode: str  # "transactions" | "single" | "intruder" (single, plus SELECTs of its file)


def fid(client: int) -> int:
    return 0x6001 + client


def sfi(client: int) -> int:
    return 2 + client


def card_with_client_files() -> CardOS:
    card = make_card("iso", seed=9)
    open_ = CompactSecurityAttribute.build(
        {AccessMode.READ: SCB_ALWAYS, AccessMode.UPDATE: SCB_ALWAYS}
    )
    mf = card.application("iso").mf  # type: ignore[attr-defined]
    for c in range(CLIENTS):
        mf.add(EF(fid(c), open_, data=bytearray(FILE_SIZE), max_size=FILE_SIZE, sfi=sfi(c)))
    return card


def payload(client: int, iteration: int, size: int) -> bytes:
    unit = bytes([0xA0 + client, iteration & 0xFF, iteration >> 8])
    return (unit * (size // 3 + 1))[:size]


def client_process(job: Job, start: Any, knocks: Any, results: Any) -> None:
    try:
        results.put(client_main(job, start, *(knocks or (None, None))))
    except Exception as e:  # reported to the test, which fails with it
        results.put({"client": job.client, "apdus": 0, "mismatches": [repr(e)]})


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the other client did not answer")
        time.sleep(0.0005)


def client_main(job: Job, start: Any, knock: Any, knock_done: Any) -> dict[str, Any]:
    """One PC/SC client process: its own context, shared mode, `iterations` sequences."""
    from smartcard import scard

    def check(rc: int, what: str) -> None:
        if rc != scard.SCARD_S_SUCCESS:
            raise RuntimeError(f"{what}: {scard.SCardGetErrorMessage(rc)}")

    rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    check(rc, "context")
    rc, card, proto = scard.SCardConnect(
        ctx, job.reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
    )
    check(rc, "connect")

    def tx(apdu: bytes) -> tuple[bytes, int]:
        # During another client's transaction pcscd holds this call until it ends.
        rc, out = scard.SCardTransmit(card, proto, list(apdu))
        check(rc, "transmit")
        return bytes(out[:-2]), (out[-2] << 8) | out[-1]

    mismatches: list[str] = []
    apdus = 0
    start.wait(30)  # both clients connected: go together
    iterations = job.iterations if job.mode != "intruder" else 1_000_000
    for i in range(iterations):
        if job.mode == "transactions":
            check(scard.SCardBeginTransaction(card), "begin transaction")
            want = payload(job.client, i, FILE_SIZE)
            _, sw = tx(bytes([0x00, 0xA4, 0x02, 0x0C, 0x02]) + fid(job.client).to_bytes(2, "big"))
            answers = [sw]
            selects_before = knock_done.value if knock_done is not None else 0
            blocks = [want[:100], want[100:200], want[200:]]
            for n, block in enumerate(blocks):
                cla = 0x10 if n < len(blocks) - 1 else 0x00
                answers.append(tx(bytes([cla, 0xD6, 0x00, 0x00, len(block)]) + block)[1])
            data, sw = tx(bytes.fromhex("00B00000"))  # no Le: all of it, in 61xx parts
            while sw >> 8 == 0x61:
                more, sw = tx(bytes([0x00, 0xC0, 0x00, 0x00, sw & 0xFF]))
                data += more
            answers.append(sw)
            check(scard.SCardEndTransaction(card, scard.SCARD_LEAVE_CARD), "end transaction")
            if knock_done is not None:
                # pcscd hands a released lock to whoever asks first, and a blocked
                # client polls for it: let the intruder's waiting SELECT through before
                # taking the lock again, or it would starve.
                wait_for(lambda n=selects_before: knock_done.value > n)
            apdus += 7
            if data != want or any(a != 0x9000 for a in answers):
                mismatches.append(f"iteration {i}: {[hex(a) for a in answers]} {data[:6].hex()}")
        else:
            if job.mode == "intruder":
                # Moves the shared selection: harmless only if the other client's
                # SELECT + READ sequences are inside transactions. Sent while the other
                # client holds its transaction, so pcscd must hold it back.
                if knock.value:  # the transaction client is done
                    break
                tx(bytes([0x00, 0xA4, 0x02, 0x0C, 0x02]) + fid(job.client).to_bytes(2, "big"))
                knock_done.value += 1
                apdus += 1
            want = payload(job.client, i, 100)
            _, sw = tx(bytes([0x00, 0xD6, 0x80 | sfi(job.client), 0x00, 100]) + want)
            data, sw2 = tx(bytes([0x00, 0xB0, 0x80 | sfi(job.client), 0x00, 100]))
            apdus += 2
            if (sw, sw2) != (0x9000, 0x9000) or data != want:
                mismatches.append(f"iteration {i}: {sw:04X} {sw2:04X} {data[:6].hex()}")
    if job.mode == "transactions" and knock is not None:
        knock.value = 1
    scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
    scard.SCardReleaseContext(ctx)
    return {"client": job.client, "apdus": apdus, "mismatches": mismatches}


def run_clients(reader: str, iterations: int, modes: tuple[str, ...]) -> list[dict[str, Any]]:
    # Children inherit PCSCLITE_CSOCK_NAME (the test's pcscd) through the environment.
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(CLIENTS)
    results = spawn.Queue()
    # transactions-vs-intruder: (transaction client done, intruder SELECTs so far).
    knock = (
        (spawn.Value("i", 0, lock=False), spawn.Value("i", 0, lock=False))
        if "intruder" in modes
        else None
    )
    procs = [
        spawn.Process(
            target=client_process, args=(Job(reader, c, iterations, mode), start, knock, results)
        )
        for c, mode in enumerate(modes)
    ]
    for proc in procs:
        proc.start()
    out = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(10)
    return sorted(out, key=lambda r: int(r["client"]))


class Interleaving:
    """Observer: how often consecutive APDUs came from different clients (by file)."""

    def __init__(self) -> None:
        self.owners: list[int] = []

    def on_apdu(self, event: Any) -> None:
        data = event.command
        for c in range(CLIENTS):
            marker = bytes([0xA0 + c])
            if (len(data) > 7 and data[5:6] == marker) or fid(c).to_bytes(2, "big") == data[5:7]:
                self.owners.append(c)
                return

    def on_power(self, event: Any) -> None:
        return None

    def switches(self) -> int:
        return sum(1 for a, b in zip(self.owners, self.owners[1:], strict=False) if a != b)


APDUS_PER_ITERATION = {"transactions": 7, "single": 2, "intruder": 3}


@pytest.mark.parametrize(
    ("modes", "iterations", "min_switches"),
    [
        # pcscd gives a released transaction lock to whoever asks first and lets a waiter
        # poll (100 ms): the first client usually runs all its transactions in one go.
        (("transactions", "transactions"), 60, 1),
        (("single", "single"), 150, 10),
        (("transactions", "intruder"), 30, 10),
    ],
    ids=["both-transactions", "both-single-apdus", "transactions-vs-intruder"],
)
def test_two_clients_never_see_each_others_commands_or_responses(
    serve_card: ServeCard, modes: tuple[str, str], iterations: int, min_switches: int
) -> None:
    card = card_with_client_files()
    seen = Interleaving()
    card.observers.append(seen)
    served = serve_card(card)
    results = run_clients(served.reader, iterations, modes)
    for r, mode in zip(results, modes, strict=True):
        assert r["mismatches"] == [], f"client {r['client']}: {r['mismatches'][:3]}"
        if mode != "intruder":
            assert r["apdus"] == iterations * APDUS_PER_ITERATION[mode]
        else:  # it ran as long as the transactions did, at least once per transaction
            assert r["apdus"] >= iterations * APDUS_PER_ITERATION[mode]
    # The clients really ran at the same time: their commands alternated on the card.
    assert seen.switches() >= min_switches, seen.switches()
    record_concurrency("-".join(modes), results, seen.switches())


def record_concurrency(name: str, results: list[dict[str, Any]], switches: int) -> None:
    """For scripts/reliability-report: one JSON line per run when asked to."""
    target = os.environ.get("SOFTCARD_CONCURRENCY_LOG")
    if target:
        line = {
            "scenario": name,
            "apdus": sum(r["apdus"] for r in results),
            "mismatches": sum(len(r["mismatches"]) for r in results),
            "switches": switches,
        }
        with open(target, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
