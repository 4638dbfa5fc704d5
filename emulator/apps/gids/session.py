"""Volatile GIDS state of one logical channel: authentication, selection, security environment.

Everything here is lost on power-off, reset and on every SELECT of the application
by AID (GidsApplet's deselect handler logs everybody out).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...core.application import Session
from .admin import Challenge


@dataclass(frozen=True)
class SecurityEnvironment:
    """What MSE SET chose for the next PSO: CRT (B6 sign / B8 decipher), key, mechanism."""

    crt: int
    key_ref: int
    mechanism: int


class GidsSession(Session):
    def __init__(self) -> None:
        super().__init__()
        self.pin_verified = False
        self.admin_authenticated = False
        self.admin_key_ref: int | None = None  # chosen by MSE (P1 81/C1, A4)
        self.challenge: Challenge | None = None
        self.environment: SecurityEnvironment | None = None
        self.current_ef: int | None = None

    def log_out(self) -> None:
        """VERIFY P2=82, a successful RESET RETRY COUNTER, application activation."""
        self.pin_verified = False
        self.admin_authenticated = False
        self.admin_key_ref = None
        self.challenge = None
        # GidsApplet keeps the security environment here; softcard drops it so that
        # no PSO runs on a PIN that was logged out (docs/gids.md, deviations).
        self.environment = None

    def reset(self) -> None:
        self.log_out()
        self.current_ef = None
