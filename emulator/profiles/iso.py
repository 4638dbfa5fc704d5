"""The `iso` card: a plain ISO 7816-4 file-system card with a PIN, for first steps.

Factory state:
  MF 3F00
    EF 2F01  "welcome" text, readable by anyone, updatable with PIN 81
    DF 5000  named F0 73 6F 66 74 63 61 72 64 ("\\xF0softcard")
      EF 5001  public data, readable by anyone
      EF 5002  secret note, readable only after VERIFY of PIN 81
  PIN 81 "123456" (3 tries), PUK 82 "12345678" (resets PIN 81, 5 tries)
"""

from __future__ import annotations

from ..apps.iso import IsoFileSystem
from ..apps.iso.app import pin_scb
from ..core.card import CardOS
from ..core.filesystem import DF, EF, MF_FID
from ..core.pin import Pin
from ..core.rng import RandomSource
from ..core.security import (
    DF_CREATE_DF,
    DF_CREATE_EF,
    DF_DELETE_CHILD,
    SCB_ALWAYS,
    SCB_NEVER,
    AccessMode,
    CompactSecurityAttribute,
)

USER_PIN = 0x81
PUK = 0x82
DEMO_DF_NAME = bytes.fromhex("F0") + b"softcard"
WELCOME = b"Welcome to softcard, a software smart card.\n"


def build(rng: RandomSource) -> CardOS:
    pin_only = pin_scb(USER_PIN)
    admin = CompactSecurityAttribute.build(
        {DF_CREATE_EF: pin_only, DF_CREATE_DF: pin_only, DF_DELETE_CHILD: pin_only}
    )
    public = CompactSecurityAttribute.build(
        {AccessMode.READ: SCB_ALWAYS, AccessMode.UPDATE: pin_only, AccessMode.DELETE: pin_only}
    )
    secret = CompactSecurityAttribute.build(
        {AccessMode.READ: pin_only, AccessMode.UPDATE: pin_only, AccessMode.DELETE: SCB_NEVER}
    )
    mf = DF(MF_FID, admin)
    mf.add(EF(0x2F01, public, data=bytearray(WELCOME), max_size=1024, sfi=1))
    app_df = DF(0x5000, admin, name=DEMO_DF_NAME)
    mf.add(app_df)
    serial = rng.token_bytes(8).hex().upper()
    app_df.add(EF(0x5001, public, data=bytearray(b"serial " + serial.encode()), max_size=256))
    app_df.add(EF(0x5002, secret, data=bytearray(b"the secret note"), max_size=256))
    app = IsoFileSystem(
        mf,
        pins={
            USER_PIN: Pin(b"123456", max_tries=3, min_length=4, max_length=8),
            PUK: Pin(b"12345678", max_tries=5, min_length=8, max_length=8),
        },
        unblockers={USER_PIN: PUK},
    )
    return CardOS([app], name="softcard", default_application=app, rng=rng)
