"""Physical constants used throughout openbmd, each with its public source.

All values are SI (m, s, rad, kg).
"""

from __future__ import annotations

import math

# WGS-84 defining parameters (NGA TR8350.2, 3rd ed., 2000, table 3.1).
WGS84_A: float = 6378137.0  # equatorial radius [m]
WGS84_INV_F: float = 298.257223563  # inverse flattening [-]
WGS84_F: float = 1.0 / WGS84_INV_F
WGS84_B: float = WGS84_A * (1.0 - WGS84_F)  # polar radius [m]
WGS84_E2: float = WGS84_F * (2.0 - WGS84_F)  # first eccentricity squared [-]

# Earth's gravitational parameter including the atmosphere (WGS-84, NGA TR8350.2).
GM_EARTH: float = 3.986004418e14  # [m^3/s^2]

# Second zonal harmonic (WGS-84 / EGM96, de-normalised C20: J2 = -sqrt(5) * C20bar).
J2_EARTH: float = 1.08262668e-3  # [-]

# Earth rotation rate (WGS-84).
OMEGA_EARTH: float = 7.292115e-5  # [rad/s]

# IUGG mean Earth radius R1 (Moritz, "Geodetic Reference System 1980").
R_EARTH_MEAN: float = 6371008.8  # [m]

# Standard gravity, used in the rocket equation (3rd CGPM, 1901).
G0: float = 9.80665  # [m/s^2]

# Boltzmann constant (SI 2019 exact value).
BOLTZMANN: float = 1.380649e-23  # [J/K]

# Speed of light in vacuum (SI exact value).
SPEED_OF_LIGHT: float = 299792458.0  # [m/s]

DEG: float = math.pi / 180.0  # one degree [rad]
