"""The one exception family of openbmd.

Every error a user can cause derives from :class:`OpenBMDError`. Messages say what was wrong,
where and what would be valid, in one line. An :class:`InputError` carries the *field path* of
the offending value (``exc.field``, e.g. ``missile``, ``sensors`` or
``batteries[0].interceptor.burnout_speed``) apart from its message, so each front end names it
in its own terms: the CLI maps the path to its flag, a scenario loader to ``FILE:LINE``.
``str(exc)`` reads ``field: message``.
"""

from __future__ import annotations

from typing import Any


class OpenBMDError(Exception):
    """Base class of every error openbmd raises on purpose."""


class InputError(OpenBMDError, ValueError):
    """A value given by the user is malformed or out of its valid range.

    Parameters
    ----------
    message : str
        What was wrong and what would be valid. Older call sites pass ``"field: message"``
        here with no ``field``; that still works (``exc.field`` is then ``None``).
    field : str, optional
        Machine-readable path of the offending value: dotted names and ``[i]`` indices,
        without any front end's spelling (no ``--``).
    """

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)

    def __reduce__(self) -> tuple[Any, ...]:  # keep the field across process pools
        return (_rebuild, (type(self), self.message, self.field))


def _rebuild(cls: type[InputError], message: str, field: str | None) -> InputError:
    return cls(message, field=field)


class UnknownNameError(InputError, KeyError):
    """A name (missile, site, sensor, interceptor) is not in its catalogue."""

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0]) if self.args else ""


class OutOfRangeError(InputError):
    """An aimpoint lies beyond what the missile can reach."""


class ScenarioError(InputError):
    """A scenario or catalogue file is invalid."""


class ConvergenceError(OpenBMDError, RuntimeError):
    """An iterative solver did not converge."""
