"""PIV card application (NIST SP 800-73-4 card edge and Yubico PIV extensions)."""

from .app import PivApplication
from .session import PivSession

__all__ = ["PivApplication", "PivSession"]
