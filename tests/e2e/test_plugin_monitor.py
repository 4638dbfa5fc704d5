"""Insert and remove as PC/SC clients see them: pyscard's CardMonitor (SCardGetStatusChange)
reports the plugin's card leaving and coming back."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import Any

import pytest

from softcard.pytest_plugin import SoftCard

pytestmark = pytest.mark.e2e

Event = tuple[str, str]  # ("added" | "removed", reader)


class Recorder:
    """A CardMonitor observer that queues the events of one reader."""

    def __init__(self, reader: str) -> None:
        self.reader = reader
        self.events: queue.Queue[Event] = queue.Queue()

    def update(self, observable: Any, actions: tuple[list[Any], list[Any]]) -> None:
        added, removed = actions
        for what, cards in (("removed", removed), ("added", added)):
            for card in cards:
                if str(card.reader) == self.reader:
                    self.events.put((what, str(card.reader)))

    def expect(self, what: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            assert event == (what, self.reader), f"expected {what}, got {event}"
            return
        raise AssertionError(f"the monitor saw no '{what}' event for {self.reader}")

    def quiet(self) -> bool:
        return self.events.empty()


def monitor_events(reader: str) -> Iterator[Recorder]:
    from smartcard.CardMonitoring import CardMonitor, CardObserver

    class Observer(Recorder, CardObserver):  # type: ignore[misc]
        pass

    observer = Observer(reader)
    monitor = CardMonitor()
    monitor.addObserver(observer)
    try:
        yield observer
    finally:
        monitor.deleteObserver(observer)


@pytest.fixture
def monitor(softcard_card: SoftCard) -> Iterator[Recorder]:
    yield from monitor_events(softcard_card.reader)


def test_monitor_sees_the_card_removed_and_inserted(
    softcard_card: SoftCard, monitor: Recorder
) -> None:
    monitor.expect("added")  # the card that is in the reader when the monitor starts
    softcard_card.remove()
    monitor.expect("removed")
    softcard_card.insert()
    monitor.expect("added")
    softcard_card.reset()  # pulled and put back: both events, in order
    monitor.expect("removed")
    monitor.expect("added")
    assert monitor.quiet()
    _, sw1, sw2 = softcard_card.connection.transmit([0x00, 0xA4, 0x00, 0x0C, 0x02, 0x2F, 0x01])
    assert (sw1, sw2) == (0x90, 0x00)
