"""A plain ISO/IEC 7816-4 file-system card application (the MF and its files)."""

from .app import IsoFileSystem, IsoSession

__all__ = ["IsoFileSystem", "IsoSession"]
