"""Reliability tooling: fault injection, the fuzz target, and secret scans.

* `FaultInjector.attach(card)`: a card that misbehaves on purpose, by rules
  (`FaultRule`, from Python, `parse_rule(text)` or `load_rules(path)`): answer a
  status word, delay, remove the card mid-command, truncate a response, tear a
  write, reset spontaneously. See docs/reliability.md.
* `emulator.faults.fuzz`: the fuzz target over `CardOS.transmit` (atheris and
  hypothesis drive it), with its oracle.
* `emulator.faults.secrets`: the card's secrets and the scanner that proves no
  response, trace or log line carries them.
"""

from ..core.errors import CardRemoved
from .config import dump_rules, load_rules, rules_from_document
from .injector import FaultInjector, FiredFault, RuleState
from .rules import (
    Action,
    AnswerStatus,
    Delay,
    FaultError,
    FaultRule,
    Match,
    RemoveCard,
    RemoveWhen,
    SpontaneousReset,
    TearWrite,
    Truncate,
    parse_rule,
    rule_from_dict,
)
from .tear import tear_state, write_size

__all__ = [
    "Action",
    "AnswerStatus",
    "CardRemoved",
    "Delay",
    "FaultError",
    "FaultInjector",
    "FaultRule",
    "FiredFault",
    "Match",
    "RemoveCard",
    "RemoveWhen",
    "RuleState",
    "SpontaneousReset",
    "TearWrite",
    "Truncate",
    "dump_rules",
    "load_rules",
    "parse_rule",
    "rule_from_dict",
    "rules_from_document",
    "tear_state",
    "write_size",
]
