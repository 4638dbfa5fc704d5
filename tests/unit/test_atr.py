from wire.atr import Capabilities, build_atr, default_atr, parse_historical, tck


def test_known_atr_checksum() -> None:
    # OpenSC CI's jCardSim ATR: no historical bytes, TCK 01.
    assert build_atr(b"") == bytes.fromhex("3B80800101")


def test_default_atr_is_valid_and_names_the_card() -> None:
    atr = default_atr("softcard", Capabilities(extended_length=True, logical_channels=4))
    assert atr[0] == 0x3B
    assert atr[1] >> 4 != 0xF  # ykman treats high nibble F as a USB YubiKey
    assert tck(atr[1:]) == 0  # XOR over T0..TCK is zero
    hist = parse_historical(atr)
    assert hist[0] == 0x80 and b"softcard" in hist
    # card capabilities: compact tag 7, 3 bytes; third byte says chaining + extended + channels
    assert hist[-4] == 0x73
    caps = hist[-3:]
    assert caps[2] & 0xC0 == 0xC0 and caps[2] & 0x07 == 3


def test_capabilities_follow_the_card() -> None:
    hist = parse_historical(
        default_atr("gids", Capabilities(extended_length=False, logical_channels=1))
    )
    assert hist.endswith(bytes((0x73, 0xFC, 0x01, 0x80)))
