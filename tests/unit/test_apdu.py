import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.core.errors import sw_for
from wire.apdu import CommandApdu, ResponseApdu
from wire.errors import ApduLengthError
from wire.iso7816 import SW


@pytest.mark.parametrize(
    ("raw", "data", "ne", "extended"),
    [
        ("00A40000", b"", None, False),  # case 1
        ("00B0000010", b"", 16, False),  # case 2S
        ("00B0000000", b"", 256, False),  # case 2S, Le 00 = 256
        ("00A4040002AABB", bytes.fromhex("AABB"), None, False),  # case 3S
        ("00A4040002AABB00", bytes.fromhex("AABB"), 256, False),  # case 4S
        ("00B0000000000A", b"", 10, True),  # case 2E
        ("00B00000000000", b"", 65536, True),  # case 2E, 0000 = 65536
        ("00DB3FFF000002AABB", bytes.fromhex("AABB"), None, True),  # case 3E
        ("00DB3FFF000002AABB0100", bytes.fromhex("AABB"), 256, True),  # case 4E
    ],
)
def test_parse_cases(raw: str, data: bytes, ne: int | None, extended: bool) -> None:
    apdu = CommandApdu.parse(bytes.fromhex(raw))
    assert (apdu.data, apdu.ne, apdu.extended) == (data, ne, extended)
    assert CommandApdu.parse(apdu.to_bytes()) == apdu


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "00",
        "00A400",
        "00A4040003AABB",
        "00A4040001AABBCC00",
        "00DB3FFF0000",
        "00DB3FFF000003AA",
        "00DB3FFF000000AA",
    ],
)
def test_malformed_lengths_are_6700(raw: str) -> None:
    with pytest.raises(ApduLengthError) as e:
        CommandApdu.parse(bytes.fromhex(raw))
    assert sw_for(e.value) == SW.WRONG_LENGTH


@given(st.binary(min_size=4, max_size=300))
def test_any_bytes_parse_or_6700(raw: bytes) -> None:
    try:
        apdu = CommandApdu.parse(raw)
    except ApduLengthError as e:
        assert sw_for(e) == SW.WRONG_LENGTH
    else:
        assert CommandApdu.parse(apdu.to_bytes()) == apdu


def test_response_roundtrip() -> None:
    r = ResponseApdu.parse(bytes.fromhex("0102 63C2".replace(" ", "")))
    assert (r.data, r.sw1, r.sw2) == (b"\x01\x02", 0x63, 0xC2)
    assert r.to_bytes().hex() == "010263c2"
