"""Card kinds: factory states of the cards softcard can emulate, by name."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from ..core.card import CardOS
from ..core.rng import RandomSource, SeededRandom

# kind -> "module:function"; modules load lazily so a kind's dependencies cost nothing
# until it is used.
KINDS: dict[str, str] = {
    "iso": "emulator.profiles.iso:build",
    "piv": "emulator.profiles.piv:build",
    "gids": "emulator.profiles.gids:build",
    "gids-blank": "emulator.profiles.gids:build_blank",
}

Builder = Callable[[RandomSource], CardOS]


def kinds() -> list[str]:
    return sorted(KINDS)


def builder(kind: str) -> Builder:
    try:
        target = KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown card kind {kind!r} (known: {', '.join(kinds())})") from None
    module, func = target.split(":")
    result: Builder = getattr(import_module(module), func)
    return result


def make_card(kind: str = "iso", seed: int | None = None) -> CardOS:
    """A factory-fresh card of this kind; a seed makes it reproducible."""
    rng = SeededRandom(seed) if seed is not None else RandomSource()
    return builder(kind)(rng)
