"""Enrollment as Windows does it, caching across two contexts, tracing, and `softcard md`,
all through pyscard -> pcscd -> vpcd -> the emulated GIDS card; enrollment and caching run on
the PIV card too, with the differences of tests/minidriver_expectations.py."""

from __future__ import annotations

import datetime
import hashlib
import subprocess
import sys
import zlib
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import NameOID

import driver
from driver import blobs, errors
from driver.csp import Csp
from driver.structures import (
    CARD_CACHE_FILE_FORMAT,
    CARD_SIGNING_INFO,
    CONTAINER_MAP_RECORD,
    build_cmapfile,
    parse_cmapfile,
)
from tests.minidriver_expectations import CARD_KINDS, CardKind
from wire import minidriver as k

pytestmark = pytest.mark.e2e

PROFILE = import_module("emulator.profiles.gids")
PIN: bytes = PROFILE.USER_PIN
ADMIN_KEY: bytes = PROFILE.ADMIN_KEY


def _certificate(public: rsa.RSAPublicKey) -> x509.Certificate:
    ca = rsa.generate_private_key(65537, 2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "softcard enrollment test")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(ca, hashes.SHA256())
    )


@pytest.fixture(params=sorted(CARD_KINDS))
def card(request: pytest.FixtureRequest) -> CardKind:
    return CARD_KINDS[request.param]


def test_enrollment_end_to_end(serve_card: Any, card: CardKind) -> None:
    served = serve_card(card.kind)
    with driver.acquire_context(connection=served.connect()) as ctx:
        csp = Csp(ctx)
        ctx.authenticate_pin("user", PIN)
        index = csp.enroll(k.AT_KEYEXCHANGE, 2048)  # on-card key generation
        assert index == 0
        record = parse_cmapfile(ctx.read_file("mscp", "cmapfile"))[0]
        assert record.flags == k.CONTAINER_MAP_VALID_CONTAINER | k.CONTAINER_MAP_DEFAULT_CONTAINER
        assert (record.key_exchange_key_size_bits, record.sig_key_size_bits) == (2048, 0)
        assert len(ctx.read_file("mscp", "cmapfile")) == 86
        info = ctx.get_container_info(0)
        assert info.sig_public_key is None
        public = blobs.parse_rsa_public_blob(info.key_ex_public_key or b"")
        assert public.key_size == 2048
        assert ctx.get_container_property(0, k.CCP_PIN_IDENTIFIER) == b"\1\0\0\0"
        with pytest.raises(errors.SCARD_E_NO_KEY_CONTAINER):
            ctx.get_container_property(0, k.CCP_ASSOCIATED_ECDH_KEY)
        cert = _certificate(public)
        assert csp.put_certificate(0, k.AT_KEYEXCHANGE, cert) == "kxc00"
        stored = ctx.read_file("mscp", "kxc00")
        der = cert.public_bytes(serialization.Encoding.DER)
        if card.certificate_compression:
            assert stored == der  # the card module stores (and compresses) it itself
        else:  # the CSP compressed it
            assert stored[:2] == b"\x01\x00" and int.from_bytes(stored[2:4], "little") == len(der)
            assert zlib.decompress(stored[4:]) == der
        assert "kxc00" in ctx.enum_files("mscp")
        digest = hashlib.sha256(b"logon").digest()
        sig = ctx.sign_data(CARD_SIGNING_INFO(2, 0, k.AT_KEYEXCHANGE, 0, k.CALG_SHA_256, digest))
        cert_key = cert.public_key()
        assert isinstance(cert_key, rsa.RSAPublicKey)
        cert_key.verify(
            (sig.signed_data or b"")[::-1], digest, padding.PKCS1v15(), Prehashed(hashes.SHA256())
        )
        free = ctx.query_free_space()
        assert free.key_containers_available == free.max_key_containers - 1
        second = csp.enroll(k.AT_SIGNATURE, 1024)
        assert second == 1 and not parse_cmapfile(ctx.read_file("mscp", "cmapfile"))[1].default
        cf = CARD_CACHE_FILE_FORMAT.from_bytes(ctx.read_file(None, "cardcf"))
        if card.counted_cardcf:
            assert cf.containers_freshness == 2 and cf.files_freshness >= 6
    # OpenSC reads what the driver wrote: the same container, key and certificate
    opensc = subprocess.run(
        ["pkcs15-tool", "--reader", served.reader, "--list-certificates", "--list-keys"],
        capture_output=True,
        text=True,
        env=served.stack.env(),
        timeout=60,
    )
    assert opensc.returncode == 0, opensc.stderr
    assert "X.509 Certificate" in opensc.stdout
    # OpenSC labels the key with the container name (GIDS) or the slot's name (PIV).
    assert (card.opensc_key_label or record.guid) in opensc.stdout
    # and the driver deletes it all again, as the CSP does
    with driver.acquire_context(reader=served.reader) as ctx:
        ctx.authenticate_pin("user", PIN)
        Csp(ctx).delete(0)
        assert "kxc00" not in ctx.enum_files("mscp")
        with pytest.raises(errors.SCARD_E_NO_KEY_CONTAINER):
            ctx.get_container_info(0)
        assert not parse_cmapfile(ctx.read_file("mscp", "cmapfile"))[0].valid


def test_second_context_notices_changes_and_cache_saves_apdus(
    serve_card: Any, card: CardKind
) -> None:
    served = serve_card(card.kind)
    a = driver.acquire_context(connection=served.connect())
    b = driver.acquire_context(connection=served.connect())
    try:
        assert a.transport is not None
        assert a.read_file("mscp", "cmapfile") == b""
        before = a.transport.apdu_count
        with a.transaction():
            for _ in range(3):
                assert a.read_file("mscp", "cmapfile") == b""
                a.get_property(k.CP_CARD_CAPABILITIES)
        # Only the cardcf check (its cost per card kind: the expectations table).
        assert a.transport.apdu_count - before <= card.freshness_apdus
        before = a.transport.apdu_count
        assert a.read_file("mscp", "cmapfile") == b""  # one call, warm: the check only
        assert a.transport.apdu_count - before <= card.freshness_apdus
        b.authenticate_pin("user", PIN)
        reserved = build_cmapfile(
            [CONTAINER_MAP_RECORD("{b0b0b0b0-0000-4000-8000-000000000001}", 1)]
        )
        b.write_file("mscp", "cmapfile", 0, reserved)
        assert a.read_file("mscp", "cmapfile") == reserved  # cardcf moved: re-read
        b.create_container(0, k.CARD_CREATE_CONTAINER_KEY_GEN, k.AT_KEYEXCHANGE, 1024, None)
        first = a.get_container_info(0).key_ex_public_key
        b.create_container(
            0, k.CARD_CREATE_CONTAINER_KEY_GEN, k.AT_KEYEXCHANGE, 1024, None
        )  # overwrite
        assert a.get_container_info(0).key_ex_public_key not in (None, first)
    finally:
        a.delete_context()
        b.delete_context()


def test_tracing_connection_correlates_calls(serve_card: Any, tmp_path: Path) -> None:
    from emulator.trace.host import TracingConnection

    served = serve_card("gids")
    trace = tmp_path / "md.jsonl"
    conn = TracingConnection(served.connect(), trace)
    with driver.acquire_context(connection=conn) as ctx:
        ctx.read_file(None, "cardid")
        ctx.authenticate_pin("user", PIN)
    conn.tracer.close()
    text = trace.read_text()
    assert "CardAcquireContext" in text and "CardReadFile" in text and "CardAuthenticatePin" in text


def _md(
    served: Any, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "softcard", "md", *args, "--reader", served.reader],
        capture_output=True,
        text=True,
        env={**served.stack.env(), **(env or {})},
        timeout=120,
    )


def test_softcard_md_cli(serve_card: Any, tmp_path: Path) -> None:
    served = serve_card("gids")
    pin = PIN.decode()
    r = _md(served, "info")
    assert r.returncode == 0, r.stderr
    assert (
        "Card GUID" in r.stdout and "AT_KEYEXCHANGE" in r.stdout and "Containers:    0" in r.stdout
    )
    r = _md(served, "pin", "verify", "--pin", "00000000")
    assert (
        r.returncode == 1
        and r.stderr.startswith("softcard: SCARD_W_WRONG_CHV")
        and "Traceback" not in r.stderr
    )
    r = _md(served, "container", "create", "--pin", pin, "--bits", "1024", "--name", "cli-key")
    assert r.returncode == 0, r.stderr
    key = rsa.generate_private_key(65537, 2048)
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    r = _md(served, "container", "import", "--pin", pin, str(key_file))
    assert r.returncode == 0 and "container 1" in r.stdout, r.stderr
    data = tmp_path / "data.bin"
    data.write_bytes(b"sign me")
    sig_file = tmp_path / "sig.bin"
    r = _md(served, "sign", "--index", "1", "--pin", pin, str(data), "--out", str(sig_file))
    assert r.returncode == 0, r.stderr
    key.public_key().verify(sig_file.read_bytes(), b"sign me", padding.PKCS1v15(), hashes.SHA256())
    ct = tmp_path / "ct.bin"
    ct.write_bytes(key.public_key().encrypt(b"for the card", padding.PKCS1v15()))
    r = _md(served, "decrypt", "--index", "1", "--pin", pin, str(ct))
    assert r.returncode == 0 and r.stdout == "for the card", r.stderr
    cert_file = tmp_path / "cert.pem"
    cert_file.write_bytes(_certificate(key.public_key()).public_bytes(serialization.Encoding.PEM))
    r = _md(served, "cert", "put", "--index", "1", "--pin", pin, str(cert_file))
    assert r.returncode == 0 and "kxc01" in r.stdout, r.stderr
    r = _md(served, "cert", "get", "--index", "1")
    assert (
        r.returncode == 0
        and x509.load_pem_x509_certificate(r.stdout.encode()).public_key() == key.public_key()
    )
    r = _md(served, "ls", "mscp")
    assert r.returncode == 0 and "cmapfile" in r.stdout and "kxc01" in r.stdout
    r = _md(served, "cat", "/", "cardapps")
    assert r.returncode == 0 and "6d 73 63 70" in r.stdout
    r = _md(served, "info")
    assert "cli-key" in r.stdout and "softcard enrollment test" in r.stdout
    r = _md(served, "container", "delete", "--index", "0", "--pin", pin)
    assert r.returncode == 0, r.stderr
    r = _md(served, "pin", "change", "--pin", pin, "--new-pin", "87654321")
    assert r.returncode == 0, r.stderr
    for _ in range(3):
        _md(served, "pin", "verify", "--pin", "00000000")
    r = _md(served, "pin", "verify", "--pin", "87654321")
    assert r.returncode == 1 and "SCARD_W_CHV_BLOCKED" in r.stderr
    r = _md(served, "pin", "unblock", "--admin-key", ADMIN_KEY.hex(), "--new-pin", pin)
    assert r.returncode == 0, r.stderr
    r = _md(served, "pin", "verify", "--pin", pin)
    assert r.returncode == 0, r.stderr
    r = _md(served, "cat", "nodir", "x")
    assert r.returncode == 1 and "SCARD_E_DIR_NOT_FOUND" in r.stderr
