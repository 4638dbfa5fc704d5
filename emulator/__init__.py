"""softcard's card OS: an ISO/IEC 7816-4 smart card in Python.

>>> from emulator import make_card
>>> card = make_card("iso")
>>> card.transmit(bytes.fromhex("00A4000C022F01")).hex()
'9000'
"""

from .core.card import CardOS
from .profiles import kinds, make_card

__all__ = ["CardOS", "kinds", "make_card"]
