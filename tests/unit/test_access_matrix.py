"""Access control: every protected operation of each application, in every authentication state.

The table says what each operation needs; the test runs every (operation, state)
cell on a fresh card and expects success exactly when the state includes what
is needed (or one of its alternatives: GIDS' "PIN or admin"), and 6982
otherwise. Another test checks that the security state is gone after power off,
reset and (where the spec says so) reselection. An operation of several commands
(MSE then PSO) is judged by its first failing command: the setup steps (file
selection) succeed in every state.
`SOFTCARD_ACCESS_MATRIX_LOG=FILE` writes the matrix for scripts/reliability-report.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from emulator import make_card
from emulator.apps.gids.formats import ContainerMapRecord
from emulator.core.card import CardOS
from emulator.core.rng import SeededRandom
from emulator.faults.fuzz import _piv_management
from emulator.profiles import gids as gids_profile
from wire import tlv

Step = Callable[[CardOS], None]
PIN = "PIN"
ADMIN = "admin"
STATES: tuple[frozenset[str], ...] = (
    frozenset(),
    frozenset({PIN}),
    frozenset({ADMIN}),
    frozenset({PIN, ADMIN}),
)


@dataclass(frozen=True)
class Operation:
    name: str
    apdus: tuple[str, ...]  # the last one is judged; earlier ones set it up (selection)
    needs: frozenset[str] = frozenset()
    # Done with full rights before the cell's own power cycle (a key to sign with).
    prepare: tuple[str, ...] = field(default=())
    # Other sufficient states (a GIDS SCB 30: the user PIN or the admin key).
    or_needs: tuple[frozenset[str], ...] = ()

    def permitted(self, state: frozenset[str]) -> bool:
        return any(needed <= state for needed in (self.needs, *self.or_needs))


@dataclass(frozen=True)
class AppTable:
    kind: str
    select: str  # selects the application after power-on
    authenticate: dict[str, Step]
    operations: tuple[Operation, ...]
    states: tuple[frozenset[str], ...]
    # A factory-fresh card (GIDS: restored from a snapshot, its personalisation is slow).
    factory: Callable[[], CardOS] | None = None
    # The card selects the application at power-on (GIDS): a loss test must not select it
    # again, or the selection would clear the state, not the power cycle.
    selected_at_power_on: bool = False

    def new_card(self) -> CardOS:
        return self.factory() if self.factory is not None else make_card(self.kind, seed=2)


def send(card: CardOS, apdu: str) -> int:
    out = card.transmit(bytes.fromhex(apdu.replace(" ", "")))
    return int.from_bytes(out[-2:], "big")


ISO = AppTable(
    kind="iso",
    select="00 A4 00 0C 02 3F00",
    authenticate={PIN: lambda c: _check(c, "00 20 00 81 06" + b"123456".hex())},
    states=STATES[:2],
    operations=(
        Operation("READ BINARY public EF 2F01", ("00 A4 02 0C 02 2F01", "00 B0 00 00 05")),
        Operation(
            "READ BINARY secret EF 5002",
            ("00 A4 08 0C 04 5000 5002", "00 B0 00 00 05"),
            frozenset({PIN}),
        ),
        Operation(
            "UPDATE BINARY EF 2F01",
            ("00 A4 02 0C 02 2F01", "00 D6 00 00 02 4142"),
            frozenset({PIN}),
        ),
        Operation(
            "UPDATE BINARY EF 5002",
            ("00 A4 08 0C 04 5000 5002", "00 D6 00 00 02 4142"),
            frozenset({PIN}),
        ),
        Operation(
            "CREATE FILE EF under MF",
            ("00 E0 00 00 10 62 0E 82 01 01 83 02 6001 80 02 0010 8C 01 00",),
            frozenset({PIN}),
        ),
        Operation("DELETE FILE EF 2F01", ("00 E4 00 00 02 2F01",), frozenset({PIN})),
        Operation(
            "DELETE FILE EF 5002 (never)",
            ("00 A4 08 0C 02 5000", "00 E4 00 00 02 5002"),
            frozenset({"never"}),
        ),
    ),
)

PIV_SIGN = "00 87 11 9A 26 7C 24 82 00 81 20" + "11" * 32

PIV = AppTable(
    kind="piv",
    select="00 A4 04 0C 0B A000000308000010000100",
    authenticate={
        PIN: lambda c: _check(c, "00 20 00 80 08 313233343536FFFF"),
        ADMIN: lambda c: _piv_management(c, c.transmit),
    },
    states=STATES,
    operations=(
        Operation("GET DATA CHUID", ("00 CB 3F FF 05 5C 03 5FC102 00",)),
        Operation("GET DATA discovery", ("00 CB 3F FF 03 5C 01 7E 00",)),
        Operation(
            "PUT DATA certificate 9A",
            ("00 DB 3F FF 0A 5C 03 5FC105 53 03 700100",),
            frozenset({ADMIN}),
        ),
        Operation("GENERATE KEY 9A P-256", ("00 47 00 9A 05 AC 03 80 01 11",), frozenset({ADMIN})),
        Operation(
            "SET MANAGEMENT KEY",
            ("00 FF FF FF 1B 03 9B 18" + "0102030405060708" * 3,),
            frozenset({ADMIN}),
        ),
        Operation("SET PIN RETRIES", ("00 FA 05 05",), frozenset({PIN, ADMIN})),
        Operation(
            "SIGN with 9A (PIN policy once)",
            (PIV_SIGN,),
            frozenset({PIN}),
            prepare=("00 47 00 9A 05 AC 03 80 01 11",),
        ),
        Operation(
            "IMPORT KEY 9C (P-256)", ("00 FE 11 9C 22 06 20" + "01" * 32,), frozenset({ADMIN})
        ),
    ),
)


# -- GIDS: the rules as gids-tool's profile sets them and GidsApplet evaluates them ------------
# SCB 00 free, FF never, 10 PIN, 20 admin, 30 PIN or admin, 9x/Ax PIN/admin mandatory,
# x2 contactless only (softcard is a contact card). The application DF: CREATE EF 30.
# DO EFs (gids.md 2.2): A000/A010 write 30 read 00, A011 write 30 read FF, A012 write 20
# read 00, A013 write 30 read 30, A014 write 20 read 20. Key EFs as OpenSC creates them
# (4.2): GENERATE, MSE, PUT KEY 10, GET PUBLIC KEY 00; the admin key B080: PUT KEY 20.
# No profile file names DELETE in its access mode, so deleting it needs nothing
# (GidsApplet, gids.md 8.1); a file whose rule does name it is checked.

GIDS_SELECT = "00 A4 04 0C 09 A0 00 00 03 97 42 54 46 59"
GIDS_VERIFY = "00 20 00 80 06" + gids_profile.USER_PIN.hex()
NEW_PIN = b"654321"
EITHER: tuple[frozenset[str], ...] = (frozenset({ADMIN}),)  # with needs={PIN}: SCB 30
NEVER = frozenset({"never"})


def _apdu(header: str, data: bytes, le: bool = False) -> str:
    return f"{header} {len(data):02X} {data.hex()}" + (" 00" if le else "")


def _put_do(ef: int, tag: int, value: bytes) -> str:
    return _apdu(f"00 DB {ef >> 8:02X} {ef & 0xFF:02X}", tlv.encode(tag, value))


def _create(fcp_body: bytes) -> tuple[str, str]:
    """CREATE FILE and ACTIVATE FILE (the new file is the current EF)."""
    return _apdu("00 E0 00 00", tlv.encode(0x62, fcp_body)), "00 44 00 00"


def _key_ef(key_ref: int, mechanism: int) -> tuple[str, str]:
    """A key-exchange key EF as OpenSC creates it (gids.md 4.2): sign and decipher CRTs."""
    crts = b"".join(
        tlv.encode(
            crt,
            tlv.encode(0x80, bytes((mode | mechanism,)))
            + tlv.encode(0x83, bytes((key_ref,)))
            + tlv.encode(0x95, b"\x40"),
        )
        for crt, mode in ((0xB8, 0x00), (0xB8, 0x80), (0xB8, 0x40), (0xB6, 0x10), (0xB6, 0x50))
    )
    return _create(
        tlv.encode(0x82, b"\x18")
        + tlv.encode(0x83, (0xB000 | key_ref).to_bytes(2, "big"))
        + tlv.encode(0x8C, bytes.fromhex("8F10101000"))
        + tlv.encode(0xA5, crts)
    )


def _do_ef(fid: int, rule: bytes) -> tuple[str, str]:
    body = tlv.encode(0x82, b"\x39") + tlv.encode(0x83, fid.to_bytes(2, "big"))
    return _create(body + tlv.encode(0x8C, rule))


def _acl_key_ef(scb: int | None) -> tuple[str, str]:
    """gids.md 6.9: key EF B089 for a 3DES key, PUT KEY under the given SCB (None: no 8C)."""
    rule = tlv.encode(0x8C, bytes((0x87, 0x00, scb, 0xFF))) if scb is not None else b""
    at = tlv.encode(0xA5, bytes.fromhex("A409 800102 830180 9501C0"))
    return _create(tlv.encode(0x82, b"\x18") + tlv.encode(0x83, b"\xb0\x89") + rule + at)


def _put_key(key_ref: int, key: bytes) -> str:
    value = tlv.encode(0x87, key) + tlv.encode(0x88, gids_profile.GIDS_TOOL_KCV)
    body = tlv.encode(0x84, bytes((key_ref,))) + tlv.encode(0xA5, value)
    return _apdu("00 DB 3F FF", tlv.encode(0x70, body))


KEY_B081 = _key_ef(0x81, 0x06)  # RSA-1024: fast to generate, same rules as any size
GENERATE_B081 = "00 47 00 00 08 AC 06 80 01 06 83 01 81 00"
SHA256_DIGEST_INFO = bytes.fromhex("3031300D060960864801650304020105000420") + bytes(range(32))
CMAP_RECORD = ContainerMapRecord("matrix-container", 0x03, 0, 1024).to_bytes()
KXC00 = bytes.fromhex("0100 0400 78DA") + bytes(range(16))  # a compressed-certificate header
ACL_ROWS: tuple[tuple[int | None, frozenset[str], tuple[frozenset[str], ...]], ...] = (
    (0x20, frozenset({ADMIN}), ()),
    (0x10, frozenset({PIN}), ()),
    (0x30, frozenset({PIN}), EITHER),
    (0xFF, NEVER, ()),
    (0x00, frozenset(), ()),
    (0x90, frozenset({PIN}), ()),
    (0xA0, frozenset({ADMIN}), ()),
    (None, frozenset(), ()),
    (0x91, frozenset({PIN}), ()),  # contact only: softcard is a contact card
    (0x92, NEVER, ()),  # contactless only
)


def gids_admin(card: CardOS, key: bytes = gids_profile.ADMIN_KEY) -> int:
    """Mutual authentication with the admin key as gids-tool does it (gids.md 3.3).

    Returns the final status word; on 9000 the card's cryptogram has been checked
    too, so both sides proved the key. 3-key 3DES, CBC, zero IV, written here from
    the spec rather than with the card's own code.
    """
    if (sw := send(card, "00 22 C1 A4 03 83 01 80")) != 0x9000:
        return sw
    host = bytes(range(0x10, 0x20))
    out = card.transmit(bytes.fromhex("00 87 00 00 14 7C 12 81 10".replace(" ", "")) + host + b"\0")
    if out[-2:] != b"\x90\x00":
        return int.from_bytes(out[-2:], "big")
    card_random = out[4:-2]
    z1 = bytes.fromhex("11223344556677")
    cipher = Cipher(TripleDES(key), modes.CBC(bytes(8)))
    enc = cipher.encryptor()
    cryptogram = enc.update(card_random + host + z1 + b"\x80") + enc.finalize()
    out = card.transmit(bytes.fromhex("008700002C7C2A8228") + cryptogram + b"\0")
    sw = int.from_bytes(out[-2:], "big")
    if sw == 0x9000:
        dec = cipher.decryptor()
        plain = dec.update(out[4:-2]) + dec.finalize()
        assert plain[:32] == host + card_random and plain[-1] == 0x80, "card cryptogram"
    return sw


@functools.cache
def _gids_factory_state() -> str:
    return json.dumps(make_card("gids", seed=2).export_state())


def gids_factory() -> CardOS:
    """The `gids` card as made, restored from its exported state (no personalisation run)."""
    card = gids_profile.build_blank(SeededRandom(2))
    card.replace_state(json.loads(_gids_factory_state()))
    return card


GIDS = AppTable(
    kind="gids",
    select=GIDS_SELECT,
    authenticate={
        PIN: lambda c: _check(c, GIDS_VERIFY),
        ADMIN: lambda c: _check_sw(gids_admin(c), "admin mutual authentication"),
    },
    states=STATES,
    factory=gids_factory,
    selected_at_power_on=True,
    operations=(
        Operation("GET DATA cardid (A012, read 00)", ("00 CB A0 12 04 5C 02 DF 20 00",)),
        Operation(
            "GET DATA public key B081 (7F49, 00)",
            ("00 CB 3F FF 0A 70 08 84 01 81 A5 03 7F 49 80 00",),
            prepare=(*KEY_B081, GENERATE_B081),
        ),
        Operation(
            "GET DATA DO of A013 (read 30)",
            ("00 CB A0 13 04 5C 02 DF 21 00",),
            frozenset({PIN}),
            prepare=(_put_do(0xA013, 0xDF21, b"user"),),
            or_needs=EITHER,
        ),
        Operation(
            "GET DATA DO of A014 (read 20)",
            ("00 CB A0 14 04 5C 02 DF 21 00",),
            frozenset({ADMIN}),
            prepare=(_put_do(0xA014, 0xDF21, b"admin"),),
        ),
        Operation(
            "GET DATA DO of A011 (read FF)",
            ("00 CB A0 11 04 5C 02 DF 21 00",),
            NEVER,
            prepare=(_put_do(0xA011, 0xDF21, b"execute"),),
        ),
        Operation(
            "PUT DATA cmapfile (A010, write 30)",
            (_put_do(0xA010, 0xDF23, CMAP_RECORD),),
            frozenset({PIN}),
            or_needs=EITHER,
        ),
        Operation(
            "PUT DATA kxc00 certificate (A010, write 30)",
            (_put_do(0xA010, 0xDF24, KXC00),),
            frozenset({PIN}),
            or_needs=EITHER,
        ),
        Operation(
            "PUT DATA cardid (A012, write 20)",
            (_put_do(0xA012, 0xDF20, bytes(range(16))),),
            frozenset({ADMIN}),
        ),
        Operation(
            "CREATE FILE DO EF A015 (application 30)",
            (_do_ef(0xA015, bytes.fromhex("033000"))[0],),
            frozenset({PIN}),
            or_needs=EITHER,
        ),
        Operation(
            "CREATE FILE key EF B081 (application 30)",
            (KEY_B081[0],),
            frozenset({PIN}),
            or_needs=EITHER,
        ),
        Operation(
            "GENERATE RSA-1024 in B081 (10)",
            (GENERATE_B081,),
            frozenset({PIN}),
            prepare=KEY_B081,
        ),
        Operation(
            "MSE + PSO sign PKCS#1 with B081 (MSE 10)",
            ("00 22 41 B6 06 80 01 56 84 01 81", _apdu("00 2A 9E 9A", SHA256_DIGEST_INFO, True)),
            frozenset({PIN}),
            prepare=(*KEY_B081, GENERATE_B081),
        ),
        Operation(
            "MSE + PSO decipher with B081 (MSE 10)",
            ("00 22 41 B8 06 80 01 06 84 01 81", _apdu("00 2A 80 86", b"\0" + b"\x11" * 127, True)),
            frozenset({PIN}),
            prepare=(*KEY_B081, GENERATE_B081),
        ),
        Operation(
            "CHANGE REFERENCE DATA old + new PIN",  # the old PIN is the proof
            (_apdu("00 24 00 80", gids_profile.USER_PIN + NEW_PIN),),
        ),
        Operation(
            "CHANGE REFERENCE DATA new PIN only (P1 01)",
            (_apdu("00 24 01 80", NEW_PIN),),
            frozenset({PIN}),
        ),
        Operation(
            "RESET RETRY COUNTER (unblock, admin)",
            (_apdu("00 2C 02 80", NEW_PIN),),
            frozenset({ADMIN}),
        ),
        Operation(
            "PUT KEY new admin key B080 (20)",
            (_put_key(0x80, bytes(range(1, 25))),),
            frozenset({ADMIN}),
        ),
        Operation(
            "DELETE FILE key EF B081 (no DELETE bit)",
            ("00 A4 00 0C 02 B081", "00 E4 00 00"),
            prepare=(*KEY_B081, GENERATE_B081),
        ),
        Operation("DELETE FILE DO EF A013 (no DELETE bit)", ("00 A4 00 0C 02 A013", "00 E4 00 00")),
        # The application's rule (AM 03) names CREATE EF and DELETE child only: anybody may
        # terminate it, as on GidsApplet (gids.md 2.11). A finding, kept applet-faithful.
        Operation("TERMINATE DF (no TERMINATE bit)", ("00 E6 00 00",)),
        Operation(
            "DELETE FILE DO EF A015 (DELETE 20)",
            ("00 A4 00 0C 02 A015", "00 E4 00 00"),
            frozenset({ADMIN}),
            prepare=_do_ef(0xA015, bytes.fromhex("43203000")),
        ),
        *(
            Operation(
                f"PUT KEY into key EF, PUT {'no 8C' if scb is None else f'{scb:02X}'} (6.9)",
                (_put_key(0x89, bytes(range(1, 25))),),
                needs,
                prepare=_acl_key_ef(scb),
                or_needs=alternatives,
            )
            for scb, needs, alternatives in ACL_ROWS
        ),
    ),
)

TABLES = {"iso": ISO, "piv": PIV, "gids": GIDS}


def _check(card: CardOS, apdu: str) -> None:
    _check_sw(send(card, apdu), apdu)


def _check_sw(sw: int, what: str) -> None:
    assert sw == 0x9000, f"{what}: {sw:04X}"


def prepared(table: AppTable, op: Operation) -> CardOS:
    """A fresh card, powered, with the application selected and the operation's setup done."""
    card = table.new_card()
    card.power_on()
    if op.prepare:
        send(card, table.select)
        for step in table.authenticate.values():
            step(card)
        for apdu in op.prepare:
            _check(card, apdu)
        card.power_off()
        card.power_on()
    send(card, table.select)
    return card


def run_apdus(card: CardOS, apdus: tuple[str, ...]) -> int:
    """The status word of the first command that fails, else of the last one."""
    sw = 0
    for apdu in apdus:
        sw = send(card, apdu)
        if not allowed(sw):
            break
    return sw


def run_cell(table: AppTable, op: Operation, state: frozenset[str]) -> int:
    card = prepared(table, op)
    for auth in sorted(state):
        table.authenticate[auth](card)
    return run_apdus(card, op.apdus)


def allowed(sw: int) -> bool:
    return sw == 0x9000 or sw >> 8 == 0x61


CELLS = [(t, op, s) for t in TABLES.values() for op in t.operations for s in t.states]


@pytest.mark.parametrize(
    ("table", "op", "state"),
    CELLS,
    ids=[f"{t.kind}-{op.name}-{'+'.join(sorted(s)) or 'none'}" for t, op, s in CELLS],
)
def test_operation_succeeds_exactly_with_the_authentication_it_needs(
    table: AppTable, op: Operation, state: frozenset[str]
) -> None:
    sw = run_cell(table, op, state)
    if op.permitted(state):
        assert allowed(sw), f"{op.name} with {sorted(state)}: {sw:04X}"
    else:
        assert sw == 0x6982, f"{op.name} with {sorted(state)}: {sw:04X}, expected 6982"
    record(table.kind, op.name, state, sw, op.permitted(state))


def record(kind: str, op: str, state: frozenset[str], sw: int, expected_allowed: bool) -> None:
    target = os.environ.get("SOFTCARD_ACCESS_MATRIX_LOG")
    if target:
        line = {
            "kind": kind,
            "operation": op,
            "state": "+".join(sorted(state)) or "none",
            "sw": f"{sw:04X}",
            "expected": "allowed" if expected_allowed else "denied",
            "ok": allowed(sw) == expected_allowed,
        }
        with open(target, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")


# -- the security state is volatile where the specs say ----------------------------------------


def _back(card: CardOS, table: AppTable) -> None:
    if not table.selected_at_power_on:
        send(card, table.select)


def _power_cycle(card: CardOS, table: AppTable) -> None:
    card.power_off()
    card.power_on()
    _back(card, table)


def _reset(card: CardOS, table: AppTable) -> None:
    card.reset()
    _back(card, table)


LOSSES: dict[str, Callable[[CardOS, AppTable], None]] = {
    "power off": _power_cycle,
    "reset": _reset,
}
GIDS_PROBES = (
    "PUT DATA cmapfile (A010, write 30)",  # PIN or admin: both must be gone
    "GENERATE RSA-1024 in B081 (10)",
    "RESET RETRY COUNTER (unblock, admin)",
)


def operation(kind: str, name: str) -> Operation:
    return next(o for o in TABLES[kind].operations if o.name == name)


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize(
    ("kind", "probe"),
    [("iso", "READ BINARY secret EF 5002"), ("piv", "PUT DATA certificate 9A"),
     ("piv", "SET PIN RETRIES"), *(("gids", probe) for probe in GIDS_PROBES)],
)  # fmt: skip
def test_authentication_is_gone_after_power_off_and_reset(kind: str, probe: str, loss: str) -> None:
    table = TABLES[kind]
    op = operation(kind, probe)
    card = prepared(table, op)
    for step in table.authenticate.values():
        step(card)
    LOSSES[loss](card, table)
    assert run_apdus(card, op.apdus) == 0x6982


def test_piv_reselection_keeps_and_other_selection_clears_the_security_state() -> None:
    card = make_card("piv", seed=2)
    card.power_on()
    send(card, PIV.select)
    PIV.authenticate[ADMIN](card)
    send(card, PIV.select)  # reselecting PIV: state kept (SP 800-73-4 part 2, 3.1.1)
    assert send(card, PIV.operations[2].apdus[0]) == 0x9000


def test_iso_pin_state_survives_file_selection_but_not_reset_status() -> None:
    card = make_card("iso", seed=2)
    card.power_on()
    ISO.authenticate[PIN](card)
    assert send(card, "00 A4 08 0C 04 5000 5002") == 0x9000
    assert send(card, "00 B0 00 00 05") == 0x9000
    assert send(card, "00 20 FF 81") == 0x9000  # VERIFY P1=FF: reset the security status
    assert send(card, "00 B0 00 00 05") == 0x6982


@pytest.mark.parametrize("probe", GIDS_PROBES)
def test_gids_reselection_logs_out_pin_and_admin_but_file_selection_does_not(probe: str) -> None:
    """gids.md 8.6: SELECT by AID logs everybody out, even of the selected application."""
    op = operation("gids", probe)
    card = prepared(GIDS, op)
    for step in GIDS.authenticate.values():
        step(card)
    assert send(card, "00 A4 00 0C 02 A010") == 0x9000  # selecting a file keeps the state
    assert send(card, "00 CB A0 14 04 5C 02 DF 20 00") in (0x6A88, 0x9000)  # admin read: allowed
    assert send(card, GIDS_SELECT) == 0x9000
    assert run_apdus(card, op.apdus) == 0x6982


def test_gids_logout_and_reselection_drop_the_security_environment() -> None:
    """An MSE made with the PIN does not outlive it: PSO after a logout has nothing to use."""
    sign = operation("gids", "MSE + PSO sign PKCS#1 with B081 (MSE 10)")
    for logout in ("00 20 00 82", GIDS_SELECT):
        card = prepared(GIDS, sign)
        GIDS.authenticate[PIN](card)
        _check(card, sign.apdus[0])
        _check(card, logout)
        assert send(card, sign.apdus[1]) == 0x6985, logout
