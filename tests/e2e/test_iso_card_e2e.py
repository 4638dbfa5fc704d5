"""End to end: pyscard -> pcscd -> vpcd -> emulator, with the scenarios of the unit tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests import scenarios
from tests.conftest import ServeCard

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "scenario",
    [
        scenarios.select_file_and_read,
        scenarios.select_by_name_with_fcp,
        scenarios.pin_protected_read,
        scenarios.long_response_chaining,
    ],
    ids=lambda f: f.__name__,
)
def test_scenario_through_pcscd(serve_card: ServeCard, scenario: Callable[..., None]) -> None:
    served = serve_card("iso")
    conn = served.connect()
    assert bytes(conn.getATR()) == served.card.atr
    scenario(conn)


def test_security_state_is_lost_when_pcscd_powers_the_card_down(serve_card: ServeCard) -> None:
    served = serve_card("iso")
    conn = served.connect()
    assert scenarios.tx(conn, "00 20 00 81 06" + b"123456".hex())[1] == 0x9000
    conn.disconnect()  # pyscard disconnects with SCARD_UNPOWER_CARD
    conn = served.connect()
    assert scenarios.tx(conn, "00 20 00 81")[1] == 0x63C3


def test_remove_and_insert_are_seen_by_pcsc(serve_card: ServeCard) -> None:
    from smartcard.Exceptions import CardConnectionException, NoCardException

    served = serve_card("iso")
    served.remove()
    with pytest.raises((NoCardException, CardConnectionException)):
        served.connect()
    served.insert()
    conn = served.connect()
    assert scenarios.tx(conn, "00 A4 00 0C 02 2F01")[1] == 0x9000
