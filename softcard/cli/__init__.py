"""The `softcard` command. Each subcommand group lives in its own module here."""

from .main import main

__all__ = ["main"]
