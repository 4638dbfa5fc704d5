"""The fault injector: one per card (so one per reader), between the transport and the card.

    injector = FaultInjector.attach(card)          # get or install
    rule_id = injector.add(parse_rule("status sw=6581 ins=D6 nth=2"))
    injector.list()                                # rules with their counters
    injector.remove(rule_id); injector.clear()

It installs itself as the card's `interceptor`, so every transport (vpcd,
in-process, VirtualICC) goes through it. For each command the first rule that
fires decides; a command no rule fires on goes to the card untouched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.card import CardOS
from ..core.errors import CardRemoved
from ..core.events import ApduEvent, PowerEvent
from .rules import (
    AnswerStatus,
    Delay,
    FaultRule,
    RemoveCard,
    RemoveWhen,
    SpontaneousReset,
    TearWrite,
    Truncate,
)
from .tear import tear_state, write_size

log = logging.getLogger(__name__)

Process = Callable[[bytes], bytes]


@dataclass
class RuleState:
    """A rule and its counters, as `list()` shows them."""

    id: int
    rule: FaultRule
    seen: int = 0  # matching commands so far
    fired: int = 0

    @property
    def exhausted(self) -> bool:
        return self.rule.times is not None and self.fired >= self.rule.times

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "seen": self.seen, "fired": self.fired, **self.rule.to_dict()}


@dataclass(frozen=True)
class FiredFault:
    """One injected fault, for logs and tests."""

    rule_id: int
    kind: str
    command: bytes
    detail: str = ""
    timestamp: float = field(default_factory=time.time)


class _Selection:
    """Which application each channel has selected, from the card's own events."""

    def __init__(self, card: CardOS) -> None:
        self.card = card
        self.by_channel: dict[int, str] = {}

    def app_for(self, command: bytes) -> str:
        channel = 0
        if command:
            cla = command[0]
            if cla & 0xE0 == 0x00:
                channel = cla & 0x03
            elif cla & 0xC0 == 0x40:
                channel = 4 + (cla & 0x0F)
        if channel in self.by_channel:
            return self.by_channel[channel]
        default = self.card.default_application
        return default.name if default is not None else ""

    def on_apdu(self, event: ApduEvent) -> None:
        self.by_channel[event.channel] = event.application

    def on_power(self, event: PowerEvent) -> None:
        self.by_channel.clear()


class FaultInjector:
    """Rules applied to one card's commands; thread-safe; `fired` logs what happened."""

    def __init__(self, card: CardOS, rules: Iterable[FaultRule] = ()) -> None:
        self.card = card
        self._rules: list[RuleState] = []
        self._next_id = 1
        self._lock = threading.Lock()
        self.fired: list[FiredFault] = []
        self._selection = _Selection(card)
        for rule in rules:
            self.add(rule)

    # -- installation ---------------------------------------------------------------------

    @classmethod
    def attach(cls, card: CardOS) -> FaultInjector:
        """The card's injector, installed now if it has none."""
        current = card.interceptor
        if isinstance(current, FaultInjector):
            return current
        if current is not None:
            raise RuntimeError("the card already has another interceptor")
        injector = cls(card)
        injector.install()
        return injector

    def install(self) -> None:
        self.card.interceptor = self
        if self._selection not in self.card.observers:
            self.card.observers.append(self._selection)

    def detach(self) -> None:
        if self.card.interceptor is self:
            self.card.interceptor = None
        if self._selection in self.card.observers:
            self.card.observers.remove(self._selection)

    # -- rules ----------------------------------------------------------------------------

    def add(self, rule: FaultRule) -> int:
        with self._lock:
            rule_id = self._next_id
            self._next_id += 1
            self._rules.append(RuleState(rule_id, rule))
        log.info("fault rule %d: %s", rule_id, rule.describe())
        return rule_id

    def add_all(self, rules: Iterable[FaultRule]) -> list[int]:
        return [self.add(rule) for rule in rules]

    def load(self, path: str | Path) -> list[int]:
        """Add the rules of a JSON or TOML file (see emulator.faults.config)."""
        from .config import load_rules

        return self.add_all(load_rules(path))

    def remove(self, rule_id: int) -> None:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            if len(self._rules) == before:
                raise KeyError(f"no fault rule {rule_id}")

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def list(self) -> list[RuleState]:
        with self._lock:
            return [RuleState(r.id, r.rule, r.seen, r.fired) for r in self._rules]

    # -- the interceptor ------------------------------------------------------------------

    def _pick(self, command: bytes) -> RuleState | None:
        app = self._selection.app_for(command)
        chosen = None
        with self._lock:
            for state in self._rules:
                if state.exhausted or not state.rule.match.matches(command, app):
                    continue
                if isinstance(state.rule.action, TearWrite):
                    # Counted in _tear: only commands that write count for a tear rule.
                    chosen = chosen or state
                    continue
                state.seen += 1
                if chosen is None and state.seen >= state.rule.nth:
                    chosen = state
        return chosen

    def _record(self, state: RuleState, command: bytes, detail: str = "") -> None:
        with self._lock:
            state.fired += 1
        fault = FiredFault(state.id, state.rule.action.kind, bytes(command), detail)
        self.fired.append(fault)
        log.info("fault %d (%s) on %s %s", state.id, fault.kind, command[:4].hex().upper(), detail)

    def __call__(self, command: bytes, process: Process) -> bytes:
        state = self._pick(command)
        if state is None:
            return process(command)
        action = state.rule.action
        if isinstance(action, AnswerStatus):
            if action.execute:
                process(command)
            self._record(state, command, f"{action.sw:04X}")
            return action.sw.to_bytes(2, "big")
        if isinstance(action, Delay):
            response = process(command)
            self._record(state, command, f"{action.seconds:g} s")
            time.sleep(action.seconds)
            return response
        if isinstance(action, RemoveCard):
            if action.when == RemoveWhen.AFTER:
                process(command)
            self._record(state, command, action.when.value)
            self.card.power_off()
            raise CardRemoved(action.reinsert_after, "card removed by fault injection")
        if isinstance(action, Truncate):
            response = process(command)
            self._record(state, command, f"{len(response)} -> {action.keep} bytes")
            return response[: action.keep]
        if isinstance(action, SpontaneousReset):
            self.card.reset()
            self._record(state, command)
            return process(command)
        return self._tear(state, action, command, process)

    def _tear(self, state: RuleState, action: TearWrite, command: bytes, process: Process) -> bytes:
        before = self.card.export_state()
        response = process(command)
        after = self.card.export_state()
        size = write_size(before, after)
        if size == 0:
            # Nothing written (a chain block, a refused write): the rule waits for a write.
            return response
        with self._lock:
            state.seen += 1
            due = state.seen >= state.rule.nth
        if not due:
            return response
        torn = tear_state(before, after, action.after_bytes)
        detail = f"{min(action.after_bytes, size)} of {size} bytes written"
        try:
            self.card.replace_state(torn)
        except Exception as e:  # a torn key the application cannot load: keep the old state
            log.warning("torn state not loadable (%s); the write is lost whole", e)
            self.card.replace_state(before)
            detail = f"0 of {size} bytes written (torn state not representable)"
        self._record(state, command, detail)
        self.card.power_off()
        raise CardRemoved(action.reinsert_after, "power lost during a write")
