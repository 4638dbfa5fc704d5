"""The PIV card module (piv.md, minidriver.md 6.12): see docs/minidriver-piv.md."""

from .mgmkey import admin_response
from .module import PivCardModule

__all__ = ["PivCardModule", "admin_response"]
