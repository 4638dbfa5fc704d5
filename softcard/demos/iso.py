"""The first look: ATR, SELECT, READ BINARY, a wrong and a right PIN through PC/SC."""

from __future__ import annotations

from wire.atr import parse_historical

from .session import DemoSession


def run(s: DemoSession) -> None:
    s.say("softcard demo: a software smart card behind pcscd, reached through pyscard")
    s.start_stack()
    s.start_card("iso")
    s.connect()

    s.step(f"The card answers to reset in reader '{s.reader}'")
    atr = bytes(s.connection.getATR())
    hist = parse_historical(atr)
    s.say(f"   ATR {atr.hex(' ').upper()}")
    s.say(f"   historical bytes name the card: {hist[2 : 2 + (hist[1] & 0x0F)].decode()!r}")

    s.step("SELECT the application DF by name, asking for its FCP")
    s.send("00 A4 04 04 09 F0 73 6F 66 74 63 61 72 64", "SELECT by DF name")

    s.step("Read a public file")
    s.send("00 A4 02 0C 02 50 01", "SELECT EF 5001")
    body, _ = s.send("00 B0 00 00 00", "READ BINARY")
    s.say(f"   = {body.decode(errors='replace')!r}")

    s.step("A PIN-protected file: refused, then a wrong PIN, then the right one")
    s.send("00 A4 02 0C 02 50 02", "SELECT EF 5002")
    s.send("00 B0 00 00 00", "READ BINARY without the PIN")
    s.send("00 20 00 81", "VERIFY with no data: how many tries are left?")
    s.send("00 20 00 81 06" + b"654321".hex(), "VERIFY a wrong PIN", secret=True)
    s.send("00 20 00 81 06" + b"123456".hex(), "VERIFY the right PIN", secret=True)
    s.send("00 20 00 81", "VERIFY with no data: verified now")
    body, _ = s.send("00 B0 00 00 00", "READ BINARY")
    s.say(f"   = {body.decode(errors='replace')!r}")
    s.send("00 20 FF 81", "VERIFY P1=FF: log out")
    s.send("00 20 00 81", "a good PIN restored the counter to 3")
