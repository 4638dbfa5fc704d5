"""Authentication: PINs, the admin's challenge/response, session and external PINs,
unblocking, changing authenticators, and de-authentication (CardAuthenticatePin and friends).

`authenticated` is the context's own view of who is logged in: a wrong PIN de-authenticates
only that PIN, an unblock or a change leaves the roles as the spec says.
"""

from __future__ import annotations

from wire.minidriver import pins as p

from ..api import api
from ..errors import (
    SCARD_E_INVALID_PARAMETER,
    SCARD_E_UNSUPPORTED_FEATURE,
    SCARD_W_CHV_BLOCKED,
    SCARD_W_WRONG_CHV,
    MinidriverError,
)
from . import checks
from .base import ContextBase

# cRetryCount values that ask for no change of the retry counter.
UNCHANGED_RETRY_COUNTS = (0, 0xFFFFFFFF)


class AuthenticationMixin(ContextBase):
    def _user_role(self, user_id: str | None) -> int:
        role = p.USER_NAME_ROLES.get(user_id) if isinstance(user_id, str) else None
        if role is None:
            raise SCARD_E_INVALID_PARAMETER(f"user {user_id!r} is neither 'user' nor 'admin'")
        return role

    def _verify(self, pin_id: int, pin: bytes) -> None:
        bit = p.CREATE_PIN_SET(pin_id)
        try:
            self._check_presented_pin(pin_id, pin)
            self.card.verify_pin(pin_id, pin)
        except MinidriverError:
            # A wrong PIN de-authenticates only that PIN.
            self.authenticated &= ~bit
            raise
        self.authenticated |= bit

    def _check_presented_pin(self, pin_id: int, pin: bytes) -> None:
        """A PIN of a length the card cannot hold is a wrong PIN (spec: SCARD_W_WRONG_CHV with
        the tries left, CHV_BLOCKED when blocked). It never reaches the card: the card could
        not even take it (PIV answers a PIN over 8 bytes with a length error), and a guess that
        cannot be right costs no try."""
        low, high = self.card.pin_length(pin_id)
        if low <= len(pin) <= high:
            return
        left = self.card.pin_tries_left(pin_id)
        if left == 0:
            raise SCARD_W_CHV_BLOCKED(f"PIN {pin_id} is blocked", attempts_remaining=0)
        raise SCARD_W_WRONG_CHV(
            f"wrong PIN: PIN {pin_id} is {low} to {high} bytes",
            attempts_remaining=p.UNKNOWN_ATTEMPTS if left is None else left,
        )

    def _answer(self, pin_id: int, response: bytes) -> None:
        bit = p.CREATE_PIN_SET(pin_id)
        try:
            self.card.answer_challenge(pin_id, response)
        except MinidriverError:
            self.authenticated &= ~bit
            raise
        self.authenticated |= bit

    @api("CardAuthenticatePin")
    def authenticate_pin(self, user_id: str, pin: bytes | None) -> None:
        role = self._user_role(user_id)
        if pin is None:
            raise SCARD_E_INVALID_PARAMETER("pbPin is NULL")
        info = self._pin(role)
        if info.pin_type != p.SECRET_TYPE.AlphaNumericPinType:
            raise SCARD_E_INVALID_PARAMETER(
                f"{user_id} is a {p.SECRET_TYPE(info.pin_type).name}: "
                "use CardAuthenticateEx or the challenge functions"
            )
        self._verify(role, pin)

    @api("CardGetChallenge")
    def get_challenge(self) -> bytes:
        return self._challenge(p.ROLE_ADMIN)

    def _challenge(self, pin_id: int) -> bytes:
        info = self._pin(pin_id)
        if info.pin_type != p.SECRET_TYPE.ChallengeResponsePinType:
            raise SCARD_E_INVALID_PARAMETER(f"PIN {pin_id} is not a challenge/response PIN")
        # A new challenge ends an earlier authentication of that key.
        self.authenticated &= ~p.CREATE_PIN_SET(pin_id)
        return self.card.get_challenge(pin_id)

    @api("CardAuthenticateChallenge")
    def authenticate_challenge(self, response: bytes | None) -> None:
        if not response:
            raise SCARD_E_INVALID_PARAMETER("pbResponseData is NULL")
        self._pin(p.ROLE_ADMIN)
        self._answer(p.ROLE_ADMIN, response)

    @api("CardUnblockPin")
    def unblock_pin(
        self,
        user_id: str,
        authentication_data: bytes | None,
        new_pin: bytes | None,
        retry_count: int,
        flags: int,
    ) -> None:
        if user_id != p.wszCARD_USER_USER:
            raise SCARD_E_INVALID_PARAMETER("only the user PIN can be unblocked")
        if authentication_data is None or new_pin is None:
            raise SCARD_E_INVALID_PARAMETER("NULL authentication data or new PIN")
        if flags not in (p.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE, p.CARD_AUTHENTICATE_PIN_PIN):
            raise SCARD_E_INVALID_PARAMETER("dwFlags must name challenge/response or PIN")
        target = self._pin(p.ROLE_USER)
        unblockers = [
            i
            for i in self._pin_ids()
            if p.IS_PIN_SET(target.unblock_permission, i) and i != p.ROLE_USER
        ]
        wanted = (
            p.SECRET_TYPE.ChallengeResponsePinType
            if flags == p.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE
            else p.SECRET_TYPE.AlphaNumericPinType
        )
        unblocker = next((i for i in unblockers if self.card.pin_info(i).pin_type == wanted), None)
        if unblocker is None:
            raise SCARD_E_UNSUPPORTED_FEATURE(
                "the card unblocks the user PIN only by admin challenge/response"
                if wanted == p.SECRET_TYPE.AlphaNumericPinType
                else "no challenge/response key can unblock the user PIN"
            )
        if retry_count not in UNCHANGED_RETRY_COUNTS:
            raise SCARD_E_INVALID_PARAMETER("the card cannot change the retry count")
        self._check_new_pin(p.ROLE_USER, new_pin)
        self._unblock(unblocker, authentication_data, p.ROLE_USER, new_pin)

    def _authenticate_with(self, pin_id: int, data: bytes) -> None:
        if self.card.pin_info(pin_id).pin_type == p.SECRET_TYPE.ChallengeResponsePinType:
            self._answer(pin_id, data)
        else:
            self._verify(pin_id, data)

    def _unblock(self, unblocker: int, auth_data: bytes, target: int, new_pin: bytes) -> None:
        self._authenticate_with(unblocker, auth_data)
        self._bump(pins=True)
        self.card.unblock_pin(target, new_pin)
        if not self.card.unblock_logs_out():
            self.card.deauthenticate(p.CREATE_PIN_SET(unblocker) | p.CREATE_PIN_SET(target))
        self.authenticated &= ~(p.CREATE_PIN_SET(unblocker) | p.CREATE_PIN_SET(target))
        if self.card.unblock_logs_out():
            self.authenticated = p.PIN_SET_NONE

    @api("CardChangeAuthenticator")
    def change_authenticator(
        self,
        user_id: str,
        current_authenticator: bytes | None,
        new_authenticator: bytes | None,
        retry_count: int,
        flags: int,
    ) -> None:
        role = self._user_role(user_id)
        expected = (
            p.CARD_AUTHENTICATE_PIN_PIN
            if role == p.ROLE_USER
            else p.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE
        )
        if flags != expected:
            raise SCARD_E_INVALID_PARAMETER(f"dwFlags must be {expected} for {user_id}")
        if current_authenticator is None or new_authenticator is None:
            raise SCARD_E_INVALID_PARAMETER("NULL authenticator")
        if retry_count not in UNCHANGED_RETRY_COUNTS:
            raise SCARD_E_INVALID_PARAMETER("the card cannot change the retry count")
        self._pin(role)
        self._check_new_pin(role, new_authenticator)
        self._change(role, current_authenticator, role, new_authenticator)

    def _change(self, auth_id: int, auth_data: bytes, target: int, new: bytes) -> None:
        self._authenticate_with(auth_id, auth_data)
        self._bump(pins=True)
        if self.card.pin_info(target).pin_type == p.SECRET_TYPE.ChallengeResponsePinType:
            self.card.change_challenge_key(target, new)
        else:
            self.card.change_pin(target, auth_data, new)
        self.authenticated |= p.CREATE_PIN_SET(auth_id)

    @api("CardDeauthenticate")
    def deauthenticate(self, user_id: str, flags: int = 0) -> None:
        role = self._user_role(user_id)
        checks.flags_zero(flags)
        out = self.card.deauthenticate(p.CREATE_PIN_SET(role))
        self.authenticated &= ~(out | p.CREATE_PIN_SET(role))

    @api("CardGetChallengeEx", since=6)
    def get_challenge_ex(self, pin_id: int, flags: int = 0) -> bytes:
        checks.flags_zero(flags)
        return self._challenge(pin_id)

    @api("CardAuthenticateEx", since=6)
    def authenticate_ex(self, pin_id: int, flags: int, pin_data: bytes | None) -> bytes | None:
        """Returns the session PIN for CARD_AUTHENTICATE_GENERATE_SESSION_PIN (and for external
        PINs), else None."""
        if not isinstance(pin_id, int) or pin_id == p.ROLE_EVERYONE or pin_id >= p.MAX_PINS:
            raise SCARD_E_INVALID_PARAMETER(f"PinId {pin_id!r}")
        known = (
            p.CARD_AUTHENTICATE_GENERATE_SESSION_PIN
            | p.CARD_AUTHENTICATE_SESSION_PIN
            | p.CARD_PIN_SILENT_CONTEXT
        )
        session_flags = flags & (
            p.CARD_AUTHENTICATE_GENERATE_SESSION_PIN | p.CARD_AUTHENTICATE_SESSION_PIN
        )
        if flags & ~known or session_flags == (
            p.CARD_AUTHENTICATE_GENERATE_SESSION_PIN | p.CARD_AUTHENTICATE_SESSION_PIN
        ):
            raise SCARD_E_INVALID_PARAMETER(f"dwFlags 0x{flags:X}")
        info = self._pin(pin_id)
        if info.pin_purpose == p.SECRET_PURPOSE.UnblockOnlyPin:
            raise SCARD_E_INVALID_PARAMETER(f"PIN {pin_id} only unblocks")
        bit = p.CREATE_PIN_SET(pin_id)
        if info.pin_type == p.SECRET_TYPE.EmptyPinType:
            self.authenticated |= bit
            return None
        if info.pin_type == p.SECRET_TYPE.ExternalPinType and pin_data is None:
            if flags & p.CARD_PIN_SILENT_CONTEXT:
                raise SCARD_E_INVALID_PARAMETER(
                    "an external PIN cannot be collected in a silent context"
                )
            session = self.card.verify_external(pin_id)
            self.authenticated |= bit
            return session
        if pin_data is None:
            raise SCARD_E_INVALID_PARAMETER("pbPinData is NULL")
        if info.pin_type == p.SECRET_TYPE.ChallengeResponsePinType:
            if session_flags:
                raise SCARD_E_INVALID_PARAMETER("a challenge/response PIN has no session PIN")
            self._answer(pin_id, pin_data)
            return None
        if session_flags == p.CARD_AUTHENTICATE_GENERATE_SESSION_PIN:
            # Verifies the PIN but must not leave the card authenticated.
            self._check_presented_pin(pin_id, pin_data)
            return self.card.generate_session_pin(pin_id, pin_data)
        if session_flags == p.CARD_AUTHENTICATE_SESSION_PIN:
            try:
                self.card.verify_session_pin(pin_id, pin_data)
            except SCARD_W_WRONG_CHV:
                self.authenticated &= ~bit
                raise
            self.authenticated |= bit
            return None
        self._verify(pin_id, pin_data)
        return None

    @api("CardChangeAuthenticatorEx", since=6)
    def change_authenticator_ex(
        self,
        flags: int,
        authenticating_pin_id: int,
        authenticating_pin_data: bytes | None,
        target_pin_id: int,
        target_data: bytes | None,
        retry_count: int,
    ) -> None:
        action = flags & ~p.CARD_PIN_SILENT_CONTEXT
        if action not in (p.PIN_CHANGE_FLAG_UNBLOCK, p.PIN_CHANGE_FLAG_CHANGEPIN):
            raise SCARD_E_INVALID_PARAMETER(f"dwFlags 0x{flags:X}")
        for pin_id in (authenticating_pin_id, target_pin_id):
            if not isinstance(pin_id, int) or not 1 <= pin_id < p.MAX_PINS:
                raise SCARD_E_INVALID_PARAMETER(f"PinId {pin_id!r}")
        if authenticating_pin_data is None or target_data is None:
            raise SCARD_E_INVALID_PARAMETER("NULL PIN data")
        if retry_count not in UNCHANGED_RETRY_COUNTS:
            raise SCARD_E_INVALID_PARAMETER("the card cannot change the retry count")
        target = self._pin(target_pin_id)
        self._pin(authenticating_pin_id)
        if action == p.PIN_CHANGE_FLAG_CHANGEPIN:
            if authenticating_pin_id != target_pin_id and not p.IS_PIN_SET(
                target.change_permission, authenticating_pin_id
            ):
                raise SCARD_E_INVALID_PARAMETER(
                    f"PIN {authenticating_pin_id} may not change PIN {target_pin_id}"
                )
            if authenticating_pin_id != target_pin_id:
                raise SCARD_E_UNSUPPORTED_FEATURE(
                    "this card changes a PIN only with the PIN itself"
                )
            self._check_new_pin(target_pin_id, target_data)
            self._change(authenticating_pin_id, authenticating_pin_data, target_pin_id, target_data)
            return
        if authenticating_pin_id == target_pin_id or not p.IS_PIN_SET(
            target.unblock_permission, authenticating_pin_id
        ):
            raise SCARD_E_INVALID_PARAMETER(
                f"PIN {authenticating_pin_id} may not unblock PIN {target_pin_id}"
            )
        self._check_new_pin(target_pin_id, target_data)
        self._unblock(authenticating_pin_id, authenticating_pin_data, target_pin_id, target_data)

    @api("CardDeauthenticateEx", since=6)
    def deauthenticate_ex(self, pin_id: int, flags: int = 0) -> None:
        """`pin_id` is a PIN_SET (a bit per PIN), as in the specification."""
        checks.flags_zero(flags)
        if not isinstance(pin_id, int) or pin_id & ~p.PIN_SET_ALL_ROLES:
            raise SCARD_E_INVALID_PARAMETER(f"PIN set 0x{pin_id:X}")
        pin_set = pin_id & ~p.CREATE_PIN_SET(p.ROLE_EVERYONE)
        if not pin_set:
            return
        out = self.card.deauthenticate(pin_set)
        self.authenticated &= ~(out | pin_set)

    def _check_new_pin(self, pin_id: int, new: bytes) -> None:
        low, high = self.card.pin_length(pin_id)
        if not low <= len(new) <= high:
            raise SCARD_E_INVALID_PARAMETER(f"the new PIN must be {low} to {high} bytes")
