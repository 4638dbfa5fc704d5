"""Fault rules from a file: JSON or TOML, the same fields as `rule_from_dict`.

TOML (`softcard run --faults faults.toml`):

    [[rules]]
    action = "status"      # answer 6581 to the second UPDATE BINARY
    sw = "6581"
    ins = "D6"
    nth = 2

    [[rules]]
    action = "remove"      # pull the card on the first VERIFY, back after 2 s
    match = { ins = "20" }
    reinsert_after = 2.0

JSON: `{"rules": [{"action": "status", "sw": "6581", "ins": "D6", "nth": 2}]}`,
or just the list.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from .rules import FaultError, FaultRule, rule_from_dict


def rules_from_document(document: Any) -> list[FaultRule]:
    items = document.get("rules", None) if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise FaultError("expected a list of rules (a 'rules' array)")
    rules = []
    for i, item in enumerate(items, 1):
        try:
            rules.append(rule_from_dict(item))
        except FaultError as e:
            raise FaultError(f"rule {i}: {e}") from None
    return rules


def load_rules(path: str | Path) -> list[FaultRule]:
    """The rules of a .json or .toml file; FaultError names the file and the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise FaultError(f"{path}: {e.strerror or e}") from None
    try:
        document: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
        raise FaultError(f"{path}: not valid {path.suffix.lstrip('.') or 'JSON'}: {e}") from None
    try:
        return rules_from_document(document)
    except FaultError as e:
        raise FaultError(f"{path}: {e}") from None


def dump_rules(rules: list[FaultRule]) -> str:
    """JSON that `load_rules` reads back."""
    return json.dumps({"rules": [r.to_dict() for r in rules]}, indent=2) + "\n"
