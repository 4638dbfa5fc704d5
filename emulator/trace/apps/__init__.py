"""Decoder tables per card application: ISO 7816-4 (the fallback), PIV, GIDS."""

from __future__ import annotations


def load_all() -> None:
    """Import the built-in tables; each registers itself with `decoding.register`."""
    from . import gids, iso, piv  # noqa: F401
