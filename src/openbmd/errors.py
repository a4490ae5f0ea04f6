"""The one exception family of openbmd.

Every error a user can cause derives from :class:`OpenBMDError`. Messages say what was wrong,
where (a field name, a file and line) and what would be valid, in one line.
"""

from __future__ import annotations


class OpenBMDError(Exception):
    """Base class of every error openbmd raises on purpose."""


class InputError(OpenBMDError, ValueError):
    """A value given by the user is malformed or out of its valid range."""


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
