"""The PIV card application: NIST SP 800-73-4 commands plus Yubico's extensions.

State (objects, PIN/PUK, management key, slot keys) lives in `PivBase`; the
command table is the union of the `@command` handlers of the two mixins.
"""

from __future__ import annotations

from .nist import NistCommands
from .yubico import YubicoCommands


class PivApplication(NistCommands, YubicoCommands):
    """SELECT by any 5+ byte prefix of A0 00 00 03 08 00 00 10 00 01 00."""
