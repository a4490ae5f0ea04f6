"""The ``openbmd`` command line (Typer).

Each group of commands lives in its own module and registers itself on :data:`app`.
Every command offers ``--json``. Bad input ends with one line on stderr naming the field and
what is wrong, and exit code 2 — never a traceback.
"""

from __future__ import annotations

from openbmd.cli._common import app, main
from openbmd.cli import flight as _flight  # noqa: F401  (registers its commands)

__all__ = ["app", "main"]
