"""PIV end to end: ykman, yubico-piv-tool and OpenSC, unmodified, through pcscd + vpcd.

Each test is one user flow against one served card; the card's resulting state
is read back from the emulator itself (GET METADATA / GET DATA in process).
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from emulator.core.events import ApduEvent, PowerEvent
from softcard.harness import ServedCard
from softcard.stack import PcscStack
from tests.conftest import ServeCard
from wire import tlv

pytestmark = pytest.mark.e2e

MGM = "010203040506070801020304050607080102030405060708"
PKCS11 = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
YKMAN = str(Path(sys.executable).parent / "ykman")


@dataclass
class Clients:
    """Runs the real tools against one served card, as a user would."""

    served: ServedCard
    stack: PcscStack
    workdir: Path

    def run(self, *cmd: str, ok: bool = True, stdin: bytes | None = None) -> str:
        proc = subprocess.run(
            list(cmd),
            input=stdin,
            capture_output=True,
            env=self.stack.env(),
            cwd=self.workdir,
            timeout=120,
            check=False,
        )
        out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
        if ok and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}:\n{out}")
        return out

    def ykman(self, *args: str, ok: bool = True) -> str:
        return self.run(YKMAN, "--reader", self.served.reader, "piv", *args, ok=ok)

    def ypt(self, *args: str, ok: bool = True) -> str:
        return self.run("yubico-piv-tool", "-r", self.served.reader, *args, ok=ok)

    def pkcs11(self, *args: str, ok: bool = True) -> str:
        return self.run("pkcs11-tool", "--module", PKCS11, *args, ok=ok)

    def path(self, name: str) -> Path:
        return self.workdir / name

    # -- the card's state, read in process --------------------------------------------------

    def card(self, apdu: str) -> tuple[bytes, int]:
        """An APDU straight into the emulator (read-only commands, between client runs)."""
        if not self.served.card.powered:  # the client powered it down when it left
            self.served.card.power_on()
        out = self.served.card.transmit(bytes.fromhex(apdu.replace(" ", "")))
        data, sw = out[:-2], int.from_bytes(out[-2:], "big")
        while sw >> 8 == 0x61:
            out = self.served.card.transmit(bytes.fromhex("00C0000000"))
            data, sw = data + out[:-2], int.from_bytes(out[-2:], "big")
        return data, sw

    def metadata(self, ref: int) -> dict[int, bytes] | None:
        data, sw = self.card(f"00 F7 00 {ref:02X}")
        return tlv.to_dict(data) if sw == 0x9000 else None

    def state(self) -> dict[str, object]:
        piv = self.served.card.export_state()["piv"]
        assert isinstance(piv, dict)
        return piv


class Recorder:
    """Observer collecting the APDUs the card saw."""

    def __init__(self) -> None:
        self.commands: list[bytes] = []

    def on_apdu(self, event: ApduEvent) -> None:
        self.commands.append(event.command)

    def on_power(self, event: PowerEvent) -> None:
        return None


@pytest.fixture
def clients(serve_card: ServeCard, pcsc_stack: PcscStack, tmp_path: Path) -> Clients:
    for tool in ("yubico-piv-tool", "pkcs11-tool", "pkcs15-tool", "opensc-tool", "openssl"):
        assert shutil.which(tool), f"{tool} is missing: run scripts/setup"
    assert Path(YKMAN).exists(), "ykman is missing: run scripts/setup"
    return Clients(serve_card("piv"), pcsc_stack, tmp_path)


def load_cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def issue_cert(public_pem: bytes, cn: str) -> bytes:
    """A certificate for a card key, issued by a throwaway CA (PEM)."""
    ca = ec.generate_private_key(ec.SECP256R1())
    public = serialization.load_pem_public_key(public_pem)
    assert isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")]))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(ca, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def attestation_ca(c: Clients) -> x509.Certificate:
    data, sw = c.card("00 CB 3F FF 05 5C 03 5F FF 01 00")
    assert sw == 0x9000
    der = tlv.find(tlv.parse_one(data, 0x53).value, 0x70)
    assert der is not None
    return x509.load_der_x509_certificate(der)


# -- ykman ----------------------------------------------------------------------------------


def test_ykman_info_and_access_management(clients: Clients) -> None:
    c = clients
    info = c.ykman("info")
    assert "PIV version:              5.7.1" in info
    assert "PIN tries remaining:      3/3" in info
    assert "WARNING: Using default PIN!" in info
    assert "Management key algorithm: TDES" in info
    c.ykman("access", "change-pin", "-P", "123456", "-n", "654321")
    c.ykman("access", "change-puk", "-p", "12345678", "-n", "87654321")
    assert c.metadata(0x80) == {1: b"\xff", 5: b"\x00", 6: b"\x03\x03"}
    wrong = c.ykman("access", "change-pin", "-P", "000000", "-n", "111111", ok=False)
    assert "PIN change failed - 2 tries left" in wrong
    c.ykman("access", "unblock-pin", "-p", "87654321", "-n", "222222")
    assert c.metadata(0x80) == {1: b"\xff", 5: b"\x00", 6: b"\x03\x03"}
    new_key = "000102030405060708090a0b0c0d0e0f1011121314151617"
    c.ykman("access", "change-management-key", "-m", MGM, "-n", new_key, "-a", "AES192")
    assert c.metadata(0x9B) == {1: b"\x0a", 2: b"\x00\x01", 5: b"\x00"}
    # --protect: a random AES key stored in the PIN-protected object, found there via the PIN.
    c.ykman("access", "change-management-key", "-m", new_key, "-P", "222222", "--protect", "-g")
    assert "Management key is stored on the YubiKey, protected by PIN" in c.ykman("info")
    assert c.card("00 CB 3F FF 05 5C 03 5F FF 00 00")[0] == tlv.encode(
        0x53, b"\x80\x03\x81\x01\x02"
    )
    assert c.card("00 CB 3F FF 05 5C 03 5F C1 09 00")[1] == 0x6982  # needs the PIN
    c.ykman("keys", "generate", "-P", "222222", "-a", "ECCP256", "9e", "9e.pem")
    assert (c.metadata(0x9E) or {})[1] == b"\x11"
    c.ykman("access", "set-retries", "-P", "222222", "5", "6", "-f")
    assert (c.metadata(0x80) or {})[6] == b"\x05\x05"
    assert (c.metadata(0x81) or {})[6] == b"\x06\x06"


def test_ykman_keys_certificates_objects_and_attestation(clients: Clients) -> None:
    c = clients
    c.ykman("keys", "generate", "-m", MGM, "-a", "ECCP256", "9a", "9a.pub")
    c.ykman(
        "certificates", "generate", "-m", MGM, "-P", "123456", "-s", "CN=ykman 9a", "9a", "9a.pub"
    )
    c.ykman("certificates", "export", "9a", "9a.crt")
    cert = load_cert(c.path("9a.crt").read_bytes())
    public = serialization.load_pem_public_key(c.path("9a.pub").read_bytes())
    assert cert.public_key() == public
    assert cert.subject.rfc4514_string() == "CN=ykman 9a"
    cert.verify_directly_issued_by(cert)  # self-signed by the card's key
    info = c.ykman("keys", "info", "9a")
    assert "ECCP256" in info and "GENERATED" in info and "ONCE" in info
    c.ykman("keys", "attest", "9a", "att.pem")
    attested = load_cert(c.path("att.pem").read_bytes())
    attested.verify_directly_issued_by(attestation_ca(c))
    assert attested.public_key() == public
    # Import: an RSA-2048 key and its certificate into 9D, then export and delete.
    private = rsa.generate_private_key(65537, 2048)
    c.path("imp.key").write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    c.path("imp.crt").write_bytes(issue_cert(public_pem, "imported"))
    c.ykman("keys", "import", "-m", MGM, "9d", "imp.key")
    assert (c.metadata(0x9D) or {})[3] == b"\x02"  # origin: imported
    c.ykman("certificates", "import", "-m", MGM, "--verify", "-P", "123456", "9d", "imp.crt")
    assert "CN=imported" in c.ykman("info")
    assert "Attestation failed" in c.ykman("keys", "attest", "9d", "-", ok=False)
    c.ykman("certificates", "delete", "-m", MGM, "9d")
    assert "No certificate found" in c.ykman("certificates", "export", "9d", "-", ok=False)
    # Objects: CHUID out; a Yubico vendor object in and out; PIN-protected ones need -P.
    c.ykman("objects", "export", "CHUID", "chuid.bin")
    assert c.path("chuid.bin").read_bytes()[:2] == b"\x30\x19"
    c.path("obj.bin").write_bytes(b"softcard object")
    c.ykman("objects", "import", "-m", MGM, "5fff10", "obj.bin")
    assert c.ykman("objects", "export", "5fff10", "-").startswith("softcard object")
    assert "No data" in c.ykman("objects", "export", "-P", "123456", "PRINTED", "-", ok=False)


def test_ykman_rsa_and_ed25519_keys(clients: Clients) -> None:
    c = clients
    c.ykman("keys", "generate", "-m", MGM, "-a", "RSA2048", "9c", "9c.pub")
    c.ykman("certificates", "generate", "-m", MGM, "-P", "123456", "-s", "CN=rsa", "9c", "9c.pub")
    c.ykman("certificates", "export", "9c", "9c.crt")
    load_cert(c.path("9c.crt").read_bytes()).verify_directly_issued_by(
        load_cert(c.path("9c.crt").read_bytes())
    )
    c.ykman("keys", "generate", "-m", MGM, "-a", "ED25519", "82", "ed.pub")
    c.ykman("certificates", "generate", "-m", MGM, "-P", "123456", "-s", "CN=ed", "82", "ed.pub")
    c.ykman("certificates", "export", "82", "ed.crt")
    ed = load_cert(c.path("ed.crt").read_bytes())
    ed.verify_directly_issued_by(ed)
    assert "ED25519" in c.ykman("keys", "info", "82")


def test_ykman_reset(clients: Clients) -> None:
    c = clients
    c.ykman("keys", "generate", "-m", MGM, "-a", "ECCP256", "9a", "9a.pub")
    c.ykman("access", "change-pin", "-P", "123456", "-n", "654321")
    out = c.ykman("reset", "-f")
    assert "Reset complete" in out
    assert c.metadata(0x9A) is None
    assert c.metadata(0x80) == {1: b"\xff", 5: b"\x01", 6: b"\x03\x03"}
    assert "WARNING: Using default PIN!" in c.ykman("info")


# -- yubico-piv-tool ------------------------------------------------------------------------


def test_yubico_piv_tool_pins_management_key_and_reset(clients: Clients) -> None:
    c = clients
    status = c.ypt("-a", "status")
    assert "Version:\t5.7.1" in status and "PIN tries left:\t3" in status
    serial = int.from_bytes(c.card("00 F8 00 00 00")[0], "big")
    assert f"Serial Number:\t{serial}" in status
    assert "Successfully verified PIN" in c.ypt("-a", "verify-pin", "-P", "123456")
    c.ypt("-a", "change-pin", "-P", "123456", "-N", "654321")
    c.ypt("-a", "change-puk", "-P", "12345678", "-N", "87654321")
    for _ in range(3):
        c.ypt("-a", "verify-pin", "-P", "000000", ok=False)
    assert "blocked" in c.ypt("-a", "verify-pin", "-P", "654321", ok=False)
    c.ypt("-a", "unblock-pin", "-P", "87654321", "-N", "111111")
    assert "Successfully verified PIN" in c.ypt("-a", "verify-pin", "-P", "111111")
    new_key = "0a0b0c0d0e0f10111213141516171819202122232425262d"
    c.ypt("-a", "set-mgm-key", "-n", new_key)
    assert c.metadata(0x9B) == {1: b"\x03", 2: b"\x00\x01", 5: b"\x00"}
    c.ypt(f"--key={new_key}", "-s", "9a", "-a", "generate", "-A", "ECCP256", "-o", "9a.pem")
    assert (c.metadata(0x9A) or {})[1] == b"\x11"
    assert "Reset failed" in c.ypt("-a", "reset", ok=False)
    for _ in range(3):
        c.ypt("-a", "verify-pin", "-P", "000000", ok=False)
    for _ in range(3):
        c.ypt("-a", "unblock-pin", "-P", "00000000", "-N", "333333", ok=False)
    assert "Successfully reset" in c.ypt("-a", "reset")
    assert c.metadata(0x9A) is None
    assert c.metadata(0x9B) == {1: b"\x03", 2: b"\x00\x01", 5: b"\x01"}


def test_yubico_piv_tool_keys_certificates_and_tests(clients: Clients) -> None:
    c = clients
    c.ypt("-s", "9a", "-a", "generate", "-A", "RSA2048", "-o", "9a.pub")
    c.ypt("-s", "9c", "-a", "generate", "-A", "ECCP256", "-o", "9c.pub")
    assert (c.metadata(0x9A) or {})[1] == b"\x07"
    for slot in ("9a", "9c"):
        c.path(f"{slot}.crt").write_bytes(issue_cert(c.path(f"{slot}.pub").read_bytes(), slot))
        c.ypt("-s", slot, "-a", "import-certificate", "-i", f"{slot}.crt")
    assert "Subject DN:\tCN=9a" in c.ypt("-a", "status")
    read = c.ypt("-s", "9c", "-a", "read-certificate")
    assert load_cert(read.encode()).subject.rfc4514_string() == "CN=9c"
    out = c.ypt(
        "-s", "9a", "-P", "123456", "-a", "verify-pin", "-a", "test-signature", "-i", "9a.crt"
    )
    assert "Successful RSA verification" in out
    out = c.ypt(
        "-s", "9a", "-P", "123456", "-a", "verify-pin", "-a", "test-decipher", "-i", "9a.crt"
    )
    assert "Successfully performed RSA decryption" in out
    out = c.ypt(
        "-s", "9c", "-P", "123456", "-a", "verify-pin", "-a", "test-signature", "-i", "9c.crt"
    )
    assert "Successful ECDSA verification" in out
    attested = load_cert(c.ypt("-s", "9c", "-a", "attest").encode())
    attested.verify_directly_issued_by(attestation_ca(c))
    assert attested.public_key() == load_cert(c.path("9c.crt").read_bytes()).public_key()
    c.ypt("-s", "9c", "-a", "delete-certificate")
    assert "Failed fetching certificate" in c.ypt("-s", "9c", "-a", "read-certificate", ok=False)


def test_yubico_piv_tool_selfsign_and_request_fail_inside_the_client(clients: Clients) -> None:
    """yubico-piv-tool 2.2.0 on OpenSSL 3 cannot sign certificates or requests at all
    (Yubico/yubico-piv-tool#388): it gives up before it sends the signature command.
    This pins that the failure is the client's: the card never saw a GENERAL AUTHENTICATE."""
    c = clients
    c.ypt("-s", "9a", "-a", "generate", "-A", "ECCP256", "-o", "9a.pub")
    recorder = Recorder()
    c.served.card.observers.append(recorder)
    out = c.ypt(
        "-s",
        "9a",
        "-P",
        "123456",
        "-S",
        "/CN=x/",
        "-a",
        "verify-pin",
        "-a",
        "selfsign",
        "-i",
        "9a.pub",
        "-o",
        "9a.crt",
        ok=False,
    )
    assert "Failed signing certificate" in out
    out = c.ypt(
        "-s",
        "9a",
        "-P",
        "123456",
        "-S",
        "/CN=x/",
        "-a",
        "verify-pin",
        "-a",
        "request-certificate",
        "-i",
        "9a.pub",
        "-o",
        "9a.csr",
        ok=False,
    )
    assert "Failed signing request" in out
    assert any(cmd[1] == 0x20 for cmd in recorder.commands)  # the PIN was verified
    assert not any(cmd[1] == 0x87 for cmd in recorder.commands)


# -- OpenSC ---------------------------------------------------------------------------------


def _opensc_keys(c: Clients) -> None:
    """9A RSA-2048, 9C P-256 (PIN always), 9D P-256 for ECDH, with certificates (ykman)."""
    for slot, alg in (("9a", "RSA2048"), ("9c", "ECCP256"), ("9d", "ECCP256")):
        c.ykman("keys", "generate", "-m", MGM, "-a", alg, slot, f"{slot}.pub")
        c.ykman(
            "certificates",
            "generate",
            "-m",
            MGM,
            "-P",
            "123456",
            "-s",
            f"CN={slot}",
            slot,
            f"{slot}.pub",
        )
        c.ykman("certificates", "export", slot, f"{slot}.crt")


def test_opensc_tools_see_a_piv_card(clients: Clients) -> None:
    c = clients
    assert "Personal Identity Verification Card" in c.run(
        "opensc-tool", "-r", c.served.reader, "-n"
    )
    _opensc_keys(c)  # ykman gives the CHUID a new GUID with each certificate
    chuid = tlv.parse_one(c.card("00 CB 3F FF 05 5C 03 5F C1 02 00")[0], 0x53).value
    guid = tlv.find(chuid, 0x34)
    assert guid is not None
    serial = c.run("piv-tool", "-r", c.served.reader, "--serial")
    assert guid.hex(" ").upper() in serial
    dump = c.run("pkcs15-tool", "-r", c.served.reader, "--dump")
    assert f"Serial number  : {guid.hex()}" in dump
    assert "Private RSA Key [PIV AUTH key]" in dump and "Private EC Key [SIGN key]" in dump
    assert "Private EC Key [KEY MAN key]" in dump
    # piv-tool generates on the card with mutual authentication; 0.23 then fails to encode
    # the public key it received (OpenSSL 3 port bug), so only the card's state is checked.
    c.path("mgm.hex").write_text(MGM)
    env_run = subprocess.run(
        ["piv-tool", "-r", c.served.reader, "-A", "M:9B:03", "-G", "9E:07"],
        env={**c.stack.env(), "PIV_EXT_AUTH_KEY": str(c.path("mgm.hex"))},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (c.metadata(0x9E) or {}).get(1) == b"\x07", env_run.stderr


def test_pkcs11_sign_decrypt_derive_and_selftest(clients: Clients) -> None:
    c = clients
    _opensc_keys(c)
    slots = c.pkcs11("--list-slots")
    assert "token label        : 9a" in slots and "token manufacturer : piv_II" in slots
    objects = c.pkcs11("--login", "--pin", "123456", "--list-objects")
    for label in ("PIV AUTH key", "SIGN key", "KEY MAN key", "Certificate for PIV Authentication"):
        assert label in objects
    assert "always authenticate" in objects  # 9C: PIN policy always
    c.path("msg.txt").write_bytes(b"signed through PKCS#11\n")
    c.pkcs11(
        "-l",
        "-p",
        "123456",
        "--sign",
        "--id",
        "01",
        "-m",
        "SHA256-RSA-PKCS",
        "-i",
        "msg.txt",
        "-o",
        "rsa.sig",
    )
    out = c.run(
        "openssl", "dgst", "-sha256", "-verify", "9a.pub", "-signature", "rsa.sig", "msg.txt"
    )
    assert "Verified OK" in out
    c.pkcs11(
        "-l",
        "-p",
        "123456",
        "--sign",
        "--id",
        "02",
        "-m",
        "ECDSA-SHA256",
        "--signature-format",
        "openssl",
        "-i",
        "msg.txt",
        "-o",
        "ec.sig",
    )
    public = load_cert(c.path("9c.crt").read_bytes()).public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(
        c.path("ec.sig").read_bytes(), c.path("msg.txt").read_bytes(), ec.ECDSA(hashes.SHA256())
    )
    rsa_public = load_cert(c.path("9a.crt").read_bytes()).public_key()
    assert isinstance(rsa_public, rsa.RSAPublicKey)
    c.path("enc.bin").write_bytes(rsa_public.encrypt(b"for the card only", padding.PKCS1v15()))
    plain = c.pkcs11(
        "-l",
        "-p",
        "123456",
        "--decrypt",
        "--id",
        "01",
        "-m",
        "RSA-PKCS",
        "-i",
        "enc.bin",
        "-o",
        "plain.bin",
    )
    assert c.path("plain.bin").read_bytes() == b"for the card only", plain
    peer = ec.generate_private_key(ec.SECP256R1())
    c.path("peer.der").write_bytes(
        peer.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    c.pkcs11(
        "-l",
        "-p",
        "123456",
        "--derive",
        "--id",
        "03",
        "-m",
        "ECDH1-DERIVE",
        "-i",
        "peer.der",
        "-o",
        "secret.bin",
    )
    card_public = load_cert(c.path("9d.crt").read_bytes()).public_key()
    assert isinstance(card_public, ec.EllipticCurvePublicKey)
    assert c.path("secret.bin").read_bytes() == peer.exchange(ec.ECDH(), card_public)
    test = c.pkcs11("--test", "--login", "--pin", "123456")
    assert "No errors" in test


def test_pkcs11_keypairgen_is_not_offered_by_opensc_piv(clients: Clients) -> None:
    """OpenSC's PIV driver hides on-card generation from PKCS#11 on purpose (card-piv.c:
    'PKCS#11 may try to generate session keys'); the tool says so before any APDU."""
    c = clients
    out = c.pkcs11(
        "-l", "-p", "123456", "--keypairgen", "--key-type", "EC:prime256v1", "--id", "03", ok=False
    )
    assert "mechanism 1040 not supported" in out
    assert c.metadata(0x9D) is None


# -- across clients -------------------------------------------------------------------------


def test_signature_through_one_client_verifies_with_the_certificate_another_reads(
    clients: Clients,
) -> None:
    c = clients
    c.ykman("keys", "generate", "-m", MGM, "-a", "ECCP256", "9a", "9a.pub")
    c.ykman(
        "certificates", "generate", "-m", MGM, "-P", "123456", "-s", "CN=interop", "9a", "9a.pub"
    )
    pem = c.ypt("-s", "9a", "-a", "read-certificate")
    c.path("9a.crt").write_text(pem)
    c.path("msg.txt").write_bytes(b"made by OpenSC, checked with yubico-piv-tool's cert\n")
    c.pkcs11(
        "-l",
        "-p",
        "123456",
        "--sign",
        "--id",
        "01",
        "-m",
        "ECDSA-SHA256",
        "--signature-format",
        "openssl",
        "-i",
        "msg.txt",
        "-o",
        "sig.bin",
    )
    c.run("openssl", "x509", "-in", "9a.crt", "-pubkey", "-noout", "-out", "cert.pub")
    out = c.run(
        "openssl", "dgst", "-sha256", "-verify", "cert.pub", "-signature", "sig.bin", "msg.txt"
    )
    assert "Verified OK" in out
    # And the other way round: yubico-piv-tool signs, the certificate ykman exported verifies.
    c.ykman("certificates", "export", "9a", "ykman.crt")
    out = c.ypt(
        "-s", "9a", "-P", "123456", "-a", "verify-pin", "-a", "test-signature", "-i", "ykman.crt"
    )
    assert "Successful ECDSA verification" in out
