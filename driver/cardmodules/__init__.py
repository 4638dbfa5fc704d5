"""Card modules: the card kinds the driver knows, probed in this order by CardAcquireContext."""

from __future__ import annotations

from importlib import import_module

from .base import CardModule, ContainerKey, DecryptMode, SignMode

# "module:class"; a new card kind is one module and one line here.
CARD_MODULES: list[str] = [
    "driver.cardmodules.gids:GidsCardModule",
    "driver.cardmodules.piv:PivCardModule",
]


def card_module_classes() -> list[type[CardModule]]:
    out: list[type[CardModule]] = []
    for target in CARD_MODULES:
        module, name = target.split(":")
        cls = getattr(import_module(module), name)
        assert issubclass(cls, CardModule)
        out.append(cls)
    return out


__all__ = [
    "CARD_MODULES",
    "CardModule",
    "ContainerKey",
    "DecryptMode",
    "SignMode",
    "card_module_classes",
]
