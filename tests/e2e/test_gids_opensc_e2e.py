"""GIDS end to end: OpenSC's gids driver, gids-tool, pkcs15-tool, pkcs15-init and pkcs11-tool,
unmodified, against the emulated card through pcscd + vpcd.

Each test is one user flow against one served card; the minidriver files the card
holds afterwards are read back from the emulator itself and checked against the
minidriver formats (cmapfile records, keymap, cardcf counters, compressed certificates).
"""

from __future__ import annotations

import datetime
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from emulator.apps.gids import GidsApplication, list_minidriver_files
from emulator.apps.gids.filesystem import DoFile
from emulator.apps.gids.formats import (
    DEFAULT_MASTERFILE,
    CardCf,
    ContainerMapRecord,
    decompress_certificate,
    parse_cmapfile,
    parse_keymap,
    parse_masterfile,
)
from softcard.harness import ServedCard
from softcard.stack import PcscStack
from tests.conftest import ServeCard
from wire.gids import KEY_EF_BASE, Ef, LifeCycle, Tag

pytestmark = pytest.mark.e2e

PKCS11 = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
PIN = "123456"
ZERO_ADMIN_KEY = "00" * 24
NEW_ADMIN_KEY = "0102030405060708" * 3


@dataclass
class Clients:
    """Runs the real tools against one served card, as a user would."""

    served: ServedCard
    stack: PcscStack
    workdir: Path

    def run(self, *cmd: str, ok: bool = True) -> str:
        proc = subprocess.run(
            list(cmd),
            capture_output=True,
            env=self.stack.env(),
            cwd=self.workdir,
            timeout=120,
            check=False,
        )
        out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
        if ok and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}:\n{out}")
        if not ok and proc.returncode == 0:
            raise AssertionError(f"{' '.join(cmd)} should have failed:\n{out}")
        return out

    def tool(self, name: str, *args: str, ok: bool = True) -> str:
        return self.run(name, "-r", self.served.reader, *args, ok=ok)

    def pkcs11(self, *args: str, ok: bool = True) -> str:
        return self.run("pkcs11-tool", "--module", PKCS11, *args, ok=ok)

    def path(self, name: str) -> Path:
        return self.workdir / name

    # -- the card's state, read in process ------------------------------------------------

    @property
    def app(self) -> GidsApplication:
        app = self.served.card.application("gids")
        assert isinstance(app, GidsApplication)
        return app

    def do(self, ef: int, tag: int) -> bytes | None:
        found = self.app.files.get(ef)
        assert isinstance(found, DoFile)
        return found.get(tag)

    def cardcf(self) -> CardCf:
        value = self.do(Ef.EVERYONE_READ_USER_WRITE, Tag.CARDCF)
        assert value is not None and len(value) == 6
        return CardCf.parse(value)

    def cmapfile(self) -> list[ContainerMapRecord]:
        value = self.do(Ef.EVERYONE_READ_USER_WRITE, Tag.CMAPFILE)
        assert value is not None and len(value) % 86 == 0
        return parse_cmapfile(value)

    def masterfile_paths(self) -> dict[str, tuple[int, int]]:
        value = self.do(Ef.USER_CREATE_DELETE_DIR, Tag.MASTERFILE)
        assert value is not None
        return {r.path: (r.ef, r.do_tag) for r in parse_masterfile(value)}

    def cardid(self) -> bytes:
        value = self.do(Ef.EVERYONE_READ_ADMIN_WRITE, Tag.CARDID)
        assert value is not None and len(value) == 16
        return value


@pytest.fixture
def clients(pcsc_stack: PcscStack, serve_card: ServeCard, tmp_path: Path) -> Clients:
    return Clients(serve_card("gids"), pcsc_stack, tmp_path)


def _certificate(public: rsa.RSAPublicKey, path: Path) -> x509.Certificate:
    """A certificate for the card's key, signed by a throwaway CA (OpenSC only stores it)."""
    ca_key = rsa.generate_private_key(65537, 2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "softcard GIDS test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")]))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(ca_key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    return cert


def _public_key(c: Clients, key_id: str) -> rsa.RSAPublicKey:
    c.pkcs11("--read-object", "--type", "pubkey", "--id", key_id, "-o", str(c.path("pub.der")))
    public = serialization.load_der_public_key(c.path("pub.der").read_bytes())
    assert isinstance(public, rsa.RSAPublicKey)
    return public


def test_gids_tool_initializes_a_blank_card(
    pcsc_stack: PcscStack, serve_card: ServeCard, tmp_path: Path
) -> None:
    c = Clients(serve_card("gids-blank"), pcsc_stack, tmp_path)
    assert "GIDS Smart Card" in c.tool("opensc-tool", "-n")
    # No masterfile yet: OpenSC matches the card but cannot bind PKCS#15.
    assert "binding failed" in c.tool("pkcs15-tool", "--dump", ok=False)
    assert c.app.life_cycle == LifeCycle.CREATION

    c.tool(
        "gids-tool",
        "--initialize",
        "--pin",
        PIN,
        "--admin-key",
        ZERO_ADMIN_KEY,
        "--serial",
        "00" * 16,
    )

    assert c.app.life_cycle == LifeCycle.OPERATIONAL
    value = c.do(Ef.USER_CREATE_DELETE_DIR, Tag.MASTERFILE)
    assert value is not None and parse_masterfile(value) == list(DEFAULT_MASTERFILE)
    assert c.cardid() != bytes(16)  # all-zero serial: gids-tool draws a random one
    assert c.do(Ef.EVERYONE_READ_USER_WRITE, Tag.CARDAPPS) == b"mscp\x00\x00\x00\x00"
    assert c.cardcf() == CardCf()
    assert c.cmapfile() == []
    dump = c.tool("pkcs15-tool", "--dump")
    assert f"Serial number  : {c.cardid().hex()}" in dump
    assert "Tries left     : 3" in c.tool("pkcs15-tool", "--list-pins")
    # Operational: ACLs now apply, the PIN set by gids-tool works.
    c.tool("pkcs15-tool", "--verify-pin", "--pin", PIN)


def test_admin_key_change_pin_block_unblock_and_change(clients: Clients) -> None:
    c = clients
    c.tool(
        "gids-tool", "--change-admin-key", "--admin-key", ZERO_ADMIN_KEY,
        "--new-admin-key", NEW_ADMIN_KEY,
    )  # fmt: skip
    admin_file = c.app.files.key_file(0x80)
    assert admin_file is not None and admin_file.key is not None
    assert admin_file.key.secret == bytes.fromhex(NEW_ADMIN_KEY)
    # the old key no longer authenticates
    c.tool("gids-tool", "--unblock", "--admin-key", ZERO_ADMIN_KEY, "--pin", "654321", ok=False)

    for _ in range(3):
        c.tool("pkcs15-tool", "--verify-pin", "--pin", "999999", ok=False)
    assert "Tries left     : 0" in c.tool("pkcs15-tool", "--list-pins")
    c.tool("pkcs15-tool", "--verify-pin", "--pin", PIN, ok=False)  # blocked

    out = c.tool("gids-tool", "--unblock", "--admin-key", NEW_ADMIN_KEY, "--pin", "654321")
    assert "Unblock PIN done successfully" in out
    assert "Tries left     : 3" in c.tool("pkcs15-tool", "--list-pins")
    c.tool("pkcs15-tool", "--verify-pin", "--pin", "654321")

    c.tool("pkcs15-tool", "--change-pin", "--pin", "654321", "--new-pin", "11223344")
    c.tool("pkcs15-tool", "--verify-pin", "--pin", "654321", ok=False)
    c.tool("pkcs15-tool", "--verify-pin", "--pin", "11223344")
    assert c.app.pin is not None and c.app.pin.tries == 3


def test_pkcs11_keygen_sign_decrypt_certificate_and_delete(clients: Clients) -> None:
    c = clients
    assert "GIDS Smart Card" in c.tool("opensc-tool", "-n")
    before = c.cardcf()

    out = c.pkcs11(
        "--login", "--pin", PIN, "--keypairgen", "--key-type", "rsa:2048", "--label", "mykey"
    )
    assert "Key pair generated" in out
    # cmapfile: one 86-byte record, UTF-16 name, valid + default, key-exchange RSA-2048
    (record,) = c.cmapfile()
    assert record.flags == 0x03 and record.kex_key_bits == 2048 and record.sig_key_bits == 0
    assert record.name  # OpenSC names the container after a GUID
    keymap = c.do(Ef.USER_CREATE_DELETE_DIR, Tag.KEYMAP)
    assert keymap is not None
    (slot,) = parse_keymap(keymap)
    assert (slot.state, slot.algid, slot.key_type, slot.key_file) == (1, 0x07, 0x9A, 0xB081)
    key_file = c.app.files.key_file(0x81)
    assert key_file is not None and key_file.key is not None
    after_keygen = c.cardcf()
    assert after_keygen.containers > before.containers and after_keygen.files > before.files

    public = _public_key(c, "00")
    assert public.key_size == 2048
    assert public.public_numbers() == key_file.key.rsa.public_key().public_numbers()

    # signatures, checked with cryptography against the card's public key
    message = c.path("msg")
    message.write_bytes(b"softcard GIDS signs this")
    c.pkcs11(
        "--login", "--pin", PIN, "--sign", "-m", "SHA256-RSA-PKCS", "--id", "00",
        "-i", str(message), "-o", str(c.path("sig")),
    )  # fmt: skip
    public.verify(
        c.path("sig").read_bytes(), message.read_bytes(), padding.PKCS1v15(), hashes.SHA256()
    )

    # decryption (PKCS#1 v1.5, padding removed on the card; 256-byte cryptogram chained)
    secret = b"a secret for the GIDS card"
    c.path("ct").write_bytes(public.encrypt(secret, padding.PKCS1v15()))
    c.pkcs11(
        "--login", "--pin", PIN, "--decrypt", "-m", "RSA-PKCS", "--id", "00",
        "-i", str(c.path("ct")), "-o", str(c.path("pt")),
    )  # fmt: skip
    assert c.path("pt").read_bytes() == secret

    # certificate: stored compressed as kxc00 in A010/DF24, read back by pkcs15-tool
    cert = _certificate(public, c.path("cert.der"))
    c.pkcs11(
        "--login", "--pin", PIN, "--write-object", str(c.path("cert.der")),
        "--type", "cert", "--id", "00", "--label", "mycert",
    )  # fmt: skip
    paths = c.masterfile_paths()
    assert paths["mscp\\kxc00"] == (Ef.EVERYONE_READ_USER_WRITE, 0xDF24)
    stored = c.do(Ef.EVERYONE_READ_USER_WRITE, 0xDF24)
    assert stored is not None and stored[:2] == b"\x01\x00" and stored[4:5] == b"\x78"
    assert decompress_certificate(stored) == cert.public_bytes(serialization.Encoding.DER)
    pem = c.tool("pkcs15-tool", "--read-certificate", "00")
    assert x509.load_pem_x509_certificate(pem[pem.index("-----BEGIN") :].encode()) == cert
    after_cert = c.cardcf()
    assert after_cert.files > after_keygen.files
    listing = {f.path: f for f in list_minidriver_files(c.served.card.export_state())}
    assert listing["mscp\\kxc00"].size == len(stored)
    assert listing["mscp\\cmapfile"].containers == (record,)

    # deletion: certificate, then the key
    c.pkcs11("--login", "--pin", PIN, "--delete-object", "--type", "cert", "--id", "00")
    assert "mscp\\kxc00" not in c.masterfile_paths()
    c.pkcs11("--login", "--pin", PIN, "--delete-object", "--type", "privkey", "--id", "00")
    assert c.app.files.get(KEY_EF_BASE | 0x81) is None
    (blank,) = c.cmapfile()
    assert blank == ContainerMapRecord()
    keymap = c.do(Ef.USER_CREATE_DELETE_DIR, Tag.KEYMAP)
    assert keymap is not None and parse_keymap(keymap)[0].state == 0
    final = c.cardcf()
    assert final.containers > after_cert.containers and final.files > after_cert.files
    assert "mykey" not in c.pkcs11("--list-objects")


def test_pkcs15_init_signature_key_and_certificate(clients: Clients) -> None:
    c = clients
    auth = ("--verify-pin", "--auth-id", "80", "--pin", PIN)
    c.tool("pkcs15-init", *auth, "--generate-key", "rsa/2048", "--label", "signkey")
    (record,) = c.cmapfile()
    # pkcs15-init's default usage is signing only: the signature slot of the container
    assert record.valid and record.sig_key_bits == 2048 and record.kex_key_bits == 0
    keymap = c.do(Ef.USER_CREATE_DELETE_DIR, Tag.KEYMAP)
    assert keymap is not None and parse_keymap(keymap)[0].key_type == 0x9C

    public = _public_key(c, "00")
    cert = _certificate(public, c.path("cert.der"))
    c.path("cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    c.tool("pkcs15-init", *auth, "--store-certificate", str(c.path("cert.pem")), "--id", "00")
    assert "mscp\\ksc00" in c.masterfile_paths()
    dump = c.tool("pkcs15-tool", "--dump")
    assert "Private RSA Key [signkey]" in dump and "X.509 Certificate" in dump

    message = c.path("msg")
    message.write_bytes(b"signed by a pkcs15-init key")
    c.pkcs11(
        "--login", "--pin", PIN, "--sign", "-m", "SHA256-RSA-PKCS", "--id", "00",
        "-i", str(message), "-o", str(c.path("sig")),
    )  # fmt: skip
    public.verify(
        c.path("sig").read_bytes(), message.read_bytes(), padding.PKCS1v15(), hashes.SHA256()
    )
