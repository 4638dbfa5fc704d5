"""The wire layer's errors: plain value errors, mapped by each side to its own.

The card answers them with a status word (emulator/core/errors.py: `sw_for`); the
host turns them into its own error (a minidriver error in driver/). Nothing here
knows either side.
"""

from __future__ import annotations


class WireError(ValueError):
    """Bytes that do not follow the encoding a specification prescribes."""


class ApduLengthError(WireError):
    """A command APDU whose length fields do not match its size (a card answers 6700)."""


class TlvError(WireError):
    """Malformed BER-TLV (a card answers 6A80 for it in a command)."""
