"""The ``openbmd`` command line (Typer).

Each group of commands lives in its own module and registers itself on :data:`app`.
Every command offers ``--json``. Bad input ends with one line on stderr naming the field and
what is wrong, and exit code 2 — never a traceback.
"""

from __future__ import annotations

from openbmd.cli import analysis as _analysis  # noqa: F401
from openbmd.cli import analyze as _analyze  # noqa: F401
from openbmd.cli import architecture as _architecture  # noqa: F401
from openbmd.cli import campaign as _campaign  # noqa: F401
from openbmd.cli import coverage as _coverage  # noqa: F401  (imports cli.defence first)
from openbmd.cli import defence as _defence  # noqa: F401
from openbmd.cli import exchange as _exchange  # noqa: F401
from openbmd.cli import exchange_agreements as _exchange_agreements  # noqa: F401
from openbmd.cli import exchange_audit as _exchange_audit  # noqa: F401
from openbmd.cli import exchange_examples as _exchange_examples  # noqa: F401
from openbmd.cli import exchange_exercise as _exchange_exercise  # noqa: F401
from openbmd.cli import flight as _flight  # noqa: F401  (registers its commands)
from openbmd.cli import radar as _radar  # noqa: F401
from openbmd.cli import scenario as _scenario  # noqa: F401
from openbmd.cli import sensors as _sensors  # noqa: F401
from openbmd.cli._common import app, main

__all__ = ["app", "main"]
