"""GIDS card application: the minidriver file system on the card (GIDS v2.0 / GidsApplet)."""

from .app import GidsApplication
from .listing import MinidriverFile, list_minidriver_files
from .session import GidsSession

__all__ = ["GidsApplication", "GidsSession", "MinidriverFile", "list_minidriver_files"]
