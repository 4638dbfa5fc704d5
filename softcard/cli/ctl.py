"""`softcard ctl`: drive the cards of running `softcard run` processes over their control socket.

softcard ctl list
softcard ctl insert|remove READER [--no-wait]
softcard ctl reset READER [--factory] [--no-wait]
softcard ctl fault add READER RULE... | fault list|clear READER | fault remove READER ID
softcard ctl trace READER [--last N] [--clear] [-v] [--json]

READER is a slot number (as `softcard run --reader N`) or a reader name. Without
--socket, the `softcard run` serving READER is found among the running ones.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..control import ControlClient, ControlError, live_sockets
from ..stack import StackError
from .errors import CliError

WAIT_TIMEOUT = 10.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "ctl",
        help="insert, remove, reset, fault or trace the cards of a running 'softcard run'",
        description="Talk to running 'softcard run' processes over their control socket. "
        "READER is a slot number or a reader name ('Virtual PCD 00 01').",
    )
    p.add_argument(
        "--socket", metavar="PATH", type=Path, help="this control socket (default: find it)"
    )
    p.add_argument("--json", action="store_true", help="print the answers as JSON")
    actions = p.add_subparsers(dest="ctl_command", metavar="ACTION", required=True)

    actions.add_parser("list", help="the readers of every running softcard run").set_defaults(
        func=cmd_list
    )
    for name, text in (
        ("insert", "put the card back in the reader"),
        ("remove", "take the card out of the reader"),
        ("reset", "pull the card and put it back: its volatile state (PINs, selections) goes"),
    ):
        a = actions.add_parser(name, help=text)
        a.add_argument("reader", metavar="READER")
        a.add_argument(
            "--no-wait",
            action="store_true",
            help="return at once instead of waiting until PC/SC reports the change",
        )
        if name == "reset":
            a.add_argument(
                "--factory",
                action="store_true",
                help="also restore the state the reader started with (factory or image as loaded)",
            )
        a.set_defaults(func=cmd_move, move=name)

    fault = actions.add_parser("fault", help="add, list, remove or clear fault rules of a reader")
    faults = fault.add_subparsers(dest="fault_action", metavar="ACTION", required=True)
    add = faults.add_parser("add", help="add a rule, e.g. 'status sw=6581 ins=D6 nth=2'")
    add.add_argument("reader", metavar="READER")
    add.add_argument("rule", metavar="RULE", nargs="+", help="the rule, as in docs/reliability.md")
    for name, text in (("list", "the rules and their counters"), ("clear", "remove every rule")):
        f = faults.add_parser(name, help=text)
        f.add_argument("reader", metavar="READER")
    remove = faults.add_parser("remove", help="remove one rule by its id")
    remove.add_argument("reader", metavar="READER")
    remove.add_argument("id", metavar="ID", type=int)
    fault.set_defaults(func=cmd_fault)

    trace = actions.add_parser("trace", help="the decoded APDU trace of a reader (secrets masked)")
    trace.add_argument("reader", metavar="READER")
    trace.add_argument("--last", type=int, metavar="N", help="only the last N records")
    trace.add_argument("--clear", action="store_true", help="empty the trace after reading it")
    trace.add_argument("-v", "--verbose", action="count", default=0, help="-v, -vv: more detail")
    trace.set_defaults(func=cmd_trace)


def _reader_key(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _client(args: argparse.Namespace, reader: int | str | None = None) -> ControlClient:
    if args.socket is not None:
        return ControlClient(args.socket)
    return ControlClient.find(reader)


def _wait(reader: str, present: bool) -> None:
    from ..harness import wait_card_state

    try:
        wait_card_state(reader, present, WAIT_TIMEOUT)
    except StackError as e:
        raise CliError(f"{e} (use --no-wait when this shell cannot reach that pcscd)") from None


def _emit(args: argparse.Namespace, answer: Any, text: str) -> None:
    print(json.dumps(answer, indent=2) if args.json else text)


def cmd_list(args: argparse.Namespace) -> int:
    try:
        paths = [args.socket] if args.socket is not None else live_sockets()
        servers = [(path, ControlClient(path).request("list")) for path in paths]
    except ControlError as e:
        raise CliError(str(e)) from None
    if args.json:
        print(json.dumps([{"socket": str(p), **a} for p, a in servers], indent=2))
        return 0
    if not servers:
        print("no softcard run is running")
    for path, answer in servers:
        print(f"softcard run pid {answer['pid']}, control socket {path}")
        for r in answer["readers"]:
            state = "card in" if r["present"] else "empty"
            print(f"  {r['slot']:>2}  {r['reader']:<24} {state:<8} {r['kind']:<10} {r['source']}")
    return 0


def cmd_move(args: argparse.Namespace) -> int:
    key = _reader_key(args.reader)
    try:
        client = _client(args, key)
        if args.move == "insert":
            info = client.insert(key)
        elif args.move == "remove":
            info = client.remove(key)
        elif args.no_wait:
            info = client.reset(key, factory=args.factory)
        else:
            # Out, seen out, then in: a waiting client never misses the removal.
            info = client.remove(key)
            _wait(info["reader"], False)
            client.reset(key, factory=args.factory)
            info = client.insert(key)
    except ControlError as e:
        raise CliError(str(e)) from None
    if not args.no_wait:
        _wait(info["reader"], args.move != "remove")
    done = {"insert": "inserted into", "remove": "removed from", "reset": "reset in"}[args.move]
    _emit(args, info, f"softcard: card {done} reader '{info['reader']}'")
    return 0


def cmd_fault(args: argparse.Namespace) -> int:
    key = _reader_key(args.reader)
    try:
        client = _client(args, key)
        if args.fault_action == "add":
            rule_id = client.add_fault(key, " ".join(args.rule))
            text = f"softcard: fault rule {rule_id} added"
            _emit(args, {"id": rule_id}, text)
            return 0
        if args.fault_action == "remove":
            client.remove_fault(key, args.id)
        elif args.fault_action == "clear":
            client.clear_faults(key)
        rules = client.faults(key)
    except ControlError as e:
        raise CliError(str(e)) from None
    lines = [
        f"{r['id']:>3}  seen {r['seen']:<4} fired {r['fired']:<4} "
        + " ".join(f"{k}={v}" for k, v in r.items() if k not in ("id", "seen", "fired"))
        for r in rules
    ]
    _emit(args, rules, "\n".join(lines) if lines else "no fault rules")
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    from emulator.trace import Renderer

    if args.last is not None and args.last < 1:
        raise CliError("--last: give a number of records, 1 or more")
    key = _reader_key(args.reader)
    try:
        records = _client(args, key).trace(key, last=args.last, clear=args.clear)
    except ControlError as e:
        raise CliError(str(e)) from None
    if args.json:
        for record in records:
            print(json.dumps(record.to_json()))
        return 0
    renderer = Renderer(args.verbose)
    for record in records:
        for line in renderer.lines(record):
            print(line)
    return 0
