"""Hypothesis state machines: PIN, key and file operations per application, against a model.

Each machine drives a real card with random sequences of VERIFY, CHANGE, unblock,
reads, writes, authentication and power events, keeps a small model of what a
correct card must do, and checks every status word and, after every step, the
card's persistent state (counters, values, contents) against the model. The GIDS
machine also generates, uses and deletes keys, checks every signature against the
public key the card reports, and scans every response for the card's secrets.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from emulator import make_card
from emulator.core.card import CardOS
from emulator.core.rng import SeededRandom
from emulator.faults.fuzz import _piv_management
from emulator.faults.secrets import Secret, card_secrets, find_secrets
from emulator.profiles import gids as gids_profile
from tests.unit import test_access_matrix as matrix
from wire import tlv

SETTINGS = settings(max_examples=40, stateful_step_count=30, deadline=None)

# Digit strings drawn as text: filtering random bytes for digits trips hypothesis'
# filter_too_much health check now and then.
pins = st.text("0123456789", min_size=4, max_size=8).map(str.encode) | st.sampled_from(
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

    def new_twin(self) -> CardOS:
        """A fresh card of this kind to load the exported state into."""
        return make_card(self.kind, seed=1)

    @invariant()
    def state_round_trips(self) -> None:
        if not hasattr(self, "card"):
            return
        exported = self.card.export_state()
        twin = self.new_twin()
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
piv_pins = st.text("0123456789", min_size=6, max_size=8).map(str.encode)


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


# -- the GIDS card --------------------------------------------------------------------------

gids_pins = st.text("0123456789", min_size=4, max_size=16).map(str.encode) | st.sampled_from(
    [b"0000", b"654321", b"1234567890123456"]
)
# VERIFY data that cannot be a PIN (status query, too short, too long): never costs a try.
bad_length_pins = st.sampled_from([b"", b"123", b"1" * 17])
DO_EF = 0xA013  # UserReadWriteAc: GET and PUT need the PIN or the admin key (SCB 30)
DO_TAGS = st.sampled_from([0xDF21, 0xDF22, 0xDF23, 0xDF24])
# Key reference -> GENERATE mechanism: RSA-1024 (PKCS#1 signing) and P-256 (ECDSA).
KEY_SLOTS = {0x81: 0x06, 0x82: 0x0C}
WRONG_ADMIN_KEY = bytes(range(1, 25))
# A third of the data and key steps start with VERIFY (a random walk seldom holds the
# PIN long enough to reach a signature); fewer would starve them, more would never block.
LOGIN = st.sampled_from([False, False, True])
# Mostly P-256: an RSA-1024 generation costs ~75 ms, an EC one nothing.
KEY_REFS = st.sampled_from([0x81, 0x82, 0x82, 0x82])
GIDS_SELECT = bytes.fromhex(matrix.GIDS_SELECT.replace(" ", ""))


def _gids_apdu(ins: int, p1: int, p2: int, data: bytes = b"", le: bool = False) -> bytes:
    out = bytes((0x00, ins, p1, p2))
    if data:
        out += bytes((len(data),)) + data
    return out + (b"\x00" if le else b"")


def _gids_key_fcp(key_ref: int, mechanism: int) -> bytes:
    """A key EF as OpenSC creates it (gids.md 4.2): PIN for GENERATE/MSE, public key free."""
    sign_mode = 0x50 if mechanism < 0x0A else 0x10  # RSA: PKCS#1 on the card; ECDSA: raw
    crts = b"".join(
        tlv.encode(
            crt,
            tlv.encode(0x80, bytes((mode,)))
            + tlv.encode(0x83, bytes((key_ref,)))
            + tlv.encode(0x95, b"\x40"),
        )
        for crt, mode in ((0xB8, mechanism), (0xB6, sign_mode | mechanism))
    )
    return tlv.encode(
        0x62,
        tlv.encode(0x82, b"\x18")
        + tlv.encode(0x83, (0xB000 | key_ref).to_bytes(2, "big"))
        + tlv.encode(0x8C, bytes.fromhex("8F10101000"))
        + tlv.encode(0xA5, crts),
    )


def _valid_sw(sw: int) -> bool:
    """ISO 7816-4 status words: 61xx-6Fxx, 9xxx (the fuzz oracle's rule)."""
    return 0x61 <= sw >> 8 <= 0x6F or 0x90 <= sw >> 8 <= 0x9F


class GidsMachine(CardMachine):
    kind = "gids"
    # Key references a GENERATE succeeded on (the key may be gone again since).
    generated = Bundle("generated")

    @initialize()
    def fresh(self) -> None:
        self.card = matrix.gids_factory()
        self.card.power_on()
        self.pin, self.pin_tries = gids_profile.USER_PIN, 3
        self.verified = self.admin = False
        self.dos: dict[int, bytes] = {}  # the DOs of A013 (empty on the factory card)
        self.keys: dict[int, bytes | None] = {}  # key EF -> its public template (None: no key)
        self.written: list[bytes] = []  # what the session wrote: it may come back when read
        self.responses: list[tuple[bytes, bytes]] = []
        self.secrets: dict[bytes, Secret] = {}
        self.pins_used = {self.pin}
        assert self.send(GIDS_SELECT)[1] == 0x9000
        # Both key EFs exist at the start (as after a minidriver created the containers),
        # so that key generation and use are a few steps away; delete_key removes them.
        self.verify(right=True, wrong=b"")
        for key_ref in KEY_SLOTS:
            self.create_key_file(key_ref)
        self.log_out()

    def new_twin(self) -> CardOS:
        # A blank card takes the state as well as a personalised one, without the
        # personalisation's cost after every step.
        return gids_profile.build_blank(SeededRandom(1))

    def send(self, apdu: bytes) -> tuple[bytes, int]:
        out = self.card.transmit(apdu)
        assert len(out) >= 2 and _valid_sw(int.from_bytes(out[-2:], "big")), out.hex()
        data, sw = out[:-2], int.from_bytes(out[-2:], "big")
        while sw >> 8 == 0x61:
            out = self.card.transmit(bytes([0x00, 0xC0, 0x00, 0x00, sw & 0xFF]))
            assert len(out) >= 2 and _valid_sw(int.from_bytes(out[-2:], "big")), out.hex()
            data, sw = data + out[:-2], int.from_bytes(out[-2:], "big")
        self.responses.append((apdu, data))
        return data, sw

    @property
    def authorised(self) -> bool:
        """SCB 30: the PIN or the admin key."""
        return self.verified or self.admin

    # -- PIN --------------------------------------------------------------------------------

    @rule(right=st.booleans(), wrong=gids_pins | bad_length_pins)
    def verify(self, right: bool, wrong: bytes) -> None:
        candidate = self.pin if right else wrong
        _, sw = self.send(_gids_apdu(0x20, 0x00, 0x80, candidate))
        if self.pin_tries == 0:
            assert sw == 0x6983  # blocked: even the right PIN is refused
            self.verified = False
        elif candidate == self.pin:
            assert sw == 0x9000
            self.pin_tries, self.verified = 3, True
        elif not 4 <= len(candidate) <= 16:
            assert sw == 0x63C0 | self.pin_tries  # no try spent, no logout
        else:
            self.pin_tries -= 1
            self.verified = False
            assert sw == wrong_sw(self.pin_tries)

    @rule()
    def pin_status(self) -> None:
        data, sw = self.send(bytes.fromhex("00CB3FFF045C027F7100"))
        assert (data, sw) == (
            bytes.fromhex("7F71069701") + bytes((self.pin_tries,)) + bytes.fromhex("930103"),
            0x9000,
        )

    @rule()
    def log_out(self) -> None:
        assert self.send(bytes.fromhex("0020008200"))[1] == 0x9000
        self.verified = self.admin = False

    @rule(right=st.booleans(), new=gids_pins)
    def change_pin(self, right: bool, new: bytes) -> None:
        old = self.pin if right else bytes(len(self.pin))
        _, sw = self.send(_gids_apdu(0x24, 0x00, 0x80, old + new))
        if self.pin_tries == 0:
            assert sw == 0x6983
        elif right:
            assert sw == 0x9000
            self.pin, self.pin_tries, self.verified = new, 3, True
            self.pins_used.add(new)
        else:
            self.pin_tries -= 1
            self.verified = False
            assert sw == wrong_sw(self.pin_tries)

    @rule(new=gids_pins)
    def set_pin(self, new: bytes) -> None:
        """CHANGE REFERENCE DATA P1=01: a new PIN over a verified one, which logs it out."""
        _, sw = self.send(_gids_apdu(0x24, 0x01, 0x80, new))
        if self.verified:
            assert sw == 0x9000
            self.pin, self.pin_tries, self.verified = new, 3, False
            self.pins_used.add(new)
        else:
            assert sw == 0x6982

    @rule(right=st.booleans())
    def authenticate_admin(self, right: bool) -> None:
        sw = matrix.gids_admin(self.card, gids_profile.ADMIN_KEY if right else WRONG_ADMIN_KEY)
        assert sw == (0x9000 if right else 0x6982)
        self.admin = right

    @rule()
    def block(self) -> None:
        """Wrong PINs until the counter is spent; then the right one is refused too."""
        while self.pin_tries:
            self.verify(right=False, wrong=bytes(b ^ 1 for b in self.pin))  # still digits
        self.verify(right=True, wrong=b"")
        assert not self.verified

    @rule(new=gids_pins, authenticate=st.booleans())
    def unblock(self, new: bytes, authenticate: bool) -> None:
        """RESET RETRY COUNTER with the admin key: new PIN, full tries, everybody logged out."""
        if authenticate:
            self.authenticate_admin(right=True)
        _, sw = self.send(_gids_apdu(0x2C, 0x02, 0x80, new))
        if self.admin:
            assert sw == 0x9000
            self.pin, self.pin_tries = new, 3
            self.verified = self.admin = False
            self.pins_used.add(new)
        else:
            assert sw == 0x6982

    @rule(kind=st.sampled_from(["power", "reset", "reselect"]))
    def lose_security_state(self, kind: str) -> None:
        if kind == "power":
            self.card.power_off()
            self.card.power_on()  # GIDS is selected at power-on
        elif kind == "reset":
            self.card.reset()
        else:
            # GidsApplet: selecting the application, even again, logs everybody out.
            assert self.send(GIDS_SELECT)[1] == 0x9000
        self.verified = self.admin = False

    # -- DOs in a user-writable EF ----------------------------------------------------------

    def _put(self, tag: int, value: bytes) -> None:
        data = tlv.encode(tag, value)
        _, sw = self.send(_gids_apdu(0xDB, DO_EF >> 8, DO_EF & 0xFF, data))
        if not self.authorised:
            assert sw == 0x6982
            return
        assert sw == 0x9000
        self.written.append(value)
        # GidsApplet's semantics: an empty write empties a DO, a second one deletes it.
        if value or self.dos.get(tag) or tag not in self.dos:
            self.dos[tag] = value
        else:
            del self.dos[tag]

    def _maybe_log_in(self, login: bool) -> None:
        if login:
            self.verify(right=True, wrong=b"")

    @rule(tag=DO_TAGS, value=st.binary(max_size=200), login=LOGIN)
    def put_do(self, tag: int, value: bytes, login: bool) -> None:
        self._maybe_log_in(login)
        self._put(tag, value)

    @rule(tag=DO_TAGS)
    def delete_do(self, tag: int) -> None:
        """As OpenSC deletes a file's DO: empty writes until it is gone."""
        for _ in range(2):
            self._put(tag, b"")
            if tag not in self.dos:
                break

    @rule(tag=DO_TAGS, login=LOGIN)
    def get_do(self, tag: int, login: bool) -> None:
        self._maybe_log_in(login)
        data, sw = self.send(
            _gids_apdu(
                0xCB, DO_EF >> 8, DO_EF & 0xFF, bytes((0x5C, 2)) + tag.to_bytes(2, "big"), le=True
            )
        )
        if not self.authorised:
            assert (sw, data) == (0x6982, b"")
        elif tag not in self.dos:
            assert (sw, data) == (0x6A88, b"")
        else:
            assert (sw, data) == (0x9000, tlv.encode(tag, self.dos[tag]))

    @rule()
    def get_whole_ef(self) -> None:
        data, sw = self.send(_gids_apdu(0xCB, DO_EF >> 8, DO_EF & 0xFF, b"\x5c\x00", le=True))
        if not self.authorised:
            assert sw == 0x6982
            return
        assert sw == 0x9000
        assert {t.tag: t.value for t in tlv.parse(data)} == self.dos

    # -- keys -------------------------------------------------------------------------------

    @rule(key_ref=st.sampled_from(sorted(KEY_SLOTS)))
    def create_key_file(self, key_ref: int) -> None:
        fcp = _gids_key_fcp(key_ref, KEY_SLOTS[key_ref])
        _, sw = self.send(_gids_apdu(0xE0, 0, 0, fcp))
        if not self.authorised:
            assert sw == 0x6982
        elif key_ref in self.keys:
            assert sw == 0x6984  # GidsApplet: a duplicate FID is "bad data"
        else:
            assert sw == 0x9000
            assert self.send(bytes.fromhex("00440000"))[1] == 0x9000
            self.keys[key_ref] = None

    @rule(target=generated, key_ref=KEY_REFS, login=LOGIN)
    def generate(self, key_ref: int, login: bool) -> MultipleResults[int]:
        self._maybe_log_in(login)
        body = tlv.encode(0x80, bytes((KEY_SLOTS[key_ref],))) + tlv.encode(0x83, bytes((key_ref,)))
        data, sw = self.send(_gids_apdu(0x47, 0, 0, tlv.encode(0xAC, body), le=True))
        if key_ref not in self.keys:
            assert sw == 0x6984
        elif not self.verified:
            assert sw == 0x6982  # the key EF's GENERATE SCB is 10: the PIN, not the admin key
        else:
            assert sw == 0x9000 and data[:2] == b"\x7f\x49"
            self.keys[key_ref] = data
            return multiple(key_ref)
        return multiple()

    @rule(key_ref=st.sampled_from(sorted(KEY_SLOTS)))
    def get_public_key(self, key_ref: int) -> None:
        data, sw = self.send(
            bytes.fromhex(f"00CB3FFF0A700884 01{key_ref:02X} A5037F498000".replace(" ", ""))
        )
        if key_ref not in self.keys:
            assert sw == 0x6984
        elif self.keys[key_ref] is None:
            assert sw == 0x6F00  # GidsApplet throws on an empty key EF
        else:
            assert (data, sw) == (self.keys[key_ref], 0x9000)

    @rule(key_ref=generated, message=st.binary(max_size=64), login=st.booleans())
    def sign_with_a_generated_key(self, key_ref: int, message: bytes, login: bool) -> None:
        self.sign(key_ref, message, login)

    @rule(key_ref=KEY_REFS, message=st.binary(max_size=64), login=LOGIN)
    def sign(self, key_ref: int, message: bytes, login: bool) -> None:
        self._maybe_log_in(login)
        mechanism = KEY_SLOTS[key_ref]
        rsa_key = mechanism < 0x0A
        dst = (0x50 if rsa_key else 0x10) | mechanism
        mse = _gids_apdu(0x22, 0x41, 0xB6, bytes((0x80, 1, dst, 0x84, 1, key_ref)))
        _, sw = self.send(mse)
        if key_ref not in self.keys:
            assert sw == 0x6984
            return
        if not self.verified:
            assert sw == 0x6982  # the PIN is checked at MSE (GidsApplet)
            return
        assert sw == 0x9000
        digest = hashlib.sha256(message).digest()
        payload = (
            bytes.fromhex("3031300D060960864801650304020105000420") + digest if rsa_key else digest
        )
        signature, sw = self.send(_gids_apdu(0x2A, 0x9E, 0x9A, payload, le=True))
        if self.keys[key_ref] is None:
            assert sw == 0x6985
            return
        assert sw == 0x9000
        # Verified with the public key as the card reports it now, not as generated.
        template, sw = self.send(bytes.fromhex(f"00CB3FFF0A70088401{key_ref:02X}A5037F498000"))
        assert sw == 0x9000 and template == self.keys[key_ref]
        fields = tlv.to_dict(tlv.parse_one(template, 0x7F49).value)
        if rsa_key:
            public = rsa.RSAPublicNumbers(
                int.from_bytes(fields[0x82], "big"), int.from_bytes(fields[0x81], "big")
            ).public_key()
            public.verify(signature, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        else:
            point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), fields[0x86])
            point.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))

    @rule(key_ref=st.sampled_from(sorted(KEY_SLOTS)))
    def delete_key(self, key_ref: int) -> None:
        _, sw = self.send(_gids_apdu(0xA4, 0x00, 0x0C, (0xB000 | key_ref).to_bytes(2, "big")))
        if key_ref not in self.keys:
            assert sw == 0x6A82
            return
        assert sw == 0x9000
        # No DELETE bit in the key EF's access mode: GidsApplet lets anyone delete it.
        assert self.send(bytes.fromhex("00E40000"))[1] == 0x9000
        del self.keys[key_ref]

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def persistent_state_matches_the_model(self) -> None:
        if not hasattr(self, "card"):
            return
        state = self.state()
        assert state["pin"]["tries"] == self.pin_tries
        assert bytes.fromhex(state["pin"]["value"]) == self.pin
        files = {int(f["fid"], 16): f for f in state["files"]}
        objects = {int(t, 16): bytes.fromhex(v) for t, v in files[DO_EF]["objects"]}
        assert objects == self.dos
        keys = {fid & 0xFF: f["key"] is not None for fid, f in files.items() if fid >> 8 == 0xB0}
        model = {ref: public is not None for ref, public in self.keys.items()}
        assert keys == {0x80: True, **model}

    @invariant()
    def no_response_holds_a_secret(self) -> None:
        """No PIN (any ever set) and no private-key byte string in any answer."""
        if not hasattr(self, "card"):
            return
        for found in card_secrets(self.card):
            self.secrets.setdefault(found.value, found)
        for pin in self.pins_used:  # even a PIN too short or too plain for the generic scan
            self.secrets.setdefault(pin, Secret("user PIN", pin))
        for command, data in self.responses:
            leaks = [
                s.label
                for s in find_secrets(data, self.secrets.values())
                if not any(find_secrets(w, [s]) for w in self.written)
            ]
            assert not leaks, f"{leaks} in the answer to {command.hex()}"
        self.responses.clear()


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
TestGidsStateMachine = GidsMachine.TestCase
TestGidsStateMachine.settings = SETTINGS
