"""PIV end to end with the tools people use: a key generated in slot 9A, a self-signed
certificate, a signature through PKCS#11 (OpenSC), checked with openssl."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from ..stack import StackError
from .session import DemoSession

MANAGEMENT_KEY = "010203040506070801020304050607080102030405060708"
PIN = "123456"
PKCS11_MODULE = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"


def _run(s: DemoSession, line: str, note: str = "", out_lines: int = 12) -> str:
    """Run a command line as a user types it (ykman from this venv), narrating it."""
    assert s.stack is not None
    s.say(f"   $ {line}" + (f"   ({note})" if note else ""))
    cmd = shlex.split(line)
    if cmd[0] == "ykman":
        cmd[0] = str(Path(sys.executable).parent / "ykman")
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=s.stack.env(), cwd=s.workdir, check=False
    )
    output = (proc.stdout + proc.stderr).strip()
    lines = output.splitlines()
    for text in lines[:out_lines]:
        s.say(f"     {text}")
    if len(lines) > out_lines:
        s.say(f"     ... ({len(lines) - out_lines} more lines)")
    if proc.returncode != 0:
        raise StackError(f"{Path(cmd[0]).name} failed (exit {proc.returncode}): {lines[-1:]}")
    return output


def run(s: DemoSession) -> None:
    s.say("softcard demo: a PIV card used by yubico-piv-tool, ykman, OpenSC and openssl")
    s.start_stack()
    s.start_card("piv")
    r = shlex.quote(s.reader)

    s.step("The tools recognise the card")
    _run(s, f"opensc-tool -r {r} -n", "OpenSC names the card")
    _run(s, f"ykman --reader {r} piv info", "ykman, told which reader to use")

    s.step("Generate an RSA-2048 key in slot 9A (on the card) with yubico-piv-tool")
    _run(
        s,
        f"yubico-piv-tool -r {r} -s 9a -a generate -A RSA2048 -o 9a-public.pem",
        "the default management key authenticates",
    )

    s.step("Self-sign a certificate for it with ykman (the card signs, after the PIN)")
    _run(
        s,
        f"ykman --reader {r} piv certificates generate -m {MANAGEMENT_KEY} -P {PIN} "
        "-s 'CN=softcard demo' 9a 9a-public.pem",
    )
    _run(s, f"ykman --reader {r} piv certificates export 9a 9a-cert.pem")

    s.step("Sign a document through PKCS#11 with OpenSC's opensc-pkcs11.so")
    (s.workdir / "document.txt").write_text("Signed by a software smart card.\n")
    _run(
        s,
        f"pkcs11-tool --module {PKCS11_MODULE} --login --pin {PIN} --sign --id 01 "
        "--mechanism SHA256-RSA-PKCS --input-file document.txt --output-file document.sig",
        "key 01 = slot 9A",
    )

    s.step("Verify the signature with openssl against the certificate from the card")
    _run(s, "openssl x509 -in 9a-cert.pem -noout -subject -issuer")
    _run(s, "openssl x509 -in 9a-cert.pem -pubkey -noout -out 9a-key.pem")
    out = _run(s, "openssl dgst -sha256 -verify 9a-key.pem -signature document.sig document.txt")
    if "Verified OK" not in out:
        raise StackError("openssl did not verify the signature")
    s.say(f"\nfiles of this run: {s.workdir}")
