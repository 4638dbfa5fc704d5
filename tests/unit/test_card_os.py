"""The core's own behaviour: CLA and channels, chaining, power, robustness, persistence."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import make_card
from emulator.core.card import CardOS
from wire.iso7816 import SW

from ..scenarios import tx


class Conn:
    def __init__(self, card: CardOS) -> None:
        self.card = card

    def getATR(self) -> list[int]:  # noqa: N802
        return list(self.card.atr)

    def transmit(self, command: list[int]) -> tuple[list[int], int, int]:
        r = self.card.transmit(bytes(command))
        return list(r[:-2]), r[-2], r[-1]


def card_conn() -> Conn:
    return Conn(make_card("iso", seed=7))


def test_unknown_cla_ins_and_secure_messaging() -> None:
    c = card_conn()
    assert tx(c, "80 A4 00 0C 02 2F01")[1] == SW.CLA_NOT_SUPPORTED
    assert tx(c, "FF A4 00 0C 02 2F01")[1] == SW.CLA_NOT_SUPPORTED
    assert tx(c, "0C A4 00 0C 02 2F01")[1] == SW.SECURE_MESSAGING_NOT_SUPPORTED
    assert tx(c, "00 FE 00 00")[1] == SW.INS_NOT_SUPPORTED
    assert tx(c, "00 A4 07 00 02 2F01")[1] == SW.INCORRECT_P1P2
    assert tx(c, "00 A4 00 0C 02 2F01")[1] == SW.SUCCESS


def test_logical_channels_keep_their_own_selection_and_security() -> None:
    c = card_conn()
    assert tx(c, "01 A4 00 0C 02 2F01")[1] == SW.LOGICAL_CHANNEL_NOT_SUPPORTED
    data, sw = tx(c, "00 70 00 00 01")
    assert (data, sw) == (b"\x01", SW.SUCCESS)
    assert tx(c, "00 A4 08 0C 04 5000 5002")[1] == SW.SUCCESS
    assert tx(c, "01 A4 00 0C 02 2F01")[1] == SW.SUCCESS
    assert tx(c, "00 20 00 81 06" + b"123456".hex())[1] == SW.SUCCESS
    # channel 0 reads the secret; channel 1 has its own file and no verified PIN
    assert tx(c, "00 B0 00 00 00")[0] == b"the secret note"
    assert tx(c, "01 B0 00 00 04")[0] == b"Welc"
    assert tx(c, "01 A4 08 0C 04 5000 5002")[1] == SW.SUCCESS
    assert tx(c, "01 B0 00 00 00")[1] == SW.SECURITY_STATUS_NOT_SATISFIED
    assert tx(c, "00 70 80 01")[1] == SW.SUCCESS
    assert tx(c, "01 B0 00 00 00")[1] == SW.LOGICAL_CHANNEL_NOT_SUPPORTED
    assert tx(c, "00 70 80 00")[1] == SW.INCORRECT_P1P2  # the basic channel stays


def test_interrupted_chain_has_no_effect() -> None:
    c = card_conn()
    assert tx(c, "00 20 00 81 06" + b"123456".hex())[1] == SW.SUCCESS
    assert tx(c, "00 A4 00 0C 02 2F01")[1] == SW.SUCCESS
    assert tx(c, "10 D6 00 00 04 41414141")[1] == SW.SUCCESS
    assert tx(c, "00 B0 00 00 04")[0] == b"Welc"  # another command drops the chain
    assert tx(c, "00 D6 00 00 02 4242")[1] == SW.SUCCESS
    assert tx(c, "00 B0 00 00 04")[0] == b"BBlc"


def test_chaining_refused_where_the_app_says_so() -> None:
    c = card_conn()
    assert tx(c, "10 20 00 81 03 313233")[1] == SW.COMMAND_CHAINING_NOT_SUPPORTED
    assert tx(c, "10 CA 00 00 01 00")[1] == SW.INS_NOT_SUPPORTED


def test_power_off_and_reset_clear_security_state_but_not_counters() -> None:
    card = make_card("iso", seed=1)
    c = Conn(card)
    assert tx(c, "00 20 00 81 06" + b"999999".hex())[1] == 0x63C2
    assert tx(c, "00 20 00 81 06" + b"123456".hex())[1] == SW.SUCCESS
    card.reset()
    assert tx(c, "00 20 00 81")[1] == 0x63C3
    assert tx(c, "00 20 00 81 06" + b"999999".hex())[1] == 0x63C2
    card.power_off()
    card.power_on()
    assert tx(c, "00 20 00 81")[1] == 0x63C2


def test_pin_blocks_and_puk_unblocks() -> None:
    c = card_conn()
    for left in (2, 1, 0):
        assert tx(c, "00 20 00 81 04 30303030")[1] == 0x63C0 | left
    assert tx(c, "00 20 00 81 06" + b"123456".hex())[1] == SW.AUTH_METHOD_BLOCKED
    assert tx(c, "00 20 00 81")[1] == SW.AUTH_METHOD_BLOCKED
    assert tx(c, "00 2C 00 81 0E" + (b"12345678" + b"654321").hex())[1] == SW.SUCCESS
    assert tx(c, "00 20 00 81 06" + b"654321".hex())[1] == SW.SUCCESS
    assert tx(c, "00 24 00 81 0C" + (b"654321" + b"111111").hex())[1] == SW.SUCCESS
    assert tx(c, "00 20 00 81 06" + b"111111".hex())[1] == SW.SUCCESS
    assert tx(c, "00 20 FF 81")[1] == SW.SUCCESS  # reset verification status
    assert tx(c, "00 20 00 81")[1] == 0x63C3


def test_counter_is_durable_before_the_comparison() -> None:
    card = make_card("iso", seed=1)
    seen: list[int] = []
    card.persist = lambda: seen.append(card.export_state()["iso"]["pins"]["81"]["tries"])
    Conn(card).transmit(list(bytes.fromhex("0020008106") + b"123456"))
    # decremented value persisted first, then the restored one
    assert seen == [2, 3]


def test_deterministic_cards_are_identical() -> None:
    a, b = make_card("iso", seed=42), make_card("iso", seed=42)
    assert a.export_state() == b.export_state()
    assert make_card("iso", seed=43).export_state() != a.export_state()
    assert tx(Conn(a), "00 84 00 00 08") == tx(Conn(b), "00 84 00 00 08")


def test_get_response_without_pending_data() -> None:
    c = card_conn()
    assert tx(c, "00 C0 00 00 00")[1] == SW.CONDITIONS_NOT_SATISFIED


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=40), min_size=1, max_size=8))
def test_no_input_crashes_the_card(commands: list[bytes]) -> None:
    card = make_card("iso", seed=3)
    before = card.export_state()["iso"]["mf"]
    for raw in commands:
        response = card.transmit(raw)
        assert len(response) >= 2
        sw = int.from_bytes(response[-2:], "big")
        assert sw >> 8 in (
            0x61,
            0x62,
            0x63,
            0x65,
            0x67,
            0x68,
            0x69,
            0x6A,
            0x6B,
            0x6C,
            0x6D,
            0x6E,
            0x6F,
            0x90,
        )
        assert sw != SW.NO_PRECISE_DIAGNOSIS, raw.hex()
    # the card still works, and unauthenticated garbage changed no file
    assert card.transmit(bytes.fromhex("00A4000C022F01"))[-2:] == b"\x90\x00"
    assert card.export_state()["iso"]["mf"] == before
