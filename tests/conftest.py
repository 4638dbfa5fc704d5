"""Shared fixtures: the real PC/SC stack (pcscd + vpcd) and cards served into it.

Each pytest-xdist worker gets its own isolated pcscd (own socket, own vpcd ports)
when we are root; otherwise the machine's pcscd is used (started if needed).
The stack and the reader slots are the public plugin's (softcard.pytest_plugin:
softcard_stack, softcard_slots), so this project's fixtures and the plugin's share them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from emulator import make_card
from emulator.core.card import CardOS
from softcard.harness import ServedCard
from softcard.pytest_plugin import SlotPool
from softcard.stack import PcscStack

if TYPE_CHECKING:
    from emulator.image import PersistentCard

READERS_PER_STACK = 8  # the plugin's default (--softcard-readers)

# A foreign project's tests, run by tests/e2e/test_plugin_example.py in their own pytest.
collect_ignore = ["example_project"]


@pytest.fixture(scope="session")
def pcsc_stack(softcard_stack: PcscStack) -> PcscStack:
    return softcard_stack


@pytest.fixture(scope="session")
def slot_pool(softcard_slots: SlotPool) -> SlotPool:
    return softcard_slots


ServeCard = Callable[..., ServedCard]


@pytest.fixture
def serve_card(
    pcsc_stack: PcscStack, slot_pool: SlotPool, request: pytest.FixtureRequest
) -> Iterator[ServeCard]:
    """serve_card(kind or CardOS) -> ServedCard in a free reader; stopped after the test.

    Every response of a served card is scanned for the card's secrets at teardown
    (emulator.faults.secrets): a PIN, PUK, admin key or private key byte in one fails
    the test.
    """
    from emulator.faults.secrets import SecretScanner

    served: list[ServedCard] = []
    scanners: list[SecretScanner] = []

    def serve(card: str | CardOS = "iso", seed: int | None = None) -> ServedCard:
        card_os = make_card(card, seed=seed) if isinstance(card, str) else card
        scanners.append(SecretScanner(card_os).attach())
        s = ServedCard(card_os, pcsc_stack, slot_pool.take())
        served.append(s)
        return s.start()

    yield serve
    for s in served:
        s.stop()
        slot_pool.give(s.slot)
    leaks = []
    for scanner in scanners:
        scanner.detach()
        found = scanner.scan()
        leaks += found
        record_secret_scan(request.node.nodeid, scanner, len(found))
    if leaks:
        pytest.fail("secrets left the card:\n" + "\n".join(map(str, leaks[:10])))


def record_secret_scan(test: str, scanner: object, leaks: int) -> None:
    """For scripts/reliability-report: one JSON line per served card when asked to."""
    target = os.environ.get("SOFTCARD_SECRET_SCAN_LOG")
    if not target:
        return
    import json

    from emulator.faults.secrets import SecretScanner

    assert isinstance(scanner, SecretScanner)
    line = {
        "test": test,
        "responses": scanner.responses,
        "secrets": len(scanner.secrets),
        "leaks": leaks,
    }
    with open(target, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def fork_card(tmp_path: Path) -> Callable[..., PersistentCard]:
    """fork_card(source) -> a card of this test's own, saved in tmp_path.

    `source` is an image path (a sample in card_images/, a snapshot) or a card kind
    (a factory-fresh card, `seed=` for a deterministic one). The source is never written.
    """
    from emulator.image import fork, new_image
    from emulator.profiles import kinds

    count = 0

    def make(source: str | Path, seed: int | None = None) -> PersistentCard:
        nonlocal count
        count += 1
        if isinstance(source, str) and source in kinds():
            return fork(new_image(source, seed), tmp_path / f"forked-card-{count}.json")
        return fork(Path(source), tmp_path / f"forked-card-{count}.json")

    return make
