"""Between images and live cards: build a card from an image, capture one from a card.

Nothing here knows a card kind: a card is `make_card(kind, seed)` (its factory
state, and its randomness from the seed) with every application's state then
replaced by the image's. Checks that need no kind knowledge run first (PIN
counters, PKCS#8 keys), then each application judges its own state.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from cryptography.hazmat.primitives.serialization import load_der_private_key

from ..core.card import CardOS
from ..profiles import KINDS, kinds, make_card
from .errors import ImageError
from .format import CardImage
from .schema import hex_bytes

PIN_FIELDS = frozenset({"value", "tries", "max_tries"})
# Top-level fields of an application state that name the card, shown in `identity`.
IDENTITY_FIELDS = ("serial", "guid")


def build_card(image: CardImage, seed: int | None = None) -> CardOS:
    """A live card holding the image's state; `seed` overrides the image's seed."""
    if image.kind not in KINDS:
        raise ImageError(f"kind: unknown card kind {image.kind!r} (known: {', '.join(kinds())})")
    check_state(image.state)
    card = make_card(image.kind, seed=image.seed if seed is None else seed)
    names = [app.name for app in card.applications]
    for name in image.state:
        if name not in names:
            raise ImageError(f"state.{name}: the {image.kind} card has no application {name!r}")
    for app in card.applications:
        if app.name not in image.state:
            raise ImageError(f"state: the state of application {app.name!r} is missing")
        try:
            app.import_state(image.state[app.name])
        except Exception as e:  # any refusal, whatever its type, is this one problem
            raise ImageError(
                f"state.{app.name}: the {app.name} application refuses its state ({_why(e)})"
            ) from None
    card.atr = image.atr
    derived = identity_of(card)
    for name, value in image.identity.items():
        if name in derived and derived[name] != value:
            raise ImageError(
                f"identity.{name}: says {value!r} but the card's state says {derived[name]!r}"
            )
    return card


def capture(card: CardOS, kind: str, seed: int | None = None, description: str = "") -> CardImage:
    """The image of a live card as it is now."""
    state = card.export_state()
    # A copy through JSON: the image owns its data, and a non-JSON value fails here.
    state = json.loads(json.dumps(state))
    return CardImage(kind, card.atr, state, identity_of(card, state), seed, description)


def identity_of(card: CardOS, state: dict[str, Any] | None = None) -> dict[str, str]:
    """Serial, GUID and the like: from an application's optional `identity()` method,
    else from top-level `serial` / `guid` fields of its state."""
    state = state if state is not None else card.export_state()
    found: dict[str, str] = {}
    for app in card.applications:
        hook = getattr(app, "identity", None)
        if callable(hook):
            reported = hook()
            if isinstance(reported, dict):
                for name, value in reported.items():
                    found.setdefault(str(name), str(value))
            continue
        app_state = state.get(app.name, {})
        for name in IDENTITY_FIELDS:
            value = app_state.get(name)
            if isinstance(value, str | int) and not isinstance(value, bool):
                found.setdefault(name, str(value))
    return found


def _why(e: Exception) -> str:
    if isinstance(e, KeyError):
        return f"missing field {e.args[0]!r}" if e.args else "missing field"
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


# -- kind-independent checks ------------------------------------------------------------------


def walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every (path, value) in a JSON tree, depth first, parents before children."""
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from walk(child, f"{path}.{key}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from walk(child, f"{path}[{i}]")


def is_pin(value: Any) -> bool:
    return isinstance(value, dict) and value.keys() >= PIN_FIELDS


def check_state(state: dict[str, Any]) -> None:
    """PINs and private keys wherever they are: the checks no application should need."""
    for path, value in walk(state, "state"):
        if is_pin(value):
            check_pin(value, path)
        elif isinstance(value, dict) and "pkcs8" in value:
            check_private_key(value["pkcs8"], f"{path}.pkcs8")


def _whole(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ImageError(f"{where}: must be a whole number from {low} to {high}, not {value!r}")
    return value


def check_pin(pin: dict[str, Any], path: str) -> None:
    if not isinstance(pin["value"], str):
        raise ImageError(f"{path}.value: must be a hex string")
    value = hex_bytes(pin["value"], f"{path}.value")
    max_tries = _whole(pin["max_tries"], f"{path}.max_tries", 1, 255)
    _whole(pin["tries"], f"{path}.tries", 0, max_tries)
    if "min_length" in pin and "max_length" in pin:
        low = _whole(pin["min_length"], f"{path}.min_length", 0, 255)
        high = _whole(pin["max_length"], f"{path}.max_length", low, 255)
        if not low <= len(value) <= high:
            raise ImageError(
                f"{path}.value: {len(value)} bytes, outside its length range {low}-{high}"
            )


def check_private_key(value: Any, where: str) -> None:
    if not isinstance(value, str):
        raise ImageError(f"{where}: must be a hex string")
    try:
        load_der_private_key(hex_bytes(value, where), None)
    except (ValueError, TypeError):
        raise ImageError(f"{where}: not an unencrypted PKCS#8 private key") from None
