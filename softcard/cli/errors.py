"""What the CLI prints for a failure: one line naming the problem, never a traceback."""

from __future__ import annotations


class CliError(Exception):
    """A user-facing failure; the message is printed as `softcard: <message>`."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
