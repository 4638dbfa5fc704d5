"""softcard's tooling: the `softcard` command, the PC/SC stack helpers and the pytest plugin."""

__version__ = "0.1.0"
