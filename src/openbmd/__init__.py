"""openbmd: reproducible open-literature analysis of ballistic missile defence.

Units contract: everything inside the package is SI — metres, seconds, radians, kilograms,
watts, hertz. Degrees, kilometres and decibels appear only at the edges (CLI, files, reports)
and then always in the name (``lat_deg``, ``range_km``, ``snr_db``). Positions and velocities
are arrays of shape ``(..., 3)`` with batch dimensions first; every vector names its frame
(ECEF = WGS-84 Earth-fixed; ECI = inertial frame coinciding with ECEF at t = 0).
"""

from __future__ import annotations

__version__ = "0.1.0"
