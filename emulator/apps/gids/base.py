"""The GIDS application's persistent state, SELECT by AID and the checks commands share."""

from __future__ import annotations

from typing import Any, ClassVar

from wire.apdu import CommandApdu
from wire.gids import (
    APPLICATION_ACCESS,
    FCI,
    FCP,
    FMD,
    GIDS_AID,
    PIN_MAX_LENGTH,
    PIN_MIN_LENGTH,
    PIN_TRY_LIMIT,
    SELECT_P2_OCCURRENCE_MASK,
    SELECT_P2_RESPONSE_MASK,
    LifeCycle,
    SelectP2,
)
from wire.iso7816 import SW

from ...core.application import Application, Result, Session
from ...core.errors import CardError
from ...core.pin import Pin
from .access import AccessRule, Credentials
from .filesystem import FileTable, GidsFile, KeyFile
from .session import GidsSession


def new_pin(value: bytes) -> Pin:
    return Pin(
        bytes(value), max_tries=PIN_TRY_LIMIT, min_length=PIN_MIN_LENGTH, max_length=PIN_MAX_LENGTH
    )


class GidsBase(Application):
    name: ClassVar[str] = "gids"
    aid: ClassVar[bytes] = GIDS_AID
    # GidsApplet answers a GET RESPONSE with nothing pending with 9000 (gids.md 2.12).
    idle_get_response_succeeds: ClassVar[bool] = True
    application_rule: ClassVar[AccessRule] = AccessRule.parse(APPLICATION_ACCESS)

    def __init__(self) -> None:
        super().__init__()
        self.life_cycle = LifeCycle.CREATION
        self.pin: Pin | None = None  # set by CHANGE REFERENCE DATA P1=01
        self.files = FileTable()

    def on_attach(self) -> None:
        if self.pin is not None:
            self.pin.commit = self.card.commit_now

    def new_session(self) -> GidsSession:
        return GidsSession()

    # -- shared checks --------------------------------------------------------------------

    @property
    def initialization_mode(self) -> bool:
        return self.life_cycle == LifeCycle.CREATION

    def credentials(self, session: GidsSession) -> Credentials:
        return Credentials(
            user_pin=session.pin_verified,
            admin=session.admin_authenticated,
            unrestricted=self.initialization_mode,
        )

    def check_application(self, session: GidsSession, operation: int) -> None:
        """A permission checked against the application DF itself."""
        if self.life_cycle == LifeCycle.TERMINATED:
            raise CardError(SW.TERMINATION_STATE)
        self.application_rule.check(operation, self.credentials(session))

    def check_file(self, session: GidsSession, target: GidsFile, operation: int) -> None:
        target.require_operational()
        target.rule.check(operation, self.credentials(session))

    def set_pin(self, value: bytes) -> Pin:
        pin = new_pin(value)
        if self._card is not None:
            pin.commit = self.card.commit_now
        self.pin = pin
        return pin

    def key_file(self, key_ref: int) -> KeyFile:
        found = self.files.key_file(key_ref)
        if found is None:
            raise CardError(SW.DATA_INVALID, "no such key file")
        return found

    # -- SELECT by AID --------------------------------------------------------------------

    def select(self, session: Session, apdu: CommandApdu, reselected: bool) -> Result:
        assert isinstance(session, GidsSession)
        if apdu.p2 & SELECT_P2_OCCURRENCE_MASK:
            raise CardError(SW.INCORRECT_P1P2)
        # Even re-selecting the selected application logs everybody out (GidsApplet).
        session.reset()
        return self.application_template(apdu.p2)

    @staticmethod
    def application_template(p2: int) -> bytes:
        templates: dict[int, bytes] = {
            SelectP2.FCI: FCI,
            SelectP2.FCP: FCP,
            SelectP2.FMD: FMD,
            SelectP2.NO_DATA: b"",
        }
        return templates[p2 & SELECT_P2_RESPONSE_MASK]

    # -- persistence ----------------------------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        return {
            "life_cycle": int(self.life_cycle),
            "pin": self.pin.to_state() if self.pin is not None else None,
            "files": self.files.to_state(),
        }

    def import_state(self, state: dict[str, Any]) -> None:
        self.life_cycle = LifeCycle(int(state["life_cycle"]))
        pin_state = state.get("pin")
        self.pin = Pin.from_state(pin_state) if pin_state is not None else None
        self.files = FileTable.from_state(state["files"])
        if self._card is not None:
            self.on_attach()
