"""The one compiled copy of the Earth for every numba kernel: gravity, altitude, air table.

The trajectory kernel (:mod:`openbmd.trajectory_kernel`), the fly-out kernels
(:mod:`openbmd.interceptors._kernels`) and the tracking kernels (:mod:`openbmd.tracking._kernels`)
all call these functions, so J2 gravity, the height above the ellipsoid and the US-76
atmosphere exist once in compiled form. The NumPy versions are in :mod:`openbmd.earth`.

The atmosphere enters as a table of ln(density) and speed of sound sampled from
:func:`openbmd.earth.density_and_sound_speed` every 50 m from −5 km to 300 km (linear
interpolation; < 1e-4 relative error), so the US-76 model itself has a single implementation.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from openbmd import earth
from openbmd.constants import GM_EARTH, J2_EARTH, R_EARTH_MEAN, WGS84_A, WGS84_B

FloatArray = NDArray[np.float64]

ATM_H0, ATM_DH = -5000.0, 50.0
# Drag is neglected above 300 km: US-76 density there is ~2e-11 kg/m³, a deceleration below
# 1e-7 m/s² on a reentry vehicle; skipping the lookup speeds up the long vacuum coast.
ATM_TOP = 300e3
ATM_H = np.arange(ATM_H0, ATM_TOP + ATM_DH, ATM_DH)
_rho, _sound = earth.density_and_sound_speed(ATM_H)
ATM_LNRHO = np.log(np.maximum(_rho, 1e-300))
ATM_SOUND = np.asarray(_sound, dtype=float)
_A2, _B2 = WGS84_A * WGS84_A, WGS84_B * WGS84_B
GAMMA_AIR = 1.4  # US-76 ratio of specific heats

_jit = numba.njit(cache=True, nogil=True, inline="always")


@_jit
def altitude(x: float, y: float, z: float, sphere: bool) -> float:
    """Height above the model surface [m] (see :func:`openbmd.trajectory.altitude`)."""
    r2 = x * x + y * y + z * z
    rr = math.sqrt(r2)
    if sphere:
        return rr - R_EARTH_MEAN
    inv = ((x * x + y * y) / _A2 + z * z / _B2) / r2
    return rr - 1.0 / math.sqrt(inv)


@_jit
def gravity(x: float, y: float, z: float, j2: bool) -> tuple[float, float, float]:
    """Point-mass (+ J2) gravitational acceleration [m/s²] at an Earth-centred position [m]."""
    r2 = x * x + y * y + z * z
    kg = -GM_EARTH / (r2 * math.sqrt(r2))
    if j2:
        q = 1.5 * J2_EARTH * WGS84_A * WGS84_A / r2
        zz = 5.0 * z * z / r2
        kxy, kz = kg * (1.0 + q * (1.0 - zz)), kg * (1.0 + q * (3.0 - zz))
        return kxy * x, kxy * y, kz * z
    return kg * x, kg * y, kg * z


@_jit
def air(h: float, lnrho: FloatArray, sound: FloatArray) -> tuple[float, float]:
    """Density [kg/m³] and speed of sound [m/s] at height ``h`` [m] from the tables below."""
    u = (h - ATM_H0) / ATM_DH
    if u <= 0.0:
        return math.exp(lnrho[0]), sound[0]
    k = int(u)
    if k >= lnrho.size - 1:
        return 0.0, sound[-1]
    w = u - k
    return (
        math.exp(lnrho[k] * (1.0 - w) + lnrho[k + 1] * w),
        sound[k] * (1.0 - w) + sound[k + 1] * w,
    )


@_jit
def pressure(rho: float, sound: float) -> float:
    """Ambient pressure [Pa] from the density [kg/m³] and speed of sound [m/s] of :func:`air`.

    US-76 below 86 km has a constant molecular weight, so ``p = ρ R T / M0`` and
    ``a² = γ R T / M0`` give ``p = ρ a² / γ`` exactly (γ = 1.4); above 86 km the identity is
    approximate but the pressure is below 0.4 Pa — nothing for a rocket nozzle. One lookup
    of the air table thus serves drag and the nozzle's back-pressure thrust loss.
    """
    return rho * sound * sound / GAMMA_AIR
