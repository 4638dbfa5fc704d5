"""The GIDS flow: OpenSC generates a key on the GIDS card through PKCS#11, then the minidriver
files that key left on the card are read back over PC/SC, as Windows would see them."""

from __future__ import annotations

import shlex
import subprocess
from importlib import import_module
from pathlib import Path

from driver import acquire_context
from driver.structures import CARD_CACHE_FILE_FORMAT, parse_cmapfile
from wire.minidriver.files import CARD_FILE_ACCESS_CONDITION

from ..stack import StackError
from .session import DemoSession

# Debian's OpenSC PKCS#11 module (the one tests/e2e/test_gids_opensc_e2e.py uses).
OPENSC_PKCS11 = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"


def _pin() -> str:
    """The user PIN the `gids` kind leaves the factory with."""
    pin: bytes = import_module("emulator.profiles.gids").USER_PIN
    return pin.decode()


def _tool(s: DemoSession, *cmd: str) -> str:
    """Run an OpenSC tool against this session's stack, as a user would; show the command."""
    assert s.stack is not None
    shown = " ".join("******" if before == "--pin" else shlex.quote(a) for before, a in _pairs(cmd))
    s.say(f"   $ {shown}")
    proc = subprocess.run(
        list(cmd), capture_output=True, text=True, env=s.stack.env(), timeout=120, check=False
    )
    if proc.returncode != 0:
        raise StackError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def _pairs(cmd: tuple[str, ...]) -> list[tuple[str, str]]:
    """Each argument with the one before it (the value after --pin is not shown)."""
    return list(zip(("", *cmd[:-1]), cmd, strict=True))


def run(s: DemoSession) -> None:
    s.say("softcard demo: the GIDS card, OpenSC's PKCS#11 module, and the minidriver files")
    if not Path(OPENSC_PKCS11).exists():
        raise StackError(f"OpenSC's PKCS#11 module is missing ({OPENSC_PKCS11}): run scripts/setup")
    s.start_stack()
    s.start_card("gids")

    s.step(f"OpenSC recognises the card in '{s.reader}'")
    out = _tool(s, "opensc-tool", "--reader", s.reader, "--name")
    s.say(f"   {out.strip()}")

    s.step("Generate an RSA-2048 key pair on the card with pkcs11-tool (OpenSC 0.23)")
    s.say("   OpenSC's PKCS#11 key generation makes a key-exchange key (keymap type 9A)")
    out = _tool(
        s,
        "pkcs11-tool",
        "--module",
        OPENSC_PKCS11,
        "--slot-description",
        s.reader,
        "--login",
        "--pin",
        _pin(),
        "--keypairgen",
        "--key-type",
        "rsa:2048",
        "--label",
        "demo",
    )
    for line in out.strip().splitlines():
        s.say(f"   {line}".rstrip())

    s.step("The minidriver files on the card, read through the minidriver API over PC/SC")
    with acquire_context(reader=s.reader) as ctx:
        for directory in (None, "mscp"):
            shown = "\\" if directory is None else f"{directory}\\"
            for name in ctx.enum_files(directory):
                info = ctx.get_file_info(directory, name)
                ac = CARD_FILE_ACCESS_CONDITION(info.access_condition).name
                s.say(f"   {shown + name:<16} {info.file_size:>5} bytes  {ac}")
        cardid = ctx.read_file(None, "cardid")
        s.say(f"\n   cardid    {cardid.hex()}  (OpenSC's serial number for this card)")
        cf = CARD_CACHE_FILE_FORMAT.from_bytes(ctx.read_file(None, "cardcf"))
        s.say(
            f"   cardcf    freshness: pins {cf.pins_freshness}, "
            f"containers {cf.containers_freshness}, files {cf.files_freshness}"
        )
        s.say("   cmapfile  (one 86-byte CONTAINER_MAP_RECORD per container):")
        for index, record in enumerate(parse_cmapfile(ctx.read_file("mscp", "cmapfile"))):
            flags = "+".join(
                n for n, on in (("valid", record.valid), ("default", record.default)) if on
            )
            s.say(
                f"     [{index}] {record.guid or '-'}  {flags or 'free'}, "
                f"signature key {record.sig_key_size_bits} bits, "
                f"key-exchange key {record.key_exchange_key_size_bits} bits"
            )
        container = ctx.get_container_info(0)
        s.say(
            "   CardGetContainerInfo(0): key-exchange PUBLICKEYBLOB of "
            f"{len(container.key_ex_public_key or b'')} bytes, the key pkcs11-tool generated"
        )
