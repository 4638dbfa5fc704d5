"""The driver's data cache, kept coherent with the card's `cardcf` freshness counters.

Each cached item belongs to one category, the counter that moves when it changes: files
(wFilesFreshness), containers (wContainersFreshness), pins (bPinsFreshness). The context reads
`cardcf` from the card at most once per API call (or per transaction) and drops every category
whose counter moved, so another client's writes are noticed and unchanged data is served with no
card I/O. The context's own writes bump the counter and update the cache in the same step.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from .structures import CARD_CACHE_FILE_FORMAT


class Category(Enum):
    PINS = "pins"
    CONTAINERS = "containers"
    FILES = "files"


class FreshnessCache:
    def __init__(self) -> None:
        self.known: CARD_CACHE_FILE_FORMAT | None = None
        self._items: dict[Category, dict[Any, Any]] = {c: {} for c in Category}
        self.hits = 0
        self.misses = 0

    def validate(self, current: CARD_CACHE_FILE_FORMAT | None) -> set[Category]:
        """Compare with the counters last seen; returns (and drops) the stale categories."""
        stale: set[Category] = set()
        known = self.known
        if current is None or known is None:
            stale = set(Category)
        else:
            if current.pins_freshness != known.pins_freshness:
                stale.add(Category.PINS)
            if current.containers_freshness != known.containers_freshness:
                stale.add(Category.CONTAINERS)
            if current.files_freshness != known.files_freshness:
                stale.add(Category.FILES)
            if current.version != known.version or current.extra != known.extra:
                stale = set(Category)
        for category in stale:
            self._items[category].clear()
        self.known = current
        return stale

    def get(self, category: Category, key: Any) -> Any:
        items = self._items[category]
        if key in items:
            self.hits += 1
            return items[key]
        self.misses += 1
        return None

    def put(self, category: Category, key: Any, value: Any) -> None:
        if self.known is not None:
            self._items[category][key] = value

    def drop(self, category: Category, key: Any = None) -> None:
        if key is None:
            self._items[category].clear()
        else:
            self._items[category].pop(key, None)

    def clear(self) -> None:
        for items in self._items.values():
            items.clear()
        self.known = None
