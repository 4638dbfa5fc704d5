"""The real PC/SC stack: pcscd with vsmartcard's vpcd readers, started and stopped by us.

Two ways to get one:

* `PcscStack.system()`: the machine's pcscd on its usual socket with Debian's vpcd
  configuration (readers "Virtual PCD 00 00" and "00 01", ports 35963-35964).
  A running pcscd is reused; otherwise one is started in the foreground with its
  log captured, and stopped again by PID.
* `PcscStack.isolated(workdir, base_port, readers)`: a private pcscd with its own
  socket and its own vpcd ports, for parallel test workers. pcscd 1.9 always uses
  /run/pcscd for its socket and pid file, so it runs in a private mount namespace
  (unshare -m, root only) with /run/pcscd bound to a directory of ours; clients
  find it through PCSCLITE_CSOCK_NAME.

Readiness is the vpcd ports listening (read from /proc/net/tcp, so no probe
connection is mistaken for a card) and the socket file present: no fixed sleeps.

Exposure: Debian's vpcd listens on all interfaces (0.0.0.0) in its default
mode; anything that can reach those ports can play the card. Use a firewall, or
reversed mode (vpcd connects to a card listening on loopback), see docs/setup.md.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from emulator.transports.vpcd import VPCD_BASE_PORT

from .readers import entry_friendly_name, vpcd_reader_name

SYSTEM_SOCKET_DIR = Path("/run/pcscd")
SYSTEM_SOCKET = SYSTEM_SOCKET_DIR / "pcscd.comm"
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
SLOTS_PER_ENTRY = 2  # vpcd gives every reader.conf entry two slots, on PORT and PORT+1
MAX_READERS = 16  # pcscd's PCSCLITE_MAX_READERS_CONTEXTS; a 17th reader is dropped
TCP_LISTEN = "0A"


class StackError(Exception):
    """pcscd or vpcd could not be started; the message says what is missing."""


def listening_ports() -> set[int]:
    """TCP ports in LISTEN state on this host, from /proc/net/tcp{,6}."""
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            next(f, None)
            for line in f:
                cols = line.split()
                if len(cols) > 3 and cols[3] == TCP_LISTEN:
                    ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


def free_port_block(count: int, low: int = 30000, high: int = 60000) -> int:
    """First port of `count` consecutive ports nobody listens on, from a random start.

    Other stacks choose the same way; a race is caught by `PcscStack.start`, which
    refuses ports that are taken.
    """
    import random

    taken = listening_ports()
    span = high - low
    start = random.randrange(span)
    for i in range(0, span, count):
        base = low + (start + i) % span
        block = set(range(base, base + count))
        if base + count <= high and not block & taken:
            return base
    raise StackError(f"no {count} free consecutive TCP ports in {low}-{high}")


def wait_until(predicate: object, timeout: float, what: str, interval: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():  # type: ignore[operator]
            return
        if time.monotonic() > deadline:
            raise StackError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); look at its state.
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"
    return True


@dataclass
class Reader:
    slot: int
    name: str
    port: int


@dataclass
class PcscStack:
    workdir: Path
    base_port: int = VPCD_BASE_PORT
    readers: int = 2
    isolated: bool = False
    socket_path: Path = SYSTEM_SOCKET
    # Reversed mode (isolated stacks only): vpcd connects to cards listening on loopback.
    # Debian's vpcd 0.8 aborts pcscd if such a card is not listening, so every card must
    # listen before start() and stay until stop().
    reverse: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started: bool = False

    # -- constructors ---------------------------------------------------------------------

    @classmethod
    def system(cls, workdir: Path) -> PcscStack:
        return cls(Path(workdir), VPCD_BASE_PORT, 2, isolated=False, socket_path=SYSTEM_SOCKET)

    @classmethod
    def isolated_stack(
        cls, workdir: Path, base_port: int, readers: int = 2, *, reverse: bool = False
    ) -> PcscStack:
        if not 1 <= readers <= MAX_READERS:
            raise ValueError(f"pcscd serves 1 to {MAX_READERS} readers")
        workdir = Path(workdir)
        return cls(
            workdir,
            base_port,
            readers,
            isolated=True,
            socket_path=workdir / "run" / "pcscd.comm",
            reverse=reverse,
        )

    # -- facts ----------------------------------------------------------------------------

    @property
    def log_path(self) -> Path:
        return self.workdir / "pcscd.log"

    def reader(self, slot: int) -> Reader:
        if not 0 <= slot < self.readers:
            raise ValueError(f"this stack has readers 0-{self.readers - 1}")
        return Reader(slot, vpcd_reader_name(slot), self.base_port + slot)

    def env(self) -> dict[str, str]:
        """Environment for PC/SC clients of this stack."""
        env = dict(os.environ)
        if self.isolated:
            env["PCSCLITE_CSOCK_NAME"] = str(self.socket_path)
        else:
            env.pop("PCSCLITE_CSOCK_NAME", None)
        return env

    def ports(self) -> list[int]:
        return [self.base_port + i for i in range(self.readers)]

    def ready(self) -> bool:
        if self.reverse:  # vpcd listens on nothing; the cards do
            return self.socket_path.exists()
        return self.socket_path.exists() and set(self.ports()) <= listening_ports()

    # -- life cycle -----------------------------------------------------------------------

    def start(self, timeout: float = 20.0) -> PcscStack:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.isolated and self._system_pcscd_running():
            if not self.ready():
                raise StackError(
                    "a pcscd is running but vpcd's ports "
                    f"{self.ports()} are not listening: is vsmartcard-vpcd installed? "
                    "(restart pcscd after installing it)"
                )
            return self
        pcscd = shutil.which("pcscd") or "/usr/sbin/pcscd"
        if not Path(pcscd).exists():
            raise StackError("pcscd is not installed (Debian package pcscd)")
        if not VPCD_DRIVER.exists():
            raise StackError(f"vpcd is not installed: {VPCD_DRIVER} missing (vsmartcard-vpcd)")
        busy = set(self.ports()) & listening_ports()
        if busy and not self.reverse:
            raise StackError(f"vpcd ports {sorted(busy)} are already in use")
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        try:
            cmd = self._command(pcscd)
            self.process = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        self.started = True
        try:
            proc = self.process
            wait_until(lambda: self.ready() or proc.poll() is not None, timeout, "pcscd and vpcd")
            if proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise StackError(f"pcscd exited at start: {' / '.join(tail) or 'no log'}")
        except BaseException:
            self.stop()
            raise
        return self

    def _system_pcscd_running(self) -> bool:
        pidfile = SYSTEM_SOCKET_DIR / "pcscd.pid"
        try:
            pid = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return False
        return pid_alive(pid) and SYSTEM_SOCKET.exists()

    def _command(self, pcscd: str) -> list[str]:
        if not self.isolated:
            return [pcscd, "--foreground", "--info"]
        confdir = self.workdir / "reader.conf.d"
        rundir = self.socket_path.parent
        confdir.mkdir(parents=True, exist_ok=True)
        rundir.mkdir(parents=True, exist_ok=True)
        for stale in rundir.iterdir():
            stale.unlink()
        entries = []
        libdir = self.workdir / "lib"
        libdir.mkdir(exist_ok=True)
        for entry in range((self.readers + SLOTS_PER_ENTRY - 1) // SLOTS_PER_ENTRY):
            port = self.base_port + entry * SLOTS_PER_ENTRY
            # vpcd keeps its slot table in a static of the library: entries sharing one
            # loaded copy mix up each other's cards. A real copy per entry (not a link,
            # which shares the inode) gives each its own table.
            driver = libdir / f"libifdvpcd-{entry}.so"
            if not driver.exists():
                shutil.copyfile(VPCD_DRIVER.resolve(), driver)
            entries.append(
                f'FRIENDLYNAME "{entry_friendly_name(entry)}"\n'
                f"DEVICENAME   {'127.0.0.1' if self.reverse else '/dev/null'}:0x{port:04X}\n"
                f"LIBPATH      {driver}\n"
                f"CHANNELID    0x{port:04X}\n"
            )
        (confdir / "vpcd").write_text("\n".join(entries))
        if os.geteuid() != 0 or not shutil.which("unshare"):
            raise StackError("an isolated pcscd needs root and unshare (util-linux)")
        script = (
            # A pcscd that was installed but never started has no /run/pcscd: the mount point
            # is made inside the namespace, on a private tmpfs, never on the host's /run.
            f"mount -t tmpfs -o mode=0755 softcard-run /run && mkdir /run/pcscd && "
            f'mount --bind "{rundir}" /run/pcscd && exec "$0" --foreground --info -c "{confdir}"'
        )
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, pcscd]

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        self.started = False

    def __enter__(self) -> PcscStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
