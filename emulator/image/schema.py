"""From file text to a `CardImage`: JSON syntax, format marker, version, field types.

Everything here is about the document's shape; whether the applications accept
their state is `cards.build_card`'s question. Every problem is one ImageError
naming the field by its JSON path.
"""

from __future__ import annotations

import json
from typing import Any

from wire.atr import parse_historical

from .errors import ImageError
from .format import FIELDS, FORMAT, CardImage
from .migrate import upgrade

ATR_MAX = 33  # ISO 7816-3: TS plus at most 32 characters


def parse_text(text: str) -> CardImage:
    if not text.strip():
        raise ImageError("empty file, not a card image")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        if e.pos >= len(text.rstrip()):
            raise ImageError(
                f"truncated: the JSON ends early (line {e.lineno}, column {e.colno})"
            ) from None
        raise ImageError(f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None
    return parse_document(doc)


def parse_document(doc: Any) -> CardImage:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ImageError(f'not a softcard card image (no "format": "{FORMAT}")')
    source_version = doc.get("version")
    doc = upgrade(doc)
    unknown = sorted(set(doc) - set(FIELDS))
    if unknown:
        raise ImageError(f"unknown field {unknown[0]!r}")
    missing = [name for name in FIELDS if name not in doc]
    if missing:
        raise ImageError(f"missing field {missing[0]!r}")
    kind = _text(doc, "kind")
    if not kind:
        raise ImageError("kind: empty card kind")
    description = _text(doc, "description")
    _text(doc, "warning")
    seed = doc["seed"]
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ImageError(f"seed: must be a whole number or null, not {seed!r}")
    identity = doc["identity"]
    if not isinstance(identity, dict):
        raise ImageError("identity: must be an object")
    if "atr" not in identity:
        raise ImageError("identity: missing field 'atr'")
    extra: dict[str, str] = {}
    for name, value in identity.items():
        if not isinstance(value, str):
            raise ImageError(f"identity.{name}: must be text, not {value!r}")
        if name != "atr":
            extra[name] = value
    atr = parse_atr(identity["atr"])
    state = doc["state"]
    if not isinstance(state, dict) or not state:
        raise ImageError("state: must be an object with one entry per application")
    for name, app_state in state.items():
        if not isinstance(app_state, dict):
            raise ImageError(f"state.{name}: must be an object")
    assert isinstance(source_version, int)  # upgrade() accepted it
    return CardImage(kind, atr, state, extra, seed, description, source_version)


def _text(doc: dict[str, Any], name: str) -> str:
    value = doc[name]
    if not isinstance(value, str):
        raise ImageError(f"{name}: must be text, not {value!r}")
    return value


def hex_bytes(value: str, where: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise ImageError(f"{where}: not a hex string ({value[:20]!r})") from None


def parse_atr(value: str) -> bytes:
    atr = hex_bytes(value, "identity.atr")
    if not 2 <= len(atr) <= ATR_MAX or atr[0] not in (0x3B, 0x3F):
        raise ImageError("identity.atr: not an ATR (TS must be 3B or 3F, 2 to 33 bytes)")
    try:
        parse_historical(atr)
    except (ValueError, IndexError):
        raise ImageError("identity.atr: its length does not match its format bytes") from None
    if _offers_other_than_t0(atr):
        check = 0
        for b in atr[1:]:
            check ^= b
        if check:
            raise ImageError("identity.atr: wrong check byte (TCK)")
    return atr


def _offers_other_than_t0(atr: bytes) -> bool:
    y, pos = atr[1] >> 4, 2
    while True:
        pos += bin(y & 0x7).count("1")
        if not y & 0x8:
            return False
        td = atr[pos]
        pos += 1
        if td & 0x0F:
            return True
        y = td >> 4
