"""The GIDS card application (GIDS v2.0, byte-compatible with GidsApplet; docs/gids.md).

State (life cycle, PIN, files and keys) lives in `GidsBase`; the command table is
the union of the `@command` handlers of the mixins, one per concern.
"""

from __future__ import annotations

from .crypto import CryptoCommands
from .data import DataCommands
from .pins import PinCommands
from .security import SecurityCommands


class GidsApplication(DataCommands, PinCommands, SecurityCommands, CryptoCommands):
    """SELECT by any 5+ byte prefix of A0 00 00 03 97 42 54 46 59 02 01."""
