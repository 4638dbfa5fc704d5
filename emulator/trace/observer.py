"""The emulator side: a card observer that feeds every APDU and power event to a recorder."""

from __future__ import annotations

from pathlib import Path

from ..core.card import CardOS
from ..core.events import ApduEvent, PowerEvent
from .jsonl import JsonlWriter
from .recorder import Sink, TraceRecorder


class CardTracer:
    """Observer of one card (`card.observers`); the recorder masks, decodes and writes."""

    def __init__(self, recorder: TraceRecorder) -> None:
        self.recorder = recorder

    def on_apdu(self, event: ApduEvent) -> None:
        self.recorder.exchange(
            event.command,
            event.response,
            channel=event.channel,
            app=event.application,
            timestamp=event.timestamp,
            duration_ns=event.duration_ns,
        )

    def on_power(self, event: PowerEvent) -> None:
        self.recorder.power(event.kind, event.timestamp)


class CardTrace:
    """A JSONL trace of a card: attach on creation, `close()` to detach and finish the file."""

    def __init__(
        self,
        card: CardOS,
        target: str | Path,
        *,
        reader: str = "",
        show_secrets: bool = False,
        card_kind: str = "",
        extra_sinks: list[Sink] | None = None,
    ) -> None:
        self.card = card
        self.writer = JsonlWriter(target)
        self.recorder = TraceRecorder(
            [self.writer, *(extra_sinks or [])],
            reader=reader,
            source="emulator",
            show_secrets=show_secrets,
            card=card_kind,
        )
        self.observer = CardTracer(self.recorder)
        card.observers.append(self.observer)

    def close(self) -> None:
        if self.observer in self.card.observers:
            self.card.observers.remove(self.observer)
        self.recorder.close()
        self.writer.close()

    def __enter__(self) -> CardTrace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
