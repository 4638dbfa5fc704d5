"""The Windows Smart Card Minidriver API v7.07 in Python, over PC/SC.

    import driver
    with driver.acquire_context(reader="Virtual PCD 00 00") as ctx:
        cardid = ctx.read_file(None, "cardid")
        ctx.authenticate_pin("user", b"123456")

Constants keep their specification names (`driver.CP_CARD_GUID`, `driver.AT_KEYEXCHANGE`);
errors are `driver.errors.SCARD_...` exceptions under `driver.MinidriverError`; structures are the
dataclasses of `driver.structures`.
"""

from wire.minidriver import *  # noqa: F403

from .context import CardContext, acquire_context
from .errors import MinidriverError

__all__ = ["CardContext", "MinidriverError", "acquire_context"]
