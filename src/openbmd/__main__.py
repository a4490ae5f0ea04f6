"""``python -m openbmd`` runs the command line."""

from openbmd.cli import main

raise SystemExit(main())
