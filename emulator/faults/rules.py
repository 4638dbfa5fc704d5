"""Fault rules: which commands a rule matches, what it does, and when it fires.

A rule is data (a frozen dataclass), so the same rule comes from Python, a
JSON/TOML file (`softcard run --faults FILE`) or one line of text
(`softcard ctl fault add ...`): `rule_from_dict` and `parse_rule` build it,
`FaultRule.to_dict` writes it back.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FaultError(ValueError):
    """A rule that cannot be understood; the message names the field and the problem."""


class RemoveWhen(StrEnum):
    """Whether a removed card processed the command before leaving the reader."""

    BEFORE = "before"  # the command never reaches the card
    AFTER = "after"  # the card did the work (durable), the answer is lost


@dataclass(frozen=True)
class Match:
    """What a command must look like; None and an empty prefix match anything.

    `app` is the name of the application selected on the command's channel
    ("iso", "piv", "gids"), as the card reports it to observers.
    """

    cla: int | None = None
    ins: int | None = None
    p1: int | None = None
    p2: int | None = None
    app: str | None = None
    prefix: bytes = b""

    def matches(self, command: bytes, app: str) -> bool:
        header = (self.cla, self.ins, self.p1, self.p2)
        for i, wanted in enumerate(header):
            if wanted is not None and (len(command) <= i or command[i] != wanted):
                return False
        if self.app is not None and self.app != app:
            return False
        return command.startswith(self.prefix)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if value is not None:
                out[name] = f"{value:02X}"
        if self.app is not None:
            out["app"] = self.app
        if self.prefix:
            out["prefix"] = self.prefix.hex().upper()
        return out


# -- actions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerStatus:
    """Answer this status word (no data). `execute`: the card processes the command first."""

    sw: int
    execute: bool = False
    kind = "status"


@dataclass(frozen=True)
class Delay:
    """Answer correctly, `seconds` late (the command is processed at once)."""

    seconds: float
    kind = "delay"


@dataclass(frozen=True)
class RemoveCard:
    """The card leaves the reader mid-command: no answer; back after `reinsert_after` s."""

    when: RemoveWhen = RemoveWhen.BEFORE
    reinsert_after: float | None = 1.0
    kind = "remove"


@dataclass(frozen=True)
class Truncate:
    """Answer only the first `keep` (>= 1) bytes of the real response (the command is processed)."""

    keep: int
    kind = "truncate"

    def __post_init__(self) -> None:
        if self.keep < 1:
            raise FaultError("keep must be at least 1 (an empty answer hangs vpcd)")


@dataclass(frozen=True)
class TearWrite:
    """Power fails after `after_bytes` bytes of the command's write: see emulator.faults.tear.

    The card keeps the torn state (persisted), loses power and leaves the reader;
    it comes back after `reinsert_after` seconds. A matching command that writes
    nothing passes untouched and does not use the rule up.
    """

    after_bytes: int
    reinsert_after: float | None = 1.0
    kind = "tear"


@dataclass(frozen=True)
class SpontaneousReset:
    """The card resets (warm reset: all volatile state gone) just before this command.

    The command then runs on the freshly reset card; vpcd has no way to tell the
    host about a reset, so the host learns it as a real host often does: from a
    6982 or a lost selection.
    """

    kind = "reset"


Action = AnswerStatus | Delay | RemoveCard | Truncate | TearWrite | SpontaneousReset


@dataclass(frozen=True)
class FaultRule:
    """Do `action` on the `nth` matching command, and on the following ones up to `times`.

    `times=None`: on every matching command from the nth on.
    """

    action: Action
    match: Match = field(default_factory=Match)
    nth: int = 1
    times: int | None = 1
    name: str = ""

    def __post_init__(self) -> None:
        if self.nth < 1:
            raise FaultError(f"nth must be 1 or more, got {self.nth}")
        if self.times is not None and self.times < 1:
            raise FaultError(f"times must be 1 or more (or absent for always), got {self.times}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action.kind}
        out.update(_action_fields(self.action))
        match = self.match.to_dict()
        if match:
            out["match"] = match
        out["nth"] = self.nth
        out["times"] = self.times
        if self.name:
            out["name"] = self.name
        return out

    def describe(self) -> str:
        """One line: `parse_rule` reads it back."""
        parts: list[str] = []
        for key, value in self.to_dict().items():
            if key == "match":
                parts.extend(f"{k}={v}" for k, v in value.items())
            elif value is not None:
                parts.append(f"{key}={shlex.quote(str(value))}")
            else:
                parts.append(f"{key}=always")
        return " ".join(parts)


def _action_fields(action: Action) -> dict[str, Any]:
    if isinstance(action, AnswerStatus):
        return {"sw": f"{action.sw:04X}", "execute": action.execute}
    if isinstance(action, Delay):
        return {"seconds": action.seconds}
    if isinstance(action, RemoveCard):
        return {"when": action.when.value, "reinsert_after": action.reinsert_after}
    if isinstance(action, Truncate):
        return {"keep": action.keep}
    if isinstance(action, TearWrite):
        return {"after_bytes": action.after_bytes, "reinsert_after": action.reinsert_after}
    return {}


# -- reading rules ------------------------------------------------------------------------

MATCH_KEYS = ("cla", "ins", "p1", "p2", "app", "prefix")
ACTIONS = ("status", "delay", "remove", "truncate", "tear", "reset")


def _byte(name: str, value: Any) -> int:
    if isinstance(value, int) and 0 <= value <= 0xFF:
        return value
    text = str(value).strip().removeprefix("0x").removeprefix("0X")
    try:
        result = int(text, 16)
    except ValueError:
        raise FaultError(f"{name} must be one hex byte, got {value!r}") from None
    if not 0 <= result <= 0xFF or len(text) > 2:
        raise FaultError(f"{name} must be one hex byte, got {value!r}")
    return result


def _hex(name: str, value: Any) -> bytes:
    text = str(value).replace(" ", "").removeprefix("0x")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise FaultError(f"{name} must be hex bytes, got {value!r}") from None


def _number(name: str, value: Any, *, integer: bool = False, minimum: float = 0) -> Any:
    try:
        result = int(str(value), 0) if integer else float(value)
    except (TypeError, ValueError):
        kind = "an integer" if integer else "a number"
        raise FaultError(f"{name} must be {kind}, got {value!r}") from None
    if result < minimum:
        raise FaultError(f"{name} must be at least {minimum:g}, got {value!r}")
    return result


def _optional_seconds(name: str, value: Any) -> float | None:
    if value is None or str(value).lower() in ("never", "none"):
        return None
    result: float = _number(name, value)
    return result


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise FaultError(f"{name} must be true or false, got {value!r}")


def match_from_dict(data: dict[str, Any]) -> Match:
    unknown = set(data) - set(MATCH_KEYS)
    if unknown:
        raise FaultError(f"unknown match field {sorted(unknown)[0]!r} (known: {MATCH_KEYS})")
    bytes_ = {k: _byte(k, data[k]) if data.get(k) is not None else None for k in MATCH_KEYS[:4]}
    app = data.get("app")
    return Match(
        bytes_["cla"],
        bytes_["ins"],
        bytes_["p1"],
        bytes_["p2"],
        str(app) if app is not None else None,
        _hex("prefix", data.get("prefix", "")),
    )


def action_from_dict(kind: str, data: dict[str, Any]) -> Action:
    if kind == "status":
        if "sw" not in data:
            raise FaultError("a status rule needs sw (e.g. sw=6581)")
        sw = _hex("sw", data["sw"])
        if len(sw) != 2 or sw[0] & 0xF0 not in (0x60, 0x90) or sw[0] == 0x60:
            raise FaultError(f"sw must be a status word 61xx-6Fxx or 9xxx, got {data['sw']!r}")
        return AnswerStatus(int.from_bytes(sw, "big"), _flag("execute", data.get("execute", False)))
    if kind == "delay":
        return Delay(_number("seconds", data.get("seconds", 1.0)))
    if kind == "remove":
        when = str(data.get("when", "before"))
        if when not in (w.value for w in RemoveWhen):
            raise FaultError(f"when must be before or after, got {when!r}")
        return RemoveCard(
            RemoveWhen(when), _optional_seconds("reinsert_after", data.get("reinsert_after", 1.0))
        )
    if kind == "truncate":
        # An empty frame is no answer at all: vpcd then waits forever, so keep >= 1.
        return Truncate(_number("keep", data.get("keep", 1), integer=True, minimum=1))
    if kind == "tear":
        return TearWrite(
            _number("after_bytes", data.get("after_bytes", 0), integer=True),
            _optional_seconds("reinsert_after", data.get("reinsert_after", 1.0)),
        )
    if kind == "reset":
        return SpontaneousReset()
    raise FaultError(f"unknown action {kind!r} (known: {', '.join(ACTIONS)})")


_ACTION_KEYS = {
    "status": ("sw", "execute"),
    "delay": ("seconds",),
    "remove": ("when", "reinsert_after"),
    "truncate": ("keep",),
    "tear": ("after_bytes", "reinsert_after"),
    "reset": (),
}
_RULE_KEYS = ("action", "match", "nth", "times", "name")


def rule_from_dict(data: dict[str, Any]) -> FaultRule:
    """A rule from its dict form (JSON/TOML); match fields may also sit at the top level."""
    if not isinstance(data, dict):
        raise FaultError(f"a rule must be a table/object, got {type(data).__name__}")
    kind = str(data.get("action", ""))
    if not kind:
        raise FaultError(f"a rule needs an action ({', '.join(ACTIONS)})")
    if kind not in _ACTION_KEYS:
        raise FaultError(f"unknown action {kind!r} (known: {', '.join(ACTIONS)})")
    match_data = dict(data.get("match") or {})
    for key in MATCH_KEYS:
        if key in data:
            match_data[key] = data[key]
    allowed = set(_RULE_KEYS) | set(MATCH_KEYS) | set(_ACTION_KEYS[kind])
    unknown = set(data) - allowed
    if unknown:
        raise FaultError(f"unknown field {sorted(unknown)[0]!r} for a {kind} rule")
    times_raw = data.get("times", 1)
    times = (
        None
        if times_raw is None or str(times_raw).lower() in ("always", "none")
        else _number("times", times_raw, integer=True, minimum=1)
    )
    return FaultRule(
        action_from_dict(kind, data),
        match_from_dict(match_data),
        nth=_number("nth", data.get("nth", 1), integer=True, minimum=1),
        times=times,
        name=str(data.get("name", "")),
    )


def parse_rule(text: str) -> FaultRule:
    """A rule from one line of `key=value` words, e.g. `action=status sw=6581 ins=D6 nth=2`.

    The first word may be the action alone: `status sw=6581 ins=D6`.
    """
    data: dict[str, Any] = {}
    for i, word in enumerate(shlex.split(text)):
        key, sep, value = word.partition("=")
        if not sep:
            if i == 0:
                data["action"] = key
                continue
            raise FaultError(f"expected key=value, got {word!r}")
        data[key.strip().replace("-", "_")] = value
    return rule_from_dict(data)
