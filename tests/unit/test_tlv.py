import pytest
from hypothesis import given
from hypothesis import strategies as st

from wire import tlv
from wire.errors import TlvError


def test_gids_fci_parses_as_the_spec_shows() -> None:
    fci = bytes.fromhex("61124F0BA000000397425446590201730340 01C0".replace(" ", ""))
    (app,) = tlv.parse(fci)
    assert app.tag == 0x61 and app.constructed
    inner = tlv.to_dict(app.value)
    assert inner[0x4F] == bytes.fromhex("A0000003974254465902 01".replace(" ", ""))
    assert tlv.to_dict(inner[0x73]) == {0x40: b"\xc0"}


def test_multibyte_tags_and_long_lengths() -> None:
    value = bytes(300)
    encoded = tlv.encode(0x5FC105, value)
    assert encoded[:6] == bytes.fromhex("5FC105 82012C".replace(" ", ""))
    assert tlv.parse_one(encoded, 0x5FC105).value == value
    assert tlv.encode(0x7F49, [tlv.Tlv(0x81, b"\x01"), tlv.Tlv(0x82, b"\x03")]) == bytes.fromhex(
        "7F4906810101820103"
    )


@pytest.mark.parametrize("raw", ["5F", "53", "5382", "530301", "538401020304", "9F8"])
def test_malformed(raw: str) -> None:
    with pytest.raises(TlvError):
        tlv.parse(bytes.fromhex(raw.ljust(len(raw) + len(raw) % 2, "0")))


@given(
    st.lists(
        st.tuples(st.sampled_from([0x53, 0x5C, 0x5FC102, 0x7F49, 0x81]), st.binary(max_size=400)),
        max_size=5,
    )
)
def test_roundtrip(items: list[tuple[int, bytes]]) -> None:
    data = b"".join(tlv.encode(t, v) for t, v in items)
    assert [(t.tag, t.value) for t in tlv.parse(data)] == items
