"""Hypothesis state machines: PIN, key and file operations per application, against a model.

Each machine drives a real card with random sequences of VERIFY, CHANGE, unblock,
reads, writes, authentication and power events, keeps a small model of what a
correct card must do, and checks every status word and, after every step, the
card's persistent state (counters, values, contents) against the model.
"""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from emulator import make_card
from emulator.core.card import CardOS
from emulator.faults.fuzz import _piv_management

SETTINGS = settings(max_examples=40, stateful_step_count=30, deadline=None)

pins = st.binary(min_size=4, max_size=8).filter(lambda b: b.isdigit()) | st.sampled_from(
    [b"1234", b"654321", b"00000000"]
)


def tries_sw(tries: int) -> int:
    """A status query: tries left, or blocked."""
    return 0x6983 if tries == 0 else 0x63C0 | tries


def wrong_sw(tries: int) -> int:
    """A failed comparison: tries left after it (63C0 on the one that blocks)."""
    return 0x63C0 | tries


class CardMachine(RuleBasedStateMachine):
    kind = "iso"
    card: CardOS

    def send(self, apdu: bytes) -> tuple[bytes, int]:
        out = self.card.transmit(apdu)
        data, sw = out[:-2], int.from_bytes(out[-2:], "big")
        while sw >> 8 == 0x61:
            out = self.card.transmit(bytes([0x00, 0xC0, 0x00, 0x00, sw & 0xFF]))
            data, sw = data + out[:-2], int.from_bytes(out[-2:], "big")
        return data, sw

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self.card.export_state()[self.kind]
        return result

    @invariant()
    def state_round_trips(self) -> None:
        if not hasattr(self, "card"):
            return
        exported = self.card.export_state()
        twin = make_card(self.kind, seed=1)
        twin.replace_state(exported)
        assert twin.export_state() == exported


# -- the ISO file-system card ---------------------------------------------------------------


class IsoMachine(CardMachine):
    kind = "iso"

    @initialize()
    def fresh(self) -> None:
        self.card = make_card("iso", seed=1)
        self.card.power_on()
        self.pin, self.pin_tries, self.puk, self.puk_tries = b"123456", 3, b"12345678", 5
        self.verified = False
        self.welcome = self.card.application("iso").mf.children[0x2F01].data[:]  # type: ignore[attr-defined]

    def verify_apdu(self, value: bytes) -> bytes:
        return bytes([0x00, 0x20, 0x00, 0x81, len(value)]) + value

    @rule(right=st.booleans(), wrong=pins)
    def verify(self, right: bool, wrong: bytes) -> None:
        candidate = self.pin if right else wrong
        _, sw = self.send(self.verify_apdu(candidate))
        if self.pin_tries == 0:
            assert sw == 0x6983
            self.verified = False
        elif candidate == self.pin:
            assert sw == 0x9000
            self.pin_tries, self.verified = 3, True
        else:
            self.pin_tries -= 1
            self.verified = False
            assert sw == wrong_sw(self.pin_tries)

    @rule()
    def pin_status(self) -> None:
        _, sw = self.send(bytes.fromhex("0020008100"))
        assert sw == (0x9000 if self.verified else tries_sw(self.pin_tries))

    @rule(right=st.booleans(), new=pins)
    def change_pin(self, right: bool, new: bytes) -> None:
        old = self.pin if right else bytes(len(self.pin))
        _, sw = self.send(bytes([0x00, 0x24, 0x00, 0x81, len(old) + len(new)]) + old + new)
        if self.pin_tries == 0:
            assert sw == 0x6983
        elif right:
            assert sw == 0x9000
            self.pin, self.pin_tries, self.verified = new, 3, True
        else:
            self.pin_tries -= 1
            assert sw == wrong_sw(self.pin_tries)

    @rule(right=st.booleans(), new=pins)
    def unblock(self, right: bool, new: bytes) -> None:
        code = self.puk if right else b"87654321"
        _, sw = self.send(bytes([0x00, 0x2C, 0x00, 0x81, len(code) + len(new)]) + code + new)
        if self.puk_tries == 0:
            assert sw == 0x6983
        elif right:
            assert sw == 0x9000
            self.pin, self.pin_tries, self.puk_tries = new, 3, 5
        else:
            self.puk_tries -= 1
            assert sw == wrong_sw(self.puk_tries)

    @rule()
    def read_secret(self) -> None:
        self.send(bytes.fromhex("00A4080C0450005002"))
        data, sw = self.send(bytes.fromhex("00B0000000"))
        if self.verified:
            assert (sw, data) == (0x9000, b"the secret note")
        else:
            assert (sw, data) == (0x6982, b"")

    @rule(data=st.binary(min_size=1, max_size=40))
    def update_welcome(self, data: bytes) -> None:
        self.send(bytes.fromhex("00A4000C023F00"))
        _, sw = self.send(bytes([0x00, 0xD6, 0x81, 0x00, len(data)]) + data)  # SFI 1 in the MF
        if self.verified:
            assert sw == 0x9000
            self.welcome[: len(data)] = data
        else:
            assert sw == 0x6982

    @rule(kind=st.sampled_from(["power", "reset", "deauth"]))
    def lose_security_state(self, kind: str) -> None:
        if kind == "power":
            self.card.power_off()
            self.card.power_on()
        elif kind == "reset":
            self.card.reset()
        else:
            assert self.send(bytes.fromhex("0020FF81"))[1] == 0x9000
        self.verified = False

    @invariant()
    def persistent_state_matches_the_model(self) -> None:
        if not hasattr(self, "card"):
            return
        state = self.state()
        assert state["pins"]["81"]["tries"] == self.pin_tries
        assert state["pins"]["82"]["tries"] == self.puk_tries
        assert bytes.fromhex(state["pins"]["81"]["value"]) == self.pin
        welcome = self.card.application("iso").mf.children[0x2F01].data  # type: ignore[attr-defined]
        assert welcome[: len(self.welcome)] == self.welcome


# -- the PIV card ---------------------------------------------------------------------------

PIV_SELECT = bytes.fromhex("00A4040C0BA000000308000010000100")
piv_pins = st.binary(min_size=6, max_size=8).filter(lambda b: b.isdigit())


def pad(value: bytes) -> bytes:
    return value.ljust(8, b"\xff")


class PivMachine(CardMachine):
    kind = "piv"

    @initialize()
    def fresh(self) -> None:
        self.card = make_card("piv", seed=1)
        self.card.power_on()
        self.pin, self.pin_tries, self.puk, self.puk_tries = b"123456", 3, b"12345678", 3
        self.verified = self.admin = False
        self.cert: bytes | None = None
        assert self.send(PIV_SELECT)[1] == 0x9000

    def _reference(self, ref: int, value: bytes, right: bool) -> int:
        return self.send(bytes([0x00, 0x20, 0x00, ref, 8]) + pad(value if right else b"999999"))[1]

    @rule(right=st.booleans())
    def verify(self, right: bool) -> None:
        sw = self._reference(0x80, self.pin, right)
        if self.pin_tries == 0:
            assert sw == 0x6983
            self.verified = False
        elif right:
            assert sw == 0x9000
            self.pin_tries, self.verified = 3, True
        else:
            self.pin_tries -= 1
            self.verified = False
            assert sw == wrong_sw(self.pin_tries)

    @rule(right=st.booleans(), new=piv_pins)
    def change_pin(self, right: bool, new: bytes) -> None:
        old = pad(self.pin if right else b"999999")
        _, sw = self.send(bytes([0x00, 0x24, 0x00, 0x80, 16]) + old + pad(new))
        # Like a YubiKey: a successful change leaves the PIN verified, any attempt clears it.
        self.verified = False
        if self.pin_tries == 0:
            assert sw == 0x6983
        elif right:
            assert sw == 0x9000
            self.pin, self.pin_tries, self.verified = new, 3, True
        else:
            self.pin_tries -= 1
            assert sw == wrong_sw(self.pin_tries)

    @rule(right=st.booleans(), new=piv_pins)
    def unblock(self, right: bool, new: bytes) -> None:
        code = pad(self.puk if right else b"87654321")
        _, sw = self.send(bytes([0x00, 0x2C, 0x00, 0x80, 16]) + code + pad(new))
        if self.puk_tries == 0:
            assert sw == 0x6983
        elif right:
            assert sw == 0x9000
            self.pin, self.pin_tries, self.puk_tries = new, 3, 3
        else:
            self.puk_tries -= 1
            assert sw == wrong_sw(self.puk_tries)

    @rule()
    def authenticate_management_key(self) -> None:
        _piv_management(self.card, self.card.transmit)
        self.admin = True

    @rule(body=st.binary(min_size=1, max_size=300))
    def put_certificate_object(self, body: bytes) -> None:
        value = bytes([0x53]) + _length(len(body)) + body
        data = bytes.fromhex("5C035FC105") + value
        header = bytes([0x00, 0xDB, 0x3F, 0xFF])
        if len(data) > 255:
            header = bytes([0x10, 0xDB, 0x3F, 0xFF])
            first, data = data[:200], data[200:]
            self.card.transmit(header + bytes([len(first)]) + first)
            header = bytes([0x00, 0xDB, 0x3F, 0xFF])
        _, sw = self.send(header + bytes([len(data)]) + data)
        if self.admin:
            assert sw == 0x9000
            self.cert = body
        else:
            assert sw == 0x6982

    @rule()
    def get_certificate_object(self) -> None:
        data, sw = self.send(bytes.fromhex("00CB3FFF055C035FC10500"))
        if self.cert is None:
            assert sw == 0x6A82
        else:
            assert sw == 0x9000 and data.endswith(self.cert)

    @rule(kind=st.sampled_from(["power", "reset", "reselect"]))
    def lose_security_state(self, kind: str) -> None:
        if kind == "power":
            self.card.power_off()
            self.card.power_on()
            self.verified = self.admin = False
        elif kind == "reset":
            self.card.reset()
            self.verified = self.admin = False
        else:
            # SP 800-73-4: selecting the PIV application again keeps the security state.
            assert self.send(PIV_SELECT)[1] == 0x9000

    @precondition(lambda self: self.pin_tries > 0)
    @rule()
    def pin_status(self) -> None:
        _, sw = self.send(bytes.fromhex("0020008000"))
        assert sw == (0x9000 if self.verified else tries_sw(self.pin_tries))

    @invariant()
    def persistent_state_matches_the_model(self) -> None:
        if not hasattr(self, "card"):
            return
        pins = self.state()["pins"]
        assert (pins["pin"]["tries"], pins["puk"]["tries"]) == (self.pin_tries, self.puk_tries)
        assert bytes.fromhex(pins["pin"]["value"]) == pad(self.pin)


def _length(n: int) -> bytes:
    return (
        bytes([n])
        if n < 0x80
        else bytes([0x81, n])
        if n < 0x100
        else bytes([0x82]) + n.to_bytes(2, "big")
    )


TestIsoStateMachine = IsoMachine.TestCase
TestIsoStateMachine.settings = SETTINGS
TestPivStateMachine = PivMachine.TestCase
TestPivStateMachine.settings = SETTINGS
