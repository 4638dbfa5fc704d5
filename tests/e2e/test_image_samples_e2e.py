"""Sample images served to real clients: the personalised PIV card as ykman and OpenSC see it,
and its state changes persisted in a fork while the sample stays as it is."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509

from emulator.image import PersistentCard, load
from emulator.profiles import KINDS
from softcard.stack import PcscStack
from tests.conftest import ServeCard

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif("piv" not in KINDS, reason="no piv card kind"),
]

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "card_images" / "piv-demo.json"
YKMAN = str(Path(sys.executable).parent / "ykman")


def run(stack: PcscStack, *cmd: str) -> str:
    proc = subprocess.run(
        list(cmd), capture_output=True, text=True, env=stack.env(), timeout=120, check=False
    )
    assert proc.returncode == 0, f"{' '.join(cmd)}: {proc.stdout}{proc.stderr}"
    return proc.stdout + proc.stderr


def test_piv_demo_sample_through_ykman_and_opensc(
    fork_card: Callable[..., PersistentCard],
    serve_card: ServeCard,
    pcsc_stack: PcscStack,
    tmp_path: Path,
) -> None:
    before = SAMPLE.read_bytes()
    card = fork_card(SAMPLE)
    served = serve_card(card.card)
    ykman = [YKMAN, "--reader", served.reader, "piv"]
    info = run(pcsc_stack, *ykman, "info")
    for slot in ("9A", "9C", "9D", "9E"):
        assert f"Slot {slot}" in info, info
    assert info.count("Demo User") >= 4, info
    # The certificates chain to the demo CA shipped beside the samples.
    ca = x509.load_pem_x509_certificate((ROOT / "card_images" / "demo-ca.pem").read_bytes())
    pem = run(pcsc_stack, *ykman, "certificates", "export", "9a", "-")
    cert = x509.load_pem_x509_certificate(pem[pem.index("-----BEGIN") :].encode())
    cert.verify_directly_issued_by(ca)
    # OpenSC finds the four certificates too.
    listing = run(pcsc_stack, "pkcs15-tool", "--reader", served.reader, "--list-certificates")
    assert listing.count("X.509 Certificate") == 4, listing
    assert f"{cert.serial_number:032X}" in listing, listing
    # A state change through a real client lands in the fork, not in the sample.
    run(pcsc_stack, *ykman, "access", "change-pin", "-P", "123456", "-n", "654321")
    pins = load(card.path).state["piv"]["pins"]
    assert bytes.fromhex(pins["pin"]["value"]).rstrip(b"\xff") == b"654321"
    assert SAMPLE.read_bytes() == before
