"""The host side of the PIV benchmarks: the APDUs ykman sends, over any transmit function.

Written from SP 800-73-4 part 2 (section 3) and Yubico's extensions; the PIV spec
module (wire/piv.py) names the instructions, slots and algorithms, so nothing is
spelled twice. The wire layer's APDU client sends: long commands chained in short
APDUs, 61xx answers collected with GET RESPONSE, as ykman does over readers without
extended length; a refusal raises ApduError with the SW.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from wire import tlv
from wire.client import ApduClient, Transmit, raw_transmit
from wire.piv import (
    DATA_P1P2,
    DEFAULT_MANAGEMENT_KEY,
    PIN_LENGTH,
    PIN_PAD,
    PIV_AID,
    RSA_ALGORITHMS,
    Algorithm,
    Ins,
    KeyRef,
    Tag,
)

# bytes in, (data, SW) out: one exchange with the card, no chaining or 61xx handling.
Exchange = Transmit

PIN = b"123456"
# DigestInfo prefix of SHA-256 (RFC 8017 section 9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


class PivError(Exception):
    """The card's answer is not what the benchmark's flow needs."""


class PivHost:
    """Counts the APDUs it sends, so every flow can say how many round trips it took."""

    def __init__(self, exchange: Exchange) -> None:
        self.client = ApduClient(exchange)

    @property
    def apdus(self) -> int:
        return self.client.apdu_count

    def send(self, ins: int, p1: int, p2: int, data: bytes = b"", le: bool = True) -> bytes:
        """One command and its whole answer; ApduError unless it ends in 9000."""
        return self.client.send(0x00, ins, p1, p2, data, 0 if le else None, what=f"INS {ins:02X}")

    # -- the commands ---------------------------------------------------------------------

    def select(self) -> None:
        self.send(Ins.SELECT, 0x04, 0x00, PIV_AID)

    def verify(self, pin: bytes = PIN) -> None:
        self.send(
            Ins.VERIFY, 0x00, KeyRef.PIV_PIN, pin.ljust(PIN_LENGTH, bytes((PIN_PAD,))), le=False
        )

    def authenticate(self, key: bytes = DEFAULT_MANAGEMENT_KEY) -> None:
        """Mutual authentication with the 3DES management key (SP 800-73-4 appendix A)."""
        cipher = Cipher(TripleDES(key), modes.ECB())
        ref = KeyRef.CARD_MANAGEMENT
        ask = _template(tlv.encode(Tag.WITNESS, b""))
        witness = _member(
            self.send(Ins.GENERAL_AUTHENTICATE, Algorithm.TDES, ref, ask), Tag.WITNESS
        )
        dec = cipher.decryptor()
        challenge = bytes(range(8))
        body = _template(
            tlv.encode(Tag.WITNESS, dec.update(witness) + dec.finalize())
            + tlv.encode(Tag.CHALLENGE, challenge)
        )
        out = self.send(Ins.GENERAL_AUTHENTICATE, Algorithm.TDES, ref, body)
        enc = cipher.encryptor()
        if _member(out, Tag.RESPONSE) != enc.update(challenge) + enc.finalize():
            raise PivError("the card's management key answer is wrong")

    def generate(self, slot: int, algorithm: int) -> bytes:
        """GENERATE ASYMMETRIC KEY PAIR; returns the public key template (7F49 value)."""
        template = tlv.encode(
            Tag.CRYPTOGRAPHIC_MECHANISM_TEMPLATE, tlv.encode(Tag.MECHANISM, bytes((algorithm,)))
        )
        out = self.send(Ins.GENERATE_ASYMMETRIC_KEY_PAIR, 0x00, slot, template)
        return tlv.parse_one(out, Tag.PUBLIC_KEY_TEMPLATE).value

    def sign(self, slot: int, algorithm: int, message: bytes) -> bytes:
        """GENERAL AUTHENTICATE with the slot's key over SHA-256(message); the signature."""
        digest = hashlib.sha256(message).digest()
        bits = RSA_ALGORITHMS.get(Algorithm(algorithm))
        if bits is not None:
            info = SHA256_DIGEST_INFO + digest
            digest = b"\x00\x01" + b"\xff" * (bits // 8 - len(info) - 3) + b"\x00" + info
        body = _template(tlv.encode(Tag.RESPONSE, b"") + tlv.encode(Tag.CHALLENGE, digest))
        return _member(self.send(Ins.GENERAL_AUTHENTICATE, algorithm, slot, body), Tag.RESPONSE)

    def put_object(self, object_id: int, value: bytes) -> None:
        body = _tag_list(object_id) + tlv.encode(Tag.DATA, value)
        self.send(Ins.PUT_DATA, DATA_P1P2 >> 8, DATA_P1P2 & 0xFF, body, le=False)

    def get_object(self, object_id: int) -> bytes:
        out = self.send(Ins.GET_DATA, DATA_P1P2 >> 8, DATA_P1P2 & 0xFF, _tag_list(object_id))
        return tlv.parse_one(out, Tag.DATA).value

    def sign_flow(self, slot: int, algorithm: int, message: bytes) -> bytes:
        """What a signing client does per signature: SELECT, VERIFY, GENERAL AUTHENTICATE."""
        self.select()
        self.verify()
        return self.sign(slot, algorithm, message)


def _template(members: bytes) -> bytes:
    return tlv.encode(Tag.DYNAMIC_AUTHENTICATION_TEMPLATE, members)


def _member(answer: bytes, tag: int) -> bytes:
    value = tlv.find(tlv.parse_one(answer, Tag.DYNAMIC_AUTHENTICATION_TEMPLATE).value, tag)
    if value is None:
        raise PivError(f"no {tag:02X} in the GENERAL AUTHENTICATE answer")
    return value


def _tag_list(object_id: int) -> bytes:
    return tlv.encode(Tag.TAG_LIST, object_id.to_bytes(3, "big"))


def card_exchange(transmit: Callable[[bytes], bytes]) -> Exchange:
    """An Exchange over CardOS.transmit (in process)."""
    return raw_transmit(transmit)


def pyscard_exchange(connection: object) -> Exchange:
    """An Exchange over a connected pyscard connection (pcscd -> vpcd -> the card)."""
    transmit = connection.transmit  # type: ignore[attr-defined]

    def exchange(apdu: bytes) -> tuple[bytes, int]:
        data, sw1, sw2 = transmit(list(apdu))
        return bytes(data), (sw1 << 8) | sw2

    return exchange
