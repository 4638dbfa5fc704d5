"""MANAGE SECURITY ENVIRONMENT and GENERAL AUTHENTICATE (gids.md 3.3, 4.6)."""

from __future__ import annotations

from wire import tlv
from wire.apdu import CommandApdu
from wire.gids import (
    ADMIN_KEY_LENGTHS,
    MUTUAL_CHALLENGE_LENGTH,
    AccessMode,
    AdminMechanism,
    Ins,
    MseP1,
    Tag,
)
from wire.iso7816 import SW

from ...core.application import Result, Session, command
from ...core.errors import CardError
from . import admin
from .base import GidsBase
from .filesystem import parse_one, parse_tlvs
from .session import GidsSession, SecurityEnvironment

_PRIVATE_KEY_CRTS = (Tag.CRT_DST, Tag.CRT_CT)


def _session(session: Session) -> GidsSession:
    assert isinstance(session, GidsSession)
    return session


def _single_bytes(data: bytes) -> dict[int, int]:
    """MSE data: TLVs whose values must be exactly one byte (6984 otherwise)."""
    out: dict[int, int] = {}
    for item in parse_tlvs(data):
        if len(item.value) != 1:
            raise CardError(SW.DATA_INVALID, "MSE elements are one byte long")
        out[item.tag] = item.value[0]
    return out


class SecurityCommands(GidsBase):
    # -- MSE ------------------------------------------------------------------------------

    @command(Ins.MANAGE_SECURITY_ENVIRONMENT, chaining=False)
    def manage_security_environment(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        if apdu.p1 == MseP1.COMPUTE_DECIPHER:
            self._set_private_key_environment(s, apdu)
        elif apdu.p1 in (MseP1.VERIFY_AUTHENTICATE, MseP1.AUTHENTICATE_ALL):
            self._set_admin_key(s, apdu)
        elif apdu.p1 == MseP1.RESTORE:
            raise CardError(SW.DATA_INVALID, "no stored security environments")
        else:
            raise CardError(SW.FUNC_NOT_SUPPORTED)
        return b""

    def _set_private_key_environment(self, s: GidsSession, apdu: CommandApdu) -> None:
        if apdu.p2 not in _PRIVATE_KEY_CRTS:
            raise CardError(SW.INCORRECT_P1P2)
        fields = _single_bytes(apdu.data)
        mechanism = fields.get(Tag.CRT_MECHANISM)
        key_ref = fields.get(Tag.CRT_KEY_REF)
        if mechanism is None or key_ref is None:
            raise CardError(SW.DATA_INVALID, "MSE needs 80 (mechanism) and 84 (key)")
        key_file = self.key_file(key_ref)
        if key_file.crt(apdu.p2, mechanism) is None:
            raise CardError(SW.DATA_INVALID, "the key file does not allow this mechanism")
        # This is where the PIN is enforced for signing and decrypting (SCB 10).
        self.check_file(s, key_file, AccessMode.MSE)
        s.environment = SecurityEnvironment(apdu.p2, key_ref, mechanism)

    def _set_admin_key(self, s: GidsSession, apdu: CommandApdu) -> None:
        if apdu.p2 != Tag.CRT_AT:
            raise CardError(SW.INCORRECT_P1P2)
        fields = _single_bytes(apdu.data)
        key_ref = fields.get(Tag.CRT_KEY_REF_SYMMETRIC)
        if key_ref is None:
            raise CardError(SW.DATA_INVALID, "MSE needs 83 (key reference)")
        key_file = self.key_file(key_ref)
        at = key_file.crt(Tag.CRT_AT)
        if at is None or at.mechanism not in ADMIN_KEY_LENGTHS:
            raise CardError(SW.DATA_INVALID, "not an authentication key")
        self.check_file(s, key_file, AccessMode.MSE)
        s.admin_key_ref = key_ref
        s.admin_authenticated = False
        s.challenge = None

    # -- GENERAL AUTHENTICATE -------------------------------------------------------------

    @command(Ins.GENERAL_AUTHENTICATE, chaining=False)
    def general_authenticate(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        if self.initialization_mode:
            raise CardError(SW.COMMAND_NOT_ALLOWED_NO_EF)
        if apdu.p1 or apdu.p2:
            raise CardError(SW.INCORRECT_P1P2)
        outer = parse_one(apdu.data) if apdu.data else None
        if outer is None or outer.tag != Tag.DYNAMIC_AUTH:
            raise CardError(SW.DATA_INVALID, "expected a 7C template")
        inner = parse_tlvs(outer.value)
        if len(inner) != 1 or inner[0].tag not in (Tag.CHALLENGE, Tag.RESPONSE):
            raise CardError(SW.DATA_INVALID, "expected 81 (challenge) or 82 (response)")
        item = inner[0]
        if item.tag == Tag.CHALLENGE:
            if len(item.value) not in (0, MUTUAL_CHALLENGE_LENGTH):
                raise CardError(SW.DATA_INVALID, "challenge must be 0 or 16 bytes")
            return self._challenge(s, item.value)
        if not item.value or len(item.value) > self._longest_response(s):
            raise CardError(SW.DATA_INVALID, "bad response length")
        return self._response(s, item.value)

    def _longest_response(self, s: GidsSession) -> int:
        """GidsApplet refuses (6984) a response longer than its 40-byte mutual cryptogram."""
        key_file = self.files.key_file(s.admin_key_ref) if s.admin_key_ref is not None else None
        at = key_file.crt(Tag.CRT_AT) if key_file is not None else None
        if at is None or at.mechanism not in ADMIN_KEY_LENGTHS:
            return admin.mutual_cryptogram_length(AdminMechanism.TDES_3KEY)
        return admin.mutual_cryptogram_length(at.mechanism)

    def _admin_key(self, s: GidsSession) -> tuple[int, bytes]:
        if s.admin_key_ref is None:
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "no admin key chosen by MSE")
        key_file = self.files.key_file(s.admin_key_ref)
        at = key_file.crt(Tag.CRT_AT) if key_file is not None else None
        if key_file is None or at is None or at.mechanism is None:
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "the admin key file is gone")
        key = key_file.key
        if key is None or key.secret is None:
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "the admin key is not loaded")
        return at.mechanism, key.secret

    def _challenge(self, s: GidsSession, host_random: bytes) -> bytes:
        # Starting an exchange drops any previous admin authentication.
        s.admin_authenticated = False
        s.challenge = None
        mechanism, _ = self._admin_key(s)
        if host_random:
            s.challenge = admin.start_mutual(self.card.rng, host_random)
        else:
            s.challenge = admin.start_external(self.card.rng, mechanism)
        return tlv.encode(Tag.DYNAMIC_AUTH, tlv.encode(Tag.CHALLENGE, s.challenge.card_random))

    def _response(self, s: GidsSession, response: bytes) -> bytes:
        challenge, s.challenge = s.challenge, None  # one answer per challenge: replay is 6985
        if challenge is None:
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "no open challenge")
        mechanism, key = self._admin_key(s)
        if challenge.step == admin.Step.EXTERNAL:
            admin.finish_external(challenge, mechanism, key, response)
            s.admin_authenticated = True
            return b""
        cryptogram = admin.finish_mutual(challenge, mechanism, key, response, self.card.rng)
        s.admin_authenticated = True
        return tlv.encode(Tag.DYNAMIC_AUTH, tlv.encode(Tag.RESPONSE, cryptogram))
