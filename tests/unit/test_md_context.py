# ruff: noqa: F405 - the spec constants come in with one star import
"""The generic minidriver layer (driver/context.py) over an in-memory card module.

The card module here is a test double with the semantics of a writable minidriver card (files
with access conditions, a user PIN, an admin 3DES key, RSA and ECC keys, session PINs). It counts
card accesses so the tests can check that bad arguments and cache hits cost no APDU. The GIDS
module itself is tested against the emulated card in test_md_gids_card.py and tests/e2e.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash

import driver
from driver import blobs, errors
from driver.cardmodules import CardModule, ContainerKey, DecryptMode, SignMode
from driver.context import CardContext
from driver.csp import Csp, admin_response, compress_certificate, decompress_certificate
from driver.structures import (
    BCRYPT_OAEP_PADDING_INFO,
    BCRYPT_PKCS1_PADDING_INFO,
    BCRYPT_PSS_PADDING_INFO,
    CARD_AUTHENTICATE,
    CARD_CACHE_FILE_FORMAT,
    CARD_DERIVE_KEY,
    CARD_DH_AGREEMENT_INFO,
    CARD_FILE_INFO,
    CARD_IMPORT_KEYPAIR,
    CARD_KEY_SIZES,
    CARD_RSA_DECRYPT_INFO,
    CARD_SIGNING_INFO,
    CONTAINER_INFO,
    PIN_CACHE_POLICY,
    PIN_INFO,
    NCryptBuffer,
    NCryptBufferDesc,
)
from driver.transport import Transport
from wire.minidriver import *  # noqa: F403

ADMIN_KEY = bytes(range(1, 25))
PIN = b"123456"
RSA_1024 = rsa.generate_private_key(65537, 1024)


@dataclass
class SoftState:
    """What the card stores (shared by every context on the card)."""

    files: dict[tuple[str | None, str], tuple[int, bytes]] = field(default_factory=dict)
    dirs: dict[str, int] = field(default_factory=dict)
    keys: dict[int, tuple[int, Any]] = field(default_factory=dict)
    pin: bytes = PIN
    tries: int = 3
    admin_key: bytes = ADMIN_KEY
    verified: int = 0
    challenge: bytes | None = None
    session_pin: bytes | None = None


def fresh_state() -> SoftState:
    s = SoftState()
    s.files[(None, "cardid")] = (EveryoneReadAdminWriteAc, os.urandom(16))
    s.files[(None, "cardcf")] = (EveryoneReadUserWriteAc, bytes(6))
    s.files[(None, "cardapps")] = (EveryoneReadUserWriteAc, b"mscp\0\0\0\0")
    s.dirs["mscp"] = UserCreateDeleteDirAc
    s.files[("mscp", "cmapfile")] = (EveryoneReadUserWriteAc, b"")
    return s


class CountingConnection:
    def __init__(self) -> None:
        self.count = 0

    def transmit(self, command: list[int], protocol: object = None) -> tuple[list[int], int, int]:
        self.count += 1
        return [], 0x90, 0x00

    def disconnect(self) -> None:
        return None


class SoftCardModule(CardModule):
    name = "soft"
    max_containers = 8
    session_pins = True

    def __init__(self, transport: Transport, state: SoftState) -> None:
        super().__init__(transport)
        self.s = state

    def io(self) -> None:
        self.transport.exchange(b"\x00\x00\x00\x00")

    @classmethod
    def probe(cls, transport: Transport, atr: bytes) -> bool:
        return True

    def serial_number(self) -> bytes:
        return self.read_file(None, "cardid")

    def key_sizes(self, key_spec: int) -> CARD_KEY_SIZES | None:
        if key_spec in (AT_KEYEXCHANGE, AT_SIGNATURE):
            return CARD_KEY_SIZES(1, 1024, 2048, 2048, 1024)
        bits = EC_KEY_BITS[key_spec]
        return CARD_KEY_SIZES(1, bits, bits, bits, 1)

    def sign_modes(self) -> frozenset[SignMode]:
        return frozenset(SignMode)

    def decrypt_modes(self) -> frozenset[DecryptMode]:
        return frozenset({DecryptMode.RAW, DecryptMode.PKCS1})

    def can_ecdh(self) -> bool:
        return True

    # files: the card enforces access conditions like a real one
    def _rights(self, ac: int) -> str:
        rights = FILE_RIGHTS[CARD_FILE_ACCESS_CONDITION(ac)]
        out = set(rights[ROLE_EVERYONE])
        for role in (ROLE_USER, ROLE_ADMIN):
            if self.s.verified & CREATE_PIN_SET(role):
                out |= set(rights[role])
        return "".join(sorted(out))

    def directories(self) -> list[str]:
        return list(self.s.dirs)

    def directory_ac(self, name: str) -> int:
        return self.s.dirs[name]

    def files(self, directory: str | None) -> list[str]:
        self.io()
        if directory is not None and directory not in self.s.dirs:
            raise errors.SCARD_E_DIR_NOT_FOUND()
        return [n for (d, n) in self.s.files if d == directory]

    def _entry(self, directory: str | None, name: str) -> tuple[int, bytes]:
        if directory is not None and directory not in self.s.dirs:
            raise errors.SCARD_E_DIR_NOT_FOUND()
        if (directory, name) not in self.s.files:
            raise errors.SCARD_E_FILE_NOT_FOUND()
        return self.s.files[(directory, name)]

    def file_ac(self, directory: str | None, name: str) -> int:
        return self._entry(directory, name)[0]

    def read_file(self, directory: str | None, name: str) -> bytes:
        self.io()
        ac, data = self._entry(directory, name)
        if "R" not in self._rights(ac):
            raise errors.SCARD_W_SECURITY_VIOLATION()
        return data

    def write_file(self, directory: str | None, name: str, data: bytes) -> None:
        self.io()
        ac, _ = self._entry(directory, name)
        if "W" not in self._rights(ac):
            raise errors.SCARD_W_SECURITY_VIOLATION()
        self.s.files[(directory, name)] = (ac, data)

    def create_file(self, directory: str | None, name: str, access_condition: int) -> None:
        self.io()
        self.s.files[(directory, name)] = (access_condition, b"")

    def delete_file(self, directory: str | None, name: str) -> None:
        self.io()
        ac, _ = self._entry(directory, name)
        if "D" not in self._rights(ac):
            raise errors.SCARD_W_SECURITY_VIOLATION()
        del self.s.files[(directory, name)]

    def create_directory(self, name: str, access_condition: int) -> None:
        self.io()
        self.s.dirs[name] = access_condition

    def delete_directory(self, name: str) -> None:
        self.io()
        del self.s.dirs[name]

    # PINs
    def pin_info(self, pin_id: int) -> PIN_INFO:
        if pin_id == ROLE_USER:
            return PIN_INFO(6, 0, 5, 0x02, 0x04, PIN_CACHE_POLICY())
        if pin_id == ROLE_ADMIN:
            return PIN_INFO(6, 2, 4, 0x04, 0x00, PIN_CACHE_POLICY())
        raise errors.SCARD_E_INVALID_PARAMETER()

    def pin_length(self, pin_id: int) -> tuple[int, int]:
        return (24, 24) if pin_id == ROLE_ADMIN else (4, 8)

    def pin_tries_left(self, pin_id: int) -> int | None:
        return self.s.tries

    def verify_pin(self, pin_id: int, pin: bytes) -> None:
        self.io()
        if self.s.tries == 0:
            raise errors.SCARD_W_CHV_BLOCKED(attempts_remaining=0)
        if pin != self.s.pin:
            self.s.tries -= 1
            self.s.verified &= ~0x02
            raise errors.SCARD_W_WRONG_CHV(attempts_remaining=self.s.tries)
        self.s.tries = 3
        self.s.verified |= 0x02

    def generate_session_pin(self, pin_id: int, pin: bytes) -> bytes:
        self.verify_pin(pin_id, pin)
        self.s.verified &= ~0x02
        if self.s.session_pin is None:
            self.s.session_pin = os.urandom(16)
        return self.s.session_pin

    def verify_session_pin(self, pin_id: int, session_pin: bytes) -> None:
        self.io()
        if self.s.session_pin is None or session_pin != self.s.session_pin:
            raise errors.SCARD_W_WRONG_CHV(attempts_remaining=UNKNOWN_ATTEMPTS)
        self.s.verified |= 0x02

    def get_challenge(self, pin_id: int) -> bytes:
        self.io()
        self.s.verified &= ~0x04
        self.s.challenge = os.urandom(8)
        return self.s.challenge

    def answer_challenge(self, pin_id: int, response: bytes) -> None:
        self.io()
        challenge, self.s.challenge = self.s.challenge, None
        if challenge is None or response != admin_response(self.s.admin_key, challenge):
            raise errors.SCARD_W_WRONG_CHV(attempts_remaining=UNKNOWN_ATTEMPTS)
        self.s.verified |= 0x04

    def change_pin(self, pin_id: int, old: bytes, new: bytes) -> None:
        self.io()
        self.s.pin = new
        self.s.session_pin = None

    def change_challenge_key(self, pin_id: int, new_key: bytes) -> None:
        self.s.admin_key = new_key

    def unblock_pin(self, target: int, new_pin: bytes) -> None:
        if not self.s.verified & 0x04:
            raise errors.SCARD_W_SECURITY_VIOLATION()
        self.s.pin, self.s.tries, self.s.verified, self.s.session_pin = new_pin, 3, 0, None

    def deauthenticate(self, pin_set: int) -> int:
        self.io()
        self.s.verified &= ~pin_set
        return pin_set

    # keys
    def container_keys(self, index: int) -> list[ContainerKey]:
        self.io()
        if index not in self.s.keys:
            return []
        spec, key = self.s.keys[index]
        return [ContainerKey(spec, key.public_key())]

    def generate_key(self, index: int, key_spec: int, bits: int, pin_id: int) -> Any:
        self.io()
        if not self.s.verified & 0x02:
            raise errors.SCARD_W_SECURITY_VIOLATION()
        key: Any
        if key_spec in (AT_KEYEXCHANGE, AT_SIGNATURE):
            key = RSA_1024 if bits == 1024 else rsa.generate_private_key(65537, bits)
        else:
            key = ec.generate_private_key(blobs.key_spec_curve(key_spec).curve())
        self.s.keys[index] = (key_spec, key)
        return key.public_key()

    def import_key(self, index: int, key_spec: int, key: Any, pin_id: int) -> None:
        self.io()
        self.s.keys[index] = (key_spec, key)

    def delete_container(self, index: int) -> None:
        self.io()
        self.s.keys.pop(index, None)

    def _private(self, index: int) -> Any:
        if not self.s.verified & 0x02:
            raise errors.SCARD_W_SECURITY_VIOLATION()
        return self.s.keys[index][1]

    def sign(self, index: int, key_spec: int, mode: SignMode, data: bytes) -> bytes:
        self.io()
        key = self._private(index)
        if mode == SignMode.ECDSA:
            from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

            der = key.sign(data, ec.ECDSA(Prehashed(_hash_for(len(data)))))
            r, s = decode_dss_signature(der)
            size = blobs.key_spec_curve(key_spec).size
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        k = key.key_size // 8
        block = (
            data
            if mode == SignMode.RAW
            else b"\x00\x01" + b"\xff" * (k - 3 - len(data)) + b"\x00" + data
        )
        return _raw(key, block)

    def decrypt(self, index: int, key_spec: int, mode: DecryptMode, data: bytes) -> bytes:
        self.io()
        key = self._private(index)
        if mode == DecryptMode.PKCS1:
            return bytes(key.decrypt(data, asym.PKCS1v15()))
        return _raw(key, data)

    def ecdh(self, index: int, key_spec: int, peer: ec.EllipticCurvePublicKey) -> bytes:
        self.io()
        return bytes(self._private(index).exchange(ec.ECDH(), peer))


def _hash_for(length: int) -> hashes.HashAlgorithm:
    return {32: hashes.SHA256(), 48: hashes.SHA384(), 64: hashes.SHA512()}[length]


def _raw(key: rsa.RSAPrivateKey, block: bytes) -> bytes:
    n = key.private_numbers()
    return pow(int.from_bytes(block, "big"), n.d, n.public_numbers.n).to_bytes(
        key.key_size // 8, "big"
    )


class RecordingTracer:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, object]]] = []

    @contextlib.contextmanager
    def call(self, name: str, /, **args: object) -> Iterator[None]:
        self.calls.append((name, args))
        yield


def open_context(
    state: SoftState | None = None, version: int = 7, tracer: Any = None
) -> tuple[CardContext, CountingConnection]:
    conn = CountingConnection()
    transport = Transport(conn)
    ctx = CardContext(
        transport,
        SoftCardModule(transport, state or fresh_state()),
        version,
        b"\x3b\x00",
        tracer=tracer,
    )
    return ctx, conn


@pytest.fixture
def ctx() -> CardContext:
    return open_context()[0]


# --- CardAcquireContext / CardDeleteContext -------------------------------------------------


def test_acquire_context_argument_checks() -> None:
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        driver.acquire_context(flags=2)
    with pytest.raises(errors.ERROR_REVISION_MISMATCH):
        driver.acquire_context(version=3, flags=CARD_SECURE_KEY_INJECTION_NO_CARD_MODE)
    with pytest.raises(errors.SCARD_E_INVALID_HANDLE):
        driver.acquire_context()
    with driver.acquire_context(version=8, flags=CARD_SECURE_KEY_INJECTION_NO_CARD_MODE) as nc:
        assert nc.version == 7 and nc.no_card
        with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
            nc.read_file(None, "cardid")
        handle = nc.md_import_session_key("KeyDataBlob", "AES", blobs.key_data_blob(b"k" * 16))
        assert nc.get_key_property(handle, CKP_BLOCK_LENGTH) == (16).to_bytes(4, "little")


def test_acquire_context_refuses_a_card_no_module_knows() -> None:
    from emulator import make_card
    from emulator.transports.embedded import EmbeddedConnection

    conn = EmbeddedConnection(make_card("iso"))
    conn.connect()
    with pytest.raises(errors.SCARD_E_UNKNOWN_CARD):
        driver.acquire_context(connection=conn)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        driver.acquire_context(connection=conn, atr=b"\x3b")
    with pytest.raises(errors.SCARD_E_UNKNOWN_CARD):
        driver.acquire_context(connection=conn, atr=b"\xff\x00\x00")


def test_functions_newer_than_the_negotiated_version_are_absent() -> None:
    ctx, _ = open_context(version=5)
    with pytest.raises(errors.ERROR_CALL_NOT_IMPLEMENTED):
        ctx.get_property(CP_CARD_GUID)
    assert ctx.query_capabilities().version == 1


def test_delete_context_closes_it() -> None:
    ctx, _ = open_context()
    ctx.delete_context()
    with pytest.raises(errors.SCARD_E_INVALID_HANDLE):
        ctx.read_file(None, "cardid")


def test_every_public_method_is_traced_with_its_spec_name() -> None:
    tracer = RecordingTracer()
    ctx, _ = open_context(tracer=tracer)
    ctx.read_file("mscp", "cmapfile")
    ctx.authenticate_pin("user", PIN)
    assert tracer.calls[0] == (
        "CardReadFile",
        {"directory_name": "mscp", "file_name": "cmapfile", "flags": 0},
    )
    assert tracer.calls[1] == ("CardAuthenticatePin", {"user_id": "user"})  # the PIN stays out


def test_no_bare_exceptions_reach_the_caller(ctx: CardContext) -> None:
    with pytest.raises(errors.MinidriverError):
        ctx.sign_data(CARD_SIGNING_INFO(2, 0, AT_KEYEXCHANGE, 0, 0, object()))  # type: ignore[arg-type]


# --- capabilities and properties ------------------------------------------------------------


def test_capabilities_sizes_and_properties_agree(ctx: CardContext) -> None:
    caps = ctx.query_capabilities()
    assert ctx.get_property(CP_CARD_CAPABILITIES) == caps.to_bytes()
    assert ctx.query_key_sizes(AT_KEYEXCHANGE).to_bytes() == ctx.get_property(
        CP_CARD_KEYSIZES, flags=AT_KEYEXCHANGE
    )
    assert ctx.query_key_sizes(AT_ECDSA_P384) == CARD_KEY_SIZES(1, 384, 384, 384, 1)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.query_key_sizes(0x99)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.query_key_sizes(AT_KEYEXCHANGE, 1)
    with pytest.raises(errors.ERROR_REVISION_MISMATCH):
        ctx.query_key_sizes(AT_KEYEXCHANGE, 0, CARD_KEY_SIZES(version=2))
    assert ctx.query_free_space().to_bytes() == ctx.get_property(CP_CARD_FREE_SPACE)
    assert ctx.get_property(CP_CARD_GUID) == ctx.read_file(None, "cardid")
    assert ctx.get_property(CP_CARD_LIST_PINS) == (0x06).to_bytes(4, "little")
    assert PIN_INFO.from_bytes(ctx.get_property(CP_CARD_PIN_INFO, flags=ROLE_ADMIN)).pin_type == 2
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.get_property(CP_CARD_PIN_INFO, flags=3)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.get_property(CP_CARD_GUID, flags=1)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.get_property("No Such Property")
    with pytest.raises(errors.ERROR_INSUFFICIENT_BUFFER) as short:
        ctx.get_property(CP_CARD_GUID, cb_data=4)
    assert short.value.required_size == 16
    assert ctx.get_property(CP_ENUM_ALGORITHMS, flags=CARD_CIPHER_OPERATION).decode(
        "utf-16-le"
    ).split("\0")[:3] == [
        "3DES",
        "3DES_112",
        "AES",
    ]


def test_set_property_rules(ctx: CardContext) -> None:
    ctx.set_property(CP_PARENT_WINDOW, (0x1234).to_bytes(8, "little"))
    ctx.set_property(CP_PIN_CONTEXT_STRING, "sign the contract".encode("utf-16-le"))
    ctx.set_property(CP_PIN_CONTEXT_STRING, None)
    assert ctx.parent_window == 0x1234
    with pytest.raises(errors.SCARD_E_UNSUPPORTED_FEATURE):
        ctx.set_property(CP_CARD_FREE_SPACE, b"\0" * 16)
    with pytest.raises(errors.SCARD_E_UNSUPPORTED_FEATURE):
        ctx.set_property("Custom", b"")
    new_guid = bytes(range(16))
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.set_property(CP_CARD_GUID, new_guid)
    ctx.authenticate_challenge(admin_response(ADMIN_KEY, ctx.get_challenge()))
    ctx.set_property(CP_CARD_GUID, new_guid)
    assert ctx.get_property(CP_CARD_GUID) == new_guid == ctx.read_file(None, "cardid")


# --- files ----------------------------------------------------------------------------------


def test_file_system_functions(ctx: CardContext) -> None:
    assert sorted(ctx.enum_files(None)) == ["cardapps", "cardcf", "cardid"]
    assert ctx.enum_files("mscp") == ["cmapfile"]
    assert len(ctx.read_file(None, "cardid")) == 16
    assert ctx.read_file(None, "cardcf") == bytes(6)
    for bad in ("", "toolongname", "a*b", "x/y", "tab\there"):
        with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
            ctx.read_file(None, bad)
    with pytest.raises(errors.SCARD_E_FILE_NOT_FOUND):
        ctx.read_file("mscp", "kxc00")
    with pytest.raises(errors.SCARD_E_DIR_NOT_FOUND):
        ctx.read_file("nodir", "x")
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.read_file(None, "cardid", 1)
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.create_file("mscp", "new", 0, EveryoneReadUserWriteAc)
    ctx.authenticate_pin("user", PIN)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.create_file("mscp", "new", 0, UnknownAc)
    ctx.create_file("mscp", "new", 0, EveryoneReadUserWriteAc)
    with pytest.raises(errors.ERROR_FILE_EXISTS):
        ctx.create_file("MSCP", "NEW", 0, EveryoneReadUserWriteAc)
    ctx.write_file("mscp", "new", 0, b"hello")
    assert ctx.read_file("mscp", "NEW") == b"hello"
    assert ctx.get_file_info("mscp", "new") == CARD_FILE_INFO(1, 5, EveryoneReadUserWriteAc)
    with pytest.raises(errors.ERROR_REVISION_MISMATCH):
        ctx.get_file_info("mscp", "new", CARD_FILE_INFO(version=2))
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.delete_file(None, "cardid")  # admin only
    ctx.delete_file("mscp", "new")
    with pytest.raises(errors.SCARD_E_FILE_NOT_FOUND):
        ctx.delete_file("mscp", "new")
    ctx.create_directory("app", UserCreateDeleteDirAc)
    with pytest.raises(errors.SCARD_E_FILE_NOT_FOUND):
        ctx.enum_files("app")
    with pytest.raises(errors.ERROR_FILE_EXISTS):
        ctx.create_directory("app", UserCreateDeleteDirAc)
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.create_directory("adm", AdminCreateDeleteDirAc)
    ctx.create_file("app", "f", 0, UserWriteExecuteAc)
    with pytest.raises(errors.SCARD_W_SECURITY_VIOLATION):
        ctx.get_file_info("app", "f")
    with pytest.raises(errors.ERROR_DIR_NOT_EMPTY):
        ctx.delete_directory("app")
    ctx.delete_file("app", "f")
    ctx.delete_directory("app")
    with pytest.raises(errors.SCARD_E_DIR_NOT_FOUND):
        ctx.delete_directory("app")


def test_writes_bump_cardcf_and_a_second_context_sees_them() -> None:
    state = fresh_state()
    a, conn_a = open_context(state)
    b, _ = open_context(state)
    assert a.read_file("mscp", "cmapfile") == b""
    before = conn_a.count
    assert a.read_file("mscp", "cmapfile") == b""
    assert conn_a.count - before == 1  # only the cardcf freshness check
    with a.transaction():
        before = conn_a.count
        a.read_file("mscp", "cmapfile")
        a.read_file("mscp", "cmapfile")
        assert conn_a.count - before <= 1
    b.authenticate_pin("user", PIN)
    b.write_file("mscp", "cmapfile", 0, b"x" * 86)
    cf = CARD_CACHE_FILE_FORMAT.from_bytes(b.read_file(None, "cardcf"))
    assert cf.files_freshness == 1
    assert a.read_file("mscp", "cmapfile") == b"x" * 86  # a noticed the counter move


# --- PINs -----------------------------------------------------------------------------------


def test_pin_semantics(ctx: CardContext) -> None:
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.authenticate_pin("anonymous", PIN)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.authenticate_pin("user", None)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.authenticate_pin("admin", b"x" * 24)  # a challenge/response role
    for left in (2, 1):
        with pytest.raises(errors.SCARD_W_WRONG_CHV) as wrong:
            ctx.authenticate_pin("user", b"000000")
        assert wrong.value.attempts_remaining == left
    ctx.authenticate_pin("user", PIN)
    assert ctx.get_property(CP_CARD_AUTHENTICATED_STATE) == (2).to_bytes(4, "little")
    for left in (2, 1, 0):
        with pytest.raises(errors.SCARD_W_WRONG_CHV) as wrong:
            ctx.authenticate_pin("user", b"000000")
        assert wrong.value.attempts_remaining == left
    with pytest.raises(errors.SCARD_W_CHV_BLOCKED):
        ctx.authenticate_pin("user", PIN)
    with pytest.raises(errors.SCARD_W_WRONG_CHV):
        ctx.authenticate_challenge(b"\0" * 8)  # no challenge outstanding
    challenge = ctx.get_challenge()
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.unblock_pin(
            "user",
            admin_response(ADMIN_KEY, challenge),
            b"12",
            0,
            CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE,
        )
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.unblock_pin("user", None, b"654321", 0, CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.unblock_pin("user", b"x", b"654321", 5, CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE)
    ctx.unblock_pin(
        "user",
        admin_response(ADMIN_KEY, challenge),
        b"654321",
        0,
        CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE,
    )
    assert ctx.authenticated == 0
    ctx.authenticate_pin("user", b"654321")
    ctx.change_authenticator("user", b"654321", b"1234", 0, CARD_AUTHENTICATE_PIN_PIN)
    assert ctx.authenticated & 2
    with pytest.raises(errors.SCARD_W_WRONG_CHV):
        ctx.change_authenticator("user", b"654321", b"5555", 0, CARD_AUTHENTICATE_PIN_PIN)
    cf = CARD_CACHE_FILE_FORMAT.from_bytes(ctx.read_file(None, "cardcf"))
    assert cf.pins_freshness == 2  # unblock and change


def test_authenticate_ex_and_session_pins(ctx: CardContext) -> None:
    for pin_id in (0, 8):
        with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
            ctx.authenticate_ex(pin_id, 0, PIN)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.authenticate_ex(ROLE_USER, 0x80, PIN)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.authenticate_ex(
            ROLE_USER, CARD_AUTHENTICATE_SESSION_PIN | CARD_AUTHENTICATE_GENERATE_SESSION_PIN, PIN
        )
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.authenticate_ex(ROLE_USER, 0, None)
    session = ctx.authenticate_ex(ROLE_USER, CARD_AUTHENTICATE_GENERATE_SESSION_PIN, PIN)
    assert session and not ctx.authenticated
    assert ctx.authenticate_ex(ROLE_USER, CARD_AUTHENTICATE_GENERATE_SESSION_PIN, PIN) == session
    with pytest.raises(errors.SCARD_W_WRONG_CHV):
        ctx.authenticate_ex(ROLE_USER, CARD_AUTHENTICATE_SESSION_PIN, b"bogus")
    assert ctx.card.pin_tries_left(ROLE_USER) == 3  # the real PIN's counter is untouched
    ctx.authenticate_ex(ROLE_USER, CARD_AUTHENTICATE_SESSION_PIN | CARD_PIN_SILENT_CONTEXT, session)
    assert ctx.authenticated == 2
    ctx.authenticate_ex(ROLE_ADMIN, 0, admin_response(ADMIN_KEY, ctx.get_challenge_ex(ROLE_ADMIN)))
    assert ctx.authenticated == 6
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.get_challenge_ex(ROLE_USER)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.deauthenticate_ex(0x100)
    ctx.deauthenticate_ex(0x01)
    assert ctx.authenticated == 6
    ctx.deauthenticate_ex(0x06)
    assert ctx.authenticated == 0


def test_change_authenticator_ex(ctx: CardContext) -> None:
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.change_authenticator_ex(PIN_CHANGE_FLAG_UNBLOCK, ROLE_USER, PIN, ROLE_USER, b"9999", 0)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.change_authenticator_ex(PIN_CHANGE_FLAG_CHANGEPIN, 0, PIN, ROLE_USER, b"9999", 0)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.change_authenticator_ex(PIN_CHANGE_FLAG_CHANGEPIN, ROLE_USER, PIN, ROLE_USER, b"12", 0)
    ctx.change_authenticator_ex(
        PIN_CHANGE_FLAG_CHANGEPIN | CARD_PIN_SILENT_CONTEXT, ROLE_USER, PIN, ROLE_USER, b"9999", 0
    )
    assert ctx.authenticated == 2
    response = admin_response(ADMIN_KEY, ctx.get_challenge_ex(ROLE_ADMIN))
    ctx.change_authenticator_ex(
        PIN_CHANGE_FLAG_UNBLOCK, ROLE_ADMIN, response, ROLE_USER, b"4321", 0
    )
    assert ctx.authenticated == 0
    ctx.authenticate_pin("user", b"4321")
    new_key = bytes(24)
    ctx.change_authenticator(
        "admin",
        admin_response(ADMIN_KEY, ctx.get_challenge()),
        new_key,
        0,
        CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE,
    )
    ctx.authenticate_challenge(admin_response(new_key, ctx.get_challenge()))


# --- containers and crypto ------------------------------------------------------------------


def test_create_container_checks_cost_no_apdu(ctx: CardContext) -> None:
    conn = ctx.transport.connection  # type: ignore[union-attr]
    before = conn.count  # type: ignore[attr-defined]
    for flags, spec, size, exc in [
        (0, AT_KEYEXCHANGE, 1024, errors.SCARD_E_INVALID_PARAMETER),
        (3, AT_KEYEXCHANGE, 1024, errors.SCARD_E_INVALID_PARAMETER),
        (1, 0x99, 1024, errors.SCARD_E_INVALID_PARAMETER),
        (1, AT_KEYEXCHANGE, 1000, errors.SCARD_E_INVALID_PARAMETER),
        (1, AT_KEYEXCHANGE, 1024, errors.SCARD_W_SECURITY_VIOLATION),
    ]:
        with pytest.raises(exc):
            ctx.create_container(0, flags, spec, size, None)
    with pytest.raises(errors.SCARD_E_NO_KEY_CONTAINER):
        ctx.create_container(8, 1, AT_KEYEXCHANGE, 1024, None)
    assert conn.count == before  # type: ignore[attr-defined]


def _sign(ctx: CardContext, index: int, spec: int, data: bytes, **kw: Any) -> bytes:
    info = ctx.sign_data(CARD_SIGNING_INFO(container_index=index, key_spec=spec, data=data, **kw))
    assert info.signed_data is not None
    return info.signed_data


def test_rsa_signatures_and_decryption(ctx: CardContext) -> None:
    ctx.authenticate_pin("user", PIN)
    ctx.create_container(0, CARD_CREATE_CONTAINER_KEY_GEN, AT_KEYEXCHANGE, 1024, None)
    info = ctx.get_container_info(0)
    assert info.sig_public_key is None and info.key_ex_public_key is not None
    pub = blobs.parse_rsa_public_blob(info.key_ex_public_key)
    assert ctx.get_container_property(0, CCP_CONTAINER_INFO) == info
    assert ctx.get_container_property(0, CCP_PIN_IDENTIFIER) == b"\x01\0\0\0"
    for calg, h in [
        (CALG_SHA1, hashes.SHA1()),
        (CALG_SHA_256, hashes.SHA256()),
        (CALG_SHA_512, hashes.SHA512()),
        (CALG_MD5, hashes.MD5()),
    ]:
        digest = hashlib.new(h.name, b"data").digest()
        sig = _sign(ctx, 0, AT_KEYEXCHANGE, digest, hash_alg=calg)
        pub.verify(sig[::-1], digest, asym.PKCS1v15(), Prehashed(h))
    digest = hashlib.sha256(b"pss").digest()
    sig = _sign(
        ctx,
        0,
        AT_KEYEXCHANGE,
        digest,
        signing_flags=CARD_PADDING_INFO_PRESENT,
        padding_info=BCRYPT_PSS_PADDING_INFO("SHA256", 32),
        padding_type=CARD_PADDING_PSS,
    )
    pub.verify(
        sig[::-1], digest, asym.PSS(asym.MGF1(hashes.SHA256()), 32), Prehashed(hashes.SHA256())
    )
    sig = _sign(
        ctx,
        0,
        AT_KEYEXCHANGE,
        digest,
        signing_flags=CARD_PADDING_INFO_PRESENT,
        padding_info=BCRYPT_PKCS1_PADDING_INFO("SHA256"),
        padding_type=CARD_PADDING_PKCS1,
    )
    pub.verify(sig[::-1], digest, asym.PKCS1v15(), Prehashed(hashes.SHA256()))
    size = ctx.sign_data(
        CARD_SIGNING_INFO(2, 0, AT_KEYEXCHANGE, CARD_BUFFER_SIZE_ONLY, CALG_SHA_256, digest)
    )
    assert size.signed_data is None and size.signed_data_length == 128
    with pytest.raises(errors.ERROR_REVISION_MISMATCH):
        ctx.sign_data(CARD_SIGNING_INFO(3, 0, AT_KEYEXCHANGE, 0, 0, digest))
    with pytest.raises(errors.ERROR_REVISION_MISMATCH):
        ctx.sign_data(CARD_SIGNING_INFO(1, 0, AT_KEYEXCHANGE, CARD_PADDING_INFO_PRESENT, 0, digest))
    with pytest.raises(errors.SCARD_E_NO_KEY_CONTAINER):
        ctx.sign_data(CARD_SIGNING_INFO(2, 5, AT_KEYEXCHANGE, 0, CALG_SHA_256, digest))
    with pytest.raises(errors.SCARD_E_UNSUPPORTED_FEATURE):
        ctx.sign_data(CARD_SIGNING_INFO(2, 0, AT_KEYEXCHANGE, 0, 0x1234, digest))
    # decryption: on-card PKCS#1, host OAEP-SHA256 with a label, raw
    ct = pub.encrypt(b"secret", asym.PKCS1v15())
    out = ctx.rsa_decrypt(
        CARD_RSA_DECRYPT_INFO(2, 0, AT_KEYEXCHANGE, ct[::-1], None, CARD_PADDING_PKCS1)
    )
    assert out.data == b"secret"[::-1]
    ct = pub.encrypt(b"oaep", asym.OAEP(asym.MGF1(hashes.SHA256()), hashes.SHA256(), b"L"))
    out = ctx.rsa_decrypt(
        CARD_RSA_DECRYPT_INFO(
            2,
            0,
            AT_KEYEXCHANGE,
            ct[::-1],
            BCRYPT_OAEP_PADDING_INFO("SHA256", b"L"),
            CARD_PADDING_OAEP,
        )
    )
    assert out.data == b"oaep"[::-1]
    out = ctx.rsa_decrypt(
        CARD_RSA_DECRYPT_INFO(2, 0, AT_KEYEXCHANGE, ct[::-1], None, CARD_PADDING_NONE)
    )
    assert len(out.data or b"") == 128
    with pytest.raises(errors.ERROR_REVISION_MISMATCH):
        ctx.rsa_decrypt(CARD_RSA_DECRYPT_INFO(1, 0, AT_KEYEXCHANGE, ct[::-1]))
    with pytest.raises(errors.SCARD_E_INSUFFICIENT_BUFFER):
        ctx.rsa_decrypt(
            CARD_RSA_DECRYPT_INFO(2, 0, AT_KEYEXCHANGE, ct[1:], None, CARD_PADDING_NONE)
        )
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.rsa_decrypt(
            CARD_RSA_DECRYPT_INFO(2, 0, AT_ECDSA_P256, ct[::-1], None, CARD_PADDING_NONE)
        )
    v6, _ = open_context(version=6)
    v6._card = ctx.card  # same card, a v6 caller: version 1 gives the raw block
    v6.authenticated = 2
    assert (
        len(v6.rsa_decrypt(CARD_RSA_DECRYPT_INFO(1, 0, AT_KEYEXCHANGE, ct[::-1])).data or b"")
        == 128
    )


def test_import_and_enrollment_like_the_base_csp(ctx: CardContext) -> None:
    csp = Csp(ctx)
    ctx.authenticate_pin("user", PIN)
    index = csp.enroll(AT_KEYEXCHANGE, key_blob=blobs.rsa_private_blob(RSA_1024))
    assert index == 0
    record = csp.read_cmapfile()[0]
    assert record.flags == CONTAINER_MAP_VALID_CONTAINER | CONTAINER_MAP_DEFAULT_CONTAINER
    assert record.key_exchange_key_size_bits == 1024 and record.sig_key_size_bits == 0
    pub = blobs.parse_rsa_public_blob(ctx.get_container_info(0).key_ex_public_key or b"")
    assert pub.public_numbers() == RSA_1024.public_key().public_numbers()
    assert csp.enroll(AT_SIGNATURE, bits=1024) == 1
    assert not csp.read_cmapfile()[1].default
    der = b"\x30\x82" + b"x" * 300
    assert decompress_certificate(compress_certificate(der)) == der
    assert compress_certificate(der)[:4] == b"\x01\x00" + len(der).to_bytes(2, "little")
    csp.delete(0)
    assert not csp.read_cmapfile()[0].valid
    with pytest.raises(errors.SCARD_E_NO_KEY_CONTAINER):
        ctx.get_container_info(0)
    ctx.delete_container(0)  # deleting an empty container succeeds
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.delete_container(0, 1)


def test_ecdsa_and_ecdh_with_every_kdf(ctx: CardContext) -> None:
    ctx.authenticate_pin("user", PIN)
    ctx.create_container(1, CARD_CREATE_CONTAINER_KEY_GEN, AT_ECDSA_P256, 0, None)
    sig_blob = ctx.get_container_info(1).sig_public_key or b""
    assert sig_blob[:4] == b"ECS1" and len(sig_blob) == 72
    ecdsa_pub = blobs.parse_ecc_public_blob(sig_blob)[0]
    digest = hashlib.sha256(b"ec").digest()
    sig = _sign(ctx, 1, AT_ECDSA_P256, digest)
    assert len(sig) == 64
    ecdsa_pub.verify(
        encode_dss_signature(int.from_bytes(sig[:32]), int.from_bytes(sig[32:])),
        digest,
        ec.ECDSA(Prehashed(hashes.SHA256())),
    )
    ctx.create_container(2, CARD_CREATE_CONTAINER_KEY_GEN, AT_ECDHE_P384, 0, None)
    card_pub = blobs.parse_ecc_public_blob(ctx.get_container_info(2).key_ex_public_key or b"")[0]
    peer = ec.generate_private_key(ec.SECP384R1())
    z = peer.exchange(ec.ECDH(), card_pub)
    with pytest.raises(errors.ERROR_REVISION_MISMATCH):
        ctx.construct_dh_agreement(
            CARD_DH_AGREEMENT_INFO(1, 2, 0, blobs.ecc_public_blob(peer.public_key(), ecdsa=False))
        )
    agreement = ctx.construct_dh_agreement(
        CARD_DH_AGREEMENT_INFO(2, 2, 0, blobs.ecc_public_blob(peer.public_key(), ecdsa=False))
    ).secret_agreement_index

    def derive(kdf: str, *buffers: NCryptBuffer, flags: int = 0, **kw: Any) -> CARD_DERIVE_KEY:
        return ctx.derive_key(
            CARD_DERIVE_KEY(2, flags, kdf, agreement, NCryptBufferDesc(list(buffers)), **kw)
        )

    sha256 = NCryptBuffer.wide(KDF_HASH_ALGORITHM, "SHA256")
    assert (
        derive("HASH", sha256, NCryptBuffer(KDF_SECRET_PREPEND, b"p")).derived_key
        == hashlib.sha256(b"p" + z).digest()
    )
    import hmac as hmac_mod

    assert (
        derive("HMAC", sha256, flags=KDF_USE_SECRET_AS_HMAC_KEY_FLAG).derived_key
        == hmac_mod.new(z, z, "sha256").digest()
    )
    seed = os.urandom(64)
    assert (
        len(
            derive(
                "TLS_PRF",
                NCryptBuffer(KDF_TLS_PRF_LABEL, b"master secret"),
                NCryptBuffer(KDF_TLS_PRF_SEED, seed),
            ).derived_key
            or b""
        )
        == 48
    )
    concat = derive(
        "SP800_56A_CONCAT",
        sha256,
        NCryptBuffer(KDF_ALGORITHMID, b"A"),
        NCryptBuffer(KDF_PARTYUINFO, b"U"),
        NCryptBuffer(KDF_PARTYVINFO, b"V"),
        key_len=256,
    )
    assert concat.derived_key == ConcatKDFHash(hashes.SHA256(), 32, b"AUV").derive(z)
    assert derive("TRUNCATE").derived_key == z[::-1]
    size = derive("HASH", sha256, flags=CARD_BUFFER_SIZE_ONLY)
    assert size.derived_key is None and size.derived_key_length == 32
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        derive("NOPE")
    handle = derive("HASH", sha256, flags=CARD_RETURN_KEY_HANDLE, alg_id="AES", key_len=128).key
    assert ctx.get_key_property(handle, CKP_BLOCK_LENGTH) == b"\x10\0\0\0"
    assert ctx.csp_get_dh_agreement(agreement) == agreement
    ctx.destroy_dh_agreement(agreement)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.destroy_dh_agreement(agreement)


def test_secure_key_injection_in_software() -> None:
    with driver.acquire_context(flags=CARD_SECURE_KEY_INJECTION_NO_CARD_MODE) as nc:
        key = os.urandom(32)
        with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
            nc.md_import_session_key("Proprietary", "AES", blobs.key_data_blob(key))
        handle = nc.md_import_session_key(
            "KeyDataBlob", CARD_AES_ALGORITHM, blobs.key_data_blob(key)
        )
        request = CARD_AUTHENTICATE(7, 0, ROLE_USER, PIN).to_bytes()
        with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
            nc.md_encrypt_data(handle, CSF_AUTHENTICATE, request, CARD_BLOCK_PADDING)  # no IV yet
        iv = os.urandom(16)
        nc.set_key_property(handle, CKP_INITIALIZATION_VECTOR, iv)
        nc.set_key_property(handle, CKP_CHAINING_MODE, "ChainingModeCBC".encode("utf-16-le"))
        with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
            nc.md_encrypt_data(handle, "Bogus", request, CARD_BLOCK_PADDING)
        keypair = CARD_IMPORT_KEYPAIR(
            7, 0, ROLE_USER, AT_KEYEXCHANGE, 1024, blobs.rsa_private_blob(RSA_1024)
        ).to_bytes()
        chunks = nc.md_encrypt_data(handle, CSF_IMPORT_KEYPAIR, keypair, CARD_BLOCK_PADDING)
        assert len(chunks) > 1 and all(len(x) % 16 == 0 and len(x) <= 240 for x in chunks)
        dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        plain = dec.update(b"".join(chunks)) + dec.finalize()
        assert plain[: len(keypair)] == keypair
        assert (
            nc.get_algorithm_property("3DES", CP_CARD_KEYSIZES)
            == CARD_KEY_SIZES(1, 192, 192, 192, 0).to_bytes()
        )
        with pytest.raises(errors.SCARD_E_UNSUPPORTED_FEATURE):
            nc.process_encrypted_data(handle, CSF_IMPORT_KEYPAIR, chunks)
        nc.destroy_key(handle)
        with pytest.raises(errors.SCARD_E_INVALID_HANDLE):
            nc.destroy_key(handle)


def test_private_key_blobs_the_context_accepts() -> None:
    ctx, _ = open_context()
    ctx.authenticate_pin("user", PIN)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.create_container(0, CARD_CREATE_CONTAINER_KEY_IMPORT, AT_KEYEXCHANGE, 0, b"junk")
    key = ec.generate_private_key(ec.SECP256R1())
    ctx.create_container_ex(
        0,
        CARD_CREATE_CONTAINER_KEY_IMPORT,
        AT_ECDSA_P256,
        0,
        blobs.ecc_private_blob(key, True),
        ROLE_USER,
    )
    assert ctx.get_container_info(0).sig_public_key == blobs.ecc_public_blob(key.public_key(), True)
    with pytest.raises(errors.SCARD_E_INVALID_PARAMETER):
        ctx.create_container_ex(
            0, CARD_CREATE_CONTAINER_KEY_GEN, AT_KEYEXCHANGE, 1024, None, ROLE_ADMIN
        )
    pem = RSA_1024.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert pem  # the CLI converts PEM files to PRIVATEKEYBLOB with driver.blobs
    assert ctx.get_container_info(0, 0, CONTAINER_INFO(0)).version == 1
