"""Read the notes of a card with the softcard ISO layout, through any pyscard-shaped connection.

This is the "foreign project" of softcard's plugin example: it knows ISO 7816-4,
not softcard.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

NOTES_DF = bytes.fromhex("F0") + b"softcard"
PUBLIC_NOTE = 0x5001
SECRET_NOTE = 0x5002
PIN_REFERENCE = 0x81


class Connection(Protocol):
    def transmit(self, command: Sequence[int]) -> tuple[list[int], int, int]: ...


class CardError(Exception):
    def __init__(self, what: str, sw: int) -> None:
        super().__init__(f"{what}: status {sw:04X}")
        self.sw = sw


def _send(conn: Connection, apdu: bytes, what: str) -> bytes:
    data, sw1, sw2 = conn.transmit(list(apdu))
    sw = (sw1 << 8) | sw2
    if sw != 0x9000:
        raise CardError(what, sw)
    return bytes(data)


def open_notes(conn: Connection) -> None:
    _send(conn, bytes([0x00, 0xA4, 0x04, 0x0C, len(NOTES_DF)]) + NOTES_DF, "SELECT notes")


def read_note(conn: Connection, fid: int = PUBLIC_NOTE) -> str:
    _send(conn, bytes([0x00, 0xA4, 0x02, 0x0C, 0x02]) + fid.to_bytes(2, "big"), "SELECT note")
    return _send(conn, bytes([0x00, 0xB0, 0x00, 0x00, 0x00]), "READ BINARY").decode()


def pin_tries(conn: Connection) -> int:
    """Tries left for the PIN (VERIFY without data answers 63Cx)."""
    _, sw1, sw2 = conn.transmit([0x00, 0x20, 0x00, PIN_REFERENCE])
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return sw2 & 0x0F
    if (sw1, sw2) == (0x90, 0x00):
        return -1  # verified already
    raise CardError("VERIFY (status)", (sw1 << 8) | sw2)


def verify(conn: Connection, pin: str) -> None:
    body = pin.encode()
    _send(conn, bytes([0x00, 0x20, 0x00, PIN_REFERENCE, len(body)]) + body, "VERIFY")


def read_secret_note(conn: Connection, pin: str) -> str:
    open_notes(conn)
    verify(conn, pin)
    return read_note(conn, SECRET_NOTE)
