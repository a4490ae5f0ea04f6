"""openbmd: reproducible open-literature analysis of ballistic missile defence.

Units contract: everything inside the package is SI — metres, seconds, radians, kilograms,
watts, hertz. Degrees, kilometres and decibels appear only at the edges (CLI, files, reports)
and then always in the name (``lat_deg``, ``range_km``, ``snr_db``). Positions and velocities
are arrays of shape ``(..., 3)`` with batch dimensions first; every vector names its frame
(ECEF = WGS-84 Earth-fixed; ECI = inertial frame coinciding with ECEF at t = 0).
"""

from __future__ import annotations

__version__ = "0.1.0"

# The curated API of a notebook user, loaded on first use so that importing a light module
# (say ``openbmd.errors`` in the exchange service) does not pull in numba and the physics.
_API = {
    "EarthModel": "openbmd.trajectory",
    "Guidance": "openbmd.trajectory",
    "StepSizes": "openbmd.trajectory",
    "Trajectory": "openbmd.trajectory",
    "fly": "openbmd.trajectory",
    "aim": "openbmd.targeting",
    "max_range": "openbmd.targeting",
    "free_flight": "openbmd.freeflight",
    "kepler_free_flight": "openbmd.freeflight",
    "Missile": "openbmd.missiles",
    "Stage": "openbmd.missiles",
    "stack": "openbmd.missiles",
    "missile": "openbmd.catalog",
    "load_missiles": "openbmd.catalog",
    "site": "openbmd.catalog",
    "load_sites": "openbmd.catalog",
    "OpenBMDError": "openbmd.errors",
    "load_scenario": "openbmd.scenario",
    "analyze": "openbmd.scenario.run",
    "campaign": "openbmd.scenario.run",
}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str) -> object:
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'openbmd' has no attribute {name!r}")
