"""Key commands: GENERATE, GET PUBLIC KEY, PUT KEY and PERFORM SECURITY OPERATION (gids.md 4)."""

from __future__ import annotations

from wire.apdu import CommandApdu, ResponseApdu
from wire.gids import (
    MAX_PKCS1_SIGN_INPUT,
    MAX_PUT_KEY_SIZE,
    MAX_RAW_PSO_INPUT,
    MECHANISM_KEY_MASK,
    MECHANISM_MODE_MASK,
    PLAINTEXT_TRANSPORT,
    AccessMode,
    DstMode,
    Ins,
    KeyType,
    PsoP1P2,
    Tag,
)
from wire.iso7816 import SW

from ...core.application import Result, Session, command
from ...core.card import WITHHOLD_DATA
from ...core.errors import CardError
from . import admin
from .base import GidsBase
from .filesystem import KeyFile, parse_one, parse_tlvs
from .keys import CardKey, generate, import_ec, import_rsa
from .session import GidsSession


def _session(session: Session) -> GidsSession:
    assert isinstance(session, GidsSession)
    return session


def tag_list(data: bytes) -> bytes:
    """The tag a GET DATA asks for (5C value); 6984 when the data is not a 5C."""
    item = parse_one(data) if data else None
    if item is None or item.tag != Tag.TAG_LIST:
        raise CardError(SW.DATA_INVALID, "GET DATA needs a 5C tag list")
    return item.value


def get_public_key(app: GidsBase, s: GidsSession, data: bytes) -> bytes:
    """`70 08 84 01 kk A5 03 7F 49 80`: GidsApplet reads kk at its fixed position."""
    key_file = app.key_file(data[4])
    app.check_file(s, key_file, AccessMode.GET_PUBLIC_KEY)
    if key_file.key is None:
        # GidsApplet throws here (6F00); so does softcard, without a traceback.
        raise CardError(SW.NO_PRECISE_DIAGNOSIS, "the key file holds no key")
    return key_file.key.public_template()


def put_key(app: GidsBase, s: GidsSession, data: bytes) -> None:
    """70 { 84 01 kk, A5 { [83 type], [84 00], 87 value, [88 KCV] } } (gids.md 4.5)."""
    if len(data) > MAX_PUT_KEY_SIZE:
        raise CardError(SW.NOT_ENOUGH_MEMORY, "key template too large")
    outer = parse_one(data)
    if outer.tag != Tag.KEY_USAGE_TEMPLATE:
        raise CardError(SW.DATA_INVALID, "expected a key usage template (70)")
    items = parse_tlvs(outer.value)
    if not items or items[0].tag != Tag.KEY_REFERENCE or len(items[0].value) != 1:
        raise CardError(SW.DATA_INVALID, "the template must start with 84 01 kk")
    key_file = app.key_file(items[0].value[0])
    app.check_file(s, key_file, AccessMode.PUT_KEY)
    value_template = next((t for t in items if t.tag == Tag.KEY_VALUE_TEMPLATE), None)
    if value_template is None:
        raise CardError(SW.DATA_INVALID, "no key value template (A5)")
    fields = {t.tag: t.value for t in parse_tlvs(value_template.value)}
    transport = fields.get(Tag.TRANSPORT_KEY, bytes((PLAINTEXT_TRANSPORT,)))
    if transport != bytes((PLAINTEXT_TRANSPORT,)):
        raise CardError(SW.FUNC_NOT_SUPPORTED, "only plaintext key import")
    key_type = fields.get(Tag.KEY_TYPE, bytes((KeyType.SYMMETRIC,)))
    value = fields.get(Tag.KEY_VALUE)
    if value is None or len(key_type) != 1:
        raise CardError(SW.DATA_INVALID, "no key value (87)")
    key_file.key = _import(key_file, key_type[0], value)
    app.changed()


def _import(key_file: KeyFile, key_type: int, value: bytes) -> CardKey:
    if key_type == KeyType.SYMMETRIC:
        at = key_file.crt(Tag.CRT_AT)
        if at is not None and at.mechanism is not None:
            admin.check_key(at.mechanism, value)
        return CardKey(secret=bytes(value))
    if key_type == KeyType.RSA:
        return import_rsa(value)
    if key_type == KeyType.ECC:
        mechanisms = [c.mechanism & MECHANISM_KEY_MASK for c in key_file.crts if c.mechanism]
        return import_ec(value, mechanisms[0] if mechanisms else None)
    raise CardError(SW.DATA_INVALID, "unsupported key type")


class CryptoCommands(GidsBase):
    @command(Ins.GENERATE_ASYMMETRIC_KEY_PAIR)
    def generate_key_pair(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        if apdu.p1 or apdu.p2:
            raise CardError(SW.INCORRECT_P1P2)
        template = parse_one(apdu.data)  # GidsApplet does not check the outer tag (AC)
        fields: dict[int, bytes] = {t.tag: t.value for t in parse_tlvs(template.value)}
        mechanism = fields.get(Tag.GENERATE_MECHANISM)
        key_ref = fields.get(Tag.GENERATE_KEY_REF)
        if mechanism is None or key_ref is None or len(mechanism) != 1 or len(key_ref) != 1:
            raise CardError(SW.DATA_INVALID, "GENERATE needs 80 01 mechanism and 83 01 key")
        key_file = self.key_file(key_ref[0])
        self.check_file(s, key_file, AccessMode.GENERATE)
        key_file.key = generate(self.card.rng, mechanism[0])
        self.changed()
        public = key_file.key.public_template()
        if apdu.ne is None:
            # Without Le, GidsApplet answers 61xx and no data; GET RESPONSE fetches it.
            return ResponseApdu(public, extra={WITHHOLD_DATA: True})
        return public

    @command(Ins.PERFORM_SECURITY_OPERATION)
    def perform_security_operation(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        operation = (apdu.p1 << 8) | apdu.p2
        if operation not in (PsoP1P2.COMPUTE_DIGITAL_SIGNATURE, PsoP1P2.DECIPHER):
            raise CardError(SW.INCORRECT_P1P2)
        wanted = Tag.CRT_DST if operation == PsoP1P2.COMPUTE_DIGITAL_SIGNATURE else Tag.CRT_CT
        env = s.environment
        if env is None or env.crt != wanted:
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "no matching security environment")
        key_file = self.files.key_file(env.key_ref)
        if key_file is None or key_file.key is None or key_file.key.private is None:
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "the key file holds no key pair")
        key = key_file.key
        mode = env.mechanism & MECHANISM_MODE_MASK
        if operation == PsoP1P2.COMPUTE_DIGITAL_SIGNATURE:
            return _sign(key, mode, apdu.data)
        return _decipher(key, mode, apdu.data)


def _sign(key: CardKey, mode: int, data: bytes) -> bytes:
    if mode == DstMode.PKCS1 and key.kind == KeyType.RSA:
        if len(data) > MAX_PKCS1_SIGN_INPUT:
            raise CardError(SW.WRONG_LENGTH, "signature input longer than 247 bytes")
        return key.sign_pkcs1(data)
    if mode == DstMode.RAW:
        if key.kind == KeyType.ECC:
            return key.sign_ecdsa(data)
        if len(data) > MAX_RAW_PSO_INPUT:
            raise CardError(SW.WRONG_LENGTH)
        return key.rsa_private_operation(data)
    raise CardError(SW.CONDITIONS_NOT_SATISFIED, "unsupported signature mode")


def _decipher(key: CardKey, mode: int, data: bytes) -> bytes:
    if key.kind == KeyType.ECC:
        if mode:
            raise CardError(SW.FUNC_NOT_SUPPORTED, "ECDH takes no padding")
        return key.ecdh(data)
    return key.decrypt(data, mode)
