"""The minidriver over a PIV card, end to end: pyscard -> pcscd -> vpcd -> the PIV emulator.

Enrollment through the minidriver API, then ykman, yubico-piv-tool and OpenSC (unmodified,
as subprocesses) see the same key and certificate and check signatures; and the reverse: keys
and certificates ykman makes appear as minidriver containers.
"""

from __future__ import annotations

import datetime
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.x509.oid import NameOID

import driver
from driver import blobs
from driver.cardmodules.piv import PivCardModule
from driver.cardmodules.piv.cmap import parse_mscmap
from driver.cardmodules.piv.snapshot import read_object
from driver.context import CardContext
from driver.structures import (
    CARD_SIGNING_INFO,
    CONTAINER_MAP_RECORD,
    build_cmapfile,
    parse_cmapfile,
)
from softcard.harness import ServedCard
from softcard.stack import PcscStack
from tests.conftest import ServeCard
from wire.piv import ObjectId

pytestmark = pytest.mark.e2e

PIN = "123456"
MGM = "010203040506070801020304050607080102030405060708"
PKCS11 = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
YKMAN = str(Path(sys.executable).parent / "ykman")
CSP_NAME = "{5D3C1A27-0B8E-4F7A-9C61-2E4B8D0F7A13}"
SHARED_OBJECTS = (ObjectId.CHUID, ObjectId.KEY_HISTORY, ObjectId.MSCMAP)


class Tools:
    def __init__(self, served: ServedCard, stack: PcscStack, workdir: Path) -> None:
        self.served, self.stack, self.workdir = served, stack, workdir

    def run(self, *cmd: str) -> str:
        proc = subprocess.run(
            list(cmd), capture_output=True, env=self.stack.env(), cwd=self.workdir,
            timeout=120, check=False,
        )  # fmt: skip
        out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
        assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n{out}"
        return out

    def ykman(self, *args: str) -> str:
        return self.run(YKMAN, "--reader", self.served.reader, "piv", *args)

    def ypt(self, *args: str) -> str:
        return self.run("yubico-piv-tool", "-r", self.served.reader, *args)

    def pkcs11(self, *args: str) -> str:
        return self.run("pkcs11-tool", "--module", PKCS11, *args)

    def path(self, name: str) -> Path:
        return self.workdir / name

    def context(self) -> CardContext:
        ctx = driver.acquire_context(reader=self.served.reader)
        assert isinstance(ctx.card, PivCardModule)
        return ctx


@pytest.fixture
def tools(serve_card: ServeCard, pcsc_stack: PcscStack, tmp_path: Path) -> Iterator[Tools]:
    for tool in ("yubico-piv-tool", "pkcs11-tool"):
        assert shutil.which(tool), f"{tool} is missing: run scripts/setup"
    assert Path(YKMAN).exists(), "ykman is missing: run scripts/setup"
    yield Tools(serve_card("piv"), pcsc_stack, tmp_path)


def issue(public: rsa.RSAPublicKey | ec.EllipticCurvePublicKey, cn: str) -> x509.Certificate:
    ca = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "enrollment CA")]))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(ca, hashes.SHA256())
    )


def test_enrollment_through_the_minidriver_is_what_piv_tools_see(tools: Tools) -> None:
    der_cert = b""
    with tools.context() as ctx:
        # The Base CSP's enrollment sequence (minidriver.md 5.6), on an empty card.
        ctx.authenticate_pin("user", PIN.encode())
        record = CONTAINER_MAP_RECORD(CSP_NAME, 3, 0, 0, 0)
        ctx.write_file("mscp", "cmapfile", 0, build_cmapfile([record]))
        ctx.create_container(
            0, driver.CARD_CREATE_CONTAINER_KEY_GEN, driver.AT_KEYEXCHANGE, 2048, None
        )
        record.key_exchange_key_size_bits = 2048
        ctx.write_file("mscp", "cmapfile", 0, build_cmapfile([record]))
        public = blobs.parse_container_public_blob(
            ctx.get_container_info(0).key_ex_public_key or b""
        )
        assert isinstance(public, rsa.RSAPublicKey)
        cert = issue(public, "enrolled through the minidriver")
        der_cert = cert.public_bytes(serialization.Encoding.DER)
        ctx.create_file("mscp", "kxc00", 0, driver.EveryoneReadUserWriteAc)
        ctx.write_file("mscp", "kxc00", 0, der_cert)
        # Sign through the minidriver API; the certificate's key verifies it.
        digest = hashlib.sha256(b"minidriver signature").digest()
        info = CARD_SIGNING_INFO(
            container_index=0,
            key_spec=driver.AT_KEYEXCHANGE,
            data=digest,
            hash_alg=driver.CALG_SHA_256,
        )
        sig = (ctx.sign_data(info).signed_data or b"")[::-1]
        public.verify(sig, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        assert parse_cmapfile(ctx.read_file("mscp", "cmapfile"))[0].guid == CSP_NAME
    tools.path("cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    # yubico-piv-tool: the certificate in 9A, and the key behind it signs (its own check).
    read = tools.ypt("-s", "9a", "-a", "read-certificate")
    assert x509.load_pem_x509_certificate(read.encode()) == cert
    out = tools.ypt(
        "-s", "9a", "-P", PIN, "-a", "verify-pin", "-a", "test-signature", "-i", "cert.pem"
    )
    assert "Successful RSA verification" in out
    # ykman: the container map the minidriver kept is Yubico's object 5FFF10.
    tools.ykman("objects", "export", "0x5fff10", "mscmap.bin")
    mscmap = parse_mscmap(tools.path("mscmap.bin").read_bytes())
    assert [(r.name, r.slot, r.key_spec, r.key_size_bits) for r in mscmap] == [
        (CSP_NAME, 0x9A, 1, 2048)
    ]
    assert mscmap[0].cert_fingerprint == hashlib.sha256(der_cert).digest()[:20]
    # OpenSC: the same certificate and key; a PKCS#11 signature verifies with the certificate.
    objects = tools.pkcs11("--login", "--pin", PIN, "--list-objects")
    assert "PIV AUTH key" in objects and "Certificate for PIV Authentication" in objects
    tools.pkcs11("--read-object", "--type", "cert", "--id", "01", "-o", "p11.der")
    assert tools.path("p11.der").read_bytes() == der_cert
    tools.path("doc.txt").write_bytes(b"signed by OpenSC with the minidriver's key\n")
    tools.pkcs11("-l", "-p", PIN, "--sign", "--id", "01", "-m", "SHA256-RSA-PKCS",
                 "-i", "doc.txt", "-o", "doc.sig")  # fmt: skip
    public.verify(
        tools.path("doc.sig").read_bytes(), tools.path("doc.txt").read_bytes(),
        padding.PKCS1v15(), hashes.SHA256(),
    )  # fmt: skip


def test_keys_made_with_ykman_are_minidriver_containers(tools: Tools) -> None:
    with tools.context() as ctx:
        before = ctx.read_file(None, "cardcf")
        assert ctx.enum_files("mscp") == ["cmapfile"]
        shared = {o: read_object(ctx.card.transport, o) for o in SHARED_OBJECTS}
    tools.ykman("keys", "generate", "-m", MGM, "-a", "ECCP256", "9c", "9c.pub")
    with tools.context() as ctx:
        # A key generated by another tool changes that slot only: no object every writer
        # changes, so the freshness check must look at the slots (docs/minidriver-piv.md).
        assert {o: read_object(ctx.card.transport, o) for o in SHARED_OBJECTS} == shared
        assert ctx.read_file(None, "cardcf")[2:6] != before[2:6]
        assert ctx.get_container_info(1).sig_public_key  # already a container, no certificate
    tools.ykman(
        "certificates", "generate", "-m", MGM, "-P", PIN, "-s", "CN=ykman 9c", "9c", "9c.pub"
    )
    tools.ykman("keys", "generate", "-m", MGM, "-a", "RSA2048", "9d", "9d.pub")
    tools.ykman(
        "certificates", "generate", "-m", MGM, "-P", PIN, "-s", "CN=ykman 9d", "9d", "9d.pub"
    )
    tools.ykman("certificates", "export", "9c", "9c.pem")
    cert_9c = x509.load_pem_x509_certificate(tools.path("9c.pem").read_bytes())
    with tools.context() as ctx:
        # ykman's certificate commands give the CHUID a new GUID (--update-chuid, its default:
        # Windows keys its cache by cardid); key history and 5FFF10 stay as they were.
        after = {o: read_object(ctx.card.transport, o) for o in SHARED_OBJECTS}
        assert after[ObjectId.CHUID] != shared[ObjectId.CHUID]
        assert after[ObjectId.KEY_HISTORY] == shared[ObjectId.KEY_HISTORY]
        assert after[ObjectId.MSCMAP] == shared[ObjectId.MSCMAP]
        assert ctx.read_file(None, "cardcf")[2:6] != before[2:6]  # the content moved cardcf
        cmap = parse_cmapfile(ctx.read_file("mscp", "cmapfile"))
        assert [r.valid for r in cmap] == [False, True, True]
        # Named as the inbox minidriver names PIV containers: CHUID GUID + certificate tag.
        assert cmap[1].guid.endswith("5fc10a") and cmap[1].sig_key_size_bits == 256
        assert cmap[2].guid.endswith("5fc10b") and cmap[2].key_exchange_key_size_bits == 2048
        assert ctx.enum_files("mscp") == ["cmapfile", "ksc01", "kxc02"]
        assert ctx.read_file("mscp", "ksc01") == cert_9c.public_bytes(serialization.Encoding.DER)
        sig_blob = ctx.get_container_info(1).sig_public_key or b""
        card_key, ecdsa = blobs.parse_ecc_public_blob(sig_blob)
        assert ecdsa and card_key == cert_9c.public_key()
        # Sign with ykman's 9C key (PIN policy "always") through the minidriver API.
        ctx.authenticate_pin("user", PIN.encode())
        digest = hashlib.sha256(b"through the minidriver").digest()
        info = CARD_SIGNING_INFO(container_index=1, key_spec=driver.AT_ECDSA_P256, data=digest)
        rs = ctx.sign_data(info).signed_data or b""
        der = encode_dss_signature(int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:], "big"))
        card_key.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def test_softcard_md_enrolls_on_piv_and_the_piv_tools_agree(
    tools: Tools, capsys: pytest.CaptureFixture[str]
) -> None:
    """`softcard md container create` / `cert put` / `sign` on the PIV card (run in this
    process: the PIV module joins the probe list here), then the PIV tools check the result."""
    from softcard.cli.main import main

    reader = ["--reader", tools.served.reader]
    assert main(["md", "container", "create", *reader, "--pin", PIN, "--bits", "2048"]) == 0
    with tools.context() as ctx:
        public = blobs.parse_container_public_blob(
            ctx.get_container_info(0).key_ex_public_key or b""
        )
    assert isinstance(public, rsa.RSAPublicKey)
    cert = issue(public, "softcard md")
    tools.path("md.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    assert main(["md", "cert", "put", *reader, "--pin", PIN, str(tools.path("md.pem"))]) == 0
    tools.path("msg.txt").write_bytes(b"signed with softcard md\n")
    sig = tools.path("md.sig")
    assert (
        main(["md", "sign", *reader, "--pin", PIN, "--out", str(sig), str(tools.path("msg.txt"))])
        == 0
    )
    capsys.readouterr()
    assert main(["md", "info", *reader]) == 0
    info = capsys.readouterr().out
    assert "Card module:   piv" in info and "certificate: CN=softcard md" in info
    public.verify(
        sig.read_bytes(), tools.path("msg.txt").read_bytes(), padding.PKCS1v15(), hashes.SHA256()
    )
    read = tools.ypt("-s", "9a", "-a", "read-certificate")
    assert x509.load_pem_x509_certificate(read.encode()) == cert
    out = tools.ypt(
        "-s", "9a", "-P", PIN, "-a", "verify-pin", "-a", "test-signature", "-i", "md.pem"
    )
    assert "Successful RSA verification" in out
    tools.pkcs11("-l", "-p", PIN, "--sign", "--id", "01", "-m", "SHA256-RSA-PKCS",
                 "-i", "msg.txt", "-o", "p11.sig")  # fmt: skip
    public.verify(
        tools.path("p11.sig").read_bytes(), tools.path("msg.txt").read_bytes(),
        padding.PKCS1v15(), hashes.SHA256(),
    )  # fmt: skip


def test_softcard_md_ecc_container_and_puk_on_piv(
    tools: Tools, capsys: pytest.CaptureFixture[str]
) -> None:
    """An ECDSA container made and used with `softcard md` (the real key spec, DER out), and
    the PUK: `md info` names PIN 3, `md pin unblock --puk` unblocks the blocked PIN."""
    from softcard.cli.main import main

    reader = ["--reader", tools.served.reader]
    assert main(["md", "container", "create", *reader, "--pin", PIN, "--index", "1",
                 "--key-spec", "ecdsa-p256"]) == 0  # fmt: skip
    with tools.context() as ctx:
        public, ecdsa = blobs.parse_ecc_public_blob(ctx.get_container_info(1).sig_public_key or b"")
    assert ecdsa and public.curve.key_size == 256
    tools.path("msg.txt").write_bytes(b"ECDSA through softcard md\n")
    sig = tools.path("ec.sig")
    assert main(["md", "sign", *reader, "--index", "1", "--pin", PIN, "--out", str(sig),
                 str(tools.path("msg.txt"))]) == 0  # fmt: skip
    public.verify(sig.read_bytes(), tools.path("msg.txt").read_bytes(), ec.ECDSA(hashes.SHA256()))
    # ykman sees the key in 9C (container 01), generated on the card.
    slot = tools.ykman("keys", "info", "9c")
    assert "ECCP256" in slot and "GENERATED" in slot.upper()
    capsys.readouterr()
    assert main(["md", "info", *reader]) == 0
    info = capsys.readouterr().out
    assert "AT_ECDSA_P256 256 bits" in info
    assert "  3 PUK    AlphaNumericPinType, UnblockOnlyPin, 3 tries left" in info
    for _ in range(3):
        assert main(["md", "pin", "verify", *reader, "--pin", "000000"]) == 1
    assert main(["md", "pin", "verify", *reader, "--pin", PIN]) == 1  # blocked
    assert "SCARD_W_CHV_BLOCKED" in capsys.readouterr().err
    assert main(["md", "pin", "unblock", *reader, "--puk", "00000000", "--new-pin", "654321"]) == 1
    assert "SCARD_W_WRONG_CHV" in capsys.readouterr().err  # a wrong PUK spends a PUK try
    assert main(["md", "pin", "unblock", *reader, "--puk", "12345678", "--new-pin", "654321"]) == 0
    assert main(["md", "pin", "verify", *reader, "--pin", "654321"]) == 0
    tools.ypt("-P", "654321", "-a", "verify-pin")  # the PIV tools agree on the new PIN
