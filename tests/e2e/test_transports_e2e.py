"""The card OS under other hosts and links: vsmartcard's VirtualICC, `softcard run`, reconnects."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import make_card
from emulator.transports.vpcd import Endpoint, VpcdLink
from softcard.harness import wait_card_state
from softcard.stack import PcscStack
from tests import scenarios
from tests.conftest import SlotPool

pytestmark = pytest.mark.e2e

VICC_PACKAGE = Path("/usr/lib/python3/site-packages/virtualsmartcard")


@pytest.fixture
def free_slot(slot_pool: SlotPool) -> Iterator[int]:
    slot = slot_pool.take()
    yield slot
    slot_pool.give(slot)


def _connect(reader: str) -> object:
    from smartcard.System import readers

    for r in readers():
        if str(r) == reader:
            conn = r.createConnection()
            conn.connect()
            return conn
    raise AssertionError(f"reader {reader} not found")


def _start(cmd: list[str], stack: PcscStack) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=stack.env()
    )


def _stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    return out


def test_card_os_runs_under_upstream_virtual_icc(pcsc_stack: PcscStack, free_slot: int) -> None:
    assert (VICC_PACKAGE / "virtualsmartcard" / "VirtualSmartcard.py").exists(), (
        "python3-virtualsmartcard is installed by scripts/setup"
    )
    reader = pcsc_stack.reader(free_slot)
    proc = _start(
        [
            sys.executable,
            "-m",
            "emulator.transports.vicc",
            "--card",
            "iso",
            "--port",
            str(reader.port),
        ],
        pcsc_stack,
    )
    try:
        wait_card_state(reader.name, True)
        conn = _connect(reader.name)
        # the ATR is softcard's: our card OS answers, not vsmartcard's own ISO card
        assert bytes(conn.getATR()) == make_card("iso").atr  # type: ignore[attr-defined]
        scenarios.select_file_and_read(conn)
        scenarios.pin_protected_read(conn)
        conn.disconnect()  # type: ignore[attr-defined]
    finally:
        _stop(proc)
        wait_card_state(reader.name, False)


def test_softcard_run_serves_a_card_and_stops_on_sigterm(
    pcsc_stack: PcscStack, free_slot: int
) -> None:
    reader = pcsc_stack.reader(free_slot)
    proc = _start(
        [
            sys.executable,
            "-m",
            "softcard",
            "run",
            "--card",
            "iso",
            "--vpcd",
            f"127.0.0.1:{reader.port}",
        ],
        pcsc_stack,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "ready" in line and f"127.0.0.1:{reader.port}" in line
    wait_card_state(reader.name, True)
    conn = _connect(reader.name)
    scenarios.select_by_name_with_fcp(conn)
    conn.disconnect()  # type: ignore[attr-defined]
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    wait_card_state(reader.name, False)


def test_unreachable_vpcd_is_one_clear_line(tmp_path: Path) -> None:
    # a port nobody listens on: bind one, note it, close it
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = subprocess.run(
        [sys.executable, "-m", "softcard", "run", "--vpcd", f"127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach vpcd" in lines[0] and "Traceback" not in result.stderr


def test_link_reconnects_after_pcscd_restart(tmp_path: Path) -> None:
    """A private stack is stopped and started again; the card comes back by itself."""
    import socket

    with socket.socket() as s:  # two free ports in a row are likely above an ephemeral one
        s.bind(("127.0.0.1", 0))
        base = s.getsockname()[1] + 2
    # libpcsclite reads the socket name once per process, so this stack is checked
    # from a subprocess.
    stack = PcscStack.isolated_stack(tmp_path, base, 2)
    stack.start()
    link = VpcdLink(make_card("iso"), Endpoint(port=base))
    link.start()
    try:
        assert link.wait_connected(10)
        stack.stop()
        stack.start()
        assert _card_seen_in_subprocess(stack)
    finally:
        link.stop()
        stack.stop()


def _card_seen_in_subprocess(stack: PcscStack) -> bool:
    code = (
        "import sys\n"
        "from softcard.harness import wait_card_state\n"
        "from tests.scenarios import tx\n"
        "wait_card_state(sys.argv[1], True, 15)\n"
        "from smartcard.System import readers\n"
        "r = [r for r in readers() if str(r) == sys.argv[1]][0]\n"
        "c = r.createConnection(); c.connect()\n"
        "print(tx(c, '00 A4 00 0C 02 2F01')[1] == 0x9000)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, stack.reader(0).name],
        capture_output=True,
        text=True,
        env=stack.env(),
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    return result.stdout.strip() == "True"


def test_reversed_mode_card_listens_on_loopback_only(tmp_path: Path) -> None:
    """vpcd in reversed mode connects to the card; the card's socket is bound to 127.0.0.1."""
    from softcard.stack import free_port_block

    base = free_port_block(2)
    link = VpcdLink(make_card("iso"), Endpoint("127.0.0.1", base), reverse=True)
    link.open()
    listeners = _listeners_on(base)
    assert listeners == {"127.0.0.1"}, listeners
    link2 = VpcdLink(make_card("iso"), Endpoint("127.0.0.1", base + 1), reverse=True)
    link2.start()
    link.start()
    stack = PcscStack.isolated_stack(tmp_path, base, 2, reverse=True)
    stack.start()
    try:
        assert link.wait_connected(10) and link2.wait_connected(10)
        assert _card_seen_in_subprocess(stack)
    finally:
        # pcscd goes first: Debian's vpcd aborts pcscd when a reversed-mode card leaves
        stack.stop()
        link.stop()
        link2.stop()


def _listeners_on(port: int) -> set[str]:
    """Local addresses listening on a TCP port (IPv4), from /proc/net/tcp."""
    found = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            cols = line.split()
            addr, p = cols[1].split(":")
            if cols[3] == "0A" and int(p, 16) == port:
                octets = bytes.fromhex(addr)[::-1]
                found.add(".".join(str(b) for b in octets))
    return found
