"""The neutral wire layer: what a smart card and its host both speak.

APDU codec, BER-TLV, ATR, the host's APDU client, and one module per specification
for its wire constants (ISO 7816-4, PIV, GIDS, the minidriver). It imports neither
the card (emulator/) nor the host (driver/); both import it. Its errors are plain
ValueErrors that each side maps: the card to a status word, the host to its own error.
"""
