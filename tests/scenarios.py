"""Card scenarios written once against a pyscard-shaped connection.

They run in-process (tests/unit) and through pyscard -> pcscd -> vpcd (tests/e2e).
"""

from __future__ import annotations

from typing import Protocol


class Connection(Protocol):
    def getATR(self) -> list[int]: ...  # noqa: N802

    def transmit(self, command: list[int]) -> tuple[list[int], int, int]: ...


def tx(conn: Connection, hexstr: str) -> tuple[bytes, int]:
    data, sw1, sw2 = conn.transmit(list(bytes.fromhex(hexstr.replace(" ", ""))))
    return bytes(data), (sw1 << 8) | sw2


def select_file_and_read(conn: Connection) -> None:
    data, sw = tx(conn, "00 A4 00 0C 02 2F01")
    assert sw == 0x9000 and data == b""
    data, sw = tx(conn, "00 B0 00 00 00")
    assert sw == 0x9000
    assert data.startswith(b"Welcome to softcard")
    data, sw = tx(conn, "00 B0 00 08 04")
    assert (data, sw) == (b"to s", 0x9000)


def select_by_name_with_fcp(conn: Connection) -> None:
    data, sw = tx(conn, "00 A4 04 04 09 F0 736F6674636172 64")
    assert sw == 0x9000
    assert data[0] == 0x62 and bytes.fromhex("8409F0736F667463617264") in data


def pin_protected_read(conn: Connection) -> None:
    tx(conn, "00 A4 08 0C 04 5000 5002")
    _, sw = tx(conn, "00 B0 00 00 00")
    assert sw == 0x6982
    _, sw = tx(conn, "00 20 00 81")
    assert sw == 0x63C3
    _, sw = tx(conn, "00 20 00 81 06" + b"000000".hex())
    assert sw == 0x63C2
    _, sw = tx(conn, "00 20 00 81 06" + b"123456".hex())
    assert sw == 0x9000
    _, sw = tx(conn, "00 20 00 81")
    assert sw == 0x9000
    data, sw = tx(conn, "00 B0 00 00 00")
    assert (data, sw) == (b"the secret note", 0x9000)


def long_response_chaining(conn: Connection) -> None:
    """A 600-byte file written with command chaining, read back with 61xx + GET RESPONSE."""
    assert tx(conn, "00 20 00 81 06" + b"123456".hex())[1] == 0x9000
    fcp = "62 10 82 01 01 83 02 2F10 80 02 0400 8C 03 03 11 00".replace(" ", "")
    assert tx(conn, "00 E0 00 00 " + f"{len(fcp) // 2:02X}" + fcp)[1] == 0x9000
    payload = bytes(range(256)) * 2 + bytes(88)
    for i in range(0, len(payload), 200):
        block = payload[i : i + 200]
        cla = "10" if i + 200 < len(payload) else "00"
        # UPDATE BINARY at offset 0: the whole chain is one write
        _, sw = tx(conn, f"{cla} D6 00 00 {len(block):02X}" + block.hex())
        assert sw == 0x9000
    data, sw = tx(conn, "00 B0 00 00 00")
    assert sw == 0x9000 and data == payload[:256]
    # Le absent: the whole file, in 256-byte pieces with 61xx and GET RESPONSE
    first, sw = tx(conn, "00 B0 00 00")
    assert (len(first), sw) == (256, 0x6100)
    second, sw = tx(conn, "00 C0 00 00 00")
    assert (len(second), sw) == (256, 0x6158)
    _, sw = tx(conn, "00 C0 00 00 60")
    assert sw == 0x6C58  # asked for more than remains: told the exact count
    third, sw = tx(conn, "00 C0 00 00 58")
    assert sw == 0x9000
    assert first + second + third == payload


__all__ = [
    "long_response_chaining",
    "pin_protected_read",
    "select_by_name_with_fcp",
    "select_file_and_read",
    "tx",
]
