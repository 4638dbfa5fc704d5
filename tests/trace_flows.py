"""Client flows for the tracing tests and docs: a small PIV host written from piv.md.

Every secret the flow sends or receives is collected in `Secrets`, so the masking
tests can scan every trace output for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from wire import tlv

DEFAULT_MGM = bytes.fromhex("010203040506070801020304050607080102030405060708")
NEW_MGM = bytes.fromhex("9A8B7C6D5E4F30219A8B7C6D5E4F30219A8B7C6D5E4F3021")
PIN = b"123456"
NEW_PIN = b"654321"
PUK = b"12345678"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pin8(pin: bytes) -> bytes:
    return pin.ljust(8, b"\xff")


@dataclass
class Secrets:
    """Byte strings that must never appear in a default trace output."""

    values: list[bytes] = field(default_factory=list)

    def add(self, *values: bytes) -> None:
        self.values += [v for v in values if len(v) >= 4]

    def forms(self) -> list[str]:
        """How a secret could show up in text: hex in any case and spacing, ASCII."""
        out: list[str] = []
        for v in self.values:
            out += [v.hex(), v.hex().upper(), v.hex(" ").upper(), v.hex(" ")]
            if all(0x20 <= b < 0x7F for b in v):
                out.append(v.decode())
        return out


class Host:
    """Short APDUs, command chaining in 255-byte blocks, GET RESPONSE: like ykman over NFC."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def send(
        self, ins: int, p1: int, p2: int, data: bytes = b"", le: bool = False
    ) -> tuple[bytes, int]:
        blocks = [data[i : i + 255] for i in range(0, len(data), 255)] or [b""]
        for block in blocks[:-1]:
            _, sw = self._tx(bytes((0x10, ins, p1, p2, len(block))) + block)
            assert sw == 0x9000, f"chained block answered {sw:04X}"
        last = blocks[-1]
        apdu = bytes((0x00, ins, p1, p2)) + (bytes((len(last),)) + last if last else b"")
        body, sw = self._tx(apdu + (b"\x00" if le else b""))
        while sw >> 8 == 0x61:
            more, sw = self._tx(bytes((0x00, 0xC0, 0x00, 0x00, sw & 0xFF)))
            body += more
        return body, sw

    def _tx(self, apdu: bytes) -> tuple[bytes, int]:
        data, sw1, sw2 = self.conn.transmit(list(apdu))
        return bytes(data), (sw1 << 8) | sw2


def tdes(key: bytes, block: bytes, decrypt: bool = False) -> bytes:
    cipher = Cipher(TripleDES(key), modes.ECB())
    op = cipher.decryptor() if decrypt else cipher.encryptor()
    return op.update(block) + op.finalize()


def mutual_auth(host: Host, key: bytes, secrets: Secrets) -> None:
    answer, sw = host.send(0x87, 0x03, 0x9B, tlv.encode(0x7C, tlv.encode(0x80)))
    assert sw == 0x9000, f"{sw:04X}"
    encrypted = tlv.find(tlv.parse_one(answer, 0x7C).value, 0x80)
    assert encrypted is not None
    witness = tdes(key, encrypted, decrypt=True)
    challenge = bytes.fromhex("0F1E2D3C4B5A6978")
    inner = tlv.encode(0x80, witness) + tlv.encode(0x81, challenge)
    answer, sw = host.send(0x87, 0x03, 0x9B, tlv.encode(0x7C, inner))
    assert sw == 0x9000, f"{sw:04X}"
    secrets.add(
        witness, encrypted, challenge, tlv.find(tlv.parse_one(answer, 0x7C).value, 0x82) or b""
    )


def rsa_import_data(key: rsa.RSAPrivateKey) -> tuple[bytes, list[bytes]]:
    numbers = key.private_numbers()
    parts = [numbers.p, numbers.q, numbers.dmp1, numbers.dmq1, numbers.iqmp]
    values = [n.to_bytes(128, "big") for n in parts]
    data = b"".join(tlv.encode(tag, v) for tag, v in zip(range(1, 6), values, strict=True))
    return data, values


def piv_flow(conn: Any) -> Secrets:
    """Select, PIN, management key, key generation, signature, certificate, key import,
    management key change with protected storage, PIN change: the secrets it used."""
    secrets = Secrets()
    # The default management key itself never crosses the interface (mutual authentication).
    secrets.add(pin8(PIN), pin8(NEW_PIN), PUK, NEW_MGM)
    host = Host(conn)
    assert host.send(0xA4, 0x04, 0x00, bytes.fromhex("A000000308"))[1] == 0x9000
    assert host.send(0xFD, 0x00, 0x00)[1] == 0x9000
    assert host.send(0x20, 0x00, 0x80, pin8(b"000000"))[1] == 0x63C2
    assert host.send(0x20, 0x00, 0x80, pin8(PIN))[1] == 0x9000
    mutual_auth(host, DEFAULT_MGM, secrets)
    generate = tlv.encode(0xAC, tlv.encode(0x80, b"\x11"))
    assert host.send(0x47, 0x00, 0x9A, generate)[1] == 0x9000
    digest = bytes(range(32))
    template = tlv.encode(0x7C, tlv.encode(0x82) + tlv.encode(0x81, digest))
    assert host.send(0x87, 0x11, 0x9A, template)[1] == 0x9000
    # Not a real certificate: the card stores objects as they come.
    certificate = tlv.encode(0x30, bytes((i * 37) % 251 for i in range(512)))
    value = tlv.encode(0x70, certificate) + tlv.encode(0x71, b"\x00") + tlv.encode(0xFE)
    put = tlv.encode(0x5C, bytes.fromhex("5FC105")) + tlv.encode(0x53, value)
    assert host.send(0xDB, 0x3F, 0xFF, put)[1] == 0x9000
    read, sw = host.send(0xCB, 0x3F, 0xFF, tlv.encode(0x5C, bytes.fromhex("5FC105")))
    assert sw == 0x9000 and certificate in read
    import_data, key_parts = rsa_import_data(RSA_KEY)
    secrets.add(*key_parts)
    assert host.send(0xFE, 0x07, 0x9D, import_data)[1] == 0x9000
    assert host.send(0xFF, 0xFF, 0xFF, bytes((0x03, 0x9B, 24)) + NEW_MGM)[1] == 0x9000
    protected = tlv.encode(0x88, tlv.encode(0x89, NEW_MGM))
    put = tlv.encode(0x5C, bytes.fromhex("5FC109")) + tlv.encode(0x53, protected)
    assert host.send(0xDB, 0x3F, 0xFF, put)[1] == 0x9000
    read, sw = host.send(0xCB, 0x3F, 0xFF, tlv.encode(0x5C, bytes.fromhex("5FC109")))
    assert sw == 0x9000 and NEW_MGM in read
    assert host.send(0x24, 0x00, 0x80, pin8(PIN) + pin8(NEW_PIN))[1] == 0x9000
    assert host.send(0x2C, 0x00, 0x80, PUK + pin8(PIN))[1] == 0x9000
    assert host.send(0x20, 0xFF, 0x80)[1] == 0x9000
    return secrets
