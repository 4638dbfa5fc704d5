"""Shared fixtures: the real PC/SC stack (pcscd + vpcd) and cards served into it.

Each pytest-xdist worker gets its own isolated pcscd (own socket, own vpcd ports)
when we are root; otherwise the machine's pcscd is used (started if needed).
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
from softcard.stack import PcscStack, free_port_block

if TYPE_CHECKING:
    from emulator.image import PersistentCard

READERS_PER_STACK = 8


@pytest.fixture(scope="session")
def pcsc_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscStack]:
    workdir = tmp_path_factory.mktemp("pcsc")
    if os.geteuid() == 0:
        base = free_port_block(READERS_PER_STACK)
        stack = PcscStack.isolated_stack(workdir, base, READERS_PER_STACK)
        # libpcsclite reads the socket name once per process: set it before pyscard runs.
        os.environ["PCSCLITE_CSOCK_NAME"] = str(stack.socket_path)
    else:
        stack = PcscStack.system(workdir)
    stack.start()
    yield stack
    stack.stop()


class SlotPool:
    def __init__(self, size: int) -> None:
        self.free = list(range(size))

    def take(self) -> int:
        return self.free.pop(0)

    def give(self, slot: int) -> None:
        self.free.insert(0, slot)


@pytest.fixture(scope="session")
def slot_pool(pcsc_stack: PcscStack) -> SlotPool:
    return SlotPool(pcsc_stack.readers)


ServeCard = Callable[..., ServedCard]


@pytest.fixture
def serve_card(pcsc_stack: PcscStack, slot_pool: SlotPool) -> Iterator[ServeCard]:
    """serve_card(kind or CardOS) -> ServedCard in a free reader; stopped after the test."""
    served: list[ServedCard] = []

    def serve(card: str | CardOS = "iso", seed: int | None = None) -> ServedCard:
        card_os = make_card(card, seed=seed) if isinstance(card, str) else card
        s = ServedCard(card_os, pcsc_stack, slot_pool.take())
        served.append(s)
        return s.start()

    yield serve
    for s in served:
        s.stop()
        slot_pool.give(s.slot)


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
