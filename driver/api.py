"""Marking of the public API: spec name, CARD_DATA version, no-card mode, tracing, errors.

`@api("CardReadFile")` on a context method:
* refuses the call when the context is closed, when the function is newer than the negotiated
  CARD_DATA version (its slot would be NULL: ERROR_CALL_NOT_IMPLEMENTED) or, in no-card mode,
  when the function is not one of the secure-key-injection set (SCARD_E_INVALID_PARAMETER);
* enters `tracer.call(name)` around the outermost call when a tracer is attached, so an APDU
  trace can be correlated with minidriver calls;
* turns any stray exception into SCARD_E_UNEXPECTED: callers only ever see MinidriverError.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from .errors import (
    ERROR_CALL_NOT_IMPLEMENTED,
    SCARD_E_INVALID_HANDLE,
    SCARD_E_INVALID_PARAMETER,
    SCARD_E_UNEXPECTED,
    MinidriverError,
)

if TYPE_CHECKING:
    from .context.base import ContextBase


class Tracer(Protocol):
    """What the driver needs from an APDU tracer: a context per minidriver call."""

    def call(self, name: str, /, **args: object) -> AbstractContextManager[Any]: ...


F = TypeVar("F", bound=Callable[..., Any])

# Every decorated method: spec name -> (Python name, CARD_DATA version, allowed in no-card mode).
REGISTRY: dict[str, tuple[str, int, bool]] = {}


def api(name: str, since: int = 4, no_card: bool = False) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        REGISTRY[name] = (fn.__name__, since, no_card)
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(self: ContextBase, *args: Any, **kwargs: Any) -> Any:
            if self.closed and name != "CardDeleteContext":
                raise SCARD_E_INVALID_HANDLE("the context was deleted")
            outer = self._depth == 0
            with contextlib.ExitStack() as stack:
                if outer and self.tracer is not None:
                    stack.enter_context(
                        self.tracer.call(name, **_trace_args(signature, args, kwargs))
                    )
                self._depth += 1
                try:
                    if outer:
                        if since > self.version:
                            raise ERROR_CALL_NOT_IMPLEMENTED(
                                f"{name} is a CARD_DATA v{since} function; "
                                f"this context is v{self.version}"
                            )
                        if self.no_card and not no_card:
                            raise SCARD_E_INVALID_PARAMETER(
                                f"{name} is not available in no-card mode"
                            )
                    return fn(self, *args, **kwargs)
                except MinidriverError:
                    raise
                # The API boundary: like the C API, a function fails with an SCARD code, so a
                # bug below surfaces as SCARD_E_UNEXPECTED naming it, never as a bare exception.
                except Exception as err:
                    raise SCARD_E_UNEXPECTED(f"{name}: {type(err).__name__}: {err}") from err
                finally:
                    self._depth -= 1
                    if outer:
                        self._end_call()

        wrapper.spec_name = name  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorate


def _trace_args(
    signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, object]:
    """The call's plain arguments (ints and names) for the trace; bytes (PINs, keys, data) and
    structures stay out of it."""
    try:
        bound = signature.bind(None, *args, **kwargs)
        bound.apply_defaults()
    except TypeError:
        return {}
    return {
        key: value
        for key, value in bound.arguments.items()
        if key != "self" and isinstance(value, int | str) and not isinstance(value, bool)
    }
