"""Torn writes: the state a card is left in when power fails part way through a write.

The model is a card without atomic transactions writing its non-volatile memory
byte by byte: the application's own write path runs completely (so every check
it makes is real), then the injector keeps only the first `after_bytes` written
bytes of the change and throws the rest away.

`tear_state(old, new, n)` does that on exported states (JSON values):

* hex strings that differ (file contents, objects, keys as PKCS#8): the bytes
  from the first difference to the last one (to the end when the length
  changes) are "written" in order; after the budget runs out the old bytes
  remain: `new[:d+k] + old[d+k:]`;
* anything else that differs (an added or removed entry, a number, a flag)
  costs one byte and is written whole if any budget is left;
* the walk goes through dictionaries in sorted key order, lists by index;
* PIN retry counters (`tries`) always take the new value: the card commits them
  on their own, before the comparison (emulator.core.pin), so a torn VERIFY
  still costs its try.

A torn state the application cannot load (half a PKCS#8 key) is not
representable in this emulator: the injector then keeps the old state whole and
says so in its log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Leaves committed on their own before the write that may be torn.
ATOMIC_KEYS = frozenset({"tries"})

_MISSING = object()


@dataclass
class _Budget:
    left: int
    written: int = 0

    def take(self, wanted: int) -> int:
        got = max(0, min(self.left, wanted))
        self.left -= got
        self.written += got
        return got


def _as_hex(value: Any) -> bytes | None:
    if not isinstance(value, str) or len(value) % 2:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _tear_hex(old: bytes, new: bytes, budget: _Budget) -> bytes:
    first = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), None)
    if first is None:
        first = min(len(old), len(new))
    if len(old) == len(new):
        # Same length: only the span between the first and the last difference is written.
        last = max(i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b)
        remaining = last + 1 - first
    else:
        remaining = len(new) - first
    if remaining <= 0:
        # Only a shortening: a length change is one metadata write.
        return new if budget.take(1) else old
    k = budget.take(remaining)
    if k == remaining:
        return new
    return new[: first + k] + old[first + k :]


def _tear(old: Any, new: Any, budget: _Budget) -> Any:
    if old == new:
        return new
    if isinstance(old, dict) and isinstance(new, dict):
        out: dict[str, Any] = {}
        for key in sorted(set(old) | set(new)):
            o, n = old.get(key, _MISSING), new.get(key, _MISSING)
            if key in ATOMIC_KEYS and n is not _MISSING:
                out[key] = n
            elif n is _MISSING:
                if not budget.take(1):
                    out[key] = o  # the removal was not written
            elif o is _MISSING:
                torn = _tear_added(n, budget)
                if torn is not _MISSING:
                    out[key] = torn
            else:
                out[key] = _tear(o, n, budget)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [_tear(o, n, budget) for o, n in zip(old, new, strict=True)]
    old_hex, new_hex = _as_hex(old), _as_hex(new)
    if old_hex is not None and new_hex is not None:
        return _tear_hex(old_hex, new_hex, budget).hex()
    return new if budget.take(1) else old


def _tear_added(new: Any, budget: _Budget) -> Any:
    """An entry that did not exist: nothing of it exists until its first byte is written."""
    if budget.left <= 0:
        return _MISSING
    if isinstance(new, dict):
        return _tear({}, new, budget)
    new_hex = _as_hex(new)
    if new_hex is not None and new_hex:
        return _tear_hex(b"", new_hex, budget).hex()
    budget.take(1)
    return new


def tear_state(old: dict[str, Any], new: dict[str, Any], after_bytes: int) -> dict[str, Any]:
    """The state after a write from `old` to `new` stopped after `after_bytes` bytes."""
    result: dict[str, Any] = _tear(old, new, _Budget(after_bytes))
    return result


def write_size(old: dict[str, Any], new: dict[str, Any]) -> int:
    """How many bytes the write from `old` to `new` takes in this model."""
    budget = _Budget(1 << 62)
    _tear(old, new, budget)
    return budget.written
