"""The curated top-level API is pinned: a change here is a change for every notebook user."""

from __future__ import annotations

import subprocess
import sys

import openbmd

EXPECTED = {
    "EarthModel", "Guidance", "Missile", "OpenBMDError", "Stage", "StepSizes", "Trajectory",
    "aim", "analyze", "campaign", "fly", "free_flight", "kepler_free_flight", "load_missiles",
    "load_sites", "load_scenario", "max_range", "missile", "site", "stack",
}  # fmt: skip


def test_curated_api_is_pinned() -> None:
    assert set(openbmd.__all__) == EXPECTED | {"__version__"}
    for name in EXPECTED:
        assert getattr(openbmd, name) is not None


def test_light_import_stays_light() -> None:
    """Importing the package or its error types must not load numba (the exchange relies on it)."""
    code = "import openbmd.errors, sys; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_attribute() -> None:
    import pytest

    with pytest.raises(AttributeError):
        _ = openbmd.no_such_thing  # type: ignore[attr-defined]
