"""The shared scenarios over the in-process transport."""

from collections.abc import Callable

import pytest

from emulator import make_card
from emulator.transports.embedded import EmbeddedConnection
from tests import scenarios


@pytest.fixture
def conn() -> EmbeddedConnection:
    c = EmbeddedConnection(make_card("iso"))
    c.connect()
    return c


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
def test_scenario(conn: EmbeddedConnection, scenario: Callable[[EmbeddedConnection], None]) -> None:
    scenario(conn)
