"""Fault injection, in process: rules, matching, every action, files, the CLI option."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from emulator import make_card
from emulator.core.card import CardOS
from emulator.faults import (
    AnswerStatus,
    CardRemoved,
    Delay,
    FaultError,
    FaultInjector,
    FaultRule,
    Match,
    RemoveCard,
    RemoveWhen,
    SpontaneousReset,
    TearWrite,
    Truncate,
    dump_rules,
    load_rules,
    parse_rule,
    tear_state,
    write_size,
)
from softcard.cli.main import main

SELECT_WELCOME = bytes.fromhex("00A4020C022F01")
READ_5 = bytes.fromhex("00B0000005")
VERIFY_OK = bytes.fromhex("0020008106") + b"123456"
VERIFY_BAD = bytes.fromhex("0020008106") + b"000000"
SELECT_SECRET = [bytes.fromhex("00A4000C025000"), bytes.fromhex("00A4020C025002")]
PIV_SELECT = bytes.fromhex("00A4040C0BA000000308000010000100")


def welcome(card: CardOS) -> bytes:
    ef = card.application("iso").mf.children[0x2F01]  # type: ignore[attr-defined]
    return bytes(ef.data)


@pytest.fixture
def card() -> CardOS:
    c = make_card("iso", seed=7)
    c.power_on()
    return c


# -- rules as data -------------------------------------------------------------------------


def test_rule_text_round_trips_through_describe() -> None:
    rule = parse_rule("status sw=6581 ins=D6 nth=2 times=3 app=iso prefix=00D6")
    assert rule == FaultRule(
        AnswerStatus(0x6581), Match(ins=0xD6, app="iso", prefix=b"\x00\xd6"), 2, 3
    )
    assert parse_rule(rule.describe()) == rule
    always = parse_rule("delay seconds=0.5 times=always")
    assert always.times is None and parse_rule(always.describe()) == always


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("explode", "unknown action 'explode'"),
        ("status", "needs sw"),
        ("status sw=1234", "status word"),
        ("status sw=9000 ins=ZZ", "ins must be one hex byte"),
        ("delay seconds=soon", "seconds must be a number"),
        ("truncate keep=1 colour=red", "unknown field 'colour'"),
        ("status sw=6581 nth=0", "nth must be at least 1"),
        ("remove when=during", "when must be before or after"),
    ],
)
def test_bad_rules_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(FaultError, match=message):
        parse_rule(text)


def test_rules_load_from_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "f.toml"
    toml.write_text(
        '[[rules]]\naction = "status"\nsw = "6581"\nins = "D6"\nnth = 2\n\n'
        '[[rules]]\naction = "remove"\nmatch = { ins = "20" }\nreinsert_after = 2.0\n'
    )
    rules = load_rules(toml)
    assert rules == [
        FaultRule(AnswerStatus(0x6581), Match(ins=0xD6), nth=2),
        FaultRule(RemoveCard(RemoveWhen.BEFORE, 2.0), Match(ins=0x20)),
    ]
    js = tmp_path / "f.json"
    js.write_text(dump_rules(rules))
    assert load_rules(js) == rules
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rules": [{"action": "status", "sw": "6581"}, {"action": "x"}]}))
    with pytest.raises(FaultError, match=r"bad.json: rule 2: unknown action 'x'"):
        load_rules(bad)


def test_cli_names_a_bad_fault_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "faults.toml"
    bad.write_text('[[rules]]\naction = "status"\nsw = "12"\n')
    assert main(["run", "--faults", str(bad), "--vpcd", "127.0.0.1:1"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "faults.toml: rule 1: sw must be a status word" in err[0]


# -- matching and counting -----------------------------------------------------------------


def test_status_fires_on_the_nth_match_only(card: CardOS) -> None:
    inj = FaultInjector.attach(card)
    rid = inj.add(parse_rule("status sw=6581 ins=B0 nth=2"))
    card.transmit(SELECT_WELCOME)
    answers = [card.transmit(READ_5)[-2:].hex().upper() for _ in range(3)]
    assert answers == ["9000", "6581", "9000"]
    (state,) = inj.list()
    assert (state.id, state.seen, state.fired, state.exhausted) == (rid, 2, 1, True)
    assert inj.fired[0].kind == "status" and inj.fired[0].command == READ_5


def test_status_without_execute_keeps_the_write_away_from_the_card(card: CardOS) -> None:
    inj = FaultInjector.attach(card)
    card.transmit(VERIFY_OK)
    card.transmit(SELECT_WELCOME)
    inj.add(FaultRule(AnswerStatus(0x6581), Match(ins=0xD6)))
    assert card.transmit(bytes.fromhex("00D6000002AAAA")) == b"\x65\x81"
    assert welcome(card).startswith(b"We")
    inj.add(FaultRule(AnswerStatus(0x6581, execute=True), Match(ins=0xD6)))
    assert card.transmit(bytes.fromhex("00D6000002BBBB")) == b"\x65\x81"
    assert welcome(card).startswith(b"\xbb\xbb")


def test_match_by_application_class_and_prefix() -> None:
    card = make_card("piv", seed=3)
    inj = FaultInjector.attach(card)
    inj.add(parse_rule("status sw=6A82 app=iso times=always"))
    inj.add(parse_rule("status sw=6F01 app=piv prefix=00CB3FFF times=always"))
    inj.add(parse_rule("status sw=6E01 cla=80 times=always"))
    assert card.transmit(PIV_SELECT)[-2:] == b"\x90\x00"
    assert card.transmit(bytes.fromhex("00CB3FFF055C035FC102"))[-2:] == b"\x6f\x01"
    assert card.transmit(bytes.fromhex("80CB3FFF055C035FC102")) == b"\x6e\x01"
    assert card.transmit(bytes.fromhex("00FD000000"))[-2:] == b"\x90\x00"


def test_list_remove_clear_and_detach(card: CardOS) -> None:
    inj = FaultInjector.attach(card)
    assert FaultInjector.attach(card) is inj
    a = inj.add(parse_rule("status sw=6581"))
    b = inj.add(parse_rule("delay seconds=0"))
    assert [r.id for r in inj.list()] == [a, b]
    assert inj.list()[0].to_dict()["sw"] == "6581"
    inj.remove(a)
    with pytest.raises(KeyError):
        inj.remove(a)
    inj.clear()
    assert inj.list() == []
    inj.add(parse_rule("status sw=6581 times=always"))
    inj.detach()
    assert card.interceptor is None
    assert card.transmit(SELECT_WELCOME) == b"\x90\x00"


# -- the actions ---------------------------------------------------------------------------


def test_delay_answers_late_and_correctly(card: CardOS) -> None:
    FaultInjector.attach(card).add(FaultRule(Delay(0.2), Match(ins=0xA4)))
    started = time.monotonic()
    assert card.transmit(SELECT_WELCOME) == b"\x90\x00"
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize("when", [RemoveWhen.BEFORE, RemoveWhen.AFTER])
def test_remove_drops_the_card_before_or_after_the_work(card: CardOS, when: RemoveWhen) -> None:
    card.transmit(VERIFY_OK)
    card.transmit(SELECT_WELCOME)
    FaultInjector.attach(card).add(FaultRule(RemoveCard(when, None), Match(ins=0xD6)))
    with pytest.raises(CardRemoved) as removed:
        card.transmit(bytes.fromhex("00D6000002CCCC"))
    assert removed.value.reinsert_after is None
    assert not card.powered
    assert welcome(card).startswith(b"\xcc\xcc") == (when == RemoveWhen.AFTER)


def test_truncate_keeps_the_first_bytes(card: CardOS) -> None:
    card.transmit(SELECT_WELCOME)
    FaultInjector.attach(card).add(FaultRule(Truncate(3), Match(ins=0xB0)))
    assert card.transmit(READ_5) == b"Wel"
    assert card.transmit(READ_5) == b"Welco\x90\x00"


def test_spontaneous_reset_forgets_the_verified_pin(card: CardOS) -> None:
    card.transmit(VERIFY_OK)
    for c in SELECT_SECRET:
        card.transmit(c)
    inj = FaultInjector.attach(card)
    inj.add(FaultRule(SpontaneousReset(), Match(ins=0xB0), nth=2))
    assert card.transmit(READ_5) == b"the s\x90\x00"
    # The reset also lost the selection: READ BINARY without a current EF.
    assert card.transmit(READ_5) == b"\x69\x86"
    for c in SELECT_SECRET:
        card.transmit(c)
    assert card.transmit(READ_5) == b"\x69\x82"


# -- torn writes ---------------------------------------------------------------------------


def test_tear_state_writes_the_first_bytes_in_order() -> None:
    old: dict[str, Any] = {"a": "00000000", "b": "1111", "n": 1, "gone": "aa", "pin": {"tries": 3}}
    new: dict[str, Any] = {
        "a": "00aabbcc",
        "b": "2222",
        "n": 2,
        "added": "ddee",
        "pin": {"tries": 2},
    }
    # Sorted keys: a (3 bytes from the first difference), added (2), b (2), gone (1), n (1).
    assert write_size(old, new) == 9
    assert tear_state(old, new, 0) == {**old, "pin": {"tries": 2}}
    assert tear_state(old, new, 1) == {**old, "a": "00aa0000", "pin": {"tries": 2}}
    assert tear_state(old, new, 4) == {**old, "a": "00aabbcc", "added": "dd", "pin": {"tries": 2}}
    assert tear_state(old, new, 7) == {**new, "gone": "aa", "n": 1}
    assert tear_state(old, new, 9) == new


def test_tear_leaves_part_of_an_update_binary_persisted(card: CardOS) -> None:
    saved: list[dict[str, Any]] = []
    card.persist = lambda: saved.append(card.export_state())
    card.transmit(VERIFY_OK)
    card.transmit(SELECT_WELCOME)
    inj = FaultInjector.attach(card)
    inj.add(FaultRule(TearWrite(4, reinsert_after=0.5), Match(ins=0xD6), nth=2))
    assert card.transmit(bytes.fromhex("00D6000002" + "5858")) == b"\x90\x00"  # 1st write: whole
    assert card.transmit(READ_5) == b"XXlco\x90\x00"  # a read between: not a write, not counted
    with pytest.raises(CardRemoved) as removed:
        card.transmit(bytes.fromhex("00D600000A") + b"ABCDEFGHIJ")
    assert removed.value.reinsert_after == 0.5
    assert welcome(card)[:12] == b"ABCDome to s"  # 4 new bytes, then the old "XXlcome to s"
    assert not card.powered
    assert saved[-1] == card.export_state()  # the torn state is what reached the disk
    assert "4 of 10 bytes written" in inj.fired[-1].detail


def test_pin_counters_are_never_torn(card: CardOS) -> None:
    # The counter is committed on its own before the comparison: a VERIFY writes nothing
    # a tear could take back, so the rule lets it through and stays armed.
    inj = FaultInjector.attach(card)
    inj.add(FaultRule(TearWrite(0), Match(ins=0x20)))
    assert card.transmit(VERIFY_BAD) == b"\x63\xc2"
    assert card.transmit(bytes.fromhex("0020008100")) == b"\x63\xc2"
    assert inj.list()[0].fired == 0 and not inj.fired


def test_tear_of_a_piv_object_keeps_the_old_bytes_beyond_the_tear() -> None:
    card = make_card("piv", seed=5)
    card.transmit(PIV_SELECT)
    from emulator.faults.fuzz import _piv_management

    _piv_management(card, card.transmit)
    put = bytes.fromhex("00DB3FFF") + bytes([13]) + bytes.fromhex("5C035FC1055306") + bytes(6)
    assert card.transmit(put) == b"\x90\x00"
    put2 = put[:-6] + b"\x11" * 6
    FaultInjector.attach(card).add(FaultRule(TearWrite(3), Match(ins=0xDB)))
    with pytest.raises(CardRemoved):
        card.transmit(put2)
    card.power_on()
    card.transmit(PIV_SELECT)
    answer = card.transmit(bytes.fromhex("00CB3FFF055C035FC105"))
    assert answer[-2:] == b"\x90\x00"
    assert answer[:-2].endswith(b"\x11\x11\x11\x00\x00\x00")


TEAR_TRIALS = 150


def test_tear_trials_lose_nothing_acknowledged() -> None:
    """Random bursts of acknowledged writes, then a torn one: every acknowledged byte stays,
    the torn write is exactly its first N bytes, the disk holds what the card holds."""
    import random

    rng = random.Random(5)
    torn_bytes = 0
    for _ in range(TEAR_TRIALS):
        card = make_card("iso", seed=7)
        saved: list[dict[str, Any]] = []
        card.persist = lambda c=card, s=saved: s.append(c.export_state())  # type: ignore[misc]
        card.power_on()
        assert card.transmit(VERIFY_OK) == b"\x90\x00"
        assert card.transmit(SELECT_WELCOME) == b"\x90\x00"
        model = bytearray(welcome(card))
        for _ in range(rng.randrange(0, 6)):
            offset, data = rng.randrange(0, 40), rng.randbytes(rng.randrange(1, 30))
            apdu = bytes([0x00, 0xD6, 0x00, offset, len(data)]) + data
            assert card.transmit(apdu) == b"\x90\x00"
            if offset + len(data) > len(model):
                model.extend(bytes(offset + len(data) - len(model)))
            model[offset : offset + len(data)] = data
        offset, data = rng.randrange(0, 40), rng.randbytes(rng.randrange(1, 30))
        after = rng.randrange(0, len(data) + 1)
        inj = FaultInjector.attach(card)
        inj.add(FaultRule(TearWrite(after, None), Match(ins=0xD6)))
        with pytest.raises(CardRemoved):
            card.transmit(bytes([0x00, 0xD6, 0x00, offset, len(data)]) + data)
        # The file is written from its first changed byte on (to the last changed byte, or
        # to its new end when it grows): the first `after` of those bytes, then power fails.
        old = bytes(model)
        new = bytearray(max(len(model), offset + len(data)))
        new[: len(model)] = model
        new[offset : offset + len(data)] = data
        diffs = [i for i in range(len(new)) if i >= len(old) or old[i] != new[i]]
        got = welcome(card)
        if not diffs:
            assert got == old
            span = 0
        else:
            span = (diffs[-1] + 1 if len(new) == len(old) else len(new)) - diffs[0]
            cut = diffs[0] + min(after, span)
            assert got == (bytes(new) if after >= span else bytes(new[:cut]) + old[cut:])
            # Everything acknowledged before, outside the torn span, is intact.
            assert got[: diffs[0]] == old[: diffs[0]]
        assert saved[-1] == card.export_state()
        torn_bytes += min(after, span)
        inj.detach()
        card.power_on()
        assert card.transmit(VERIFY_OK) == b"\x90\x00"
        assert card.transmit(SELECT_WELCOME) == b"\x90\x00"
    record_tear_trials(TEAR_TRIALS, torn_bytes)


def record_tear_trials(trials: int, torn_bytes: int) -> None:
    import os

    target = os.environ.get("SOFTCARD_TEAR_LOG")
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.write(json.dumps({"trials": trials, "torn_bytes_kept": torn_bytes}) + "\n")
