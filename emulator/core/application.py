"""Card applications are plug-ins: an AID, a command table and their own state.

The core routes SELECT by DF name to the application whose AID matches and every
other command to the application selected on the channel. An application names
its handlers with the `command` decorator; that table is its whole dispatch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from wire.apdu import CommandApdu, ResponseApdu
from wire.iso7816 import SW

from .errors import CardError

if TYPE_CHECKING:
    from .card import CardOS

Result = bytes | ResponseApdu
F = TypeVar("F", bound=Callable[..., Result])


def command(*instructions: int, chaining: bool = True) -> Callable[[F], F]:
    """Register a method as the handler of these INS bytes.

    `chaining=False` makes the core refuse command chaining for them (6884).
    """

    def mark(fn: F) -> F:
        fn.__softcard_ins__ = instructions  # type: ignore[attr-defined]
        fn.__softcard_chaining__ = chaining  # type: ignore[attr-defined]
        return fn

    return mark


class Session:
    """Volatile per-channel state of one application: security status and the like.

    A new one is made on every selection from another application, power-on and
    reset, so forgetting authentication there needs no code.
    """

    def __init__(self) -> None:
        self.verified: set[str] = set()


class Application:
    """Base class for a card application. Subclasses declare `name` and `aid`."""

    name: ClassVar[str] = "application"
    aid: ClassVar[bytes] = b""
    # Shortest right-truncated AID accepted by SELECT (ISO partial DF name).
    min_select_length: ClassVar[int] = 5
    # GET RESPONSE with nothing pending: ISO says 6985; some cards answer 9000 (GidsApplet).
    idle_get_response_succeeds: ClassVar[bool] = False
    # INS -> (method name, chaining allowed); filled from @command at class creation.
    commands: ClassVar[dict[int, tuple[str, bool]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table: dict[int, tuple[str, bool]] = {}
        for klass in reversed(cls.__mro__):
            for attr, fn in vars(klass).items():
                for ins in getattr(fn, "__softcard_ins__", ()):
                    table[ins] = (attr, fn.__softcard_chaining__)
        cls.commands = table

    def __init__(self) -> None:
        self._card: CardOS | None = None

    # -- wiring ---------------------------------------------------------------------------

    @property
    def card(self) -> CardOS:
        if self._card is None:
            raise RuntimeError(f"application {self.name} is not installed on a card")
        return self._card

    def attach(self, card: CardOS) -> None:
        self._card = card
        self.on_attach()

    def on_attach(self) -> None:
        """Hook: wire persistent objects (PIN commit callbacks) to the card."""

    def changed(self) -> None:
        """Persistent state changed; the card makes it durable before answering."""
        if self._card is not None:
            self._card.mark_dirty()

    # -- selection ------------------------------------------------------------------------

    def matches(self, name: bytes) -> bool:
        return len(name) >= self.min_select_length and self.aid.startswith(name)

    def new_session(self) -> Session:
        return Session()

    def select(self, session: Session, apdu: CommandApdu, reselected: bool) -> Result:
        """Answer a SELECT by DF name that matched this application (FCI per P2)."""
        return b""

    def select_unknown_name(self, session: Session, apdu: CommandApdu) -> Result:
        """A SELECT by DF name matched no application: ISO says 6A82, selection unchanged."""
        raise CardError(SW.FILE_NOT_FOUND)

    # -- commands -------------------------------------------------------------------------

    def allows_chaining(self, ins: int) -> bool:
        """Whether a chain may start for this INS; unknown INS bytes fail at once."""
        entry = self.commands.get(ins)
        if entry is None:
            raise CardError(SW.INS_NOT_SUPPORTED)
        return entry[1]

    def dispatch(self, session: Session, apdu: CommandApdu) -> Result:
        entry = self.commands.get(apdu.ins)
        if entry is None:
            raise CardError(SW.INS_NOT_SUPPORTED)
        handler: Callable[[Session, CommandApdu], Result] = getattr(self, entry[0])
        return handler(session, apdu)

    # -- persistence ----------------------------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        """The application's persistent state as JSON-compatible values."""
        return {}

    def import_state(self, state: dict[str, Any]) -> None:
        """Replace the persistent state with an exported one."""
